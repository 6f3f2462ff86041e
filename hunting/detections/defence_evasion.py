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


@detector("logging.gap")
def detect_log_gaps(ctx: _Ctx) -> list[Finding]:
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
    big = gaps[gaps > threshold]
    sparse = median > _seconds(spec.param("sparse"))
    out = []
    for i, gap in big.items():
        before, after = t.iloc[int(i) - 1], t.iloc[int(i)]
        duration = _human(gap)
        out.append(
            ctx.make(
                "logging.gap",
                (iso(before),),
                before,
                values={"host": ctx.host, "duration": duration},
                severity=str(spec.param("severity_sparse")) if sparse else spec.severity,
                end=_ts(after),
                detail=f"No syslog or audit event between {iso(before)} and {iso(after)} ({duration}); this host's "
                f"median interval between events is {_human(median)}.",
                evidence=(
                    f"last event before the gap: {iso(before)}",
                    f"first event after the gap: {iso(after)}",
                ),
                links=_links(("data", "Data sources", {}), ("application", "Application activity", {})),
            )
        )
    return out
