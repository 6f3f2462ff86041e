"""`python -m hunting` on a folder holding only audit.log (no node=, no syslog beside it).

The audit.log is built in tmp_path from three real logs of ../shared/data (never copied into
the repo): plaso's ENRICHED log (sshd-session pubkey failure, sudo, useradd, processes),
go-libaudit's Ubuntu 16 log (a failed USER_LOGIN of an invalid user) and its RHEL 7 log
(a successful ssh logon, sudo, groupadd/useradd). Expected counts come from aureport run on
that same file, pinned as verified by hand.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from hunting.cli import main
from tests.analysis.test_audit_events import _tool, aureport_count, ausearch_records
from tests.conftest import SHARED_DATA, missing

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


# Every raw audit log of ../shared/data (grep -rlE '^(node=\S+ )?type=[A-Z_]+ msg=audit\(' ../shared/data),
# each alone in a folder, as the "done when" asks.
_AUDIT_LINE = re.compile(rb"^(?:node=\S+ )?type=[A-Z_]+ msg=audit\(", re.M)
_LOGON_PROGRAMS = {
    "sshd",
    "sshd-session",
    "sshd-auth",
    "su",
    "login",
    "gdm-session-worker",
    "lightdm",
    "sddm",
}


def _audit_logs() -> list[str]:
    if not SHARED_DATA.is_dir():
        return ["<../shared/data absent>"]
    found = [
        p.relative_to(SHARED_DATA).as_posix()
        for p in sorted(SHARED_DATA.rglob("*"))
        if p.is_file() and p.stat().st_size < 5_000_000 and _AUDIT_LINE.search(p.read_bytes())
    ]
    return found or ["<no audit log found>"]


def _records(path: Path, record: str, success: str) -> list[tuple[str, str]]:
    """(pid, exe basename) of each ``record`` whose res is ``success`` (yes/no), as ausearch selects them."""
    out = subprocess.run(
        [_tool("ausearch"), "-if", str(path), "-m", record, "-sv", success, "--raw"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    rows = []
    for line in out.splitlines():
        if f"type={record} " not in line:
            continue
        pid = re.search(r" pid=(\d+)", line)
        exe = re.search(r"exe=(\"[^\"]*\"|\S+)", line)
        name = exe.group(1).strip('"') if exe else ""
        if exe and not exe.group(1).startswith('"') and re.fullmatch(r"(?:[0-9A-F]{2})+", name):
            name = bytes.fromhex(name).decode("utf-8", "replace")
        rows.append((pid.group(1) if pid else "", name.rsplit("/", 1)[-1]))
    return rows


def _exec_events(path: Path) -> int:
    """Events (audit ids) of the EXECVE records ``ausearch -m EXECVE`` prints, with or without a SYSCALL."""
    out = subprocess.run(
        [_tool("ausearch"), "-if", str(path), "-m", "EXECVE", "--raw"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    ids = {m.group(1) for m in re.finditer(r"(?m)^(?:node=\S+ )?type=EXECVE msg=audit\(([^)]*)\)", out)}
    return len(ids)


def _expected_logons(path: Path) -> tuple[int, int]:
    """(successes, failures) by the audit_events counting rule, from ausearch's selection alone.

    Each USER_LOGIN counts; a USER_AUTH counts unless it is the k-th of its pid and result
    with at least k USER_LOGINs there (sshd writes both for one attempt), and a USER_AUTH
    success counts only for a logon program (sudo's or passwd's authentication is no logon).
    """
    totals = []
    for success in ("yes", "no"):
        logins = Counter(pid for pid, _ in _records(path, "USER_LOGIN", success))
        count = sum(logins.values())
        seen: Counter[str] = Counter()
        for pid, exe in _records(path, "USER_AUTH", success):
            seen[pid] += 1
            if seen[pid] > logins[pid] and (success == "no" or exe in _LOGON_PROGRAMS):
                count += 1
        totals.append(count)
    return totals[0], totals[1]


@pytest.mark.parametrize("rel", _audit_logs())
def test_every_shared_audit_log_alone_in_a_folder(
    rel: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if rel.startswith("<"):
        missing(f"no audit log to test: {rel}")
    src = SHARED_DATA / rel
    folder = tmp_path / "box"
    folder.mkdir()
    log = folder / "audit.log"
    shutil.copyfile(src, log)
    assert main(["hosts", "--source", str(folder)]) == 0
    listed = capsys.readouterr().out
    assert "no hosts found" not in listed
    host = listed.splitlines()[0].split("\t")[0]
    assert host  # node= of the log, else the folder's name
    assert main(["report", "--source", str(folder), "--host", host, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for part in ("logons", "sudo", "account_changes", "processes", "findings"):
        assert part in report
    # the tools' own counts: failures and successes of USER_LOGIN/USER_AUTH ...
    login_failed = aureport_count(log, "--login", "--failed")
    auth_failed = aureport_count(log, "--auth", "--failed")
    assert len(_records(log, "USER_LOGIN", "no")) == login_failed  # ausearch and aureport agree
    assert len(_records(log, "USER_AUTH", "no")) == auth_failed
    success, failure = _expected_logons(log)
    assert (report["logons"]["success"], report["logons"]["failure"]) == (success, failure)
    # ... sudo commands (ausearch -m USER_CMD) and processes: one per event holding an EXECVE record, also
    # a lone EXECVE whose SYSCALL was lost (beats' execve-hex-arg.log and test.log, 4 in go-libaudit's
    # audit-rhel7.log, 1 in its test3.log); a SYSCALL without EXECVE names no process
    assert len(report["sudo"]) == ausearch_records(log, "USER_CMD")
    assert len(report["processes"]) == _exec_events(log)
    # account changes: aureport -m lists each successful record; records of one change fold
    modified = [
        line
        for line in subprocess.run(
            [_tool("aureport"), "-if", str(log), "-m"], capture_output=True, text=True, check=False
        ).stdout.splitlines()
        if re.match(r"^\d+\. .* yes \d+$", line)
    ]
    assert (len(report["account_changes"]) > 0) == (len(modified) > 0)
    assert len(report["account_changes"]) <= len(modified)
