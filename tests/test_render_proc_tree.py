"""Process tree HTML: hostile log text never reaches the page unescaped; the table view."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from hunting.analysis.process_tree import build_tree, process_events
from hunting.errors import HuntingError
from hunting.render.proc_tree_html import (
    FONT_PX,
    MIN_LABEL_PX,
    canvas_text,
    safe_text,
    tree_html,
    tree_network,
    tree_table,
)
from hunting.schema import AUDIT, conform

T0 = pd.Timestamp("2024-03-01 10:00:00", tz="UTC")
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
HREF = "<a href=javascript:alert(1)>x</a>"
QUOTES = 'it\'s "quoted"'


def hostile_tree() -> pd.DataFrame:
    rows = [
        (900, 1, "/usr/sbin/sshd", "sshd: bob", "h1"),
        (901, 900, f"/tmp/{IMG}", f"bash -c '{SCRIPT}'", "h1"),
        (902, 901, "/usr/bin/curl", f"curl {HREF} {QUOTES}", "h1"),
        (903, 4242, "/bin/ls", "ls", f"host{SCRIPT}"),
    ]
    frame = pd.DataFrame(
        [
            {
                "TimeGenerated": T0 + pd.Timedelta(seconds=i),
                "Computer": host,
                "EventId": f"{int(T0.timestamp()) + i}.000:{i}",
                "EventType": "SYSCALL",
                "RecordTypes": "SYSCALL,EXECVE",
                "Pid": pid,
                "Ppid": ppid,
                "Uid": 0,
                "Auid": 1000,
                "Exe": exe,
                "Cmdline": cmd,
            }
            for i, (pid, ppid, exe, cmd, host) in enumerate(rows)
        ]
    )
    return build_tree(process_events(conform(frame, AUDIT), users={0: "root", 1000: f"bob{IMG}"}))


def embedded_nodes(page: str) -> list[dict[str, object]]:
    m = re.search(r"nodes = new vis\.DataSet\((\[.*?\])\);", page, re.DOTALL)
    assert m, "node data not found in the page"
    return json.loads(m.group(1))


def test_tree_html_hostile_text_encoded_for_script_shown_as_text() -> None:
    """Labels (canvas) and titles (innerText) carry the real characters; in the page they exist
    only as JSON with <, >, &, ' and U+2028/2029 as \\u escapes (hunting.render.jsenc)."""
    tree = hostile_tree()
    page = tree_html(tree, risk=pd.Series({2: ["R1 " + SCRIPT + "\u2028x"]}, dtype="object"))
    for raw in (SCRIPT, IMG, HREF, "<img", "<a href", "</script>alert", "\u2028"):
        assert raw not in page  # (the label's "a href=javascript:" is text in a JS string: no "<")
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page  # as JS escapes
    nodes = {n["id"]: n for n in embedded_nodes(page)}
    titles = "\n".join(str(n["title"]) for n in nodes.values())
    labels = "\n".join(str(n["label"]) for n in nodes.values())
    assert SCRIPT in titles and IMG in titles and QUOTES in titles  # decoded: the real text
    assert "&lt;" not in titles + labels and "&quot;" not in titles + labels and "&#x27;" not in titles
    assert "RISK: R1 " + SCRIPT + "\\u2028x" in titles  # the separator shown, not acted on
    assert "h\u200bref=javascript" in titles  # pyvis's innerHTML switch word stays broken
    assert "href" not in titles.lower()
    # the risky box (row 2: the program named by IMG, run as "bash -c '<script>…'"): its name cut
    # to 18 characters, then its command (not starting with that name) cut to 20, unescaped
    assert nodes[tree.loc[2, "ProcKey"]]["label"] == "⚠ <img src=x onerro…\nbash -c '<script>al…"


def test_canvas_text_and_first_view() -> None:
    assert canvas_text(pd.NA) == ""
    assert canvas_text('a<b "c"\x1b[31m\u202e') == 'a<b "c"\\x1b[31m\\u202e'
    assert canvas_text("a" * 10, limit=4) == "aaaa… [6 more characters]"
    assert canvas_text("x\nRISK: none") == "x\\x0aRISK: none"  # no fake tooltip line
    page = tree_html(hostile_tree(), risk=pd.Series({2: "download"}, dtype="object"))
    risky = hostile_tree().loc[2, "ProcKey"]
    assert f'focus = ["{risky}"]' in page  # the first view centres on the risky box when zoomed in
    assert f"minScale = {MIN_LABEL_PX / FONT_PX}" in page


