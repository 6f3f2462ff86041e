"""LogAnalyticsSource against a fake Log Analytics endpoint on 127.0.0.1 (no Azure calls)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from azure.monitor.query import LogsQueryClient

from hunting.errors import QueryError, SourceUnavailable
from hunting.schema import (
    ACCOUNTS,
    ALERTS,
    AUDIT,
    CRON,
    FLOWS,
    HEARTBEAT,
    HOST_USERS,
    LOGONS,
    SUDO,
    SYSLOG,
    Table,
)
from hunting.sources.azure_config import (
    AuthSettings,
    Workspace,
    auth_settings,
    build_credential,
    connect,
    discover_workspaces,
    workspaces_from_env,
    workspaces_from_mapping,
    workspaces_from_msticpyconfig,
)
from hunting.sources.base import HOSTS_COLUMNS, VOLUME_COLUMNS, Source
from hunting.sources.loganalytics import LogAnalyticsSource, table_frame
from hunting.timerange import TimeRange
from tests.fakes.la_server import (
    ALERT_COLUMNS,
    FLOW_COLUMNS,
    HEARTBEAT_COLUMNS,
    SYSLOG_COLUMNS,
    FakeLogAnalytics,
    StaticTokenCredential,
    alert_rows,
    flow_rows,
    heartbeat_rows,
    syslog_rows,
)

WS = "52b1ab41-869e-4138-9e40-2a4457f09bf0"
TENANT = "b1315f05-4a7a-45b4-811f-73e715f7c122"
SECRET = "s3cr3t-Value~with.chars"  # a fake secret whose absence from output is tested
JULY = TimeRange(datetime(2019, 7, 1, tzinfo=UTC), datetime(2019, 7, 31, tzinfo=UTC))
EVIL = 'x" or 1==1 | take 1000 //'


def source(fake: FakeLogAnalytics, **kw: object) -> LogAnalyticsSource:
    return LogAnalyticsSource(
        WS,
        StaticTokenCredential(),
        endpoint=fake.endpoint,
        retries=0,
        **kw,  # type: ignore[arg-type]
    )


def assert_schema(df: pd.DataFrame, table: Table) -> None:
    assert list(df.columns) == table.names
    assert {c: str(df[c].dtype) for c in df.columns} == {c: table.dtype(c) for c in table.names}


# --- rows, conformed -----------------------------------------------------------------------


def test_syslog_conforms_real_rows(fake: FakeLogAnalytics, shared_data: Path) -> None:
    fake.answer("syslog", SYSLOG_COLUMNS, syslog_rows(shared_data / "msticpy" / "syslog_data.csv"))
    df = source(fake).syslog("squid-uk-02", JULY)
    assert_schema(df, SYSLOG)
    assert len(df) == 100  # data rows of syslog_data.csv (csv module count)
    assert df.loc[0, "TimeGenerated"] == pd.Timestamp("2019-07-08 16:08", tz="UTC")
    assert df.loc[0, "SyslogMessage"] == "pam_unix(sudo:session): session opened for user root by (uid=0)"
    assert df["ProcessID"].isna().all()  # the export has no ProcessID
    assert "truncated" not in df.attrs
    req = fake.requests[0]
    assert req.workspace_id == WS and req.template == "syslog"
    assert 'let host = "squid-uk-02";' in req.query and "let row_cap = 50001;" in req.query
    assert req.timespan == "2019-07-01T00:00:00.000Z/2019-07-31T00:00:00.000Z"
    assert req.headers["Prefer"] == "wait=180"
    assert req.headers["Authorization"] == "Bearer fake-la-token"


def test_syslog_truncated_at_row_cap(fake: FakeLogAnalytics, shared_data: Path) -> None:
    fake.answer("syslog", SYSLOG_COLUMNS, syslog_rows(shared_data / "msticpy" / "syslog_data.csv")[:11])
    df = source(fake, row_cap=10).syslog("squid-uk-02", JULY)
    assert len(df) == 10
    assert df.attrs["truncated"] == "only the first 10 rows are shown; narrow the time range"
    assert "let row_cap = 11;" in fake.requests[0].query


def test_syslog_limit_below_cap(fake: FakeLogAnalytics, shared_data: Path) -> None:
    fake.answer("syslog", SYSLOG_COLUMNS, syslog_rows(shared_data / "msticpy" / "syslog_data.csv")[:4])
    df = source(fake).syslog("squid-uk-02", JULY, limit=3)
    assert len(df) == 3 and "truncated" in df.attrs
    assert "let row_cap = 4;" in fake.requests[0].query


def test_heartbeat_keeps_text_versions(fake: FakeLogAnalytics, shared_data: Path) -> None:
    fake.answer("heartbeat", HEARTBEAT_COLUMNS, heartbeat_rows(shared_data / "msticpy" / "host_hb.csv"))
    df = source(fake).heartbeat("squid-uk-02", JULY)
    assert_schema(df, HEARTBEAT)
    row = df.iloc[0]
    assert (row["OSName"], row["OSMajorVersion"], row["OSMinorVersion"]) == ("Ubuntu", "18", "04")
    assert (row["RemoteIPLatitude"], row["RemoteIPLongitude"]) == (51.5, -0.13)
    assert row["TimeGenerated"] == pd.Timestamp("2019-07-08 20:07:48", tz="UTC")


def test_network_flows_project_to_schema(fake: FakeLogAnalytics, shared_data: Path) -> None:
    rows = flow_rows(shared_data / "msticpy" / "az_net_flows.csv", "msticalertswin1")
    fake.answer("network_flows", FLOW_COLUMNS, rows)
    df = source(fake).network_flows("msticalertswin1", JULY)
    assert_schema(df, FLOWS)
    assert len(df) == 452  # rows with VMName msticalertswin1 (8 have none)
    second = df.iloc[1]
    assert second["PublicIPs"] == "13.71.172.130,13.71.172.128"
    assert (second["DestPort"], second["AllowedOutFlows"], second["FlowDirection"]) == (443, 18, "O")
    assert second["FlowStartTime"] == pd.Timestamp("2019-02-12 13:00:48", tz="UTC")
    assert 'let flow_table = "AzureNetworkAnalytics_CL";' in fake.requests[0].query


def test_alerts_entities_stay_json_text(fake: FakeLogAnalytics, shared_data: Path) -> None:
    rows = alert_rows(shared_data / "sentinel-notebooks" / "alertlist.csv", "vm1lin")
    fake.answer("alerts", ALERT_COLUMNS, rows)
    df = source(fake).alerts(
        "vm1lin", TimeRange(datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 2, 1, tzinfo=UTC))
    )
    assert_schema(df, ALERTS)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["AlertName"] == "Possible outgoing spam activity detected"
    assert row["SystemAlertId"] == "28f9b83a-33e6-44da-a002-0f48bff46a67"
    assert row["StartTimeUtc"] == pd.Timestamp("2019-01-08 05:02:00", tz="UTC")
    entities = json.loads(row["Entities"])
    assert [(e["Type"], e["HostName"]) for e in entities] == [("host", "vm1lin")]


def test_audit_events_from_canned_summary(fake: FakeLogAnalytics) -> None:
    # What audit_events.kql returns for event 1550505632.285:9077924 of msticpy's
    # linux_events.csv (SYSCALL, EXECVE with a hex-encoded a2, CWD, PATH, PROCTITLE).
    cols = [("TimeGenerated", "datetime"), ("Computer", "string"), ("EventId", "string"),
            ("EventType", "string"), ("RecordTypes", "string"), ("Pid", "long"), ("Ppid", "long"),
            ("Uid", "long"), ("Auid", "long"), ("Ses", "long"), ("Exe", "string"), ("Comm", "string"),
            ("Cwd", "string"), ("Cmdline", "string"), ("Key", "string"), ("Argc", "long")]  # fmt: skip
    row = ["2019-02-18T16:00:32.285Z", "MSTICAlertsLxVM2", "1550505632.285:9077924", "SYSCALL",
           "SYSCALL,CWD,EXECVE,PATH,PROCTITLE", 28066, 22536, 0, 4294967295, 4294967295, "/bin/dash", "sh",
           "/var/lib/waagent/WALinuxAgent-2.2.36", "/bin/sh -c iptables --version", "", 3]  # fmt: skip
    fake.answer("tables", [("SourceTable", "string"), ("Rows", "long")], [["AuditLog_CL", 100]])
    fake.answer("audit_events", cols, [row])
    df = source(fake).audit_events(
        "MSTICAlertsLxVM2", TimeRange(datetime(2019, 2, 18, tzinfo=UTC), datetime(2019, 2, 19, tzinfo=UTC))
    )
    assert_schema(df, AUDIT)
    r = df.iloc[0]
    assert (r["Pid"], r["Ppid"], r["Auid"], r["Argc"]) == (28066, 22536, 4294967295, 3)
    assert r["Cmdline"] == "/bin/sh -c iptables --version"
    assert r["TimeGenerated"] == pd.Timestamp("2019-02-18 16:00:32.285", tz="UTC")
    assert pd.isna(r["Syscall"])  # not returned: added empty by conform
    assert [q.template for q in fake.requests] == ["tables", "audit_events"]


def test_audit_table_found_by_name_pattern(fake: FakeLogAnalytics) -> None:
    fake.answer("tables", [("SourceTable", "string"), ("Rows", "long")],
                [["Syslog", 10], ["LinuxAuditd_CL", 5], ["Other_CL", 1]])  # fmt: skip
    fake.answer("audit_events", [("EventId", "string")], [])
    src = source(fake)
    assert src.tables() == {
        "Syslog",
        "LogonEvents",
        "SudoEvents",
        "CronEvents",
        "AccountChanges",
        "AuditEvents",
    }
    src.audit_events("h1", JULY)
    audit_query = next(q.query for q in fake.requests if q.template == "audit_events")
    assert 'let audit_table = "LinuxAuditd_CL";' in audit_query


def test_audit_events_missing_table_says_so(fake: FakeLogAnalytics) -> None:
    fake.answer("tables", [("SourceTable", "string"), ("Rows", "long")], [["Syslog", 10]])
    df = source(fake).audit_events("h1", JULY)
    assert_schema(df, AUDIT)
    assert len(df) == 0 and "no audit table" in df.attrs["missing"]
    # Syslog is present: AUOMS/Sysmon process events are looked for there (the fake answers none)
    assert [q.template for q in fake.requests] == ["tables", "agent_process_events"]


def test_configured_audit_table_is_used(fake: FakeLogAnalytics) -> None:
    fake.answer("audit_events", [("EventId", "string")], [])
    source(fake, audit_table="Auditd_CL").audit_events("h1", JULY)
    assert [q.template for q in fake.requests] == ["audit_events", "agent_process_events"]
    assert 'let audit_table = "Auditd_CL";' in fake.requests[0].query


def test_tables_maps_workspace_tables_to_schema(fake: FakeLogAnalytics) -> None:
    fake.answer("tables", [("SourceTable", "string"), ("Rows", "long")],
                [["SecurityAlert", 3], ["Heartbeat", 2], ["AzureNetworkAnalytics_CL", 9]])  # fmt: skip
    assert source(fake).tables() == {"SecurityAlert", "Heartbeat", "NetworkFlows"}


@pytest.mark.parametrize(
    ("method", "template", "table", "columns", "row"),
    [
        ("logon_events", "logon_events", LOGONS,
         [("TimeGenerated", "datetime"), ("User", "string"), ("Result", "string"), ("LogonType", "string"),
          ("SourceIP", "string"), ("SourcePort", "int"), ("InvalidUser", "bool"), ("Count", "int")],
         ["2019-07-08T16:08:00Z", "", "Failure", "password", "1.2.3.4", 22, True, 3]),
        ("sudo_events", "sudo_events", SUDO,
         [("TimeGenerated", "datetime"), ("Sudoer", "string"), ("RunAs", "string"), ("Command", "string"),
          ("Result", "string"), ("Reason", "string")],
         ["2019-07-10T15:13:25.813Z", "peteb", "root", "/usr/sbin/squid", "Success", ""]),
        ("cron_events", "cron_events", CRON,
         [("TimeGenerated", "datetime"), ("User", "string"), ("Action", "string"), ("Command", "string")],
         ["2019-07-08T16:17:01Z", "root", "run", "cd / && run-parts --report /etc/cron.hourly"]),
        ("account_changes", "account_changes", ACCOUNTS,
         [("TimeGenerated", "datetime"), ("Action", "string"), ("User", "string"), ("UID", "long"),
          ("Group", "string")],
         ["2019-07-08T16:17:01Z", "user_add", "bob", 1001, ""]),
    ],
)  # fmt: skip
def test_derived_tables_conform_and_empty_text_is_na(
    fake: FakeLogAnalytics, method: str, template: str, table: Table, columns: list, row: list
) -> None:
    fake.answer(template, columns, [row])
    df = getattr(source(fake), method)("squid-uk-02", JULY)
    assert_schema(df, table)
    values = dict(zip([c for c, _ in columns], row, strict=True))
    for col, value in values.items():
        got = df.loc[0, col]
        if value == "":
            assert pd.isna(got), col  # KQL strings cannot be null; the local parsers give NA
        elif col == "TimeGenerated":
            assert got == pd.Timestamp(value)
        else:
            assert got == value, col
    assert fake.requests[0].template == template


def test_syslog_volume_pushes_aggregation(fake: FakeLogAnalytics) -> None:
    cols = [("TimeGenerated", "datetime"), ("Key", "string"), ("Count", "long")]
    fake.answer(
        "syslog_volume", cols, [["2019-07-08T16:00:00Z", "authpriv", 57], ["2019-07-08T16:00:00Z", "cron", 2]]
    )
    df = source(fake).syslog_volume("squid-uk-02", JULY, bucket_seconds=3600, by="Facility")
    assert list(df.columns) == VOLUME_COLUMNS
    assert [str(t) for t in df.dtypes] == ["datetime64[ns, UTC]", "string", "Int64"]
    assert df["Count"].tolist() == [57, 2]
    q = fake.requests[0].query
    assert 'let volume_key = "Facility";' in q and "let bucket = 3600s;" in q
    assert "summarize Count = count() by TimeGenerated = bin_at(TimeGenerated, bucket" in q


def test_syslog_volume_rejects_unknown_key(fake: FakeLogAnalytics) -> None:
    with pytest.raises(QueryError, match="cannot count messages by 'SyslogMessage'"):
        source(fake).syslog_volume("h", JULY, bucket_seconds=60, by="SyslogMessage")  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="positive"):
        source(fake).syslog_volume("h", JULY, bucket_seconds=0, by="Facility")
    assert fake.requests == []


def test_hosts_contains_text_is_a_literal(fake: FakeLogAnalytics) -> None:
    cols = [("Computer", "string"), ("FirstSeen", "datetime"), ("LastSeen", "datetime"), ("SyslogRows", "long"),
            ("AuditRows", "long"), ("AlertRows", "long"), ("HeartbeatRows", "long"), ("FlowRows", "long")]  # fmt: skip
    fake.answer(
        "hosts", cols, [["squid-uk-02", "2019-07-05T18:04:09Z", "2019-07-15T02:45:00Z", 100, 0, 0, 1, 0]]
    )
    df = source(fake).hosts(EVIL, JULY)
    assert list(df.columns) == HOSTS_COLUMNS
    assert df.loc[0, "LastSeen"] == pd.Timestamp("2019-07-15 02:45", tz="UTC")
    assert df["SyslogRows"].tolist() == [100]
    assert 'let name_contains = "x\\" or 1==1 | take 1000 //";' in fake.requests[0].query


def test_host_injection_is_rejected_before_sending(fake: FakeLogAnalytics) -> None:
    src = source(fake)
    for method in ("syslog", "logon_events", "audit_events", "alerts", "network_flows"):
        with pytest.raises(QueryError, match="not a valid host name"):
            getattr(src, method)(EVIL, JULY)
    assert fake.requests == []


def test_empty_host_returns_empty_frame_without_query(fake: FakeLogAnalytics) -> None:
    df = source(fake).sudo_events("", JULY)
    assert_schema(df, SUDO)
    assert len(df) == 0 and fake.requests == []


def test_protocol_and_ingest_report(fake: FakeLogAnalytics) -> None:
    src = source(fake)
    assert isinstance(src, Source)
    assert src.ingest_report() == []
    assert_schema(src.host_users("squid-uk-02"), HOST_USERS)
    assert fake.requests == []


# --- values by declared type -------------------------------------------------------------------


def test_table_frame_converts_by_declared_type(fake: FakeLogAnalytics) -> None:
    cols = [("t", "datetime"), ("d", "dynamic"), ("ts", "timespan"), ("g", "guid"), ("b", "bool"),
            ("r", "real"), ("n", "long"), ("s", "string")]  # fmt: skip
    rows = [
        ["2019-07-08T16:08:00.123Z", '{"Type":"host"}', None, None, True, 1.5, 7, "a"],
        [None, '["1.2.3.4"]', "00:00:30", "6f1d3c3e-0000-4000-8000-000000000001", None, None, None, None],
    ]
    fake.answer("tables", cols, rows)
    client = LogsQueryClient(StaticTokenCredential(), endpoint=fake.endpoint, retry_total=0)
    result = client.query_workspace(WS, "// hunting:tables\nprint 1", timespan=None, enforce_https=False)
    df = table_frame(result.tables[0])
    assert df.loc[0, "t"] == pd.Timestamp("2019-07-08 16:08:00.123", tz="UTC") and pd.isna(df.loc[1, "t"])
    assert json.loads(df.loc[0, "d"]) == {"Type": "host"} and json.loads(df.loc[1, "d"]) == ["1.2.3.4"]
    assert pd.isna(df.loc[0, "ts"]) and df.loc[1, "ts"] == "00:00:30"  # the SDK's "None" string is null
    assert pd.isna(df.loc[0, "g"]) and df.loc[1, "g"] == "6f1d3c3e-0000-4000-8000-000000000001"
    assert [str(df[c].dtype) for c in ("b", "r", "n", "s")] == ["boolean", "Float64", "Int64", "string"]
    assert (df.loc[0, "b"], df.loc[0, "r"], df.loc[0, "n"]) == (True, 1.5, 7)


# --- partial results and errors ------------------------------------------------------------------


def test_partial_result_keeps_data_and_says_so(fake: FakeLogAnalytics, shared_data: Path) -> None:
    rows = syslog_rows(shared_data / "msticpy" / "syslog_data.csv")[:5]
    fake.partial(
        "syslog", SYSLOG_COLUMNS, rows, "EngineError", "Query result set has exceeded the internal limit"
    )
    df = source(fake).syslog("squid-uk-02", JULY)
    assert len(df) == 5
    assert df.attrs["partial"] == "PartialError: Query result set has exceeded the internal limit"


def test_forbidden_asks_for_reader_role(fake: FakeLogAnalytics) -> None:
    fake.fail("syslog", 403, "InsufficientAccessError", "The provided credentials have insufficient access")
    with pytest.raises(SourceUnavailable, match="Log Analytics Reader"):
        source(fake).syslog("h1", JULY)


def test_throttled_says_wait(fake: FakeLogAnalytics) -> None:
    fake.fail("syslog", 429, "TooManyRequests", "Rate limit exceeded")
    with pytest.raises(QueryError, match="throttling"):
        source(fake).syslog("h1", JULY)


def test_gateway_timeout_says_narrow(fake: FakeLogAnalytics) -> None:
    fake.fail("syslog", 504, "GatewayTimeout", "The query exceeded the allowed time")
    with pytest.raises(QueryError, match="timed out"):
        source(fake).syslog("h1", JULY)


def test_bad_query_quotes_service_message(fake: FakeLogAnalytics) -> None:
    fake.fail("syslog", 400, "BadArgumentError", "'where' operator: Failed to resolve table 'Syslog'")
    with pytest.raises(QueryError, match="Failed to resolve table"):
        source(fake).syslog("h1", JULY)


def test_client_read_timeout(fake: FakeLogAnalytics) -> None:
    fake.slow("syslog", 1.0)
    with pytest.raises(QueryError, match="did not answer"):
        source(fake, read_timeout=0.2).syslog("h1", JULY)


def test_wrong_token_is_source_unavailable(fake: FakeLogAnalytics) -> None:
    fake.answer("syslog", SYSLOG_COLUMNS, [])
    src = LogAnalyticsSource(WS, StaticTokenCredential("other"), endpoint=fake.endpoint, retries=0)
    with pytest.raises(SourceUnavailable, match="sign"):
        src.syslog("h1", JULY)


def test_unreachable_endpoint_is_source_unavailable() -> None:
    with FakeLogAnalytics() as gone:
        endpoint = gone.endpoint
    src = LogAnalyticsSource(WS, StaticTokenCredential(), endpoint=endpoint, retries=0)
    with pytest.raises(SourceUnavailable, match="cannot reach"):
        src.syslog("h1", JULY)


def test_plain_http_to_remote_host_is_refused() -> None:
    with pytest.raises(SourceUnavailable, match="not https"):
        LogAnalyticsSource(WS, StaticTokenCredential(), endpoint="http://api.loganalytics.io/v1")


def test_workspace_id_must_be_guid() -> None:
    with pytest.raises(SourceUnavailable, match="GUID"):
        LogAnalyticsSource("my-workspace", StaticTokenCredential())


# --- configuration ----------------------------------------------------------------------------


def test_workspaces_from_secrets_mapping() -> None:
    secrets = {
        "loganalytics": {
            "workspace_id": WS,
            "tenant_id": TENANT,
            "workspaces": {"China": {"workspace_id": "8ecf8077-cf51-4820-aadd-14040956f35d", "cloud": "cn"}},
        }
    }
    spaces = workspaces_from_mapping(secrets)
    assert [(w.name, w.workspace_id, w.tenant_id, w.endpoint) for w in spaces] == [
        ("Default", WS, TENANT, None),
        ("China", "8ecf8077-cf51-4820-aadd-14040956f35d", TENANT, "https://api.loganalytics.azure.cn/v1"),
    ]
    assert spaces[1].authority == "login.chinacloudapi.cn"


def test_workspaces_from_env() -> None:
    env = {
        "HUNTING_LA_WORKSPACE_ID": WS,
        "AZURE_TENANT_ID": TENANT,
        "HUNTING_LA_ENDPOINT": "https://x.example/v1",
    }
    assert workspaces_from_env(env) == [
        Workspace("Environment", WS, TENANT, "https://x.example/v1", None, "environment")
    ]
    assert workspaces_from_env({}) == []


def test_workspaces_from_msticpyconfig(tmp_path: Path) -> None:
    cfg = tmp_path / "msticpyconfig.yaml"
    cfg.write_text(
        "AzureSentinel:\n  Workspaces:\n"
        f"    Default:\n      WorkspaceId: {WS}\n      TenantId: {TENANT}\n"
        f"    Hunt:\n      WorkspaceId: 8ecf8077-cf51-4820-aadd-14040956f35d\n      TenantId: {TENANT}\n"
    )
    spaces = workspaces_from_msticpyconfig(cfg)
    assert [(w.name, w.workspace_id) for w in spaces] == [
        ("Default", WS),
        ("Hunt", "8ecf8077-cf51-4820-aadd-14040956f35d"),
    ]
    # MSTICPYCONFIG is followed; the same id from secrets wins (first place).
    found = discover_workspaces({"workspace_id": WS, "name": "Prod"}, environ={"MSTICPYCONFIG": str(cfg)})
    assert [w.name for w in found] == ["Prod", "Hunt"]


def test_bad_workspace_id_in_settings_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="workspace_id in secrets"):
        workspaces_from_mapping({"workspace_id": "not-a-guid"})


def test_auth_settings_pick_client_secret_and_hide_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    s = auth_settings(
        {"loganalytics": {"tenant_id": TENANT, "client_id": TENANT, "client_secret": SECRET}}, environ={}
    )
    assert s.method == "client_secret" and s.client_secret == SECRET
    assert SECRET not in repr(s) and SECRET not in str(s) and "client_secret=<set>" in repr(s)
    cred = build_credential(s)
    assert type(cred).__name__ == "ClientSecretCredential"
    src = connect(Workspace("Prod", WS), s)
    assert SECRET not in repr(src) and SECRET not in caplog.text


def test_auth_settings_errors_never_echo_secret() -> None:
    with pytest.raises(SourceUnavailable) as err:
        AuthSettings(method="client_secret", client_id=TENANT, client_secret=SECRET)
    assert "tenant_id" in str(err.value) and SECRET not in str(err.value)
    with pytest.raises(SourceUnavailable) as err2:
        build_credential(AuthSettings("client_secret", "not a tenant!", TENANT, SECRET))
    assert SECRET not in str(err2.value)


def test_auth_settings_default_and_env() -> None:
    assert auth_settings({}, environ={}).method == "default"
    env = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": TENANT, "AZURE_CLIENT_SECRET": SECRET}
    assert auth_settings(None, environ=env).method == "client_secret"
    assert auth_settings({"auth": "device_code"}, environ=env).method == "device_code"
    assert type(build_credential(AuthSettings("device_code", TENANT))).__name__ == "DeviceCodeCredential"


def test_connect_uses_sovereign_endpoint() -> None:
    ws = workspaces_from_mapping({"workspace_id": WS, "cloud": "cn"})[0]
    src = connect(ws, AuthSettings("default"), row_cap=100)
    assert src.endpoint == "https://api.loganalytics.azure.cn/v1" and src.row_cap == 100
    assert src.tables_lookback == timedelta(days=7)
