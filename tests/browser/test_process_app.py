"""Process trees and Application activity in a real browser on the compromised demo host."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hunting.demo.scenario import demo_manifest
from tests.browser.conftest import STEP_TIMEOUT, screenshot, wait_for_app

pytestmark = pytest.mark.browser

# Every node vis-network holds in the pyvis iframe (pyvis keeps the DataSet in a global `nodes`).
NODE_LABELS = "() => nodes.get().map(n => n.label)"


def _tree_frame(page: Any) -> Any:
    """The pyvis iframe once vis-network (inlined, offline) has drawn its canvas."""
    page.frame_locator('[data-testid="stIFrame"]').first.locator("canvas").first.wait_for(
        timeout=STEP_TIMEOUT
    )
    frame = next(f for f in page.frames if f != page.main_frame and f.evaluate("typeof nodes") == "object")
    return frame


def _tree_canvas(page: Any) -> None:
    _tree_frame(page)


def _drawing_caption(page: Any) -> tuple[int, str]:
    text = page.get_by_text(re.compile(r"^Drawing [\d,]+ box")).first.inner_text()
    return int(re.match(r"Drawing ([\d,]+)", text).group(1).replace(",", "")), text


def _session_programs(ses: int) -> set[str]:
    """Program names (basename of exe=) of every execve auditd logged in audit session ``ses`` of the demo's
    web01, read with ausearch from the demo's audit.log (independent of the app's parser)."""
    log = Path(demo_manifest().root) / "web01" / "audit" / "audit.log"
    if shutil.which("ausearch") is None:
        pytest.skip("ausearch (auditd) not installed")
    out = subprocess.run(
        ["ausearch", "-if", str(log), "--session", str(ses), "-m", "SYSCALL", "-sc", "execve"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {Path(exe).name for exe in re.findall(r' exe="([^"]+)"', out)}


def test_process_trees_default_scope_draws_risky_part(app_url: str, page: Any) -> None:
    """Issue 14 item 7: the whole range used to say "too many to draw"; it now draws the risky
    processes with their ancestors and children, one vis-network node per box it announces."""
    page.goto(f"{app_url}/Process_trees?host=web01&range=7d")
    wait_for_app(page)
    page.get_by_role("heading", name="Process trees", exact=True).wait_for()
    frame = _tree_frame(page)
    boxes, caption = _drawing_caption(page)
    assert "risky processes with their ancestors and children" in caption, caption
    labels = frame.evaluate(NODE_LABELS)
    assert len(labels) == boxes > 0
    assert page.get_by_text("too many to draw").count() == 0
    # the attacker's dropped tool (demo answer key) is one of the drawn boxes
    tool = Path(demo_manifest().truth["tool_path"]).name
    assert any(tool in label for label in labels), tool
    screenshot(page, "process_trees_default_web01")
    assert page.dialogs == []


def test_process_trees_session_scope_draws_tree(app_url: str, page: Any) -> None:
    """A link naming the attacker's audit session draws that session: every program it ran
    (per ausearch on the raw audit.log) is a node of the drawn tree."""
    ses = 6024  # the compromised logon's audit session (ses=6024 on its LOGIN record in audit.log)
    page.goto(f"{app_url}/Process_trees?host=web01&range=7d&session={ses}")
    wait_for_app(page)
    page.get_by_text(f"The link asked for audit session {ses}").wait_for()
    frame = _tree_frame(page)
    boxes, _ = _drawing_caption(page)
    labels = frame.evaluate(NODE_LABELS)
    assert len(labels) == boxes
    names = {label.removeprefix("▶ ").removeprefix("⚠ ").split("\n")[0].split(" ×")[0] for label in labels}
    programs = _session_programs(ses)
    assert len(programs) >= 20  # bash, sudo, useradd, wget, kworkerd, iptables ...
    assert programs <= names, sorted(programs - names)
    page.get_by_text("Table view").scroll_into_view_if_needed()
    screenshot(page, "process_trees_session_web01")
    assert page.dialogs == []


def test_application_activity_sudo(app_url: str, page: Any) -> None:
    page.goto(f"{app_url}/Application_activity?host=web01&range=7d&app=sudo")
    wait_for_app(page)
    page.get_by_role("heading", name="Application activity", exact=True).wait_for()
    assert page.get_by_role("combobox", name="Application (7)").input_value() == "sudo"
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator("canvas, svg").first.wait_for()
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    before = chart.screenshot()
    # Brush the overview (the lower, 60 px high chart): the detail chart above zooms to it.
    box = chart.bounding_box()
    y = box["y"] + box["height"] - 95
    page.mouse.move(box["x"] + box["width"] * 0.55, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=10)
    page.mouse.up()
    page.wait_for_timeout(800)
    assert chart.screenshot() != before
    screenshot(page, "application_activity_sudo_brushed")
    page.locator('[data-testid="stIFrame"]').first.wait_for(timeout=STEP_TIMEOUT)
    _tree_canvas(page)
    page.get_by_text("Its process trees (auditd)").scroll_into_view_if_needed()
    screenshot(page, "application_activity_sudo_web01")
    assert "app=sudo" in page.url  # the chosen application stays in the shareable link
    assert page.dialogs == []
