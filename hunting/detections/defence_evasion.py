"""Defence evasion: programs run from writable or hidden paths, logging stopped, logging gaps."""

from __future__ import annotations

from typing import Any

import pandas as pd

from hunting.detections.base import (
    UNSET_SES,
    _audit_line,
    _capped,
    _clip,
    _Ctx,
    _human,
    _links,
    _s,
    _seconds,
    _suspicious_exe,
    _ts,
    syslog_line,
)
from hunting.detections.model import (
    Finding,
    iso,
)
from hunting.detections.registry import (
    detector,
)
from hunting.schema import SYSLOG, conform


@detector("process.suspicious_path")
def detect_suspicious_path(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["process.suspicious_path"]
    procs = ctx.data.processes
    if procs.empty:
        return []
    in_tmp, hidden = _suspicious_exe(procs["Exe"], [str(d) for d in spec.param("dirs")])
    hits = procs[(in_tmp | hidden).to_numpy()]
    raw = (
        ctx.data.audit.set_index("EventId")["RawMessage"]
        if len(ctx.data.audit)
        else pd.Series(dtype="string")
    )
    raw = raw[~raw.index.duplicated()]
    out = []
    for exe, rows in hits.groupby("Exe", sort=False):
        r = rows.iloc[0]
        tmp_flag, hid_flag = bool(in_tmp[rows.index[0]]), bool(hidden[rows.index[0]])
        where = " and ".join(
            w for w, ok in (("a temporary directory", tmp_flag), ("a hidden directory", hid_flag)) if ok
        )
        mitre = tuple(spec.mitre) + (tuple(spec.param("hidden_mitre")) if hid_flag else ())
        user = _s(r["LoginUser"]) if _s(r["LoginUser"]) not in (None, "unset") else _s(r["User"])
        ses = f"ses {int(r['Ses'])}" if pd.notna(r["Ses"]) and int(r["Ses"]) not in UNSET_SES else None
        out.append(
            ctx.make(
                "process.suspicious_path",
                (exe,),
                r["TimeGenerated"],
                values={"where": where, "exe": exe},
                mitre=mitre,
                end=_ts(rows["TimeGenerated"].max()),
                user=user,
                session=ses,
                detail=f"{exe} started {len(rows)} time(s) (pid {r['Pid']}, parent {r['Ppid']}, as {r['User']}, "
                f"login user {r['LoginUser']}): {_clip(r['Cmdline'], 200)}",
                evidence=_capped(
                    str(raw.get(e, "")) or _audit_line(x)
                    for e, x in zip(rows["EventId"], rows.to_dict("records"), strict=True)
                ),
                occurrences=len(rows),
                links=_links(
                    ("process", "Process tree of this program", {"exe": exe, "pid": r["Pid"]}),
                    ("session", "Session it ran in", {"session": ses}),
                ),
            )
        )
    return out


@detector("logging.stopped")
def detect_logging_stopped(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["logging.stopped"]
    out: list[Finding] = []
    audit_mitre = tuple(str(t) for t in spec.param("mitre_audit"))
    what_of = {"audit": "Audit daemon", "logging": "System logging"}
    hits: list[tuple[str, Any, str]] = []  # (kind, time, raw line)
    sy = conform(ctx.data.syslog, SYSLOG)
    if len(sy):
        proc = sy["ProcessName"].fillna("")
        msg = sy["SyslogMessage"].fillna("")
        for kind, proc_re, msg_re in spec.param("messages"):
            mask = proc.str.fullmatch(f"(?i:{proc_re})") & msg.str.contains(f"(?i:{msg_re})", regex=True)
            for r in sy[mask.fillna(False).to_numpy()].to_dict("records"):
                hits.append((str(kind), r["TimeGenerated"], syslog_line(r)))
    audit = ctx.data.audit
    if len(audit):
        stop = audit["EventType"].isin([str(e) for e in spec.param("audit_events")])
        off = (audit["EventType"] == "CONFIG_CHANGE") & audit["RawMessage"].str.contains(
            r"audit_enabled=0\b", regex=True
        )
        for r in audit[(stop | off.fillna(False)).to_numpy()].to_dict("records"):
            hits.append(("audit", r["TimeGenerated"], _audit_line(r)))
    for kind in ("audit", "logging"):
        mine = sorted((h for h in hits if h[0] == kind), key=lambda h: pd.Timestamp(h[1]))
        # One finding per stop: lines within 10 minutes of each other are the same event.
        groups: list[list[tuple[str, Any, str]]] = []
        for h in mine:
            if groups and pd.Timestamp(h[1]) - pd.Timestamp(groups[-1][-1][1]) <= pd.Timedelta("10min"):
                groups[-1].append(h)
            else:
                groups.append([h])
        for g in groups:
            out.append(
                ctx.make(
                    "logging.stopped",
                    (kind, iso(g[0][1])),
                    g[0][1],
                    values={"what": what_of[kind], "host": ctx.host},
                    severity=str(spec.param("severity_audit")) if kind == "audit" else spec.severity,
                    mitre=audit_mitre if kind == "audit" else spec.mitre,
                    end=_ts(g[-1][1]),
                    detail=f"{len(g)} line(s) say {what_of[kind].lower()} stopped or was disabled.",
                    evidence=_capped(h[2] for h in g),
                    occurrences=len(g),
                    links=_links(
                        (
                            "application",
                            "Application activity",
                            {"app": "auditd" if kind == "audit" else "rsyslogd"},
                        ),
                        ("data", "Data sources", {}),
                    ),
                )
            )
    return out


def _quiet_hours(t: pd.Series, min_days: int, active_share: float) -> frozenset[int] | None:
    """Hours of the day (UTC) in which this host usually logs nothing: its own rhythm.

    None when the data covers fewer than ``min_days`` days (no rhythm to judge by). An
    hour is quiet when fewer than ``active_share`` of the covered days have an event in it.
    """
    days = t.dt.floor("D")
    n_days = days.nunique()
    if n_days < min_days:
        return None
    share = pd.DataFrame({"d": days, "h": t.dt.hour}).drop_duplicates().groupby("h").size() / n_days
    return frozenset(h for h in range(24) if float(share.get(h, 0.0)) < active_share)


def _usual_silence(before: pd.Timestamp, after: pd.Timestamp, quiet: frozenset[int] | None) -> bool:
    """True when every whole hour inside the gap is one the host is usually quiet in."""
    if quiet is None:
        return False
    hours = pd.date_range(before.ceil("h"), after.floor("h"), freq="h", inclusive="left")
    return len(hours) > 0 and all(h.hour in quiet for h in hours)


def _gap_severity(gap: pd.Timedelta, bands: Any) -> str:
    """Severity by the gap's length: the last band whose start it reaches."""
    severity = "low"
    for start, sev in sorted(((_seconds(str(a)), str(b)) for a, b in bands), key=lambda x: x[0]):
        if gap >= start:
            severity = sev
    return severity


@detector("logging.gap")
def detect_log_gaps(ctx: _Ctx) -> list[Finding]:
    """Silences much longer than the host's usual interval, not explained by its daily rhythm.

    Gaps separated only by a few stray lines (a cron run in a dead host's night) are one
    gap; severity grows with the length; a host that logs sparsely anyway stays low.
    """
    spec = ctx.specs["logging.gap"]
    times = [conform(ctx.data.syslog, SYSLOG)["TimeGenerated"]]
    if len(ctx.data.audit):
        times.append(ctx.data.audit["TimeGenerated"])
    t = pd.concat(times).dropna().sort_values().reset_index(drop=True)
    if len(t) < 3:
        return []
    gaps = t.diff().iloc[1:]
    median = gaps.median()
    threshold = max(_seconds(spec.param("min_gap")), median * float(spec.param("factor")))
    # Too few events, or far apart anyway: no rhythm to miss, so a silence is low.
    sparse = median > _seconds(spec.param("sparse")) or len(t) < int(spec.param("min_events"))
    quiet = _quiet_hours(t, int(spec.param("rhythm_min_days")), float(spec.param("rhythm_active_share")))
    merge_lines = int(spec.param("merge_lines"))
    # (index of the last event before, index of the first event after) of each big gap, merged
    spans: list[tuple[int, int]] = []
    for i in gaps[gaps > threshold].index:
        a, b = int(i) - 1, int(i)
        if spans and a - spans[-1][1] < merge_lines and t.iloc[a] - t.iloc[spans[-1][1]] < threshold:
            spans[-1] = (spans[-1][0], b)  # a few stray lines between two silences: one gap
        else:
            spans.append((a, b))
    out = []
    for a, b in spans:
        before, after = t.iloc[a], t.iloc[b]
        if _usual_silence(before, after, quiet):
            continue
        gap = after - before
        duration = _human(gap)
        stray = b - a - 1
        severity = (
            str(spec.param("severity_sparse"))
            if sparse
            else _gap_severity(gap, spec.param("severity_by_length"))
        )
        if quiet is None and severity == "high":
            severity = "medium"  # under rhythm_min_days of data: no daily habit to break
        out.append(
            ctx.make(
                "logging.gap",
                (iso(before),),
                before,
                values={"host": ctx.host, "duration": duration},
                severity=severity,
                end=_ts(after),
                detail=f"No syslog or audit event between {iso(before)} and {iso(after)} ({duration})"
                + (f" but {stray} stray line(s)" if stray else "")
                + f"; this host's median interval between events is {_human(median)}"
                + ("" if quiet is None else ", and it usually logs at these hours of the day")
                + ".",
                evidence=(
                    f"last event before the gap: {iso(before)}",
                    f"first event after the gap: {iso(after)}",
                ),
                links=_links(("data", "Data sources", {}), ("application", "Application activity", {})),
            )
        )
    return out
