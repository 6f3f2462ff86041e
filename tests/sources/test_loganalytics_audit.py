"""Log Analytics: logons, sudo and account changes from the audit table's user records.

The fake workspace answers ``audit_user_events`` with the AuditEvents rows the local
reader gives for a real audit log (go-libaudit's Ubuntu 16 log): what the KQL template
returns for the same records (the template's syntax is checked in test_kql_render; its
field extraction mirrors audit_events.kql). Expected counts: aureport on that file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from hunting.analysis.logons import logon_totals
from hunting.readers.auditd import parse_audit
from hunting.readers.base import ReadOptions
from hunting.schema import AUDIT, LOGONS
from hunting.sources.loganalytics import LogAnalyticsSource
from hunting.timerange import TimeRange
from tests.analysis.test_audit_events import aureport_count
from tests.fakes.la_server import FakeLogAnalytics, StaticTokenCredential

WS = "52b1ab41-869e-4138-9e40-2a4457f09bf0"
APRIL = TimeRange(datetime(2017, 4, 1, tzinfo=UTC), datetime(2017, 5, 1, tzinfo=UTC))
UBUNTU16 = "go-libaudit/auparse/testdata/audit-ubuntu16.log"
_KQL_TYPE = {"time": "datetime", "text": "string", "int": "long", "float": "real", "bool": "bool"}


def _answer_audit(fake: FakeLogAnalytics, path: Path) -> None:
    df = parse_audit(path.read_bytes(), str(path), 0.0, ReadOptions(), host="h1").tables["AuditEvents"]
    cols = [(c, _KQL_TYPE[k]) for c, k in AUDIT.columns]
    rows = [
        [None if pd.isna(v) else (v.isoformat() if isinstance(v, pd.Timestamp) else v) for v in rec]
        for rec in df.astype(object).itertuples(index=False)
    ]
    fake.answer("audit_user_events", cols, rows)


def _source(fake: FakeLogAnalytics) -> LogAnalyticsSource:
    return LogAnalyticsSource(WS, StaticTokenCredential(), endpoint=fake.endpoint, retries=0)


def test_audit_only_workspace_gives_logons(fake: FakeLogAnalytics, shared_data: Path) -> None:
    fake.answer("tables", [("SourceTable", "string"), ("Rows", "long")], [["AuditLog_CL", 10]])
    _answer_audit(fake, shared_data / UBUNTU16)
    src = _source(fake)
    assert {"LogonEvents", "SudoEvents", "AccountChanges"} <= src.tables()
    logons = src.logon_events("h1", APRIL)
    assert list(logons.columns) == LOGONS.names
    # aureport --login: 2 USER_LOGIN (1 failed, invalid user from 179.38.151.221)
    failed = aureport_count(shared_data / UBUNTU16, "--login", "--failed")
    assert failed == 1
    assert logon_totals(logons)["failure"] == failed
    assert (
        logon_totals(logons)["success"] == aureport_count(shared_data / UBUNTU16, "--login", "--success") == 1
    )
    templates = [q.template for q in fake.requests]
    assert "logon_events" not in templates  # no Syslog table: never asked
    query = next(q.query for q in fake.requests if q.template == "audit_user_events")
    assert 'let audit_table = "AuditLog_CL";' in query and '"USER_LOGIN"' in query


def test_syslog_and_audit_logon_are_one_row(fake: FakeLogAnalytics, shared_data: Path) -> None:
    fake.answer("tables", [("SourceTable", "string"), ("Rows", "long")], [["Syslog", 5], ["AuditLog_CL", 10]])
    _answer_audit(fake, shared_data / UBUNTU16)
    # logon_events.kql's row for sshd's own line of the failed attempt the audit log records
    # (USER_LOGIN 1492896301.818 = 2017-04-22T21:25:01.818Z, pid 12635): written from the
    # documented "Failed password for invalid user" form, not taken from a real log.
    fake.answer(
        "logon_events",
        [(c, _KQL_TYPE[k]) for c, k in LOGONS.columns],
        [["2017-04-22T21:25:01Z", "h1", "admin", "Failure", "password", "sshd", 12635, "179.38.151.221",
          40000, True, 1, "Failed password for invalid user admin from 179.38.151.221 port 40000 ssh2"]],
    )  # fmt: skip
    src = _source(fake)
    src.tables()
    logons = src.logon_events("h1", APRIL)
    assert logon_totals(logons) == {"success": 1, "failure": 1, "accounts": 2, "source_ips": 2}
    fail = logons[logons["Result"] == "Failure"].iloc[0]
    assert fail["User"] == "admin" and fail["ProcessName"] == "sshd"  # the syslog row is kept
