"""`python -m hunting report`: exit codes, formats and messages, on the demo and loghub's OpenSSH sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hunting.cli import main
from hunting.demo.scenario import demo_dir, demo_manifest


@pytest.fixture(scope="module")
def db01_paths() -> list[str]:
    return [str(demo_dir() / "db01")]


def test_cmd_report_openssh_json_to_stdout(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = shared_data / "loghub" / "OpenSSH_2k.log"
    rc = main(["report", "--source", str(log), "--host", "labsz", "--year", "2015"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    report = json.loads(out.out)
    assert report["host"] == "LabSZ"
    assert (report["logons"]["success"], report["logons"]["failure"]) == (1, 528)  # see tests/test_report.py
    assert report["start"].startswith("2015-12-10T")


def test_cmd_report_range_and_tz(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = shared_data / "loghub" / "OpenSSH_2k.log"
    # local time +01:00: the 09:32:20 Accepted line is 08:32:20Z; keep 08:00Z-09:00Z only
    rc = main(["report", "--source", str(log), "--host", "LabSZ", "--year", "2015", "--tz", "Europe/Paris",
               "--start", "2015-12-10T08:00:00Z", "--end", "2015-12-10T09:00:00Z"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert (report["start"], report["end"]) == ("2015-12-10T08:00:00Z", "2015-12-10T09:00:00Z")
    assert [e["time"] for e in report["logons"]["events"] if e["result"] == "Success"] == [
        "2015-12-10T08:32:20Z"
    ]


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_cmd_report_demo_benign_host_to_file(
    tmp_path: Path, db01_paths: list[str], fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"r.{fmt}"
    rc = main(["report", "--source", *db01_paths, "--host", "DB01", "--format", fmt, "--output", str(out)])
    assert rc == 0  # no medium/high findings is still success
    assert capsys.readouterr().out == ""
    text = out.read_text()
    assert "db01" in text and "What was searched" in text
    if fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and "<script" not in text


def test_cmd_report_demo_compromised_host_json(tmp_path: Path) -> None:
    paths = [str(demo_dir() / "web01"), str(demo_dir() / "sentinel")]
    out = tmp_path / "web01.json"
    assert main(["report", "--source", *paths, "--host", "web01", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    truth = demo_manifest().truth
    assert report["summary"]["high"] > 0
    assert any(f["rule_id"] == "network.shell_outbound" and f["source_ip"] == truth["reverse_shell"]["ip"]
               for f in report["findings"])  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "nope"], "unknown host 'nope'; hosts in the source: db01"),
        (["--host", "db01", "--start", "yesterday"], "bad --start 'yesterday'"),
        (
            ["--host", "db01", "--start", "2026-03-12T00:00:00Z", "--end", "2026-03-11T00:00:00Z"],
            "bad time range",
        ),
        (["--host", "db01", "--tz", "Mars/Olympus"], "bad --year/--tz"),
    ],
)
def test_cmd_report_errors(
    db01_paths: list[str], args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["report", "--source", *db01_paths, *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and err.startswith("error: ")


def test_cmd_report_missing_or_unreadable_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--source", str(tmp_path / "absent.log"), "--host", "x"]) == 2
    assert "path not found" in capsys.readouterr().err
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    assert main(["report", "--source", str(junk), "--host", "x"]) == 2
    assert "no readable log files" in capsys.readouterr().err


def test_cmd_report_unwritable_output(
    db01_paths: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "report",
            "--source",
            *db01_paths,
            "--host",
            "db01",
            "--output",
            str(tmp_path / "no" / "such" / "r.json"),
        ]
    )
    assert rc == 2
    assert "cannot write" in capsys.readouterr().err
