"""AUOMS records (Microsoft's auditd plugin) read from any Syslog source, and their edge cases."""

from __future__ import annotations

from pathlib import Path

from hunting.analysis.process_tree import build_tree, process_events
from hunting.readers import read_file
from hunting.readers.auoms import audit_events_from_messages, is_auoms, parse_record
from hunting.readers.base import ReadOptions

DATA = Path(__file__).resolve().parents[1] / "data"


def _sample_messages() -> list[str]:
    import csv

    with (DATA / "auoms/syslog_auoms_portal.csv").open(newline="") as f:
        return [r["SyslogMessage"] for r in csv.DictReader(f) if r["ProcessName"] == "auoms"]


def test_auoms_lines_in_a_local_syslog_file_give_processes(tmp_path: Path) -> None:
    # AUOMS forwarding to the local syslog (auoms[pid]: tag), as a traditional /var/log/syslog
    msgs = [m for m in _sample_messages() if "AUOMS_EXECVE" in m]
    lines = [f"Jul 28 20:07:{14 + i:02d} web-vm01 auoms[811]: {m}" for i, m in enumerate(msgs)]
    log = tmp_path / "syslog"
    log.write_text("\n".join(lines) + "\nJul 28 20:08:00 web-vm01 CRON[900]: (root) CMD (true)\n")
    result = read_file(log, ReadOptions(year=2023))
    acc = result.account
    assert (acc.lines, acc.parsed, acc.unparsed) == (5, 5, 0)
    assert acc.rows["AuditEvents"] == 4
    tree = build_tree(process_events(result.tables["AuditEvents"]))
    assert tree.loc[tree["Name"] == "whoami", "Path"].iloc[0] == "[pid 1] > java > bash > bash > whoami"
    assert set(tree["Computer"].dropna()) == {"web-vm01"}


def test_metadata_stays_out_of_fields() -> None:
    row = parse_record(_sample_messages()[0])
    assert row is not None
    # auoms_version=2.5.2.0, SchemaVersion and the a0..a3 registers map to no column
    assert not any("2.5.2.0" in str(v) for k, v in row.items() if k != "RawMessage")
    assert "55d782c96198" not in {str(v) for k, v in row.items() if k != "RawMessage"}


def test_hex_proctitle_and_msg_quoted_user_record() -> None:
    # proctitle as auditd encodes it (hex, NUL separated): "bash -i"
    msg = (
        "type=AUOMS_SYSCALL audit(1690574835.010:84140): syscall=connect success=no exit=-115 ppid=17790 "
        'pid=17793 uid=1001 comm="bash" exe="/usr/bin/bash" proctitle=62617368002D69 redactors= containerid='
    )
    row = parse_record(msg)
    assert row is not None
    assert (row["Proctitle"], row["Exit"], row["Syscall"], row["Pid"]) == (
        "bash -i",
        "-115",
        "connect",
        17793,
    )
    user = parse_record(
        "type=USER_AUTH audit(1690574941.000:84189): pid=18011 uid=0 auid=4294967295 ses=4294967295 "
        'msg=\'op=PAM:authentication acct="bob" exe="/usr/sbin/sshd" hostname=198.51.100.23 '
        "addr=198.51.100.23 terminal=ssh res=failed'"
    )
    assert user is not None
    assert (user["Op"], user["Acct"], user["Addr"], user["Terminal"], user["Res"]) == (
        "PAM:authentication",
        "bob",
        "198.51.100.23",
        "ssh",
        "failed",
    )


def test_not_auoms_is_counted_not_dropped() -> None:
    msgs = ["auoms: output 'oms' connected", "type=AUOMS_EXECVE audit(garbage", None]
    df, counts = audit_events_from_messages(msgs, ["h", "h", "h"])
    assert df.empty and counts.parsed == 0
    assert [i for i, _ in counts.unparsed] == [1, 2, 3]
    assert not is_auoms(msgs[0]) and is_auoms(_sample_messages()[0])
