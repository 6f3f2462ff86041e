"""journalctl -o json reader, on entries with the field set journalctl really writes.

Times: date -u -d @1709634121 -> Tue Mar 5 10:22:01 UTC 2024.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from hunting.readers.base import ReadOptions, ReadResult
from hunting.readers.journald import BAD_TIME, BLANK, INVALID, JOURNALD_READER, NO_TIME, NOT_OBJECT
from hunting.readers.syslog import SYSLOG_READER
from hunting.schema import SYSLOG

BOOT = "0c1d2e3f405162738495a6b7c8d9e0f1"
MACHINE = "4f1e2d3c4b5a69788796a5b4c3d2e1f0"


def entry(seq: int, us: int, **fields: Any) -> dict[str, Any]:
    """The trusted fields journald adds to every entry, then the entry's own."""
    return {
        "__CURSOR": f"s=7f3c2a0d9a2b4b0f8e6c1d2e3f405162;i={seq:x};b={BOOT};m={us - 1709600000000000:x};t={us:x};x=9f8e",
        "__REALTIME_TIMESTAMP": str(us),
        "__MONOTONIC_TIMESTAMP": str(us - 1709600000000000),
        "__SEQNUM": str(seq),
        "__SEQNUM_ID": "7f3c2a0d9a2b4b0f8e6c1d2e3f405162",
        "_BOOT_ID": BOOT,
        "_MACHINE_ID": MACHINE,
        "_HOSTNAME": "web01",
        "_RUNTIME_SCOPE": "system",
        **fields,
    }


SSHD = entry(
    1, 1709634121123456,
    _TRANSPORT="syslog", PRIORITY="6", SYSLOG_FACILITY="4", SYSLOG_IDENTIFIER="sshd-session", SYSLOG_PID="2412",
    SYSLOG_TIMESTAMP="Mar  5 10:22:01 ", _PID="2412", _UID="0", _GID="0", _COMM="sshd-session",
    _EXE="/usr/lib/openssh/sshd-session", _CMDLINE="sshd-session: alice [priv]", _CAP_EFFECTIVE="1ffffffffff",
    _SYSTEMD_CGROUP="/system.slice/ssh.service", _SYSTEMD_UNIT="ssh.service", _SYSTEMD_SLICE="system.slice",
    _SOURCE_REALTIME_TIMESTAMP="1709634121123001",
    MESSAGE="Accepted publickey for alice from 203.0.113.5 port 51234 ssh2: ED25519 SHA256:Ab0Cd1Ef2Gh3Ij4Kl5",
)  # fmt: skip
SUDO = entry(
    2, 1709634180000001,
    _TRANSPORT="syslog", PRIORITY="5", SYSLOG_FACILITY="10", SYSLOG_IDENTIFIER="sudo", SYSLOG_TIMESTAMP="Mar  5 10:23:00 ",
    _PID="2501", _UID="1000", _GID="1000", _COMM="sudo", _EXE="/usr/bin/sudo", _CMDLINE="sudo cat /etc/shadow",
    _AUDIT_SESSION="3", _AUDIT_LOGINUID="1000", _SYSTEMD_CGROUP="/user.slice/user-1000.slice/session-3.scope",
    MESSAGE="   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
)  # fmt: skip
CRON = entry(
    3, 1709634240000000,
    _TRANSPORT="syslog", PRIORITY="6", SYSLOG_FACILITY="9", SYSLOG_IDENTIFIER="CRON", SYSLOG_PID="2600",
    _PID="2600", _UID="0", _GID="0", _COMM="cron", _EXE="/usr/sbin/cron", _CMDLINE="/usr/sbin/CRON -f -P",
    _SYSTEMD_UNIT="cron.service", MESSAGE="(root) CMD (/tmp/.x/upd >/dev/null 2>&1)",
)  # fmt: skip
BYTES = entry(
    4, 1709634300000000,
    _TRANSPORT="stdout", PRIORITY="3", SYSLOG_FACILITY="3", SYSLOG_IDENTIFIER="backup.sh", _PID="2700",
    _COMM="backup.sh", _STREAM_ID="a1b2c3", MESSAGE=list(b"copied caf\xe9.txt"),
)  # fmt: skip
POLKIT = entry(  # logged natively through GLib: no SYSLOG_FACILITY, no SYSLOG_IDENTIFIER
    5, 1709634360000000,
    _TRANSPORT="journal", PRIORITY="5", GLIB_DOMAIN="polkit", _PID="812", _COMM="polkitd",
    CODE_FILE="../src/polkitbackend/polkitbackendinteractiveauthority.c",
    MESSAGE="Operator of unix-session:3 successfully authenticated as unix-user:root",
)  # fmt: skip
KERNEL = entry(
    6, 1709634420000000,
    _TRANSPORT="kernel", PRIORITY="4", SYSLOG_FACILITY="0", SYSLOG_IDENTIFIER="kernel", _KERNEL_SUBSYSTEM="usb",
    MESSAGE=None,  # journalctl writes null for values over 4096 bytes unless --all
)  # fmt: skip


