"""Network and IoC pages in a real browser on the compromised demo host: offline map, TI lookup, no dialogs."""

from __future__ import annotations

import pytest

from tests.browser.conftest import STEP_TIMEOUT, screenshot, wait_for_app

pytestmark = pytest.mark.browser

CHART = '[data-testid="stVegaLiteChart"]'
DRAWN = f"{CHART} canvas, {CHART} svg"

# What a chart drew: SVG paths, or the canvas's non-transparent pixels. A map that failed
# to load its shapes has no country paths (or a blank canvas).
_DRAWN = """(el) => {
  const c = el.querySelector('canvas');
  if (!c) { return {svgPaths: el.querySelectorAll('svg path').length, pixels: 0}; }
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
  return {svgPaths: 0, pixels: n};
}"""


def test_network_page_offline_map(app_url: str, page) -> None:
    page.goto(f"{app_url}/Network?host=web01&range=7d")
    wait_for_app(page)
    page.get_by_role("heading", name="Network", exact=True).wait_for()
    page.get_by_text("Addresses seen", exact=True).first.wait_for()
    page.get_by_text("Owners and locations").scroll_into_view_if_needed()
    page.get_by_role("tab", name="World map", exact=True).wait_for()
    page.locator(DRAWN).first.wait_for()
    page.wait_for_function(f"document.querySelectorAll('{CHART}').length >= 3", timeout=STEP_TIMEOUT)
    page.wait_for_timeout(1500)
    # charts in page order: flows by protocol, flows over time, the world map
    world = page.locator(CHART).nth(2)
    world.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    drawn = world.evaluate(_DRAWN)
    # 177 country shapes in the shipped 110m TopoJSON, plus the address points
    assert drawn["svgPaths"] > 177 or drawn["pixels"] > 50_000, drawn
    screenshot(page, "network_web01")
    assert page.dialogs == []


def test_iocs_page_lookup_with_demo_feed(app_url: str, page) -> None:
    page.goto(f"{app_url}/IoCs_and_threat_intel?host=web01&range=7d")
    wait_for_app(page)
    page.get_by_role("heading", name="IoCs and threat intel", exact=True).wait_for()
    page.get_by_text("using the demo's threat feed file by default").wait_for()
    page.get_by_role("button", name="Look up").first.click()
    wait_for_app(page)
    page.get_by_text("hit(s) in").first.wait_for(timeout=STEP_TIMEOUT)
    text = page.get_by_text("hit(s) in").first.inner_text()
    assert not text.startswith("0 hit"), text
    page.get_by_role("button", name="Download IoCs (CSV)").wait_for()
    screenshot(page, "iocs_web01")
    assert page.dialogs == []
