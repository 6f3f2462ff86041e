"""Every page with Azure Log Analytics as the source, against a fake workspace endpoint.

The fake executes no KQL: it answers each template with the demo's own rows in the
schema's columns, so the pages see realistic frames coming through the real client,
wire format and type conversion.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest

from hunting.demo.scenario import demo_log_paths
from hunting.schema import BY_NAME, HOST_USERS, Table
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
from tests.app.conftest import ROOT, no_exception, run_page
from tests.fakes.la_server import FakeLogAnalytics, StaticTokenCredential

WORKSPACE = "11111111-2222-3333-4444-555555555555"
_KQL_TYPES = {"time": "datetime", "text": "string", "int": "long", "float": "real", "bool": "bool"}
_TEMPLATE_TABLES = {
    "syslog": "Syslog",
    "audit_events": "AuditEvents",
    "alerts": "SecurityAlert",
    "heartbeat": "Heartbeat",
    "network_flows": "NetworkFlows",
    "logon_events": "LogonEvents",
    "sudo_events": "SudoEvents",
    "cron_events": "CronEvents",
    "account_changes": "AccountChanges",
}


def _cell(v: object) -> object:
    if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


def _rows(df: pd.DataFrame) -> list[list[object]]:
    return [[_cell(v) for v in row] for row in df.itertuples(index=False)]


def _answer_table(fake: FakeLogAnalytics, template: str, table: Table, df: pd.DataFrame) -> None:
    fake.answer(template, [(c, _KQL_TYPES[k]) for c, k in table.columns], _rows(df))


@pytest.fixture(scope="module")
def workspace() -> Iterator[FakeLogAnalytics]:
    src = LocalSource.from_paths(demo_log_paths())
    last = src.hosts("web01").iloc[0]["LastSeen"]
    tr = TimeRange(last - timedelta(days=7), last + timedelta(seconds=1))
    with FakeLogAnalytics() as fake:
        for template, name in _TEMPLATE_TABLES.items():
            _answer_table(fake, template, BY_NAME[name], getattr(src, template)("web01", tr))
        hosts = src.hosts("web01")
        fake.answer(
            "hosts",
            [("Computer", "string"), ("FirstSeen", "datetime"), ("LastSeen", "datetime")]
            + [(c, "long") for c in hosts.columns[3:]],
            _rows(hosts),
        )
        vol = src.syslog_volume("web01", tr, bucket_seconds=3600, by="Facility")
        fake.answer(
            "syslog_volume", [("TimeGenerated", "datetime"), ("Key", "string"), ("Count", "long")], _rows(vol)
        )
        fake.answer(
            "tables",
            [("SourceTable", "string"), ("Rows", "long")],
            [
                ["Syslog", 1],
                ["SecurityAlert", 1],
                ["Heartbeat", 1],
                ["AzureNetworkAnalytics_CL", 1],
                ["AuditLog_CL", 1],
            ],
        )
        env = {"HUNTING_LA_WORKSPACE_ID": WORKSPACE, "HUNTING_LA_ENDPOINT": fake.endpoint}
        with (
            mock.patch.dict("os.environ", env),
            mock.patch("ui.loganalytics.build_credential", return_value=StaticTokenCredential()),
        ):
            yield fake


PAGES = ["streamlit_app.py", *sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_log_analytics(workspace: FakeLogAnalytics, page: str) -> None:
    at = run_page(page, params={"source": "loganalytics", "host": "web01", "range": "7d"})
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.sidebar.radio(key="source").value == "loganalytics"
    assert at.title, "the page drew its title"


def test_log_analytics_summary_shows_workspace_data(workspace: FakeLogAnalytics) -> None:
    at = run_page("streamlit_app.py", params={"source": "loganalytics", "host": "web01", "range": "7d"})
    no_exception(at)
    assert at.title[0].value == "Host summary: web01"
    # Markdown-escaped by md() (metric values are Markdown), shown as "Ubuntu 22.04"
    assert {m.label: m.value for m in at.metric}["OS"] == r"Ubuntu 22\.04"
    sent = [r.template for r in workspace.requests]
    assert {"hosts", "heartbeat", "alerts", "syslog_volume"} <= set(sent)
    # workspace id never appears on the page
    rendered = json.dumps([str(e) for e in at.main]) + json.dumps([str(e) for e in at.sidebar])
    assert WORKSPACE not in rendered


def test_host_users_is_empty_on_log_analytics(workspace: FakeLogAnalytics) -> None:
    from hunting.sources.loganalytics import LogAnalyticsSource

    src = LogAnalyticsSource(WORKSPACE, StaticTokenCredential(), endpoint=workspace.endpoint)
    assert list(src.host_users("web01").columns) == HOST_USERS.names


def test_no_secrets_file_is_not_an_error(workspace: FakeLogAnalytics, tmp_path: Path) -> None:
    at = run_page("pages/9_Data_sources.py", params={"source": "loganalytics", "host": "web01"})
    no_exception(at)
    assert any("queried remotely" in i.value for i in at.info)
