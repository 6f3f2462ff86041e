"""Everything the report says about one host and range, gathered from any Source into one dict.

The dict is plain JSON data (strings, numbers, lists, dicts; times as ISO 8601 UTC)
and is what ``schema/hunting.report-1.json`` describes; the renderers only format it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from hunting.analysis.cron import crontab_changes
from hunting.analysis.findings import HuntData, HuntResult, collect, find_all, iso
from hunting.analysis.host import host_record
from hunting.analysis.iocs import extract_iocs, summarise_iocs
from hunting.analysis.logons import FAILURE, SUCCESS, logon_totals
from hunting.analysis.process_tree import build_tree
from hunting.analysis.sessions import logon_sessions
from hunting.detections.coverage import coverage
from hunting.errors import HuntingError
from hunting.report import SCHEMA_ID
from hunting.timerange import TimeRange

ProgressFn = Callable[[str], None]


def resolve_host(source: Any, host: str) -> pd.Series:
    """The source's row for ``host`` (case-insensitive, exact name), or a clear error."""
    hosts = source.hosts()
    if hosts.empty:
        raise HuntingError("the source holds no host data (no log lines with a host name were read)")
    match = hosts[hosts["Computer"].astype(str).str.lower() == host.strip().lower()]
    if match.empty:
        names = ", ".join(sorted(hosts["Computer"].astype(str)))
        raise HuntingError(f"unknown host {host!r}; hosts in the source: {names}")
    return match.iloc[0]


def host_span(row: pd.Series) -> TimeRange:
    """The host's whole data span, end included (the range is half-open)."""
    return TimeRange(row["FirstSeen"], pd.Timestamp(row["LastSeen"]) + timedelta(milliseconds=1))


