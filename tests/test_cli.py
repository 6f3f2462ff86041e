"""The command line: ingest accounting over the whole real corpus, hosts listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hunting.cli import main


def test_ingest_reports_every_shared_file_balanced(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", "--source", str(shared_data), "--json"]) == 0
    accounts = json.loads(capsys.readouterr().out)
    files = sorted(str(p) for p in shared_data.rglob("*") if p.is_file())
    assert sorted(a["path"] for a in accounts) == files
    for a in accounts:
        assert a["lines"] == a["parsed"] + a["unparsed"], a["path"]
    by_path = {Path(a["path"]).relative_to(shared_data).as_posix(): a for a in accounts}
    loghub = by_path["loghub/OpenSSH_2k.log"]
    assert (loghub["format"], loghub["lines"], loghub["parsed"]) == ("syslog", 2000, 2000)
    alerts = by_path["sentinel-notebooks/alertlist.csv"]
    assert (alerts["format"], alerts["parsed"]) == ("sentinel-export-csv:SecurityAlert", 189)
    # licences and golden files are not logs: counted as unrecognised, never dropped
    assert by_path["laurel/LICENSE"]["format"] == "unknown"
    assert by_path["laurel/LICENSE"]["unparsed"] == by_path["laurel/LICENSE"]["lines"] > 0


def test_hosts_lists_loghub_host_with_span(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["hosts", "--source", str(shared_data / "loghub"), "--year", "2015", "--json"])
    assert code == 0
    hosts = json.loads(capsys.readouterr().out)
    assert [h["Computer"] for h in hosts] == ["LabSZ"]
    assert hosts[0]["SyslogRows"] == 2000
    assert hosts[0]["FirstSeen"].startswith("2015-12-10T06:55:46")


def test_cli_missing_path_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hosts", "--source", "/no/such/evidence"]) == 2
    assert "path not found: /no/such/evidence" in capsys.readouterr().err


def test_cli_bad_timezone_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "--source", str(tmp_path), "--tz", "Mars/Olympus"]) == 2
    assert "bad --year/--tz" in capsys.readouterr().err
