"""Issue 14 item 7: the Process trees page's "Around an alert" scope on the demo (web01).

It was reported drawing 184 boxes in one flat line. The graph must draw the alert window's
risky processes with their ancestors and children (identical runs folded): a tree with depth
and fewer than 60 boxes, while the table below lists every process started in the window.
Expected processes and counts come from ``ausearch`` on the demo's own web01 audit.log, not
from the code under test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.app.conftest import no_exception, run_page
from tests.conftest import missing

TREES = "pages/4_Process_trees.py"
WEB = {"host": "web01", "range": "7d"}


def drawn_graph(at: Any) -> tuple[list[dict], list[dict]]:
    """The vis-network node and edge data the page's iframe draws (written as JSON literals)."""
    frames = at.get("iframe")
    assert frames, "no tree drawn"
    page = frames[0].proto.srcdoc
    assert '"direction": "LR"' in page  # left to right: siblings stack, labels stay readable
    out = []
    for name in ("nodes", "edges"):
        marker = f"{name} = new vis.DataSet("
        assert page.count(marker) == 1, name
        data, _ = json.JSONDecoder().raw_decode(page[page.index(marker) + len(marker) :])
        out.append(data)
    return out[0], out[1]


def max_depth(nodes: list[dict], edges: list[dict]) -> int:
    """Longest chain of drawn edges from a drawn root (0: every box stands alone, a flat line)."""
    parent = {e["to"]: e["from"] for e in edges}
    best = 0
    for n in nodes:
        d, k = 0, n["id"]
        while k in parent and d <= len(nodes):
            k, d = parent[k], d + 1
        best = max(best, d)
    return best


def ausearch_execs(log: Path, start: pd.Timestamp, end: pd.Timestamp) -> list[dict[str, str]]:
    """execve events between ``start`` and ``end`` (UTC, whole seconds) as ausearch reads them:
    pid, exe and the EXECVE arguments of each."""
    if not shutil.which("ausearch"):
        missing("ausearch (auditd) is not installed")
    env = {**os.environ, "TZ": "UTC", "LC_ALL": "C"}  # ausearch parses -ts/-te in the locale's %x
    args = ["ausearch", "-i", "-if", str(log), "-m", "SYSCALL", "-sc", "execve"]
    args += ["-ts", f"{start:%m/%d/%y}", f"{start:%H:%M:%S}", "-te", f"{end:%m/%d/%y}", f"{end:%H:%M:%S}"]
    text = subprocess.run(args, env=env, capture_output=True, text=True, check=False).stdout
    events = []
    for block in text.split("\n----\n"):
        sys_line = next((ln for ln in block.splitlines() if ln.startswith("type=SYSCALL")), None)
        if sys_line is None:
            continue
        execve = next((ln for ln in block.splitlines() if ln.startswith("type=EXECVE")), "")
        events.append(
            {
                "pid": re.search(r" pid=(\d+)", sys_line).group(1),  # type: ignore[union-attr]
                "exe": re.search(r" exe=(\S+)", sys_line).group(1),  # type: ignore[union-attr]
                "args": execve,
            }
        )
    return events


@pytest.fixture(scope="module")
def audit_log() -> Path:
    from hunting.demo.scenario import demo_manifest

    log = Path(demo_manifest().root) / "web01" / "audit" / "audit.log"
    if not log.is_file():
        missing(f"demo audit log not found at {log}")
    return log


