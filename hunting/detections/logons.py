"""Logon detections: password guessing and spraying, success after failures, new sources, root over SSH."""

from __future__ import annotations

from typing import Any

import pandas as pd

from hunting.analysis.geo import geolocate, ip_scope
from hunting.analysis.logons import FAILURE, SSH_PROCESSES, SUCCESS, brute_force
from hunting.detections.base import (
    HuntData,
    _capped,
    _Ctx,
    _is_public,
    _links,
    _s,
    _ts,
    syslog_line,
)
from hunting.detections.model import (
    MAX_EVIDENCE,
    Finding,
    iso,
)
from hunting.detections.registry import (
    detector,
)
from hunting.schema import LOGONS, conform


def _counted_logons(data: HuntData) -> pd.DataFrame:
    lg = conform(data.logons, LOGONS)
    return lg[lg["Result"].isin([SUCCESS, FAILURE]) & lg["TimeGenerated"].notna()].copy()


def _bursts(ctx: _Ctx) -> list[tuple[Any, list[str], dict[str, Any]]]:
    """Failed-logon bursts (brute_force with the guessing thresholds): (burst, accounts, finding fields)."""
    spec = ctx.specs["logon.password_guessing"]
    lg = _counted_logons(ctx.data)
    bursts = brute_force(lg, threshold=int(spec.param("threshold")), window=str(spec.param("window")))
    fails = lg[lg["Result"] == FAILURE]
    out = []
    for b in bursts.itertuples(index=False):
        rows = fails[
            (fails["SourceIP"] == b.SourceIP)
            & (fails["TimeGenerated"] >= b.FirstAttempt)
            & (fails["TimeGenerated"] <= b.LastAttempt)
        ]
        evidence = _capped(syslog_line(r) for r in rows.to_dict("records"))
        users = list(b.Users)
        user = b.SuccessUser if bool(b.SuccessFollowed) else (users[0] if len(users) == 1 else None)
        detail = (
            f"{int(b.Attempts)} failed logons from {b.SourceIP} between {iso(b.FirstAttempt)} and "
            f"{iso(b.LastAttempt)} (at most {int(b.PeakInWindow)} within {spec.param('window')}); "
            f"{len(users)} account(s) tried: {', '.join(users[:15])}" + (" …" if len(users) > 15 else "")
        )
        links = _links(
            ("logons", "Logons: failures from this address", {"ip": b.SourceIP}),
            ("network", "Network: this address", {"ip": b.SourceIP}),
        )
        common: dict[str, Any] = dict(
            end=_ts(b.LastAttempt),
            user=user,
            source_ip=b.SourceIP,
            detail=detail,
            evidence=evidence,
            occurrences=int(b.Attempts),
            links=links,
        )
        out.append((b, users, common))
    return out


@detector("logon.password_guessing")
def detect_password_guessing(ctx: _Ctx) -> list[Finding]:
    return [
        ctx.make(
            "logon.password_guessing",
            (b.SourceIP, iso(b.FirstAttempt)),
            b.FirstAttempt,
            values={"ip": b.SourceIP, "attempts": int(b.Attempts)},
            **common,
        )
        for b, _users, common in _bursts(ctx)
    ]


@detector("logon.password_spraying")
def detect_password_spraying(ctx: _Ctx) -> list[Finding]:
    """A guessing burst that tried at least ``min_users`` accounts (the same burst, its own rule)."""
    spray = ctx.specs["logon.password_spraying"]
    return [
        ctx.make(
            "logon.password_spraying",
            (b.SourceIP, iso(b.FirstAttempt)),
            b.FirstAttempt,
            values={"ip": b.SourceIP, "users": len(users)},
            **common,
        )
        for b, users, common in _bursts(ctx)
        if len(users) >= int(spray.param("min_users"))
    ]


def _logon_session(ctx: _Ctx, rows: pd.DataFrame) -> pd.Series:
    return ctx.sessions.ses(rows["ProcessID"], rows["TimeGenerated"])


