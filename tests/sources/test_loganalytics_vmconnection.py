"""Log Analytics network flows include VM insights' VMConnection, projected as a local export of it reads.

Sample: tests/data/vmconnection/vmconnection_rest.json (built from the table reference, see its
SOURCE.md): 5 rows of app-vm02, 3 outbound and 2 inbound (``grep -o '"\\(inbound\\|outbound\\)"' | sort |
uniq -c``). The fake workspace runs no KQL: the template itself is run on duckdb-kql over the sample and
must equal what the local reader makes of the same file; the source's plumbing (which tables it asks,
how it joins them) is checked against the fake.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from hunting.queries.kql_render import render_kql
from hunting.schema import FLOWS, conform
from hunting.sources.local import LocalSource
from hunting.sources.loganalytics import LogAnalyticsSource
from hunting.timerange import TimeRange
from tests.conftest import missing
from tests.fakes.la_server import FLOW_COLUMNS, FakeLogAnalytics, StaticTokenCredential, flow_rows

WS = "11111111-2222-3333-4444-555555555555"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "vmconnection" / "vmconnection_rest.json"
JULY_2023 = TimeRange(datetime(2023, 7, 1, tzinfo=UTC), datetime(2023, 8, 1, tzinfo=UTC))
TABLES = [("SourceTable", "string"), ("Rows", "long")]


def _source(fake: FakeLogAnalytics) -> LogAnalyticsSource:
    return LogAnalyticsSource(WS, StaticTokenCredential(), endpoint=fake.endpoint, retries=0)


def _local_flows() -> pd.DataFrame:
    return LocalSource.from_paths([SAMPLE]).network_flows("app-vm02", JULY_2023)


def _as_rows(flows: pd.DataFrame) -> list[list[object]]:
    """FLOWS rows as the query API sends them (ISO times, nulls)."""
    return [
        [None if pd.isna(v) else (v.isoformat() if isinstance(v, pd.Timestamp) else v) for v in r]
        for r in flows.astype(object).itertuples(index=False)
    ]


def test_template_on_the_sample_equals_the_local_reader() -> None:
    try:
        import duckdb_kql
    except ImportError:
        missing("duckdb-kql (requirements-dev.txt) is not installed")
    start, end = datetime(1970, 1, 2, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    text = render_kql("vm_connection_flows", host="APP-VM02", start=start, end=end, row_cap=1000)
    # duckdb-kql has no ipv4_is_in_any_range: in the test only, every IPv4 remote end counts as public,
    # and PublicIPs is compared apart below.
    assert text.count("ipv4_is_in_any_range(RemoteIp, not_global)") == 1
    text = text.replace("ipv4_is_in_any_range(RemoteIp, not_global)", "false").replace(
        "take row_cap", "take 1000"
    )
    table = json.loads(SAMPLE.read_text())["tables"][0]
    raw = pd.DataFrame(table["rows"], columns=[c["name"] for c in table["columns"]])
    raw["TimeGenerated"] = pd.to_datetime(raw["TimeGenerated"]).dt.tz_localize(None)
    con = duckdb_kql.connect()
    con.register("incoming", raw)
    con.execute("CREATE TABLE VMConnection AS SELECT * FROM incoming")
    got = duckdb_kql.kql(con, text).df()
    got["TimeGenerated"] = got["TimeGenerated"].dt.tz_localize("UTC")
    for col in ("FlowStartTime", "FlowEndTime"):
        got[col] = got[col].dt.tz_localize("UTC")
    kql = conform(got.replace("", pd.NA), FLOWS)
    local = _local_flows()
    assert len(local) == len(kql) == 5
    others = [c for c in FLOWS.names if c != "PublicIPs"]
    pd.testing.assert_frame_equal(kql[others].reset_index(drop=True), local[others].reset_index(drop=True))
    # 3 outbound rows and 2 inbound rows (SOURCE.md); established links 1 + 1 out (the udp row has 0
    # established, 2 failed) and 3 + 5 in
    assert (kql["FlowDirection"] == "O").sum() == 3 and (kql["FlowDirection"] == "I").sum() == 2
    assert kql["AllowedOutFlows"].sum() == 2 and kql["AllowedInFlows"].sum() == 8
    assert kql["DeniedOutFlows"].sum() == 2
    # the only public remote end (SOURCE.md): kept by both; the others only because the range test is off
    assert local["PublicIPs"].dropna().tolist() == ["168.63.129.16"]
    assert "168.63.129.16" in kql["PublicIPs"].tolist()


def test_network_flows_read_vmconnection_when_the_workspace_has_it(fake: FakeLogAnalytics) -> None:
    local = _local_flows()
    fake.answer("tables", TABLES, [["Syslog", 10], ["VMConnection", 5]])
    fake.answer("vm_connection_flows", FLOW_COLUMNS, _as_rows(local))
    src = _source(fake)
    assert "NetworkFlows" in src.tables()
    df = src.network_flows("app-vm02", JULY_2023)
    # no Traffic Analytics table in this workspace: it is not asked (it would be an HTTP 400)
    assert [q.template for q in fake.requests] == ["tables", "vm_connection_flows"]
    assert 'let host = "app-vm02";' in fake.requests[1].query
    pd.testing.assert_frame_equal(df.reset_index(drop=True), local.reset_index(drop=True))


def test_network_flows_join_traffic_analytics_and_vmconnection(
    fake: FakeLogAnalytics, shared_data: Path
) -> None:
    # The fake filters nothing: it serves msticpy's Traffic Analytics rows (452 of msticalertswin1, Feb
    # 2019) and the VMConnection sample (5 rows, Jul 2023) to one call; the source joins them in time order.
    ta = flow_rows(shared_data / "msticpy" / "az_net_flows.csv", "msticalertswin1")
    fake.answer("tables", TABLES, [["AzureNetworkAnalytics_CL", 452], ["VMConnection", 5]])
    fake.answer("network_flows", FLOW_COLUMNS, ta)
    fake.answer("vm_connection_flows", FLOW_COLUMNS, _as_rows(_local_flows()))
    src = _source(fake)
    src.tables()
    df = src.network_flows(
        "app-vm02", TimeRange(datetime(2019, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC))
    )
    assert [q.template for q in fake.requests] == ["tables", "network_flows", "vm_connection_flows"]
    assert list(df.columns) == FLOWS.names
    assert len(df) == 452 + 5
    assert df["TimeGenerated"].is_monotonic_increasing
    assert (df["FlowType"] == "VMConnection").sum() == 5
    assert df.tail(5)["FlowType"].eq("VMConnection").all()


def test_network_flows_without_known_tables_ask_traffic_analytics_only(fake: FakeLogAnalytics) -> None:
    # tables() not run yet: VMConnection may be absent from the workspace, so it is not asked
    fake.answer("network_flows", FLOW_COLUMNS, [])
    df = _source(fake).network_flows("app-vm02", JULY_2023)
    assert df.empty and list(df.columns) == FLOWS.names
    assert [q.template for q in fake.requests] == ["network_flows"]


def test_tables_query_counts_vmconnection() -> None:
    start = datetime(2023, 7, 1, tzinfo=UTC)
    text = render_kql(
        "tables", syslog_table="Syslog", alert_table="SecurityAlert", heartbeat_table="Heartbeat",
        flow_table="AzureNetworkAnalytics_CL", since=start,
    )  # fmt: skip
    assert "table(flow_table), VMConnection, *_CL" in text
