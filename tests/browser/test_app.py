"""What an analyst sees in a real browser: host summary and logons on the compromised demo host."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _charts(page) -> int:
    return page.locator('[data-testid="stVegaLiteChart"]').count()


def test_host_summary_shows_alert_timeline(app_url: str, page) -> None:
    page.goto(f"{app_url}/?host=web01&range=7d")
    wait_for_app(page)
    page.get_by_text("Host summary: web01").wait_for()
    page.get_by_text("Related security alerts").wait_for()
    page.locator(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
    ).first.wait_for()
    assert _charts(page) >= 2  # volume, alert counts and the alert timeline
    screenshot(page, "host_summary_web01")
    assert page.dialogs == []
    # the host picked in the URL is the one shown in the sidebar
    assert page.get_by_role("combobox", name="Host (3 found)").input_value() == "web01"
    assert "host=web01" in page.url and "range=7d" in page.url  # the link stays shareable


def test_logons_page_shows_chart_and_offline_map(app_url: str, page) -> None:
    page.goto(f"{app_url}/Logons?host=web01&range=7d")
    wait_for_app(page)
    page.get_by_role("heading", name="Logons", exact=True).wait_for()
    page.get_by_text("Failed logons").wait_for()
    page.get_by_text("Where logons came from").scroll_into_view_if_needed()
    # the world map is an Altair chart drawn offline (no tiles, no Leaflet from a CDN)
    page.get_by_text("World map (offline)").wait_for()
    page.wait_for_timeout(1500)
    assert _charts(page) >= 4
    page.get_by_text("Brute force").scroll_into_view_if_needed()
    page.get_by_text("Rule applied").wait_for()
    screenshot(page, "logons_web01")
    assert page.dialogs == []


def test_deep_link_to_a_page_on_a_fresh_session(app_url: str, page) -> None:
    page.goto(f"{app_url}/Data_sources?host=db01")
    wait_for_app(page)
    page.get_by_role("heading", name="Data sources", exact=True).wait_for()
    page.get_by_text("Files read").wait_for()
    assert page.get_by_role("combobox", name="Host (3 found)").input_value() == "db01"
    # following the menu keeps the host
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Logons").click()
    wait_for_app(page)
    page.get_by_role("heading", name="Logons", exact=True).wait_for()
    assert page.get_by_role("combobox", name="Host (3 found)").input_value() == "db01"
    assert "host=db01" in page.url
    screenshot(page, "data_sources_db01")