def jsonl(*items: object) -> bytes:
    return "".join(
        (i if isinstance(i, str) else json.dumps(i, separators=(",", ":"))) + "\n" for i in items
    ).encode()


def read(data: bytes) -> ReadResult:
    result = JOURNALD_READER.read(data, "journal.json", 0.0, ReadOptions(tz="Europe/Paris", year=2020))
    acc = result.account
    assert acc.balanced and acc.format == "journald-json"
    assert acc.rows["Syslog"] == acc.parsed == len(result.tables["Syslog"])
    return result


def test_read_entries_fields() -> None:
    result = read(jsonl(SSHD, SUDO, CRON, BYTES, POLKIT, KERNEL))
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed, acc.unparsed) == (6, 6, 0)
    assert list(df.columns) == SYSLOG.names
    sshd = df.iloc[0]
    # the zone and year options do not apply: journal times are UTC epochs
    assert sshd["TimeGenerated"] == pd.Timestamp("2024-03-05 10:22:01.123456", tz="UTC")
    assert (sshd["Computer"], sshd["HostName"], sshd["ProcessName"], sshd["ProcessID"]) == (
        "web01", "web01", "sshd-session", 2412,
    )  # fmt: skip
    assert (sshd["Facility"], sshd["SeverityLevel"]) == ("auth", "info")
    assert sshd["SyslogMessage"].startswith("Accepted publickey for alice from 203.0.113.5 port 51234 ssh2")
    assert list(df["ProcessName"]) == ["sshd-session", "sudo", "CRON", "backup.sh", "polkitd", "kernel"]
    assert list(df["Facility"]) == ["auth", "authpriv", "cron", "daemon", "authpriv", "kern"]
    assert list(df["SeverityLevel"]) == ["info", "notice", "info", "err", "notice", "warning"]
    assert df.iloc[1]["SyslogMessage"] == SUDO["MESSAGE"]  # kept as logged, leading blanks included
    assert df.iloc[2]["SyslogMessage"] == "(root) CMD (/tmp/.x/upd >/dev/null 2>&1)"
    assert df.iloc[3]["SyslogMessage"] == "copied caf\ufffd.txt"
    assert df.iloc[5]["SyslogMessage"] == "" and pd.isna(df.iloc[5]["ProcessID"])
    assert acc.first_time == datetime(2024, 3, 5, 10, 22, 1, 123456, tzinfo=UTC)
    assert acc.last_time == datetime(2024, 3, 5, 10, 27, tzinfo=UTC)


def test_read_bad_lines_counted() -> None:
    no_time = {k: v for k, v in CRON.items() if k != "__REALTIME_TIMESTAMP"}
    bad_time = {**CRON, "__REALTIME_TIMESTAMP": "yesterday"}
    data = jsonl(
        SSHD, "this is not json {", "", no_time, "[1, 2]", bad_time, '{"__REALTIME_TIMESTAMP": "17096'
    )
    acc = read(data).account
    assert (acc.lines, acc.parsed, acc.unparsed) == (7, 1, 6)
    assert acc.reasons == {INVALID: 2, BLANK: 1, NO_TIME: 1, NOT_OBJECT: 1, BAD_TIME: 1}
    assert (2, INVALID, "this is not json {") in acc.examples
    assert acc.examples[-1][0] == 7


def test_read_pid_falls_back_to_syslog_pid_and_comm() -> None:
    e = {k: v for k, v in SSHD.items() if k not in ("_PID", "SYSLOG_IDENTIFIER")}
    df = read(jsonl(e)).tables["Syslog"]
    assert (df.iloc[0]["ProcessName"], df.iloc[0]["ProcessID"]) == ("sshd-session", 2412)


def test_read_json_seq_crlf_and_no_final_newline() -> None:
    data = b"\x1e" + jsonl(SSHD).rstrip(b"\n") + b"\r\n" + jsonl(CRON).rstrip(b"\n")
    acc = read(data).account
    assert (acc.lines, acc.parsed) == (2, 2)


def test_read_invalid_utf8_line() -> None:
    raw = jsonl(CRON).replace(b"(root)", b"(r\xffot)")
    df = read(raw).tables["Syslog"]
    assert df.iloc[0]["SyslogMessage"] == "(r\ufffdot) CMD (/tmp/.x/upd >/dev/null 2>&1)"


def test_read_empty_input() -> None:
    result = read(b"")
    assert (result.account.lines, result.account.parsed) == (0, 0)
    assert list(result.tables["Syslog"].columns) == SYSLOG.names


def test_sniff_journal_json_only() -> None:
    head = jsonl(SSHD, SUDO, CRON).decode().splitlines()
    assert JOURNALD_READER.sniff(head)
    assert JOURNALD_READER.sniff([json.dumps({"__CURSOR": "s=1;i=2", "MESSAGE": "x"})])
    assert not SYSLOG_READER.sniff(head)
    assert not JOURNALD_READER.sniff(["Mar  5 10:22:01 web01 sshd[1]: Accepted password for a"])
    assert not JOURNALD_READER.sniff(['{"TimeGenerated": "2024-03-05", "SyslogMessage": "x"}'])
    assert not JOURNALD_READER.sniff([])
