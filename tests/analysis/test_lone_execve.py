"""An EXECVE record whose SYSCALL record is missing still names a process (with what it tells).

Real logs lose records (kauditd backlog overflow, rotation, a cut file). Found in ../shared/data by
listing EXECVE serials without a SYSCALL of the same serial:
    comm -23 <(grep -o 'type=EXECVE msg=audit([0-9.]*:[0-9]*)' F | sed 's/.*audit(//' | sort -u) \\
             <(grep -o 'type=SYSCALL msg=audit([0-9.]*:[0-9]*)' F | sed 's/.*audit(//' | sort -u)
-> go-libaudit auparse/testdata/audit-rhel7.log: 4, auparse/testdata/test3.log: 1,
   beats-auditd execve-hex-arg.log: 1, test.log: 1; every other shared audit log: 0.
``ausearch -m EXECVE --raw`` prints these events too. Command lines read off the records by eye
(execve-hex-arg.log's a2 decoded with ``bytes.fromhex``, as its SOURCE.md says).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hunting.analysis.process_tree import build_tree, process_events
from hunting.readers.auditd import parse_audit
from hunting.readers.base import ReadOptions
from hunting.schema import AUDIT


def _audit(data: bytes, name: str = "audit.log") -> pd.DataFrame:
    return parse_audit(data, name, 0.0, ReadOptions(), host="box").tables[AUDIT.name]


def test_lone_execve_records_of_a_real_rhel7_log(shared_data: Path) -> None:
    log = shared_data / "go-libaudit" / "auparse" / "testdata" / "audit-rhel7.log"
    procs = process_events(_audit(log.read_bytes()))
    lone = procs.set_index("EventId")
    # grep -F 'audit(SERIAL)' audit-rhel7.log for each lone serial
    assert lone.loc["1481077231.371:479", "Cmdline"] == "auditctl -a exit,always -F arch=b32 -S execve"
    assert lone.loc["1481077231.371:479", "Cwd"] == "/home/andrew_kroh"  # its CWD record survived
    assert lone.loc["1491863086.221:1050925", "Cmdline"] == "grep --color=auto -e [:alpha:] /etc/passwd"
    assert lone.loc["1491930997.196:1068053", "Cmdline"] == "cat btest=test -f regex=8"
    assert lone.loc["1491946471.575:1075898", "Cmdline"].startswith('jq . {\n        "dev": "08:01",')
    assert len(procs) == 4  # the log holds no full execve event (grep -c 'type=SYSCALL.*syscall=59' -> 0)
    assert procs["Pid"].isna().all() and procs["Exe"].isna().all()  # the SYSCALL record held those
    tree = build_tree(procs)
    assert sorted(tree["Name"]) == ["auditctl", "cat", "grep", "jq"]  # argv[0], as nothing else is known
    assert not tree["IsSynthetic"].any() and (tree["Depth"] == 0).all()


def test_lone_execve_with_hex_argument(shared_data: Path) -> None:
    log = shared_data / "beats-auditd" / "execve-hex-arg.log"
    (row,) = process_events(_audit(log.read_bytes())).itertuples(index=False)
    assert (row.EventId, row.Cmdline) == ("1669615313.901:5538", 'sh -c echo \\"arg hex encoded\\"')


def test_syscall_record_lost_from_a_real_trace(shared_data: Path) -> None:
    # laurel's shell-proc-trace.txt: 4 execve events (grep -c 'syscall=59'); drop the SYSCALL record of
    # 29238 (/bin/sh test-script.sh, pid 71505), as a lost record would.
    text = (shared_data / "laurel" / "testdata" / "shell-proc-trace.txt").read_text()
    full = process_events(_audit(text.encode()))
    cut = "\n".join(
        line
        for line in text.split("\n")
        if not line.startswith("type=SYSCALL msg=audit(1682609045.526:29238)")
    )
    assert len(cut) < len(text)
    procs = process_events(_audit(cut.encode()))
    assert len(full) == len(procs) == 4
    by_id = procs.set_index("EventId")
    assert by_id.loc["1682609045.526:29238", "Cmdline"] == "/bin/sh ./src/testdata/double-fork/test-script.sh"
    assert pd.isna(by_id.loc["1682609045.526:29238", "Pid"])
    # the others keep everything their SYSCALL record gave
    rest = procs[procs["EventId"] != "1682609045.526:29238"].reset_index(drop=True)
    same = full[full["EventId"] != "1682609045.526:29238"].reset_index(drop=True)
    pd.testing.assert_frame_equal(rest, same)
    tree = build_tree(procs).set_index("EventId")
    assert tree.loc["1682609045.526:29238", "Name"] == "sh"
    # grep baz (ppid 71505) no longer finds its parent's start: it hangs under a "[pid 71505]" stand-in
    assert tree.loc["1682609045.530:29242", "Path"] == "[pid 71505] > grep"
