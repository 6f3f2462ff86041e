"""The demo intrusion's process tree against the generator's truth pids, and the scope helpers."""

from __future__ import annotations

from itertools import pairwise

import pandas as pd
import pytest

from hunting.analysis.process_scope import (
    FORKED_NOTE,
    audit_sessions,
    forked_processes,
    host_tree,
    host_users_map,
    logon_scope,
    match_logon,
    risk_labels,
    scope_tree,
    tree_risks,
)
from hunting.analysis.process_tree import process_events
from hunting.analysis.sessions import logon_sessions
from hunting.schema import AUDIT, conform
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange


@pytest.fixture(scope="module")
def demo() -> tuple[LocalSource, TimeRange, dict]:
    from hunting.demo.scenario import demo_log_paths, demo_manifest

    m = demo_manifest()
    tr = TimeRange(pd.Timestamp(m.start), pd.Timestamp(m.end) + pd.Timedelta(hours=1))
    return LocalSource.from_paths(demo_log_paths()), tr, dict(m.truth)


@pytest.fixture(scope="module")
def web_tree(demo: tuple[LocalSource, TimeRange, dict]) -> pd.DataFrame:
    src, tr, _ = demo
    return host_tree(src.audit_events("web01", tr), host_users=src.host_users("web01"))


def chain(tree: pd.DataFrame, row: pd.Series) -> list[pd.Series]:
    """``row`` and its ancestors up to the root, child first."""
    by_key = tree.set_index("ProcKey", drop=False)
    out = [row]
    while pd.notna(out[-1]["ParentKey"]):
        out.append(by_key.loc[out[-1]["ParentKey"]])
    return out


def one(tree: pd.DataFrame, **eq: object) -> pd.Series:
    mask = pd.Series(True, index=tree.index)
    for col, value in eq.items():
        mask &= (tree[col] == value).fillna(False)
    rows = tree.loc[mask]
    assert len(rows) == 1, (eq, rows[["Pid", "Name", "Cmdline"]])
    return rows.iloc[0]


def test_demo_intrusion_chain_sshd_shell_sudo_shell_tool(web_tree: pd.DataFrame, demo: tuple) -> None:
    _, _, truth = demo
    pids = truth["pids"]
    tool = one(web_tree, Pid=pids["dropped_tool"], Exe=truth["tool_path"])
    names = [(int(r["Pid"]), r["Name"]) for r in chain(web_tree, tool)]
    assert names == [
        (pids["dropped_tool"], truth["tool_path"].rsplit("/", 1)[1]),
        (pids["root_shell"], "bash"),
        (pids["sudo"], "sudo"),
        (pids["user_shell"], "bash"),
        (pids["sshd_user"], "sshd"),  # forked privilege-separated child: named from its CRED_ACQ record
        (pids["sshd_session"], "sshd"),
        (pids["sshd_listener"], f"[pid {pids['sshd_listener']}]"),  # never exec'd in the data
    ]
    # Consistent pids: every node's Ppid is its parent's Pid.
    rows = chain(web_tree, tool)
    for child, parent in pairwise(rows):
        assert child["Ppid"] == parent["Pid"]
    assert tool["User"] == "root" and tool["LoginUser"] == truth["compromised_user"]
    assert tool["Auid"] == truth["compromised_uid"] and tool["Ses"] == truth["logon_session"]
    sshd_child = rows[4]
    assert str(sshd_child["Cmdline"]).startswith(FORKED_NOTE) and not sshd_child["IsSynthetic"]


def test_demo_reverse_shell_under_root_shell(web_tree: pd.DataFrame, demo: tuple) -> None:
    _, _, truth = demo
    pids = truth["pids"]
    rev = one(web_tree, Pid=pids["reverse_shell"])
    assert truth["reverse_shell"]["command"] in rev["Cmdline"]
    parent = web_tree.set_index("ProcKey").loc[rev["ParentKey"]]
    assert parent["Pid"] == pids["root_shell"] and parent["Name"] == "bash"
    interactive = one(web_tree, Pid=pids["reverse_shell_interactive"])
    assert interactive["ParentKey"] == rev["ProcKey"] and interactive["Cmdline"] == "bash -i"
    tool = one(web_tree, Pid=pids["dropped_tool"], Exe=truth["tool_path"])
    assert tool["ParentKey"] == rev["ParentKey"]  # siblings under the same root shell


