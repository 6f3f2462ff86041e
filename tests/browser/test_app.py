"""What an analyst sees in a real browser: host summary and logons on the compromised demo host."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest

from hunting.demo.scenario import demo_manifest
from tests.browser.conftest import STEP_TIMEOUT, screenshot, wait_for_app

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
    page.get_by_role("tab", name="World map", exact=True).wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]').length >= 4",
        timeout=STEP_TIMEOUT,
    )
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


def _off_app(page: Any, app_url: str) -> list[str]:
    """Every request from the page or its frames to a host other than the app's."""
    app = urllib.parse.urlsplit(app_url).netloc
    seen: list[str] = []

    def on_request(request: Any) -> None:
        parts = urllib.parse.urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != app:
            seen.append(request.url)

    page.on("request", on_request)
    return seen


def _map_frame(page: Any) -> Any:
    page.get_by_role("tab", name="Interactive map").click()
    page.locator('iframe[title="streamlit_folium.st_folium"]').first.wait_for(timeout=STEP_TIMEOUT)
    frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    # Leaflet's global comes from the app's /app/static/leaflet/leaflet.js (1.9.4, see static/SOURCE.md)
    frame.wait_for_function("window.L && window.L.version === '1.9.4'", timeout=STEP_TIMEOUT)
    frame.wait_for_function(
        "document.querySelectorAll('.leaflet-overlay-pane path').length > 177", timeout=STEP_TIMEOUT
    )
    return frame


_TOOLTIPS = """() => {
  const tips = [];
  for (const k of Object.keys(window)) {
    const v = window[k];
    if (v instanceof L.CircleMarker && v.getTooltip()) tips.push(v.getTooltip().getContent().textContent);
  }
  return tips;
}"""


def test_logons_interactive_map_works_offline(app_url: str, page: Any) -> None:
    """Issue 14 item 11: the folium map drew nothing offline (Leaflet from a CDN). Leaflet now
    comes from the app, the base layer is the shipped country outlines, and no request
    leaves the app (page icons included: Streamlit fetched :material: favicons from Google)."""
    off_app = _off_app(page, app_url)
    leaflet = []
    page.on(
        "response",
        lambda r: leaflet.append(r.status) if r.url.endswith("/app/static/leaflet/leaflet.js") else None,
    )
    page.goto(f"{app_url}/Logons?host=web01&range=7d")
    wait_for_app(page)
    frame = _map_frame(page)
    assert leaflet == [200]
    # leaflet.css applied (it sets the container's overflow and the marker pane's z-index)
    assert (
        frame.evaluate("getComputedStyle(document.querySelector('.leaflet-container')).overflow") == "hidden"
    )
    # 177 countries in hunting/data/world-countries-110m.json (len(objects.countries.geometries)),
    # each one path, plus one circle per located address
    paths = frame.evaluate("document.querySelectorAll('.leaflet-overlay-pane path').length")
    circles = frame.evaluate(
        "document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length"
    )
    assert paths - circles == 177 and circles >= 1, (paths, circles)
    # the brute-force source from the demo's answer key is one of the markers (tooltip = its IP)
    tips = frame.evaluate(_TOOLTIPS)
    assert len(tips) == circles
    assert demo_manifest().truth["attacker_ips"]["brute_force"] in tips
    assert frame.evaluate("document.querySelectorAll('.leaflet-tile').length") == 0  # tiles are opt-in
    page.get_by_text("this map makes no request off the app").wait_for()
    icon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
    assert icon.startswith("data:image/svg+xml"), icon[:80]
    page.locator('iframe[title="streamlit_folium.st_folium"]').first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, "logons_interactive_map_web01")
    assert off_app == [], off_app
    assert page.dialogs == []


def test_map_tiles_only_when_asked(app_url: str, page: Any) -> None:
    """Turning tiles on makes the browser ask tile.openstreetmap.org (aborted here: tests stay
    offline), and nothing else off the app; the caption says tiles need internet."""
    off_app = _off_app(page, app_url)
    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    page.goto(f"{app_url}/Logons?host=web01&range=7d")
    wait_for_app(page)
    _map_frame(page)
    assert off_app == []
    page.get_by_text("Street map tiles (needs internet)").click()
    wait_for_app(page)
    page.get_by_text("Street tiles come from tile.openstreetmap.org and need internet").wait_for()
    page.wait_for_function(
        "Array.from(document.querySelectorAll('iframe')).some(f => f.title === 'streamlit_folium.st_folium')"
    )
    deadline = 30
    while not off_app and deadline:
        page.wait_for_timeout(1000)
        deadline -= 1
    assert off_app, "no tile was requested with tiles on"
    hosts = {urllib.parse.urlsplit(u).netloc for u in off_app}
    assert hosts == {"tile.openstreetmap.org"}, hosts
