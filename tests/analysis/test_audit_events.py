"""Logons, sudo, account changes and sessions from auditd records, checked against aureport/ausearch.

Expected counts come from auditd's own tools, run by the tests on the same files (CI has
auditd; with CI=true a missing tool fails) and pinned here as verified by hand:
``aureport -if FILE --login`` (USER_LOGIN events), ``--auth`` (USER_AUTH events), each with
``--failed``, and ``ausearch -if FILE -m USER_CMD --raw`` (USER_CMD records).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.audit_events import audit_account_changes, audit_logons, audit_sessions, audit_sudo
from hunting.analysis.events import derive_event_tables
from hunting.analysis.logons import logon_totals
from hunting.readers.auditd import folder_host_name, name_unnamed_host, parse_audit
from hunting.readers.base import ReadOptions
from hunting.schema import SYSLOG, conform
from tests.conftest import missing

# file: (aureport --login, --login --failed, --auth, --auth --failed, ausearch -m USER_CMD), by hand
FILES = {
    "go-libaudit/auparse/testdata/audit-rhel7.log": (1, 0, 1, 0, 1),
    "go-libaudit/auparse/testdata/audit-ubuntu16.log": (2, 1, 0, 0, 0),
    "go-libaudit/auparse/testdata/audit-rhel6.log": (0, 0, 0, 0, 1),
    "beats-auditd/audit-rhel6.log": (0, 0, 2, 0, 1),
    "beats-auditd/useradd.log": (0, 0, 1, 0, 0),
    "beats-auditd/test.log": (0, 0, 0, 0, 1),
    "plaso/audit_enriched.log": (0, 0, 1, 1, 1),
    "otrf-linux-atomic-auditd/sh_arp_cache_2020-11-10074812.log": (0, 0, 0, 0, 0),
    "laurel/testdata/record-login.txt": (0, 0, 0, 0, 0),
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} (auditd tools) is not installed")
    return str(path)


def aureport_count(path: Path, *args: str) -> int:
    """Numbered report lines of ``aureport -if FILE ARGS`` (one per event)."""
    out = subprocess.run(
        [_tool("aureport"), "-if", str(path), *args], capture_output=True, text=True, check=False
    ).stdout
    return sum(1 for line in out.splitlines() if re.match(r"^\d+\. ", line))


def ausearch_records(path: Path, record: str) -> int:
    out = subprocess.run(
        [_tool("ausearch"), "-if", str(path), "-m", record, "--raw"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return sum(1 for line in out.splitlines() if f"type={record} " in line)


def _audit(path: Path, host: str = "h") -> pd.DataFrame:
    return parse_audit(path.read_bytes(), str(path), 0.0, ReadOptions(), host=host).tables["AuditEvents"]


def _of(rows: pd.DataFrame, record: str) -> pd.DataFrame:
    return rows[rows["SyslogMessage"].str.contains(rf"type={record} ", regex=True)]


@pytest.mark.parametrize("name", sorted(FILES))
def test_counts_agree_with_aureport_and_ausearch(shared_data: Path, name: str) -> None:
    path = shared_data / name
    login, login_failed, auth, auth_failed, cmds = FILES[name]
    # the tools' own answers equal the pinned, hand-checked ones
    assert aureport_count(path, "--login") == login
    assert aureport_count(path, "--login", "--failed") == login_failed
    assert aureport_count(path, "--auth") == auth
    assert aureport_count(path, "--auth", "--failed") == auth_failed
    assert ausearch_records(path, "USER_CMD") == cmds
    audit = _audit(path)
    logons = audit_logons(audit)
    # one row per USER_LOGIN and per USER_AUTH event, as aureport lists them
    assert len(_of(logons, "USER_LOGIN")) == login
    assert len(_of(logons, "USER_AUTH")) == auth
    assert (_of(logons, "USER_LOGIN")["Result"] == "Failure").sum() == login_failed
    # every failed USER_AUTH here has no USER_LOGIN in its process, so each counts
    assert (_of(logons, "USER_AUTH")["Result"] == "Failure").sum() == auth_failed
    assert logon_totals(logons)["failure"] == login_failed + auth_failed
    assert len(audit_sudo(audit)) == cmds


def test_rhel7_sshd_auth_and_login_are_one_logon(shared_data: Path) -> None:
    # aureport -l: 1481077043.193:421 auid 1000 via sshd from 96.241.146.97 on /dev/pts/0, success;
    # aureport -au: 1481077043.046:408 andrew_kroh pubkey success, same pid 1298 (grep pid=1298)
    logons = audit_logons(_audit(shared_data / "go-libaudit/auparse/testdata/audit-rhel7.log"))
    counted = logons[logons["Result"].isin(["Success", "Failure"])]
    assert len(counted) == 1
    row = counted.iloc[0]
    assert (row["User"], row["SourceIP"], row["ProcessID"], row["LogonType"]) == (
        "andrew_kroh",  # USER_LOGIN says id=1000; the USER_AUTH of pid 1298 says acct="andrew_kroh"
        "96.241.146.97",
        1298,
        "ssh",
    )
    notice = logons[logons["Result"] == "Notice"].iloc[0]
    assert (notice["LogonType"], notice["SourcePort"]) == ("publickey", 63927)  # op=pubkey_auth rport=63927


def test_ubuntu16_failed_login_of_invalid_user(shared_data: Path) -> None:
    # acct=28696E76616C6964207573657229 is hex for "(invalid user)" (ausearch -i shows it so)
    logons = audit_logons(_audit(shared_data / "go-libaudit/auparse/testdata/audit-ubuntu16.log"))
    fail = logons[logons["Result"] == "Failure"].iloc[0]
    assert bool(fail["InvalidUser"]) and pd.isna(fail["User"])
    assert fail["SourceIP"] == "179.38.151.221"


def test_su_is_one_logon_and_sudo_command_decoded(shared_data: Path) -> None:
    audit = _audit(shared_data / "beats-auditd/audit-rhel6.log")
    logons = audit_logons(audit)
    su = logons[logons["LogonType"] == "su"]
    assert len(su) == 1 and su.iloc[0]["User"] == "root" and su.iloc[0]["Result"] == "Success"
    sudo = audit_sudo(audit).iloc[0]
    # ausearch -if audit-rhel6.log -m USER_CMD -i: cmd=/usr/lib64/nagios/plugins/check_asterisk_sip_peers -p 202
    assert sudo["Command"] == "/usr/lib64/nagios/plugins/check_asterisk_sip_peers -p 202"
    assert sudo["CommandBinary"] == "/usr/lib64/nagios/plugins/check_asterisk_sip_peers"
    assert (sudo["PWD"], sudo["RunAs"], sudo["Sudoer"], sudo["ProcessID"]) == ("/", "root", "uid=497", 4151)


def test_account_changes_fold_records_of_one_change(shared_data: Path) -> None:
    # aureport -m on useradd.log: groupadd x3 (events 584, 586, 587, pid 2940), useradd (591),
    # passwd charlie (594); the three groupadd records are one group (id=1004)
    changes = audit_account_changes(_audit(shared_data / "beats-auditd/useradd.log"))
    got = list(
        zip(
            changes["Action"],
            changes["ProcessName"],
            changes["UID"],
            changes["GID"],
            changes["User"],
            strict=True,
        )
    )
    assert got == [
        ("group_add", "groupadd", pd.NA, 1004, pd.NA),
        ("user_add", "useradd", 1004, pd.NA, "uid=1004"),
        ("password_change", "passwd", pd.NA, pd.NA, "charlie"),
    ]
    assert changes.iloc[0]["SyslogMessage"].count("type=ADD_GROUP") == 3
    assert set(changes["Actor"]) == {"auid=1000"}


def test_account_changes_rhel7_and_failed_deletion(shared_data: Path) -> None:
    # aureport -m on audit-rhel7.log: groupadd 385 (ADD_GROUP) + 386 (GRP_MGMT add-shadow-group),
    # useradd 389 (ADD_USER) + 393 (USER_MGMT add-home-dir): one group and one user, id 1000
    changes = audit_account_changes(_audit(shared_data / "go-libaudit/auparse/testdata/audit-rhel7.log"))
    assert list(changes["Action"]) == ["group_add", "user_add"]
    assert list(changes["GID"].astype(object)) == [1000, pd.NA]
    assert list(changes["UID"].astype(object)) == [pd.NA, 1000]
    # plaso: DEL_USER res=failed (op=deleting-user-not-found) is no change; ADD_USER is
    plaso = audit_account_changes(_audit(shared_data / "plaso/audit_enriched.log"))
    assert list(zip(plaso["Action"], plaso["User"], plaso["Actor"], strict=True)) == [
        ("user_add", "specimenuser", "root")
    ]


def test_sessions_by_ses_and_process(shared_data: Path) -> None:
    # audit-rhel7.log: USER_START 1481077043.170 and USER_END 1481077049.033, ses=1 pid=1298
    sessions = audit_sessions(_audit(shared_data / "go-libaudit/auparse/testdata/audit-rhel7.log"))
    assert len(sessions) == 1
    s = sessions.iloc[0]
    assert (s["Ses"], s["ProcessID"], s["User"], s["SessionType"]) == (1, 1298, "andrew_kroh", "logon")
    assert s["DurationSeconds"] == pytest.approx(5.863)
    # beats audit-rhel6: two sudo sessions inside login session 11988, told apart by pid
    rhel6 = audit_sessions(_audit(shared_data / "beats-auditd/audit-rhel6.log"))
    assert list(rhel6["ProcessID"]) == [4121, 4151] and set(rhel6["SessionType"]) == {"system"}


def _syslog(rows: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    """Syslog rows written from sshd's and sudo's documented message forms (not from a real log)."""
    frame = pd.DataFrame(
        {
            "TimeGenerated": [pd.Timestamp(t, tz="UTC") for t, _, _, _ in rows],
            "Computer": "h",
            "Facility": "authpriv",
            "ProcessName": [p for _, p, _, _ in rows],
            "ProcessID": [pid for _, _, pid, _ in rows],
            "SyslogMessage": [m for _, _, _, m in rows],
        }
    )
    return conform(frame, SYSLOG)  # as the sources hand it over


def test_syslog_and_audit_of_the_same_logon_are_one_row(shared_data: Path) -> None:
    audit = _audit(shared_data / "go-libaudit/auparse/testdata/audit-ubuntu16.log")
    # the failed USER_LOGIN is 2017-04-22 21:25:01.818 UTC, pid 12635, from 179.38.151.221
    syslog = _syslog(
        [
            ("2017-04-22 21:25:01", "sshd", 12635, "Failed password for invalid user admin from 179.38.151.221 port 4000 ssh2"),
            ("2017-04-22 21:25:04", "sshd", 12635, "Failed password for invalid user admin from 179.38.151.221 port 4000 ssh2"),
            ("2017-04-22 21:25:02", "sshd", 999, "Failed password for root from 10.0.0.9 port 4001 ssh2"),
        ]
    )  # fmt: skip
    logons = derive_event_tables(syslog, audit)["LogonEvents"]
    # 3 syslog failures + 2 audit logons, of which the failure is the first syslog line: 4 rows
    assert len(logons) == 4
    assert logon_totals(logons) == {"success": 1, "failure": 3, "accounts": 3, "source_ips": 3}
    # without syslog the audit rows stand alone; without audit the syslog rows do
    assert logon_totals(derive_event_tables(syslog.iloc[:0], audit)["LogonEvents"])["failure"] == 1
    assert logon_totals(derive_event_tables(syslog, None)["LogonEvents"])["failure"] == 3


def test_syslog_and_audit_of_the_same_sudo_are_one_row(shared_data: Path) -> None:
    audit = _audit(shared_data / "beats-auditd/audit-rhel6.log")
    line = "nagios : TTY=unknown ; PWD=/ ; USER=root ; COMMAND=/usr/lib64/nagios/plugins/check_asterisk_sip_peers -p 202"
    # USER_CMD 1489519256.192 = 2017-03-14 19:20:56 UTC, pid 4151
    one = derive_event_tables(_syslog([("2017-03-14 19:20:56", "sudo", 4151, line)]), audit)["SudoEvents"]
    assert len(one) == 1 and one.iloc[0]["Sudoer"] == "nagios"
    far = derive_event_tables(_syslog([("2017-03-14 19:25:56", "sudo", 4151, line)]), audit)["SudoEvents"]
    assert len(far) == 2  # five minutes apart: two commands


def test_host_naming_rules(tmp_path: Path) -> None:
    f = tmp_path / "Web 01" / "var" / "log" / "audit" / "audit.log"
    assert folder_host_name(f) == "web-01"  # generic folders skipped, sanitised
    assert name_unnamed_host(f, {}, "db7") == ("db7", "named by the analyst")
    assert name_unnamed_host(f, {f.parent.parent: "syslog-host"})[0] == "syslog-host"
    host, rule = name_unnamed_host(f, {})
    assert host == "web-01" and "folder" in rule


def test_accepted_key_with_audit_auth_and_login_is_one_row(shared_data: Path) -> None:
    audit = _audit(shared_data / "go-libaudit/auparse/testdata/audit-rhel7.log")
    # USER_AUTH pubkey (02:17:23.046) and USER_LOGIN (02:17:23.193) of sshd pid 1298, with
    # sshd's own line for that logon (documented form, written here)
    line = "Accepted publickey for andrew_kroh from 96.241.146.97 port 63927 ssh2: RSA SHA256:x"
    logons = derive_event_tables(_syslog([("2016-12-07 02:17:23", "sshd", 1298, line)]), audit)["LogonEvents"]
    assert len(logons) == 1  # the USER_LOGIN merged, the paired USER_AUTH notice dropped
    assert (logons.iloc[0]["Result"], logons.iloc[0]["LogonType"]) == ("Success", "publickey")