def test_demo_cron_downloader_under_cron(web_tree: pd.DataFrame, demo: tuple) -> None:
    _, _, truth = demo
    pids = truth["pids"]
    curl = one(web_tree, Pid=pids["cron_curl"])
    rows = chain(web_tree, curl)
    assert [(int(r["Pid"]), r["Name"]) for r in rows] == [
        (pids["cron_curl"], "curl"),
        (pids["cron_sh"], "dash"),
        (pids["cron_child"], "cron"),
    ]
    assert truth["cron_command"] in rows[1]["Cmdline"]
    assert rows[2]["Exe"] == "/usr/sbin/cron" and rows[2]["User"] == "root"
    pipe = one(web_tree, Pid=pids["cron_pipe_sh"])
    assert pipe["ParentKey"] == rows[1]["ProcKey"]


def test_demo_risky_processes_flagged(web_tree: pd.DataFrame, demo: tuple) -> None:
    _, _, truth = demo
    hits = tree_risks(web_tree)
    labels = risk_labels(web_tree, hits)
    rev = one(web_tree, Pid=truth["pids"]["reverse_shell"])
    assert "lnx.reverse_shell_dev_tcp" in labels.loc[rev.name]
    cron_sh = one(web_tree, Pid=truth["pids"]["cron_sh"])
    assert "lnx.download_pipe_shell" in labels.loc[cron_sh.name]
    assert labels.loc[one(web_tree, Pid=truth["pids"]["user_shell"]).name] is pd.NA


def test_demo_audit_session_matches_logons_page(web_tree: pd.DataFrame, demo: tuple) -> None:
    src, tr, truth = demo
    sessions = audit_sessions(web_tree)
    logons = logon_sessions(src.syslog("web01", tr), src.logon_events("web01", tr))
    attacker = logons[
        (logons["User"] == truth["compromised_user"])
        & (logons["SourceIP"] == truth["attacker_ips"]["brute_force"])
    ]
    assert len(attacker) == 1
    logon = attacker.iloc[0].to_dict()
    pos = match_logon(sessions, logon)
    assert pos is not None and sessions.iloc[pos]["Ses"] == truth["logon_session"]
    args, how = logon_scope(web_tree, logon)
    assert args == {"ses": truth["logon_session"], "auid": truth["compromised_uid"]}
    scoped = scope_tree(web_tree, **args)
    assert set(truth["pids"][k] for k in ("dropped_tool", "reverse_shell", "stager_bash")) <= set(
        scoped["Pid"]
    )
    assert truth["pids"]["cron_curl"] not in set(scoped["Pid"])
    assert "audit session" in how


def test_match_logon_other_user_or_time_is_none(web_tree: pd.DataFrame, demo: tuple) -> None:
    _, _, truth = demo
    sessions = audit_sessions(web_tree)
    start = pd.Timestamp(truth["steps"]["logon"])
    assert match_logon(sessions, {"User": "nobody-here", "Start": start, "End": start}) is None
    far = start - pd.Timedelta(days=30)
    assert match_logon(sessions, {"User": truth["compromised_user"], "Start": far, "End": far}) is None
    args, how = logon_scope(web_tree, {"User": "nobody-here", "Start": start, "End": start})
    assert args == {"start": start, "end": start} and "time window" in how


def test_scope_tree_executable_and_db01_benign(web_tree: pd.DataFrame, demo: tuple) -> None:
    src, tr, truth = demo
    wget = scope_tree(web_tree, exe="wget")
    assert truth["pids"]["wget"] in set(wget["Pid"]) and truth["pids"]["dropped_tool"] in set(wget["Pid"])
    db = host_tree(src.audit_events("db01", tr), host_users=src.host_users("db01"))
    assert len(db) and tree_risks(db).empty
    assert host_tree(src.audit_events("APP02", tr)).empty


# --- forked_processes on hand-made audit events --------------------------------------------------

T0 = pd.Timestamp("2024-03-01 10:00:00", tz="UTC")


