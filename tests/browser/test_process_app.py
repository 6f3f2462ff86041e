"""Process trees and Application activity in a real browser on the compromised demo host."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _tree_canvas(page) -> None:
    """The pyvis iframe is drawn: vis-network (inlined, offline) put its canvas in it."""
    frame = page.frame_locator('[data-testid="stIFrame"]').first
    frame.locator("canvas").first.wait_for(timeout=60_000)


def test_process_trees_session_scope_draws_tree(app_url: str, page) -> None:
    page.goto(f"{app_url}/Process_trees?host=web01&range=7d")
    wait_for_app(page)
    page.get_by_role("heading", name="Process trees", exact=True).wait_for()
    page.get_by_text("too many to draw").first.wait_for()  # the whole range is guarded
    assert page.locator('[data-testid="stIFrame"]').count() == 0
    screenshot(page, "process_trees_guard_web01")
    page.get_by_text("A logon session", exact=True).click()
    wait_for_app(page)
    page.locator('[data-testid="stIFrame"]').first.wait_for(timeout=60_000)
    _tree_canvas(page)
    page.get_by_text("Table view").scroll_into_view_if_needed()
    screenshot(page, "process_trees_session_web01")
    assert page.dialogs == []


def test_application_activity_sudo(app_url: str, page) -> None:
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
    page.locator('[data-testid="stIFrame"]').first.wait_for(timeout=60_000)
    _tree_canvas(page)
    page.get_by_text("Its process trees (auditd)").scroll_into_view_if_needed()
    screenshot(page, "application_activity_sudo_web01")
    assert "app=sudo" in page.url  # the chosen application stays in the shareable link
    assert page.dialogs == []
