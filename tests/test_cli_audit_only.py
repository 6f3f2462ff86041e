"""`python -m hunting` on a folder holding only audit.log (no node=, no syslog beside it).

The audit.log is built in tmp_path from three real logs of ../shared/data (never copied into
the repo): plaso's ENRICHED log (sshd-session pubkey failure, sudo, useradd, processes),
go-libaudit's Ubuntu 16 log (a failed USER_LOGIN of an invalid user) and its RHEL 7 log
(a successful ssh logon, sudo, groupadd/useradd). Expected counts come from aureport run on
that same file, pinned as verified by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hunting.cli import main
from tests.analysis.test_audit_events import aureport_count, ausearch_records

PARTS = ("plaso/audit_enriched.log", "go-libaudit/auparse/testdata/audit-ubuntu16.log",
         "go-libaudit/auparse/testdata/audit-rhel7.log")  # fmt: skip


@pytest.fixture
def audit_only(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "srv-audit-only"
    folder.mkdir()
    data = b"".join((shared_data / p).read_bytes().rstrip(b"\n") + b"\n" for p in PARTS)
    (folder / "audit.log").write_bytes(data)
    return folder


def test_hosts_names_the_audit_only_folder(audit_only: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hosts", "--source", str(audit_only)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("srv-audit-only\t") and "no hosts found" not in out
    assert main(["hosts", "--source", str(audit_only), "--host-name", "web01"]) == 0
    assert capsys.readouterr().out.startswith("web01\t")
    assert main(["ingest", "--source", str(audit_only)]) == 0
    assert "host 'srv-audit-only': from the folder name" in capsys.readouterr().out


def test_report_on_audit_only_folder(audit_only: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = audit_only / "audit.log"
    # aureport -if audit.log --login --failed: 1 (ubuntu16, invalid user from 179.38.151.221);
    # --auth --failed: 1 (plaso, pubkey for root from 172.23.112.1). Neither failed USER_AUTH
    # shares a process with a failed USER_LOGIN (pids 2124 and 12635), so both count.
    login_failed = aureport_count(log, "--login", "--failed")
    auth_failed = aureport_count(log, "--auth", "--failed")
    assert (login_failed, auth_failed) == (1, 1)
    assert main(["report", "--source", str(audit_only), "--host", "srv-audit-only", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["logons"]["failure"] == login_failed + auth_failed
    # aureport --login: 3 USER_LOGIN (2 successes); --auth: 3 USER_AUTH of which rhel7's pubkey
    # success pairs with its USER_LOGIN (pid 1298), beats' none here: successes = 2 + 0 unpaired
    assert report["logons"]["success"] == 2
    assert len(report["sudo"]) == ausearch_records(log, "USER_CMD") == 2
    actions = sorted(c["action"] for c in report["account_changes"])
    # aureport -m: plaso useradd (DEL_USER failed is no change); rhel7 groupadd+GRP_MGMT, useradd+USER_MGMT
    assert actions == ["group_add", "user_add", "user_add"]
    assert len(report["processes"]) >= 3  # plaso's 3 EXECVE events (grep -c type=EXECVE)
    titles = [f["title"] for f in report["findings"]]
    assert "New account specimenuser created" in titles
    assert "New account uid=1000 created" in titles  # rhel7's ADD_USER gives only id=1000


def test_bad_host_name_is_a_clear_error(audit_only: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hosts", "--source", str(audit_only), "--host-name", "web\x1b[31m01"]) == 2
    assert (
        "bad --year/--tz/--host-name: host name must be at most 253 printable characters"
        in capsys.readouterr().err
    )