def _t(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else iso(value)


def _v(value: Any) -> Any:
    """A cell as JSON data: NA -> None, numpy scalars -> Python, times -> ISO text."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [_v(v) for v in value]
    if pd.isna(value):
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return iso(value)
    if hasattr(value, "item"):
        return value.item()
    return value


def _records(df: pd.DataFrame, columns: dict[str, str]) -> list[dict[str, Any]]:
    """Rows as dicts with the report's key names (``columns``: frame column -> key)."""
    if df.empty:
        return []
    part = df[list(columns)]
    return [
        {key: _v(val) for key, val in zip(columns.values(), row, strict=True)}
        for row in part.itertuples(index=False)
    ]


def _iocs(data: HuntData) -> list[dict[str, Any]]:
    frames = []
    if len(data.syslog):
        frames.append(extract_iocs(data.syslog[["SyslogMessage"]], ["SyslogMessage"]))
    procs = data.processes
    if len(procs):
        frames.append(extract_iocs(procs[["Cmdline"]], ["Cmdline"]))
    if not frames:
        return []
    summary = summarise_iocs(pd.concat(frames, ignore_index=True))
    return _records(summary, {"IocType": "type", "Value": "value", "Count": "count", "IpScope": "scope"})


def build_report(
    source: Any,
    host: str,
    tr: TimeRange | None = None,
    *,
    data: HuntData | None = None,
    result: HuntResult | None = None,
    progress: ProgressFn | None = None,
    sigma: Any = None,
    sigma_status: Any = None,
) -> dict[str, Any]:
    """The report dict for ``host`` over ``tr`` (default: the host's whole data span).

    ``data``/``result`` let the app reuse what it already fetched and found. ``sigma`` is the
    rule set (:func:`hunting.sigma.rules.load_rules`) whose matches join the findings (when
    ``result`` is computed here) and whose skipped rules the report lists; None: no Sigma.
    ``sigma_status``: the :class:`~hunting.sigma.engine.SigmaStatus` of the run that produced a
    given ``result`` (default: the rule set's own). The ``coverage`` section is
    :func:`hunting.detections.coverage.coverage` of the same data, result and rules.
    """
    say = progress or (lambda _msg: None)
    row = resolve_host(source, host)
    name = str(row["Computer"])
    tr = tr or host_span(row)
    say("fetching the host's data")
    data = data or collect(source, name, tr)
    say("running the detections")
    sigma_hook = None
    if sigma is not None:
        from hunting.sigma.engine import SigmaHunt

        sigma_hook = SigmaHunt(sigma, source)
    result = result or find_all(data, extra=[sigma_hook] if sigma_hook else [])
    status = sigma_status or (sigma_hook.status if sigma_hook else None)
    say("ATT&CK coverage")
    cov = coverage(data, result, sigma, sigma_skipped=status.skipped if status is not None else None)
    say("building the tables")
    lg = data.logons
    counted = lg[lg["Result"].isin([SUCCESS, FAILURE])]
    totals = logon_totals(lg)
    sessions = logon_sessions(data.syslog, lg) if len(data.syslog) else pd.DataFrame()
    procs = data.processes
    tree = build_tree(procs) if len(procs) else pd.DataFrame(columns=["ParentKey", "ProcKey", "Pid", "Ppid"])
    edges = tree[tree["ParentKey"].notna()] if len(tree) else tree
    parent_pid = dict(zip(tree["ProcKey"], tree["Pid"], strict=True)) if len(tree) else {}
    heartbeat = source.heartbeat(name, tr) if "Heartbeat" in data.tables else pd.DataFrame()
    rec = host_record(
        name,
        heartbeat=heartbeat if len(heartbeat) else _empty_heartbeat(),
        process_volume=pd.DataFrame(columns=["TimeGenerated", "Key", "Count"]),
        flows=data.flows,
        first_seen=row["FirstSeen"],
        last_seen=row["LastSeen"],
    )
    cron = data.cron
    sources = [
        {
            "path": a.path,
            "format": a.format,
            "lines": a.lines,
            "parsed": a.parsed,
            "unparsed": a.unparsed,
            "error": a.error or None,
        }
        for a in source.ingest_report()
    ]
    return {
        "schema": SCHEMA_ID,
        "generated": iso(datetime.now(UTC)),
        "source": str(getattr(source, "name", "")),
        "host": name,
        "start": iso(tr.start),
        "end": iso(tr.end),
        "host_record": {
            "os": " ".join(x for x in (rec.os_name, rec.os_version) if x) or rec.os_type or None,
            "environment": rec.environment or None,
            "country": rec.country or None,
            "ips": [{"ip": ip, "scope": scope} for ip, scope in rec.ips.items()],
            "first_seen": _t(row["FirstSeen"]),
            "last_seen": _t(row["LastSeen"]),
            "rows": {
                k: int(row[k]) for k in ("SyslogRows", "AuditRows", "AlertRows", "HeartbeatRows", "FlowRows")
            },
        },
        "sources": sources,
        "searched": dict(result.searched),
        "summary": result.counts(),
        "logons": {
            "success": totals["success"],
            "failure": totals["failure"],
            "events": _records(
                counted,
                {
                    "TimeGenerated": "time",
                    "User": "user",
                    "Result": "result",
                    "LogonType": "logon_type",
                    "ProcessName": "process",
                    "SourceIP": "source_ip",
                    "SourcePort": "source_port",
                    "Count": "count",
                },
            ),
        },
        "logon_sessions": _records(
            sessions,
            {
                "User": "user",
                "Start": "start",
                "End": "end",
                "SourceIP": "source_ip",
                "ProcessName": "process",
                "SessionType": "type",
            },
        ),
        "sudo": _records(
            data.sudo,
            {
                "TimeGenerated": "time",
                "Sudoer": "user",
                "RunAs": "run_as",
                "Command": "command",
                "Result": "result",
            },
        ),
        "account_changes": _records(
            data.accounts, {"TimeGenerated": "time", "Action": "action", "User": "user", "Group": "group"}
        ),
        "cron": {
            "executions": _records(
                cron[cron["Action"] == "run"], {"TimeGenerated": "time", "User": "user", "Command": "command"}
            ),
            "edits": _records(  # the one rule for crontab edits (also Findings, Session detail)
                crontab_changes(cron), {"TimeGenerated": "time", "User": "user", "Action": "action"}
            ),
        },
        "processes": _records(
            procs,
            {
                "TimeGenerated": "time",
                "Pid": "pid",
                "Ppid": "ppid",
                "Uid": "uid",
                "Auid": "auid",
                "Exe": "exe",
                "Cmdline": "cmdline",
                "Cwd": "cwd",
            },
        ),
        "process_tree": [
            {"parent": p, "child": c, "parent_pid": _v(parent_pid.get(p)), "child_pid": _v(pid)}
            for p, c, pid in zip(edges["ParentKey"], edges["ProcKey"], edges["Pid"], strict=True)
        ],
        "iocs": _iocs(data),
        "findings": [f.to_dict() for f in result.findings],
        "timeline": [g.to_dict() for g in result.timeline],
        "errors": list(result.errors),
        "coverage": cov.to_dict(),
        **({"sigma": status.to_dict()} if status is not None else {}),
    }


def _empty_heartbeat() -> pd.DataFrame:
    from hunting.schema import HEARTBEAT

    return HEARTBEAT.empty()
