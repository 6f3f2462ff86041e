"""Microsoft's Linux agents inside Syslog rows: AUOMS records and Sysmon for Linux events.

Whatever reader produced Syslog rows (a Sentinel export, a local syslog file, a
journal), rows whose ``ProcessName`` is ``auoms`` or ``sysmon`` also yield
AuditEvents rows (program starts, user records) and NetworkFlows rows, so process
trees, risky-command rules and the network pages work on them. The Syslog rows
stay as they are: nothing is moved, only added. Messages of those processes that
cannot be read are said in the file's accounting.
"""

from __future__ import annotations

import pandas as pd

from hunting.readers import auoms, sysmon
from hunting.readers.base import ReadResult
from hunting.schema import AUDIT, FLOWS, SYSLOG, conform

AGENT_PROCESSES = ("auoms", "sysmon")


def agent_tables(syslog: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], dict[str, int], list[str]]:
    """AuditEvents and NetworkFlows from the agents' Syslog rows.

    Returns the tables (only those with rows), counts of messages read per agent
    (``auoms``, ``sysmon``, ``auoms_unparsed``, ``sysmon_unparsed``) and a few
    examples of messages that could not be read.
    """
    if syslog.empty or "ProcessName" not in syslog.columns:
        return {}, {}, []
    names = syslog["ProcessName"].astype("string").str.lower()
    tables: dict[str, list[pd.DataFrame]] = {}
    counts: dict[str, int] = {}
    examples: list[str] = []
    au = syslog.loc[(names == "auoms").fillna(False)]
    if len(au):
        events, c = auoms.audit_events_from_messages(au["SyslogMessage"].tolist(), au["Computer"].tolist())
        counts["auoms"] = c.parsed
        counts["auoms_unparsed"] = len(c.unparsed)
        examples += [t for _, t in c.unparsed[:3]]
        tables.setdefault(AUDIT.name, []).append(events)
    sm = syslog.loc[(names == "sysmon").fillna(False)]
    if len(sm):
        r = sysmon.from_messages(sm["SyslogMessage"].tolist(), sm["Computer"].tolist())
        counts["sysmon"] = r.parsed
        counts["sysmon_unparsed"] = len(r.unparsed)
        examples += [t for _, t in r.unparsed[:3]]
        tables.setdefault(AUDIT.name, []).append(r.processes)
        tables.setdefault(FLOWS.name, []).append(r.flows)
    out = {}
    for name, frames in tables.items():
        frames = [f for f in frames if len(f)]
        if frames:
            out[name] = pd.concat(frames, ignore_index=True)
    return out, counts, examples


def augment(result: ReadResult) -> ReadResult:
    """Add the agents' rows to a reader's result (beside any AuditEvents/flows it already has)."""
    syslog = result.tables.get(SYSLOG.name)
    if syslog is None or syslog.empty:
        return result
    extra, counts, examples = agent_tables(syslog)
    for name, df in extra.items():
        table = AUDIT if name == AUDIT.name else FLOWS
        have = result.tables.get(name)
        merged = df if have is None or have.empty else pd.concat([have, df], ignore_index=True)
        result.tables[name] = conform(merged, table)
        result.account.rows[name] = len(result.tables[name])
    bad = counts.get("auoms_unparsed", 0) + counts.get("sysmon_unparsed", 0)
    if bad:
        note = (
            f"{bad} auoms/sysmon message(s) not understood as agent records (kept as Syslog rows), "
            f"e.g. {examples[0][:120]!r}"
        )
        result.account.notes.append(note)
    return result


__all__ = ["AGENT_PROCESSES", "agent_tables", "augment"]
