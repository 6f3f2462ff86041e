"""Issue 14 in a real browser: the sessions table, the process tree's default and session scopes,
the Findings page, and the tree's dark canvas. Screenshots go to docs/screenshots/ (README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hunting.demo.scenario import demo_manifest
from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WEB = "host=web01&range=7d"


def _shot(page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=False)


def _tree_frame(page):
    frame = page.locator('iframe[srcdoc*="vis-network"], iframe[srcdoc*="mynetwork"]').first
    frame.wait_for(timeout=90_000)
    frame.scroll_into_view_if_needed()
    page.wait_for_timeout(2500)  # vis-network lays out and fits
    return frame


def test_logons_sessions_table_flagged_first(app_url: str, page) -> None:
    page.goto(f"{app_url}/Logons?{WEB}")
    wait_for_app(page)
    heading = page.get_by_role("heading", name="Logon sessions")
    heading.scroll_into_view_if_needed()
    caption = page.get_by_text("system session(s) (cron, sudo, systemd) left out")
    caption.wait_for()
    assert "flagged, listed first" in caption.inner_text()
    page.get_by_text("Include system sessions").wait_for()
    heading.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)
    _shot(page, "logons_sessions_web01")
    assert page.dialogs == []


def test_process_tree_default_scope_draws(app_url: str, page) -> None:
    page.goto(f"{app_url}/Process_trees?{WEB}")
    wait_for_app(page)
    frame = _tree_frame(page)
    assert page.get_by_text("too many to draw").count() == 0
    assert "Colour = executable" in (frame.get_attribute("srcdoc") or "")
    page.get_by_text("Drawing ").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    _shot(page, "process_tree_default_web01")
    assert page.dialogs == []


def test_process_tree_session_scope(app_url: str, page) -> None:
    ses = demo_manifest().truth["logon_session"]
    page.goto(f"{app_url}/Process_trees?{WEB}&session=ses%20{ses}")
    wait_for_app(page)
    _tree_frame(page)
    page.get_by_text("Drawing ").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    _shot(page, "process_tree_session_web01")
    assert page.dialogs == []


def test_findings_page(app_url: str, page) -> None:
    page.goto(f"{app_url}/Findings?{WEB}")
    wait_for_app(page)
    page.get_by_role("heading", name="Findings").first.wait_for()
    page.wait_for_timeout(800)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert not any(ch in body for ch in "🔴🟠⚪")  # Material icons, not emoji
    _shot(page, "findings_web01")
    assert page.dialogs == []


def test_process_tree_dark_canvas_in_dark_theme(app_url: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(f"{app_url}/Process_trees?{WEB}")
        wait_for_app(page)
        frame = _tree_frame(page)
        assert "#0e1117" in (frame.get_attribute("srcdoc") or "")
    finally:
        context.close()