def test_tree_html_uses_plain_tooltips_offline_and_no_heading() -> None:
    page = tree_html(hostile_tree())
    assert "popup.innerHTML" not in page  # pyvis's href tooltip template is not switched on
    assert "<h1></h1>" in page  # no heading text
    assert "<script src=" not in page  # vis-network is inlined (works in an iframe srcdoc)
    assert "hierarchical" in page


def test_tree_network_node_ids_are_prockeys_and_edges_follow_parents() -> None:
    tree = hostile_tree()
    net = tree_network(tree)
    ids = [n["id"] for n in net.nodes]
    assert ids == tree["ProcKey"].tolist()
    assert all(re.fullmatch(r"[pu][0-9a-f]{16}", i) for i in ids)
    child = tree[tree["Pid"] == 902].iloc[0]
    assert {"from": child["ParentKey"], "to": child["ProcKey"], "arrows": "to"} in net.edges
    assert len(net.edges) == len(tree) - 2  # two roots: pid 1 on h1, pid 4242 on the hostile host


def test_tree_network_risk_highlight_and_colors() -> None:
    tree = hostile_tree()
    risk = pd.Series([None, None, "download", ["a", "b"], None, None], index=tree.index, dtype="object")
    nodes = tree_network(tree, risk=risk, color_by="user").nodes
    flagged = [n for n in nodes if n["borderWidth"] == 4]
    assert len(flagged) == 2
    assert "RISK: download" in flagged[0]["title"] and "RISK: a; b" in flagged[1]["title"]
    called = tree_network(tree, risk=lambda cmd: cmd.str.contains("curl").map({True: "curl"})).nodes
    assert sum(n["borderWidth"] == 4 for n in called) == 1


def test_tree_network_too_many_nodes() -> None:
    with pytest.raises(HuntingError, match="too many"):
        tree_network(hostile_tree(), max_nodes=3)
    with pytest.raises(HuntingError, match="color_by"):
        tree_network(hostile_tree(), color_by="pid")  # type: ignore[arg-type]


def test_safe_text() -> None:
    assert safe_text(pd.NA) == ""
    assert safe_text("HREF=x") == "H\u200bREF=x"
    assert safe_text("a" * 10, limit=4) == "aaaa… [6 more characters]"


def test_tree_table_same_rows_indented() -> None:
    tree = hostile_tree()
    table = tree_table(tree)
    assert table.index.equals(tree.index)
    assert table["Process"].tolist()[:4] == ["[pid 1]", "└─ sshd", "    └─ " + IMG, "        └─ curl"]
    assert table["Command"].iloc[3] == f"curl {HREF} {QUOTES}"


def test_tree_table_and_html_empty_tree() -> None:
    empty = build_tree(process_events(AUDIT.empty()))
    assert tree_table(empty).empty
    assert embedded_nodes(tree_html(empty)) == []


def test_tree_table_names_the_unset_audit_session() -> None:
    """Issue 14 item 12: auditd writes ses=4294967295 ((u32)-1) for processes outside any login
    session (the demo's web01 audit.log has 6,373 such records: grep -c ses=4294967295); the
    table says "unset" instead of the raw number, and a real session keeps its number."""
    rows = [(900, 1, "/usr/sbin/sshd", 4294967295), (901, 900, "/bin/bash", 6024)]
    frame = pd.DataFrame(
        [
            {
                "TimeGenerated": T0 + pd.Timedelta(seconds=i),
                "Computer": "h1",
                "EventId": f"{int(T0.timestamp()) + i}.000:{i}",
                "EventType": "SYSCALL",
                "RecordTypes": "SYSCALL,EXECVE",
                "Pid": pid,
                "Ppid": ppid,
                "Uid": 0,
                "Auid": 4294967295 if ses == 4294967295 else 1000,
                "Ses": ses,
                "Exe": exe,
                "Cmdline": exe,
            }
            for i, (pid, ppid, exe, ses) in enumerate(rows)
        ]
    )
    table = tree_table(build_tree(process_events(conform(frame, AUDIT))))
    by_pid = dict(zip(table["Pid"].astype(int), table["Ses"], strict=True))
    assert (by_pid[900], by_pid[901]) == ("unset", "6024")  # (pid 1: the unseen parent, no session)
    assert "4294967295" not in table.to_csv()