def audit(rows: list[dict]) -> pd.DataFrame:
    base = {"Computer": "h", "RecordTypes": "SYSCALL,EXECVE", "EventType": "SYSCALL", "Success": "yes"}
    out = []
    for i, r in enumerate(rows):
        row = base | r
        row["TimeGenerated"] = T0 + pd.Timedelta(seconds=r["t"])
        row["EventId"] = f"{int(T0.timestamp()) + r['t']}.000:{100 + i}"
        out.append(row)
    return conform(pd.DataFrame(out).drop(columns="t"), AUDIT)


def pam(t: float, pid: int, ses: int, exe: str, kind: str = "CRED_ACQ", auid: int = 1000) -> dict:
    return {
        "t": t,
        "EventType": kind,
        "RecordTypes": kind,
        "Pid": pid,
        "Uid": 0,
        "Auid": auid,
        "Ses": ses,
        "Exe": exe,
    }


def execve(t: float, pid: int, ppid: int, ses: int, exe: str, cmd: str) -> dict:
    return {
        "t": t,
        "Pid": pid,
        "Ppid": ppid,
        "Uid": 1000,
        "Auid": 1000,
        "Ses": ses,
        "Exe": exe,
        "Cmdline": cmd,
    }


def test_forked_processes_login_parent_same_program_only() -> None:
    ev = audit(
        [
            execve(0, 50, 1, 4294967295, "/usr/sbin/sshd", "sshd -D -R"),
            pam(1, 50, 7, "/usr/sbin/sshd", "LOGIN") | {"Exe": None},
            pam(1, 50, 7, "/usr/sbin/sshd", "USER_START"),
            pam(2, 51, 7, "/usr/sbin/sshd"),  # sshd's forked user child
            execve(3, 52, 51, 7, "/bin/bash", "-bash"),
            pam(4, 60, 7, "/bin/bash", "USER_CMD"),  # a bash subshell: not the login program
            execve(5, 61, 60, 7, "/bin/ls", "ls"),
        ]
    )
    procs = process_events(ev, users={1000: "bob"})
    forks = forked_processes(ev, procs, users={1000: "bob"}).set_index("Pid")
    assert sorted(forks.index) == [51, 60]
    assert forks.loc[51, "Ppid"] == 50 and forks.loc[51, "Exe"] == "/usr/sbin/sshd"
    assert pd.isna(forks.loc[60, "Ppid"])  # evidence, but no known parent: stays a root
    assert forks.loc[51, "LoginUser"] == "bob" and forks.loc[51, "User"] == "0"
    tree = host_tree(ev)
    bash = one(tree, Pid=52)
    assert [r["Name"] for r in chain(tree, bash)] == ["bash", "sshd", "sshd", "[pid 1]"]


def test_forked_processes_other_session_or_later_evidence_ignored() -> None:
    ev = audit(
        [
            pam(0, 70, 9, "/usr/sbin/cron"),  # pid 70 in another session: a different process
            execve(5, 71, 70, 8, "/bin/sh", "sh -c job"),
            execve(6, 81, 80, 8, "/bin/sh", "sh"),
            pam(9, 80, 8, "/usr/sbin/cron"),  # written after the child started
        ]
    )
    assert forked_processes(ev, process_events(ev)).empty
    assert forked_processes(ev.iloc[0:0], process_events(ev)).empty


def test_host_users_map_first_name_wins() -> None:
    hu = pd.DataFrame({"User": ["root", "toor", "bob", None], "Uid": [0, 0, 1000, 5]})
    assert host_users_map(hu) == {0: "root", 1000: "bob"}
    assert host_users_map(None) == {} and host_users_map(pd.DataFrame()) == {}


def test_branches_for_executable_keeps_matches_descendants_ancestors(
    web_tree: pd.DataFrame, demo: tuple
) -> None:
    _, _, truth = demo
    pids = truth["pids"]
    whole = scope_tree(web_tree, exe="wget")
    branch = scope_tree(web_tree, exe="wget", branches=True)
    assert set(branch["ProcKey"]) < set(whole["ProcKey"])
    wget = one(web_tree, Pid=pids["wget"])
    assert {r["ProcKey"] for r in chain(web_tree, wget)} <= set(branch["ProcKey"])  # wget and its ancestors
    # sibling of wget under the root shell (the dropped tool) is not a match, an ancestor or a descendant
    assert pids["dropped_tool"] not in set(branch["Pid"])
    assert pids["dropped_tool"] in set(whole["Pid"])
