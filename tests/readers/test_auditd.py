"""auditd reader against real logs; expected values come from ausearch/aureport, grep and LAUREL's own JSON."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pandas as pd
import pytest

from hunting.readers.auditd import AUDITD_READER, RAW_MESSAGE_CAP, audit_events_from_auditlog_cl, parse_audit
from hunting.readers.base import FileAccount, ReadOptions
from hunting.schema import AUDIT


def _read(path: Path) -> tuple[pd.DataFrame, FileAccount]:
    result = AUDITD_READER.read(path.read_bytes(), str(path), 0.0, ReadOptions())
    assert result.account.balanced
    return result.tables["AuditEvents"], result.account


def _read_text(text: str, host: str = "") -> tuple[pd.DataFrame, FileAccount]:
    result = parse_audit(text.encode(), "mem.log", 0.0, ReadOptions(), host=host)
    assert result.account.balanced
    return result.tables["AuditEvents"], result.account


def _event(df: pd.DataFrame, event_id: str) -> pd.Series:
    rows = df[df["EventId"] == event_id]
    assert len(rows) == 1
    return rows.iloc[0]


# Distinct serials ausearch -if FILE --raw reports for each file.
AUSEARCH_EVENTS = {
    "audit-userspace/test.log": 7,
    "audit-userspace/test3.log": 8,
    "audit-userspace/test4.log": 2,
    "go-libaudit/auparse/testdata/audit-rhel7.log": 46,
    "go-libaudit/testdata/out_of_order.log": 5,
    "go-libaudit/testdata/rollover.log": 5,
    "laurel/testdata/shell-proc-trace-reordered.txt": 9,
    "laurel/testdata/shell-proc-trace-confusion.txt": 72,
    "plaso/audit_enriched.log": 12,
}


@pytest.mark.parametrize(("name", "events"), sorted(AUSEARCH_EVENTS.items()))
def test_read_event_counts_match_ausearch(shared_data: Path, name: str, events: int) -> None:
    df, account = _read(shared_data / name)
    assert len(df) == events
    assert account.rows == {"AuditEvents": events}
    assert list(df.columns) == AUDIT.names


def test_read_rhel7_exe_counts_match_aureport(shared_data: Path) -> None:
    df, account = _read(shared_data / "go-libaudit/auparse/testdata/audit-rhel7.log")
    # aureport -if audit-rhel7.log -x --summary
    assert df["Exe"].value_counts().to_dict() == {
        "/usr/sbin/sshd": 12,
        "/usr/sbin/groupadd": 2,
        "/usr/sbin/useradd": 2,
        "/usr/lib/systemd/systemd": 2,
        "/usr/lib/systemd/systemd-update-utmp": 2,
        "/usr/sbin/crond": 1,
        "/usr/bin/kmod": 1,
        "/usr/sbin/hwclock": 1,
        "/usr/bin/python2.7;58d1ccfb (deleted)": 1,  # hex-encoded exe
        "/usr/bin/bash": 1,
    }
    # line 31 is "type=UNKNOWN[1329] msg=?" which ausearch skips too; the file has no final newline
    assert (account.lines, account.parsed, account.unparsed) == (50, 49, 1)
    assert account.reasons == {"no msg=audit(EPOCH:SERIAL) id": 1}
    assert account.examples[0][:2] == (31, "no msg=audit(EPOCH:SERIAL) id")


def test_read_rhel7_login_fields(shared_data: Path) -> None:
    df, _ = _read(shared_data / "go-libaudit/auparse/testdata/audit-rhel7.log")
    login = _event(df, "1481077043.193:421")  # aureport -l: auid 1000 via sshd, /dev/pts/0
    assert login["EventType"] == "USER_LOGIN"
    assert (login["Pid"], login["Uid"], login["Auid"], login["Ses"]) == (1298, 0, 1000, 1)
    assert login["Hostname"] == "pool-96-241-146-97.washdc.fios.verizon.net"
    assert (login["Addr"], login["Terminal"], login["Res"], login["Op"]) == (
        "96.241.146.97",
        "/dev/pts/0",
        "success",
        "login",
    )
    assert login["TimeGenerated"] == pd.Timestamp("2016-12-07T02:17:23.193Z")


def test_read_enriched_names_and_failed_auth(shared_data: Path) -> None:
    df, account = _read(shared_data / "plaso/audit_enriched.log")
    assert (account.lines, account.parsed, account.unparsed) == (29, 29, 0)
    auth = _event(df, "1783414613.119:441")
    assert (auth["EventType"], auth["Op"], auth["Acct"], auth["Res"]) == (
        "USER_AUTH",
        "pubkey",
        "root",
        "failed",
    )
    assert (auth["Addr"], auth["Hostname"], auth["Terminal"]) == ("172.23.112.1", "?", "ssh")
    assert auth["Exe"] == "/usr/libexec/openssh/sshd-session"
    assert (auth["UidName"], auth["AuidName"], auth["Auid"]) == ("root", "unset", 4294967295)
    login = _event(df, "1783414613.166:447")  # LOGIN + SYSCALL + PROCTITLE
    assert login["RecordTypes"] == "LOGIN,SYSCALL,PROCTITLE"
    assert (login["Syscall"], login["Pid"], login["Ppid"], login["Auid"], login["Ses"]) == (
        "write",
        2124,
        1245,
        0,
        7,
    )
    assert login["Proctitle"] == "sshd-session: root [priv]"
    cat = _event(df, "1783416217.830:735")  # ausearch -i: a1=/tmp/my report.txt (hex in the log)
    assert (cat["Cmdline"], cat["Argc"], cat["Cwd"], cat["Key"]) == (
        "/usr/bin/cat /tmp/my report.txt",
        2,
        "/root",
        "spec2",
    )
    assert cat["Proctitle"] == "/usr/bin/cat /tmp/my report.txt"
    sudo = _event(df, "1783414573.687:423")
    assert (sudo["EventType"], sudo["Cmdline"], sudo["Cwd"], sudo["Exe"]) == (
        "USER_CMD",
        "true",
        "/root",
        "/usr/bin/sudo",
    )
    assert account.first_time == pd.Timestamp("2026-07-07T08:56:13.076Z").to_pydatetime()


def test_read_execve_long_argument_keeps_every_chunk(shared_data: Path) -> None:
    folder = shared_data / "laurel/testdata"
    df, _ = _read(folder / "record-execve-long.txt")
    row = df.iloc[0]
    expected = json.loads((folder / "record-execve-long.json").read_text())["EXECVE"]["ARGV"]
    assert row["Cmdline"] == " ".join(expected)
    arg = row["Cmdline"].split(" ", 1)[1]
    # grep -o 'a1\[[0-9]*\]=[0-9A-F]*' | awk: chunks of 3732 + 3746 + 714 bytes. (The fixture is cut
    # short: its a1_len=16384 promises more than the three chunks it holds.)
    assert len(arg) == 3732 + 3746 + 714
    assert (arg[0], arg[3732], arg[3732 + 3746]) == ("b", "d", "f")
    assert (row["Argc"], row["Pid"], row["Ppid"], row["Exe"], row["Cwd"]) == (
        2,
        8832,
        10881,
        "/usr/bin/echo",
        "/tmp",
    )
    assert (row["UidName"], row["Syscall"], row["Key"]) == ("user", "execve", "")


def test_read_perl_reverse_shell_hex_argument(shared_data: Path) -> None:
    folder = shared_data / "laurel/testdata"
    df, _ = _read(folder / "record-perl-reverse-shell.txt")
    expected = json.loads((folder / "record-perl-reverse-shell.json").read_text())
    row = df.iloc[0]
    assert row["Cmdline"] == " ".join(expected["EXECVE"]["ARGV"])
    assert (row["Pid"], row["Ppid"], row["Uid"], row["Auid"]) == (724395, 722076, 0, 1000)
    assert (row["Exe"], row["Cwd"], row["UidName"], row["AuidName"]) == (
        "/usr/bin/perl",
        "/root",
        "root",
        "user",
    )


def test_read_aarch64_execve_all_arguments(shared_data: Path) -> None:
    df, _ = _read(shared_data / "audit-userspace/test4.log")
    # ausearch -i -a SERIAL, EXECVE args with the aN= names removed: sha256 and length
    for serial, argc, length, digest in (
        ("25618", 48, 1029, "23772fcbd1cafdf130eddebef25b521167212279aec1e10e244d49a6ceed230f"),
        ("27091", 216, 5922, "579a530c24bf41de00bd8b70b4a78cf3099fdf0461637aec90621d160dcd42b9"),
    ):
        row = df[df["EventId"].str.endswith(":" + serial)].iloc[0]
        assert row["Argc"] == argc
        assert len(row["Cmdline"]) == length
        assert hashlib.sha256(row["Cmdline"].encode()).hexdigest() == digest
    ld = df[df["EventId"] == "1655465398.534:25618"].iloc[0]
    assert ld["Cmdline"].endswith(" /usr/lib64/gcc/aarch64-alt-linux/8/../../../../lib64/crtn.o")
    assert (ld["Pid"], ld["Ppid"], ld["Uid"], ld["Auid"], ld["Exe"]) == (105183, 105182, 583, 573, "/bin/sh4")
    assert ld["Cwd"] == "/usr/src/RPM/BUILD/zlib-1.2.11-alt1"


def test_read_groups_non_adjacent_records(shared_data: Path) -> None:
    normal, _ = _read(shared_data / "go-libaudit/testdata/normal.log")
    shuffled, _ = _read(shared_data / "go-libaudit/testdata/out_of_order.log")
    cat = _event(shuffled, "1492037291.038:60")  # its second PATH comes after event 61's SYSCALL
    assert cat["RecordTypes"] == "SYSCALL,EXECVE,CWD,PATH"
    assert cat["RawMessage"].count("\n") == 4  # ausearch --raw -a 60: 5 records
    assert (cat["Cmdline"], cat["Cwd"], cat["Pid"], cat["Ppid"]) == (
        "cat securitybeat",
        "/home/andrew_kroh",
        13392,
        12041,
    )
    cols = [c for c in AUDIT.names if c != "RawMessage"]
    pd.testing.assert_frame_equal(
        normal[cols].sort_values("EventId", ignore_index=True),
        shuffled[cols].sort_values("EventId", ignore_index=True),
    )
    # the same file as written by laurel's reordering test
    df, _ = _read(shared_data / "laurel/testdata/shell-proc-trace-reordered.txt")
    sed = _event(df, "1682609045.534:29245")
    assert (sed["Cmdline"], sed["Pid"], sed["Ppid"]) == ("/bin/sed -e s/foo/bar/", 71509, 71506)


def test_read_node_prefix_and_hex_proctitle(shared_data: Path) -> None:
    df, _ = _read(shared_data / "audit-userspace/test3.log")
    assert set(df["Computer"]) == {"auditdtest.a1959.org"}
    row = _event(df, "1451781471.394:194435")
    assert row["Proctitle"] == "sshd: burn [priv]"  # ausearch -i
    assert (row["RecordTypes"], row["Cmdline"] is pd.NA) == ("SYSCALL,PROCTITLE", True)
    group = _event(df, "1451781471.602:194894")
    assert (group["EventType"], group["Acct"], group["Exe"], group["Terminal"]) == (
        "ADD_GROUP",
        "frodo",
        "/usr/sbin/useradd",
        "pts/0",
    )


def test_read_old_pam_message_format(shared_data: Path) -> None:
    df, _ = _read(shared_data / "audit-userspace/test.log")
    start = _event(df, "1170021601.344:297")  # "(hostname=?, addr=?, terminal=cron res=success)"
    assert (start["Acct"], start["Exe"], start["Terminal"], start["Res"], start["Hostname"]) == (
        "root",
        "/usr/sbin/crond",
        "cron",
        "success",
        "?",
    )
    assert (start["Pid"], start["Auid"]) == (13015, 0)


def test_read_serial_rollover(shared_data: Path) -> None:
    df, _ = _read(shared_data / "go-libaudit/testdata/rollover.log")
    assert [e.split(":")[1] for e in df["EventId"]] == ["4294967294", "4294967295", "0", "1", "2"]


def test_read_hex_user_acct(shared_data: Path) -> None:
    df, _ = _read(shared_data / "go-libaudit/auparse/testdata/audit-ubuntu16.log")
    row = _event(df, "1492896301.818:19955")
    assert (row["Acct"], row["Addr"], row["Res"]) == ("(invalid user)", "179.38.151.221", "failed")


def test_read_comments_and_blank_lines_are_counted(shared_data: Path) -> None:
    _, account = _read(shared_data / "laurel/testdata/shell-proc-trace-reordered.txt")
    # 52 lines: 39 records (ausearch --raw), 10 empty (grep -c '^$'), 3 comments (grep -c '^#')
    assert (account.lines, account.parsed) == (52, 39)
    assert account.reasons == {"blank line": 10, "not an audit record": 3}


def test_audit_events_from_auditlog_cl_msticpy_export(shared_data: Path) -> None:
    df = pd.read_csv(shared_data / "msticpy/linux_events.csv", dtype="string")
    events, counts = audit_events_from_auditlog_cl(df)
    assert (counts.lines, counts.parsed, counts.unparsed, len(events)) == (100, 100, 0, 100)
    assert set(events["Computer"]) == {"MSTICAlertsLxVM2"}
    assert list(events.columns) == AUDIT.names
    # grep -c "'SYSCALL'" linux_events.csv
    assert (events["EventType"] == "SYSCALL").sum() == 82
    sh = _event(events, "1550505632.285:9077924")
    # a2=69707461626C6573202D2D76657273696F6E | xxd -r -p -> "iptables --version"
    assert sh["Cmdline"] == "/bin/sh -c iptables --version"
    assert (sh["Pid"], sh["Ppid"], sh["Uid"], sh["Auid"], sh["Exe"]) == (
        28066,
        22536,
        0,
        4294967295,
        "/bin/dash",
    )
    assert sh["Cwd"] == "/var/lib/waagent/WALinuxAgent-2.2.36"
    assert sh["TimeGenerated"] == pd.Timestamp("2019-02-18T16:00:32.285Z")
    cmd = _event(events, "1550505687.396:9077987")  # USER_CMD cmd= hex
    assert (cmd["Cmdline"], cmd["Cwd"], cmd["Uid"]) == ("test -f /var/log/audit/audit.log", "/", 0)
    end = _event(events, "1550505627.301:9077922")
    assert (end["Op"], end["Acct"], end["Exe"], end["Res"]) == (
        "PAM:session_close",
        "root",
        "/usr/bin/sudo",
        "success",
    )


def test_audit_events_from_auditlog_cl_bad_rows() -> None:
    df = pd.DataFrame(
        {
            "Computer": ["h1", "h1", "h1", "h1", None],
            "mssg_id": [
                "1550505627.301:1",
                "garbage",
                "1550505627.302:2",
                "1550505627.303:3",
                "1550505627.304:4",
            ],
            "AuditdMessage": [
                "[{'USER_END': ['pid=1', 'uid=0']}]",
                "[{'USER_END': ['pid=2']}]",
                "__import__('os').system('id')",
                "[{'SYSCALL': 'not a list'}]",
                [
                    {"USER_START": ["pid=5", "msg='op=PAM:session_open", 'acct="root"', "res=success'"]}
                ],  # JSON export
            ],
        }
    )
    events, counts = audit_events_from_auditlog_cl(df)
    assert list(events["Pid"]) == [1, 5]
    assert list(events["Computer"]) == ["h1", ""]
    assert list(events["Acct"].fillna("-")) == ["-", "root"]
    assert (counts.lines, counts.parsed, counts.unparsed) == (5, 2, 3)
    assert counts.reasons == {"bad mssg_id": 1, "bad AuditdMessage": 2}
    assert [e[0] for e in counts.examples] == [2, 3, 4]


def test_parse_audit_malformed_lines() -> None:
    text = (
        'type=SYSCALL msg=audit(1700000000.123:5): syscall=59 success=yes exit=0 ppid=1 pid=2 uid=0 comm="ls"\n'
        "garbage without any fields\n"
        "type=SYSCALL msg=audit(abc:5): pid=3\n"
        "type=SYSCALL msg=audit(99999999999.000:6): pid=4\n"
        "\n"
        "type=EOE msg=audit(1700000000.123:5): \n"
    )
    df, account = _read_text(text)
    assert (account.lines, account.parsed, account.unparsed) == (6, 2, 4)
    assert account.reasons == {
        "not an audit record": 1,
        "no msg=audit(EPOCH:SERIAL) id": 1,
        "bad epoch": 1,
        "blank line": 1,
    }
    assert sorted(n for n, _, _ in account.examples) == [2, 3, 4, 5]
    assert list(df["EventId"]) == ["1700000000.123:5"]
    assert df["RecordTypes"].iloc[0] == "SYSCALL,EOE"
    assert df["TimeGenerated"].iloc[0] == pd.Timestamp("2023-11-14T22:13:20.123Z")


def test_parse_audit_host_and_node() -> None:
    text = (
        'type=USER_LOGIN msg=audit(1700000000.000:1): pid=9 uid=0 auid=1000 ses=2 msg=\'op=login acct="bob" exe="/usr/sbin/sshd" hostname=? addr=10.0.0.5 terminal=ssh res=success\'\n'
        'node=web01 type=USER_LOGIN msg=audit(1700000000.000:1): pid=10 uid=0 auid=1000 ses=3 msg=\'op=login acct="eve" exe="/usr/sbin/sshd" hostname=? addr=10.0.0.6 terminal=ssh res=failed\'\n'
    )
    df, _ = _read_text(text, host="db01")
    assert list(df["Computer"]) == ["db01", "web01"]  # same serial on two hosts: two events
    assert list(df["Acct"]) == ["bob", "eve"]
    assert list(df["Pid"]) == [9, 10]
    df, _ = _read_text(text)
    assert list(df["Computer"]) == ["", "web01"]


def test_parse_audit_long_line_and_raw_cap() -> None:
    arg = "x y" * 400_000  # 1.2 MB argument, hex-encoded because of the spaces
    text = (
        'type=SYSCALL msg=audit(1700000000.000:7): syscall=59 pid=5 ppid=4 exe="/bin/echo"\n'
        f'type=EXECVE msg=audit(1700000000.000:7): argc=2 a0="echo" a1={arg.encode().hex().upper()}\n'
    )
    df, account = _read_text(text)
    assert account.parsed == 2
    row = df.iloc[0]
    assert row["Cmdline"] == "echo " + arg
    assert row["RawMessage"].startswith("type=SYSCALL")
    assert len(row["RawMessage"]) < RAW_MESSAGE_CAP + 100
    assert "truncated" in row["RawMessage"]


def test_parse_audit_execve_split_over_records_and_crlf() -> None:
    text = (
        "type=SYSCALL msg=audit(1700000000.000:8): syscall=59 pid=5\r\n"
        'type=EXECVE msg=audit(1700000000.000:8): argc=3 a0="sh" a1="-c" a2_len=6 a2[0]=C3\r\n'
        "type=EXECVE msg=audit(1700000000.000:8): a2[1]=A96C6C6F20\r\n"  # é split across chunks
        'type=EXECVE msg=audit(1700000000.000:8): a2[2]="x"\r\n'
    )
    df, _ = _read_text(text)
    assert (df["Cmdline"].iloc[0], df["Argc"].iloc[0]) == ("sh -c éllo x", 3)


def test_parse_audit_empty_input() -> None:
    for data in (b"", b"\n"):
        result = AUDITD_READER.read(data, "empty.log", 0.0, ReadOptions())
        assert result.account.balanced
        assert result.account.parsed == 0
        assert list(result.tables["AuditEvents"].columns) == AUDIT.names
        assert result.tables["AuditEvents"].empty
        assert result.account.first_time is None


def test_parse_audit_random_junk_does_not_crash() -> None:
    rng = random.Random(7)
    record = b'type=SYSCALL msg=audit(1700000000.000:1): pid=1 exe=41 key=(null)\x1dUID="r"\n'
    for _ in range(20):
        pieces = [rng.randbytes(rng.randint(0, 300)) for _ in range(30)]
        pieces.insert(rng.randint(0, 30), record)
        data = b"".join(pieces)
        result = AUDITD_READER.read(data, "junk.log", 0.0, ReadOptions())
        assert result.account.balanced
        assert result.account.lines == data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def test_sniff_audit_lines_only() -> None:
    assert AUDITD_READER.sniff(["type=DAEMON_START msg=audit(1450876093.261:8634): op=start ver=2.4.1"])
    assert AUDITD_READER.sniff(["node=h1 type=EOE msg=audit(1.2:3): ", "# comment"])
    assert not AUDITD_READER.sniff(["Jan  1 00:00:00 host kernel: audit: type=1400 audit(1.2:3): apparmor"])
    assert not AUDITD_READER.sniff([",TenantId,TimeGenerated,Computer,mssg_id,AuditdMessage"])
    assert not AUDITD_READER.sniff([])


def test_parse_audit_execve_without_argc_and_empty_argument() -> None:
    text = (
        'node=n1 type=EXECVE msg=audit(1700000000.000:9): a0="ls" a1=""\n'
        'type=EXECVE msg=audit(1700000000.000:10): argc=2 a0="ls" a1=2D6C61\n'
    )
    df, _ = _read_text(text)
    assert list(df["Cmdline"]) == ["ls ", "ls -la"]
    assert list(df["Argc"].astype("object").fillna(-1)) == [-1, 2]


def _store_hosts(paths: list[Path], host_name: str = "") -> tuple[dict[str, int], list[FileAccount]]:
    from hunting.store import Store

    store = Store()
    accounts = store.load(paths, ReadOptions(year=2015, host_name=host_name))
    rows = store.query("SELECT Computer, count(*) n FROM AuditEvents GROUP BY 1")
    return dict(zip(rows["Computer"], rows["n"].astype(int), strict=True)), accounts


def test_store_names_hosts_of_audit_records_without_node(shared_data: Path, tmp_path: Path) -> None:
    """Analyst's name, else the syslog host of the folder or its parent, else the folder's name."""
    audit = (shared_data / "plaso/audit_enriched.log").read_bytes()  # 12 serials (SOURCE.md), no node=
    syslog = (shared_data / "plaso/syslog/syslog_ssh.log").read_bytes()  # 8 of 9 lines from ubuntu2015
    case = tmp_path / "Case 7"
    (case / "var/log/audit").mkdir(parents=True)
    (case / "var/log/audit/audit.log").write_bytes(audit)
    only_audit, accounts = _store_hosts([case])
    assert only_audit == {"case-7": 12}  # audit, log, var are generic folder names
    assert (accounts[0].host, accounts[0].host_rule.split(" (")[0]) == ("case-7", "from the folder name")
    (case / "var/log/auth.log").write_bytes(syslog)
    beside, accounts = _store_hosts([case])
    assert beside == {"ubuntu2015": 12}
    rules = {Path(a.path).name: a.host_rule for a in accounts}
    assert rules == {"audit.log": "syslog host of the parent folder", "auth.log": ""}
    named, accounts = _store_hosts([case], host_name="web01")
    assert named == {"web01": 12}
    assert {a.host_rule for a in accounts} == {"named by the analyst", ""}
    # records that carry node= keep it whatever the rules say
    node_log = shared_data / "beats-auditd/audit-cent7-node.log"
    kept, accounts = _store_hosts([node_log], host_name="web01")
    assert "web01" not in kept and accounts[0].host_rule == ""
