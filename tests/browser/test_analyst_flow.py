"""Issue 14 in a real browser: the sessions table, the process tree's default and session scopes,
the Findings page, and the tree's dark canvas. Every screenshot of the README's table is taken
here (`make screenshots` writes them to docs/screenshots/), so the README shows the app as it is.

Every screenshot is taken once the page is drawn, never after a fixed sleep: the script run is
over (no status widget, no spinner such as Findings' "Running the detections and Sigma rules…"),
the headings the README caption names are on the page, data grids have drawn their canvas and
vis-network has built its nodes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from hunting.demo.scenario import demo_manifest
from tests.browser.conftest import STEP_TIMEOUT, wait_for_app

pytestmark = pytest.mark.browser
# README's screenshots are rewritten only on request (`make screenshots`), so `make test` leaves the
# tree clean; otherwise they go beside the other browser tests' screenshots.
_ROOT = Path(__file__).resolve().parents[2]
DOCS = (
    _ROOT / "docs" / "screenshots"
    if os.environ.get("HUNTING_UPDATE_SCREENSHOTS") == "1"
    else _ROOT / "test-artifacts" / "readme-screenshots"
)
WEB = "host=web01&range=7d"
# Scroll an element to the top of the page, below Streamlit's 60 px header (which covers what is under it).
SCROLL_BELOW_HEADER = "e => { e.style.scrollMarginTop = '70px'; e.scrollIntoView({block: 'start'}); }"
SPINNER_TEXTS = ("Running the detections", "Running…", "Please wait")


def _settled(page: Any) -> None:
    """Nothing is still being computed or laid out: no spinner text anywhere in the main area,
    fonts loaded, and two animation frames drawn since (so the last layout is painted)."""
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    for text in SPINNER_TEXTS:
        assert main.get_by_text(text).count() == 0, f"still computing: {text!r}"
    page.evaluate(
        "() => document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))"
    )


def _shot(page: Any, name: str) -> None:
    _settled(page)
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=False)


def _charts_drawn(page: Any, at_least: int) -> None:
    """Vega-Lite charts have drawn their canvas or svg."""
    page.wait_for_function(
        """n => Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'))
                 .filter(c => c.querySelector('canvas, svg')).length >= n""",
        arg=at_least,
        timeout=STEP_TIMEOUT,
    )


def _grids_drawn(page: Any, at_least: int = 1) -> None:
    """Glide data grids (st.dataframe) draw into a canvas once their data arrived."""
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"stDataFrame\"] canvas').length >= n",
        arg=at_least,
        timeout=STEP_TIMEOUT,
    )


def _tree_frame(page: Any) -> Any:
    """The pyvis iframe once vis-network has built its nodes (hierarchical layout, physics off:
    the drawing is final once the network object holds them)."""
    frame_el = page.locator('iframe[srcdoc*="vis-network"], iframe[srcdoc*="mynetwork"]').first
    frame_el.wait_for()
    frame_el.scroll_into_view_if_needed()
    frame = frame_el.element_handle().content_frame()
    frame.wait_for_function(
        "() => typeof network === 'object' && network && Object.keys(network.body.nodes).length > 0"
        " && document.querySelector('canvas')",
        timeout=STEP_TIMEOUT,
    )
    return frame_el


# Labels as vis-network draws them in the first view (no zooming): their on-screen size is the
# font size times the view's scale; "inView" are the labels of boxes whose centre is on the canvas.
_LABELS = """() => {
    const ns = Object.values(network.body.nodes).filter(n => n.labelModule.elementOptions.label);
    const frame = document.getElementById('mynetwork');
    const inView = ns.filter(n => { const d = network.canvasToDOM({x: n.x, y: n.y});
        return d.x >= 0 && d.y >= 0 && d.x <= frame.clientWidth && d.y <= frame.clientHeight; });
    return {n: ns.length, shown: ns.filter(n => n.labelModule.visible()).length, scale: network.getScale(),
            px: Math.min(...ns.map(n => n.labelModule.fontOptions.size)) * network.getScale(),
            inView: inView.map(n => n.options.label), risky: ns.filter(n => n.options.borderWidth === 4).length,
            riskyInView: inView.filter(n => n.options.borderWidth === 4).length,
            scroll: [document.scrollingElement.scrollHeight, document.scrollingElement.clientHeight]};
}"""


def _first_view_labels(frame_el: Any) -> dict[str, Any]:
    return frame_el.element_handle().content_frame().evaluate(_LABELS)


def _assert_readable(labels: dict[str, Any]) -> None:
    """Issue 14 item 7: labels readable without zooming. Every label is drawn, at no less than
    10 px on screen (was 5.9 px for the demo's default scope: 36 labels fitted into the frame), and
    the first view holds at least half of the risky (red-bordered) boxes. (Demo, measured: 36 labels
    at 11 px, all 19 risky boxes in view, the default scope; 43 at 11 px, all 18 risky, the session.)"""
    assert labels["n"] > 0 and labels["shown"] == labels["n"], labels
    assert labels["px"] >= 10, labels
    assert labels["riskyInView"] * 2 >= labels["risky"], labels
    # legend and canvas fit the frame: no scroll bar inside it (the canvas used to overflow it)
    assert labels["scroll"][0] <= labels["scroll"][1], labels


def test_logons_sessions_table_flagged_first(app_url: str, page) -> None:
    page.goto(f"{app_url}/Logons?{WEB}")
    wait_for_app(page)
    heading = page.get_by_role("heading", name="Logon sessions")
    heading.wait_for()
    heading.scroll_into_view_if_needed()
    caption = page.get_by_text("system session(s) (cron, sudo, systemd) left out")
    caption.wait_for()
    assert "flagged, listed first" in caption.inner_text()
    page.get_by_text("Include system sessions").wait_for()
    _grids_drawn(page)
    heading.evaluate("e => e.scrollIntoView({block: 'start'})")
    _shot(page, "logons_sessions_web01")
    assert page.dialogs == []


def test_process_tree_default_scope_draws(app_url: str, page) -> None:
    page.goto(f"{app_url}/Process_trees?{WEB}")
    wait_for_app(page)
    page.get_by_role("heading", name="Process trees", exact=True).wait_for()
    frame = _tree_frame(page)
    assert page.get_by_text("too many to draw").count() == 0
    assert "Colour = executable" in (frame.get_attribute("srcdoc") or "")
    labels = _first_view_labels(frame)
    _assert_readable(labels)
    # the attacker's dropped tool (demo answer key: /tmp/.x/kworkerd) is drawn inside the first view
    tool = Path(demo_manifest().truth["tool_path"]).name
    assert any(tool in label for label in labels["inView"]), (tool, labels)
    page.get_by_text("Drawing ").first.evaluate(SCROLL_BELOW_HEADER)
    _shot(page, "process_tree_default_web01")
    assert page.dialogs == []


def test_process_tree_session_scope(app_url: str, page) -> None:
    ses = demo_manifest().truth["logon_session"]
    page.goto(f"{app_url}/Process_trees?{WEB}&session=ses%20{ses}")
    wait_for_app(page)
    page.get_by_role("heading", name="Process trees", exact=True).wait_for()
    _assert_readable(_first_view_labels(_tree_frame(page)))
    page.get_by_text("Drawing ").first.evaluate(SCROLL_BELOW_HEADER)
    _shot(page, "process_tree_session_web01")
    assert page.dialogs == []


def test_findings_page(app_url: str, page) -> None:
    page.goto(f"{app_url}/Findings?{WEB}")
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    # the detections ran: the findings table, their evidence and the attack timeline are drawn
    for heading in ("Findings", "Export", "Evidence", "Attack timeline"):
        main.get_by_role("heading", name=heading, exact=True).first.wait_for()
    _grids_drawn(page, 2)  # the findings table and the first timeline group
    body = main.inner_text()
    assert not any(ch in body for ch in "🔴🟠⚪")  # Material icons, not emoji
    # Issue 14 item 4: the intruder's URLs (demo answer key: the download URL; the cron job's
    # update-check.linux-kworker-sync.top/u.sh) are never links, and are shown defanged
    host = demo_manifest().truth["download_url"].split("/")[2]  # linux-kworker-sync.top
    # (the app's own link to the IoCs page carries the URL in its query string: that one stays)
    to_attacker = page.locator('[data-testid="stMain"] a').evaluate_all(
        "(els, host) => els.filter(e => e.hostname.endsWith(host)).map(e => e.href)", host
    )
    assert to_attacker == [], to_attacker
    text = main.text_content() or ""  # collapsed expanders included
    assert host.replace(".", "[.]") in text and f"hxxp://update-check[.]{host.replace('.', '[.]')}" in text
    assert f"http://update-check.{host}" not in body  # not as a live-looking URL in visible text
    page.evaluate("() => window.scrollTo(0, 0)")
    _shot(page, "findings_web01")
    assert page.dialogs == []


def test_process_tree_dark_canvas_in_dark_theme(app_url: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, color_scheme="dark")
    context.set_default_timeout(STEP_TIMEOUT)
    page = context.new_page()
    try:
        page.goto(f"{app_url}/Process_trees?{WEB}")
        wait_for_app(page)
        frame = _tree_frame(page)
        assert "#0e1117" in (frame.get_attribute("srcdoc") or "")
    finally:
        context.close()


def test_host_summary_screenshot(app_url: str, page) -> None:
    page.goto(f"{app_url}/?{WEB}")
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    for heading in ("Host summary: web01", "Triage findings", "Host record"):
        main.get_by_role("heading", name=heading).first.wait_for()
    _grids_drawn(page, 2)  # triage findings, IP addresses
    _charts_drawn(page, 1)
    assert not any(ch in main.inner_text() for ch in "🔴🟠⚪")  # Material icons, not emoji
    page.evaluate("() => window.scrollTo(0, 0)")
    _shot(page, "host_summary_web01")
    assert page.dialogs == []


def test_logons_screenshot(app_url: str, page) -> None:
    page.goto(f"{app_url}/Logons?{WEB}")
    wait_for_app(page)
    page.get_by_role("heading", name="Logons", exact=True).wait_for()
    page.get_by_text("Failed logons").first.wait_for()
    _charts_drawn(page, 2)
    page.evaluate("() => window.scrollTo(0, 0)")
    _shot(page, "logons_web01")
    assert page.dialogs == []


def test_session_detail_of_the_intruders_logon_screenshot(app_url: str, page) -> None:
    """A Findings-style link (?session=ses N, the intruder's audit session from the demo's answer
    key) scopes Session detail to that logon session: its flags."""
    ses = demo_manifest().truth["logon_session"]
    page.goto(f"{app_url}/Session_detail?{WEB}&session=ses%20{ses}")
    wait_for_app(page)
    page.get_by_role("heading", name="Session detail", exact=True).wait_for()
    page.get_by_text(f"The link asked for audit session {ses}: scoped to the logon session").wait_for()
    page.get_by_role("heading", name="Flagged events").wait_for()
    page.locator('a[href^="https://attack.mitre.org/techniques/"]').first.wait_for()
    _charts_drawn(page, 1)
    page.evaluate("() => window.scrollTo(0, 0)")
    _shot(page, "session_detail_web01_flags")
    assert page.dialogs == []


def test_process_tree_table_of_the_session_screenshot(app_url: str, page) -> None:
    ses = demo_manifest().truth["logon_session"]
    page.goto(f"{app_url}/Process_trees?{WEB}&session=ses%20{ses}")
    wait_for_app(page)
    _tree_frame(page)
    _grids_drawn(page, 1)
    page.get_by_text("Table view").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    _shot(page, "process_trees_session_web01")
    assert page.dialogs == []