@detector("logon.success_after_failures")
def detect_success_after_failures(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["logon.success_after_failures"]
    lg = _counted_logons(ctx.data).dropna(subset=["SourceIP"])
    ok = lg[lg["Result"] == SUCCESS]
    fails = lg[lg["Result"] == FAILURE].assign(_n=lambda d: d["Count"].fillna(1).astype("int64"))
    if ok.empty or fails.empty:
        return []
    ok = ok.assign(_ses=_logon_session(ctx, ok))
    out, seen = [], set()
    for r in ok.to_dict("records"):
        key = (r["SourceIP"], r["User"])
        if key in seen:
            continue
        before = fails[(fails["SourceIP"] == r["SourceIP"]) & (fails["TimeGenerated"] <= r["TimeGenerated"])]
        n = int(before["_n"].sum())
        if n < int(spec.param("min_failures")):
            continue
        seen.add(key)
        evidence = _capped(
            [syslog_line(r), *(syslog_line(x) for x in before.tail(MAX_EVIDENCE - 1).to_dict("records"))]
        )
        out.append(
            ctx.make(
                "logon.success_after_failures",
                key,
                r["TimeGenerated"],
                values={"user": r["User"], "ip": r["SourceIP"], "failures": n},
                user=_s(r["User"]),
                source_ip=r["SourceIP"],
                session=_s(r["_ses"]),
                detail=f"{n} failed logons from {r['SourceIP']} before this {r['LogonType']} logon as {r['User']}; "
                f"first failure {iso(before['TimeGenerated'].min())}.",
                evidence=evidence,
                occurrences=1,
                links=_links(
                    ("logons", "Logons from this address", {"ip": r["SourceIP"]}),
                    ("session", "Session of this logon", {"user": r["User"], "session": r["_ses"]}),
                ),
            )
        )
    return out


@detector("logon.new_source")
def detect_new_source(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["logon.new_source"]
    lg = _counted_logons(ctx.data).dropna(subset=["SourceIP"])
    ok = lg[lg["Result"] == SUCCESS].sort_values("TimeGenerated", kind="stable")
    if ok.empty:
        return []
    first = ok.drop_duplicates("SourceIP").copy()
    first["_ses"] = _logon_session(ctx, first)
    public = [ip for ip in first["SourceIP"] if _is_public(ip)]
    geo = geolocate(public) if public else pd.DataFrame(columns=["Ip", "CountryName", "CountryCode"])
    country = dict(zip(geo["Ip"], geo["CountryName"], strict=True))
    seen_countries: set[str] = set()
    out = []
    for r in first.to_dict("records"):
        ip = r["SourceIP"]
        is_public = _is_public(ip)
        name = _s(country.get(ip)) if is_public else None
        if is_public:
            where = (
                f"{name}, a country not seen before"
                if name and name not in seen_countries
                else (name or "public, unknown country")
            )
            if name:
                seen_countries.add(name)
        else:
            where = ip_scope(str(ip)) + " address"
        later = int((ok["SourceIP"] == ip).sum())
        out.append(
            ctx.make(
                "logon.new_source",
                (ip,),
                r["TimeGenerated"],
                values={"ip": ip, "where": where, "user": r["User"]},
                severity=spec.severity if is_public else str(spec.param("severity_private")),
                user=_s(r["User"]),
                source_ip=ip,
                session=_s(r["_ses"]),
                detail=f"First successful logon from {ip} ({where}) in the range, as {r['User']} "
                f"({r['LogonType']}); {later} successful logon(s) from it in all.",
                evidence=(syslog_line(r),),
                occurrences=later,
                links=_links(
                    ("logons", "Logons from this address", {"ip": ip}),
                    ("session", "Session of this logon", {"user": r["User"], "session": r["_ses"]}),
                ),
            )
        )
    return out


@detector("logon.root_ssh")
def detect_root_ssh(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["logon.root_ssh"]
    lg = _counted_logons(ctx.data)
    ok = lg[(lg["Result"] == SUCCESS) & (lg["User"] == "root")]
    ok = ok[ok["ProcessName"].str.lower().isin(SSH_PROCESSES).fillna(False)]
    if ok.empty:
        return []
    ok = ok.assign(_ses=_logon_session(ctx, ok))
    out = []
    for ip, rows in ok.groupby(ok["SourceIP"].fillna("?"), sort=False):
        r = rows.iloc[0]
        out.append(
            ctx.make(
                "logon.root_ssh",
                (ip,),
                r["TimeGenerated"],
                values={"ip": ip},
                severity=spec.severity if _is_public(ip) else str(spec.param("severity_private")),
                end=_ts(rows["TimeGenerated"].max()),
                user="root",
                source_ip=None if ip == "?" else ip,
                session=_s(r["_ses"]),
                detail=f"{len(rows)} SSH logon(s) as root from {ip}.",
                evidence=_capped(syslog_line(x) for x in rows.to_dict("records")),
                occurrences=len(rows),
                links=_links(("logons", "Logons as root", {"user": "root", "ip": ip})),
            )
        )
    return out