def test_alert_scope_draws_a_tree_not_a_flat_line(audit_log: Path) -> None:
    at = run_page(TREES, params=WEB)
    at.radio(key="pt_scope").set_value("alert").run()  # the scope selector, as a user picks it
    no_exception(at)
    alert = at.selectbox(key="pt_alert")
    # the first (default) alert: the SSH brute force, activity 02:51:07-03:28:16, window 15 min
    # before and 30 min after (the page's slider defaults)
    assert "Suspicious SSH brute force" in str(alert.format_func(alert.value))  # type: ignore[misc]
    assert any("Activity reported from Mar 12 02:51:07 to 03:28:16" in c.value for c in at.caption)
    assert any("Window Mar 12 02:36:07 – Mar 12 03:58:16 UTC" in c.value for c in at.caption)
    start, end = pd.Timestamp("2026-03-12 02:36:07"), pd.Timestamp("2026-03-12 03:58:16")
    execs = ausearch_execs(audit_log, start, end)
    assert (
        len(execs) == 153
    )  # ausearch -if audit.log -ts 03/12/26 02:36:07 -te 03/12/26 03:58:16 ... | grep -c SYSCALL

    # The table still lists every process of the window: each execve ausearch finds, plus the
    # parents that forked without exec (named from their other audit records) and one synthetic
    # parent whose start is not in the data.
    table = at.dataframe[-1].value
    real = table[~table["Synthetic"].fillna(False).astype(bool)]
    execs_in_table = real[~real["Command"].astype("string").str.startswith("[forked").fillna(False)]
    assert len(execs_in_table) == len(execs)
    assert sorted(execs_in_table["Pid"].astype(str)) == sorted(e["pid"] for e in execs)
    # Processes counts the window's own starts (184 here: no ancestor started before the window)
    own = real["Time"].between(start.tz_localize("UTC"), end.tz_localize("UTC"))
    assert int(own.sum()) == len(real) == 184
    assert {m.label: m.value for m in at.metric}["Processes"] == "184"

    nodes, edges = drawn_graph(at)
    # the reported flat line: 184 boxes (every process of the window), none linked to another
    assert len(nodes) < 60, len(nodes)
    assert len(nodes) < len(table) // 3
    ids = {n["id"] for n in nodes}
    assert edges and all(e["from"] in ids and e["to"] in ids for e in edges)
    assert max_depth(nodes, edges) >= 4  # sshd > sshd > bash > sudo > bash > ...
    assert any(f"Drawing {len(nodes)} box(es) for {len(table)} rows" in c.value for c in at.caption)

    # The attack's processes that ausearch finds in the window are drawn, each under its parent.
    by_pid = {}
    for n in nodes:
        found = re.search(r"  pid (\d+) \(ppid", n["title"])
        if found:
            by_pid[found.group(1)] = n
    wanted = {
        "useradd": [e for e in execs if e["exe"] == "/usr/sbin/useradd"],
        "dropped tool": [e for e in execs if e["exe"] == "/tmp/.x/kworkerd"],
        "reverse shell": [e for e in execs if "/dev/tcp/" in e["args"]],
    }
    parent_of = {e["to"]: e["from"] for e in edges}
    for what, events in wanted.items():
        assert len(events) == 1, (what, events)  # one of each in this window (ausearch -i | grep)
        node = by_pid.get(events[0]["pid"])
        assert node is not None, f"{what} (pid {events[0]['pid']}) not drawn"
        assert node["borderWidth"] == 4 and node["label"].startswith("⚠"), what  # marked risky
        assert node["id"] in parent_of, f"{what} drawn without its parent"


def test_alert_scope_counts_the_window_apart_from_its_ancestors(audit_log: Path) -> None:
    # "Possible reverse shell" (activity 03:36:09), 0 min before and 5 after: the shell's login
    # chain (sshd, bash, sudo ...) started before the window and is drawn for context only.
    state = {"pt_scope": "alert", "pt_alert": 3, "pt_before": 0, "pt_after": 5}
    at = run_page(TREES, params=WEB, state=state)
    no_exception(at)
    assert "Possible reverse shell" in str(at.selectbox(key="pt_alert").format_func(3))  # type: ignore[misc]
    assert any("Window Mar 12 03:36:09 – Mar 12 03:41:09 UTC" in c.value for c in at.caption)
    start, end = pd.Timestamp("2026-03-12 03:36:09"), pd.Timestamp("2026-03-12 03:41:09")
    execs = ausearch_execs(audit_log, start, end)
    assert (
        len(execs) == 25
    )  # ausearch -if audit.log -ts 03/12/26 03:36:09 -te 03/12/26 03:41:09 ... | grep -c SYSCALL
    table = at.dataframe[-1].value
    real = table[~table["Synthetic"].fillna(False).astype(bool)]
    inside = real["Time"].between(start.tz_localize("UTC"), end.tz_localize("UTC"))
    forked = real["Command"].astype("string").str.startswith("[forked").fillna(False)
    assert sorted(real.loc[inside & ~forked, "Pid"].astype(str)) == sorted(e["pid"] for e in execs)
    before = int((~inside).sum())
    assert before >= 3  # at least sshd, its session's bash and sudo started before 03:36:09
    metric = next(m for m in at.metric if m.label == "Processes")
    assert metric.value == f"{len(execs) + int((inside & forked).sum())}"  # the window's own starts
    assert f"Plus {before} ancestor(s)" in metric.help
    nodes, edges = drawn_graph(at)
    assert len(nodes) < 60 and max_depth(nodes, edges) >= 4
    shell = [e for e in execs if "/dev/tcp/" in e["args"]]
    assert len(shell) == 1 and any(f"  pid {shell[0]['pid']} (ppid" in n["title"] for n in nodes)
