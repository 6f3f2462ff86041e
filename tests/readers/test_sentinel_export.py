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
