"""Session detail and User activity in a real browser, on the compromised demo host."""

from __future__ import annotations

import pytest

from tests.browser.conftest import STEP_TIMEOUT, screenshot, wait_for_app

pytestmark = pytest.mark.browser

_CHART = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'


def test_session_detail_page_renders(app_url: str, page) -> None:
    page.goto(f"{app_url}/Session_detail?host=web01&range=7d")
    wait_for_app(page)
    page.get_by_role("heading", name="Session detail", exact=True).wait_for()
    page.get_by_role("heading", name="Flagged events").wait_for()
    page.get_by_text("Flagged events", exact=True).first.wait_for()
    # ATT&CK links of the flags point at attack.mitre.org
    page.locator('a[href="https://attack.mitre.org/techniques/T1548/003/"]').first.wait_for()
    screenshot(page, "session_detail_web01_flags")
    page.get_by_role("heading", name="Session timeline").scroll_into_view_if_needed()
    page.locator(_CHART).first.wait_for()
    page.get_by_role("heading", name="sudo", exact=True).scroll_into_view_if_needed()
    # timeline and sudo frequency (the page may still be drawing lower sections)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length >= 2",
        timeout=STEP_TIMEOUT,
    )
    page.get_by_role("heading", name="Raw messages").scroll_into_view_if_needed()
    screenshot(page, "session_detail_web01_raw")
    assert page.dialogs == []


def test_user_activity_page_renders(app_url: str, page) -> None:
    page.goto(f"{app_url}/User_activity?host=web01&range=7d&user=deploy")
    wait_for_app(page)
    page.get_by_role("heading", name="User activity", exact=True).wait_for()
    page.get_by_role("heading", name="Logon timeline").wait_for()
    page.locator(_CHART).first.wait_for()
    page.get_by_role("heading", name="Where the logons came from").scroll_into_view_if_needed()
    # timeline, by process, map: the lower sections may still be drawing, so wait for the third
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length >= 3",
        timeout=STEP_TIMEOUT,
    )
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 3
    page.get_by_role("heading", name="sudo commands").scroll_into_view_if_needed()
    screenshot(page, "user_activity_web01_deploy")
    assert "user=deploy" in page.url
    assert page.dialogs == []
