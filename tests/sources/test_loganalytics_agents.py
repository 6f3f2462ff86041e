"""Log Analytics: AUOMS / Sysmon for Linux process events from Syslog and VMConnection flows.

The fake workspace executes no KQL, so the template's own extraction regexes are run here
(Python's ``re`` on the RE2-compatible patterns) over the AUOMS sample and must agree with
the local reader field by field; their result is then served by the fake and must come
back as AuditEvents that build the java -> bash -> bash -i -> whoami tree.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.process_tree import build_tree, process_events
from hunting.errors import QueryError
from hunting.queries import QUERY_DIR
from hunting.readers.auoms import audit_events_from_messages
from hunting.schema import AUDIT, FLOWS
from hunting.sources.loganalytics import LogAnalyticsSource
from hunting.timerange import TimeRange
from tests.fakes.la_server import FLOW_COLUMNS, FakeLogAnalytics, StaticTokenCredential

WS = "11111111-2222-3333-4444-555555555555"
DATA = Path(__file__).resolve().parents[1] / "data"
JULY_2023 = TimeRange(datetime(2023, 7, 1, tzinfo=UTC), datetime(2023, 8, 1, tzinfo=UTC))
TEMPLATE = (QUERY_DIR / "kql" / "agent_process_events.kql").read_text()


def _source(fake: FakeLogAnalytics) -> LogAnalyticsSource:
    return LogAnalyticsSource(WS, StaticTokenCredential(), endpoint=fake.endpoint, retries=0)


def _pattern(line_start: str) -> re.Pattern[str]:
    """The verbatim regex of the template line that starts with ``line_start`` ("" quotes undone)."""
    m = re.search(re.escape(line_start) + r'.*?@"((?:[^"]|"")*)"', TEMPLATE)
    assert m, line_start
    return re.compile(m.group(1).replace('""', '"'))


def _kql_fields(message: str) -> dict[str, object]:
    """What agent_process_events.kql's AUOMS leg computes for one message (its regexes, in order)."""
    body = _pattern("Body = extract(").search(message).group(1)  # type: ignore[union-attr]
    cmd_m = _pattern("extend Cmd = coalesce(extract(").search(body) or _pattern("    extract(").search(body)
    cmd = cmd_m.group(1) if cmd_m else ""
    p = body.replace(f'cmdline="{cmd}"', "") if cmd else body
    out: dict[str, object] = {"Cmdline": cmd or None}
    for name in ("Pid", "Ppid", "Uid", "Auid", "Ses"):
        m = _pattern(f"{name} = tolong(extract(").search(p)
        out[name] = int(m.group(1)) if m else None
    for name in ("Exe", "Cwd", "UidName", "AuidName", "Comm", "Syscall", "Success"):
        m = _pattern(f"{name} = unquote(extract(").search(p)
        out[name] = m.group(1).strip('"') if m and m.group(1) else None
    return out


def _auoms_messages() -> list[str]:
    with (DATA / "auoms/syslog_auoms_portal.csv").open(newline="") as f:
        return [r["SyslogMessage"] for r in csv.DictReader(f) if r["ProcessName"] == "auoms"]


def test_template_regexes_agree_with_the_local_reader() -> None:
    msgs = [m for m in _auoms_messages() if "AUOMS_EXECVE" in m]
    assert len(msgs) == 4  # grep -c AUOMS_EXECVE tests/data/auoms/syslog_auoms_portal.csv
    local, _ = audit_events_from_messages(msgs, ["web-vm01"] * len(msgs))
    for msg, (_, row) in zip(msgs, local.iterrows(), strict=True):
        kql = _kql_fields(msg)
        for col, value in kql.items():
            got = row[col]
            assert (None if pd.isna(got) else got) == value, (col, msg[:60])


def test_audit_events_include_auoms_rows_from_syslog(fake: FakeLogAnalytics) -> None:
    msgs = _auoms_messages()
    local, _ = audit_events_from_messages(msgs, ["web-vm01"] * len(msgs))
    cols = [(c, {"time": "datetime", "int": "long"}.get(k, "string")) for c, k in AUDIT.columns]
    rows = [
        [None if pd.isna(v) else (v.isoformat() if isinstance(v, pd.Timestamp) else v) for v in r]
        for r in local.astype(object).itertuples(index=False)
    ]
    fake.answer("tables", [("SourceTable", "string"), ("Rows", "long")], [["Syslog", 8]])
    fake.answer("agent_process_events", cols, rows)
    df = _source(fake).audit_events("web-vm01", JULY_2023)
    assert list(df.columns) == AUDIT.names
    assert [q.template for q in fake.requests] == ["tables", "agent_process_events"]
    assert "missing" not in df.attrs  # no audit table, but the agent rows are there
    tree = build_tree(process_events(df))
    assert tree.loc[tree["Name"] == "whoami", "Path"].iloc[0] == "[pid 1] > java > bash > bash > whoami"
    query = fake.requests[1].query
    assert 'let syslog_table = "Syslog";' in query and 'let host = "web-vm01";' in query


def test_no_syslog_table_means_no_agent_query(fake: FakeLogAnalytics) -> None:
    fake.answer("tables", [("SourceTable", "string"), ("Rows", "long")], [["AuditLog_CL", 3]])
    fake.answer("audit_events", [("EventId", "string")], [])
    _source(fake).audit_events("h1", JULY_2023)
    assert [q.template for q in fake.requests] == ["tables", "audit_events"]


def test_vm_connection_flows_conform(fake: FakeLogAnalytics) -> None:
    row = ["2023-07-29T09:16:00Z", "2023-07-29T09:16:00Z", "2023-07-29T09:16:00Z", "app-vm02", "VMConnection",
           "10.1.0.5", "10.1.0.5", "168.63.129.16", "168.63.129.16", "U", "", 53, "O", 0, 0, 0, 2]  # fmt: skip
    fake.answer("vm_connection_flows", FLOW_COLUMNS, [row])
    df = _source(fake).vm_connection_flows("app-vm02", JULY_2023)
    assert list(df.columns) == FLOWS.names
    r = df.iloc[0]
    assert (r["DestPort"], r["FlowDirection"], r["DeniedOutFlows"], r["PublicIPs"]) == (
        53,
        "O",
        2,
        "168.63.129.16",
    )
    assert pd.isna(r["L7Protocol"])  # KQL's "" is an absent value
    with pytest.raises(QueryError, match="not a valid host name"):
        _source(fake).vm_connection_flows('x" | take 1 //', JULY_2023)
