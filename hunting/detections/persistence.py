"""Persistence: crontab edits, new cron commands, SSH authorized_keys writes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from hunting.analysis.cron import new_cron_commands
from hunting.analysis.risky import SEVERITY_RANK
from hunting.detections.base import (
    UNSET_SES,
    HuntData,
    _audit_line,
    _capped,
    _clip,
    _Ctx,
    _links,
    _risky_hits,
    _s,
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
from hunting.schema import CRON, conform


def _crontab_changes(data: HuntData) -> pd.DataFrame:
    cr = conform(data.cron, CRON)
    return cr[cr["Action"].isin(["replace", "delete"])]


@detector("cron.crontab_edit")
def detect_crontab_edit(ctx: _Ctx) -> list[Finding]:
    cr = conform(ctx.data.cron, CRON)
    edits = _crontab_changes(ctx.data)
    edits = edits.assign(_ses=ctx.sessions.ses(edits["ProcessID"], edits["TimeGenerated"]))
    out = []
    for r in edits.to_dict("records"):
        same = cr[
            (cr["ProcessID"] == r["ProcessID"])
            & ((cr["TimeGenerated"] - r["TimeGenerated"]).abs() <= pd.Timedelta("1h"))
        ]
        lines = [syslog_line(x) for x in same.to_dict("records")] or [syslog_line(r)]
        owner = r["Command"] or r["User"]
        out.append(
            ctx.make(
                "cron.crontab_edit",
                (r["User"], owner, iso(r["TimeGenerated"])),
                r["TimeGenerated"],
                values={"owner": owner, "user": r["User"]},
                user=_s(r["User"]),
                session=_s(r["_ses"]),
                detail=f"{r['User']} {'deleted' if r['Action'] == 'delete' else 'replaced'} the crontab of {owner}.",
                evidence=_capped(lines),
                links=_links(
                    ("application", "Cron activity", {"app": "cron"}),
                    ("session", "Session that did it", {"session": r["_ses"]}),
                ),
            )
        )
    return out


@detector("cron.new_command")
def detect_new_cron_command(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["cron.new_command"]
    cr = conform(ctx.data.cron, CRON)
    runs = cr[(cr["Action"] == "run") & cr["TimeGenerated"].notna()]
    if runs.empty:
        return []
    if ctx.data.new_cron is not None:
        # The caller's baseline (Session detail: everything before the session).
        new = ctx.data.new_cron.reset_index(drop=True)
        baseline = "never in the caller's baseline"
    else:
        start = max(pd.Timestamp(ctx.data.tr.start), runs["TimeGenerated"].min())
        end = min(pd.Timestamp(ctx.data.tr.end), runs["TimeGenerated"].max())
        baseline_end = start + (end - start) * float(spec.param("baseline_fraction"))
        # One host may be written "app02" in one file and "APP02" in another.
        new = new_cron_commands(cr.assign(Computer=cr["Computer"].str.lower()), baseline_end=baseline_end)
        baseline = f"never in the baseline up to {iso(baseline_end)}"
    if new.empty:
        return []
    hits = _risky_hits(ctx, new["Command"])
    risky_rows = set(hits.loc[hits["Severity"].map(SEVERITY_RANK) >= SEVERITY_RANK["medium"], "Row"].tolist())
    edits = _crontab_changes(ctx.data)
    out = []
    for i, r in new.iterrows():
        edited = edits[
            ((edits["Command"] == r["User"]) | (edits["User"] == r["User"]))
            & (edits["TimeGenerated"] <= r["FirstSeen"])
        ]
        reasons = []
        if i in risky_rows:
            titles = sorted(set(hits.loc[hits["Row"] == i, "Title"]))
            reasons.append("risky command line (" + "; ".join(titles) + ")")
        if len(edited):
            reasons.append(f"crontab of {r['User']} changed at {iso(edited['TimeGenerated'].max())}")
        rows = runs[(runs["User"] == r["User"]) & (runs["Command"] == r["Command"])]
        out.append(
            ctx.make(
                "cron.new_command",
                (r["User"], r["Command"]),
                r["FirstSeen"],
                values={"user": r["User"], "command": _clip(r["Command"], 80)},
                severity=str(spec.param("severity_suspicious")) if reasons else spec.severity,
                end=_ts(r["LastSeen"]),
                user=_s(r["User"]),
                detail=f"cron ran this command of {r['User']} {int(r['Runs'])} time(s) from {iso(r['FirstSeen'])}, "
                + baseline
                + (("; " + "; ".join(reasons)) if reasons else "")
                + ".",
                evidence=_capped(syslog_line(x) for x in rows.to_dict("records")),
                occurrences=int(r["Runs"]),
                links=_links(
                    ("application", "Cron activity", {"app": "cron", "user": r["User"]}),
                    ("process", "Process trees of these runs", {"exe": "cron"}),
                ),
            )
        )
    return out


_KEYS_PATH: Final = re.compile(r'name="?([^"\s]*authorized_keys2?)"?')


@detector("file.ssh_authorized_keys")
def detect_authorized_keys(ctx: _Ctx) -> list[Finding]:
    audit = ctx.data.audit
    if audit.empty:
        return []
    records = audit["RecordTypes"].fillna("").astype(str)
    cand = audit[
        audit["RawMessage"].str.contains("authorized_keys", regex=False).fillna(False).to_numpy()
        & ~records.str.contains("EXECVE", regex=False).to_numpy()
    ]
    out = []
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in cand.to_dict("records"):
        m = _KEYS_PATH.search(str(r["RawMessage"]))
        if m:
            groups.setdefault(m.group(1), []).append(r)
    for path, rows in groups.items():
        r = rows[0]
        auid: Any = r.get("Auid")
        user = _s(r.get("AuidName")) or (
            ctx.data.users.get(int(auid), str(int(auid)))
            if pd.notna(auid) and int(auid) not in UNSET_SES
            else None
        )
        ses = f"ses {int(r['Ses'])}" if pd.notna(r["Ses"]) and int(r["Ses"]) not in UNSET_SES else None
        out.append(
            ctx.make(
                "file.ssh_authorized_keys",
                (path,),
                r["TimeGenerated"],
                values={"path": path},
                end=_ts(rows[-1]["TimeGenerated"]),
                user=user,
                session=ses,
                occurrences=len(rows),
                detail=f"{len(rows)} audit event(s) on {path}; first by {r.get('Exe')} (pid {r.get('Pid')}, "
                f"audit key {r.get('Key')}).",
                evidence=_capped(_audit_line(x) for x in rows),
                links=_links(
                    ("process", "Process tree around it", {"pid": r.get("Pid"), "session": ses}),
                    ("session", "Session it happened in", {"session": ses}),
                ),
            )
        )
    return out
