"""The hostile corpus in a real browser: every page, no dialog, no injected element, no beacon.

The app runs with the "files" source pointed at the corpus folder (typed into
the sidebar like an analyst would), then every page in ``pages/`` is opened
from the sidebar menu (listed at test time, so new pages are covered).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    ARTIFACTS,
    ROOT,
    STEP_TIMEOUT,
    _chromium,
    _free_port,
    screenshot,
    wait_for_app,
)
from tests.browser.test_js_contexts import OPEN_ALL
from tests.hostile.corpus import (
    FIELDS,
    FILE_NAME_PAYLOADS,
    HOST,
    INJECTED_SELECTOR,
    PAYLOAD_HOST,
    PAYLOAD_HOST_MD,
    PAYLOAD_PROC,
    all_payloads,
    write_hostile_logs,
)

pytestmark = pytest.mark.browser
PATHS_LABEL = "Log files or folders on this machine (one per line)"


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server of its own (fresh cache) and the corpus folder it will be pointed at."""
    _chromium()
    folder = tmp_path_factory.mktemp("hostile-logs")
    write_hostile_logs(folder)
    port = _free_port()
    env = dict(os.environ, HUNTING_CACHE_DIR=str(tmp_path_factory.mktemp("hostile-cache")))
    log = open(tmp_path_factory.mktemp("hostile-server") / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.port", str(port), "--server.headless", "true", "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            # other work edits the tree while tests run: no "File change / Rerun" prompt, no rerun
            "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180  # a loaded CI machine imports slowly
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not become healthy within 180 s")
    yield url, folder
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _page_labels() -> list[str]:
    """Menu labels of every page file, as ui.context names them."""
    return [p.stem.split("_", 1)[-1].replace("_", " ") for p in sorted((ROOT / "pages").glob("*.py"))]


def _injected(page: Any) -> list[str]:
    """Injected elements in the page and every frame (component and srcdoc iframes included)."""
    found = []
    for frame in page.frames:
        try:
            hits = frame.evaluate(
                "sel => Array.from(document.querySelectorAll(sel)).map(e => e.outerHTML.slice(0, 160))",
                INJECTED_SELECTOR,
            )
        except Exception as exc:  # a frame navigating away mid-check
            hits = (
                [f"<could not inspect frame {frame.url}: {type(exc).__name__}>"]
                if "detached" not in str(exc)
                else []
            )
        found += [f"{frame.url[:60]}: {h}" for h in hits]
    return found


def _open_with_files(page: Any, url: str, folder: Path, host: str | None = None) -> None:
    query = {"source": "files", **({"host": host} if host else {})}
    page.goto(f"{url}/?{urllib.parse.urlencode(query)}")
    wait_for_app(page)
    box = page.get_by_role("textbox", name=PATHS_LABEL)
    box.fill(str(folder))
    box.press("Control+Enter")  # st.text_area commits on Ctrl+Enter (or on blur)
    wait_for_app(page)
    page.get_by_role("heading", name="Host summary", exact=False).first.wait_for()
    _drawn(page)


# Every chart has drawn (canvas or svg) and every iframe (components, srcdoc trees, maps) has
# loaded its document: payloads in tooltips, popups and node titles are in the DOM by then.
_DRAWN = """() => {
    const charts = Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'));
    if (!charts.every(c => c.querySelector('canvas, svg'))) return false;
    return Array.from(document.querySelectorAll('iframe')).every(f => {
        try { return f.contentDocument && f.contentDocument.readyState === 'complete'; }
        catch (e) { return true; }  // a cross-origin frame: nothing of ours to wait for
    });
}"""


def _drawn(page: Any) -> None:
    wait_for_app(page)
    page.wait_for_function(_DRAWN, polling=200, timeout=STEP_TIMEOUT)


def _watch(page: Any, app_url: str) -> list[str]:
    """Requests to any host but the app's own, from any page, frame or worker: a payload's beacon
    (127.0.0.1:9 in the corpus) or anything else leaving the machine, the app's own assets
    included (Leaflet and page icons are served by the app, issue 14 item 11).
    data:/blob:/about: URLs stay in the browser."""
    app = urllib.parse.urlsplit(app_url).netloc
    beacons: list[str] = []

    def seen(request: Any) -> None:
        parts = urllib.parse.urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != app:
            beacons.append(request.url)

    # on the browser context: requests of every page, frame and worker, popups included; a
    # window opened by log text is a failure of its own, and its dialogs are recorded too
    context = page.context
    context.on("request", seen)

    def popup(other: Any) -> None:
        beacons.append(f"<a new window opened: {other.url}>")
        other.on("dialog", lambda d: (page.dialogs.append(f"(popup) {d.message}"), d.dismiss()))

    context.on("page", popup)
    return beacons


def _open_everything(page: Any) -> int:
    """Open every tab and expander of the page (payloads hide in closed ones); returns how many."""
    opened = 0
    for tab in page.locator('[data-baseweb="tab"]').all():
        try:
            tab.click(timeout=5_000)
            opened += 1
        except Exception:  # a tab re-rendered away mid-loop
            continue
        _drawn(page)  # a tab's charts and maps draw when it is shown
    for summary in page.locator('[data-testid="stExpander"] summary').all():
        try:
            summary.click(timeout=5_000)
            opened += 1
        except Exception:
            continue
    _drawn(page)
    return opened


def _assert_clean(page: Any, beacons: list[str], where: str) -> None:
    page.mouse.move(700, 500)  # hover: onmouseover payloads would fire now
    page.wait_for_timeout(300)
    assert page.dialogs == [], f"{where}: a dialog fired: {page.dialogs}"
    assert _injected(page) == [], f"{where}: injected elements"
    assert beacons == [], f"{where}: the page requested attacker URLs: {beacons}"
    assert page.locator('[data-testid="stException"]').count() == 0, f"{where}: the page shows an exception"


def _tried(pages: int) -> str:
    """How much the check covers: payloads (free-text, JavaScript-escaped, token, file-name and
    the host/process-name payloads) x fields of the corpus x pages visited. Not every payload fits
    every field (a host name or program tag ends at a space: those carry the token payloads), so
    the first product is an upper bound, said as such."""
    n_payloads = (
        len(all_payloads()) + len(FILE_NAME_PAYLOADS) + len((PAYLOAD_HOST, PAYLOAD_HOST_MD, PAYLOAD_PROC))
    )
    return f"{n_payloads} payloads x {len(FIELDS)} fields (each with the payloads its format allows) x {pages} pages"


def test_every_page_with_hostile_logs(hostile_app: tuple[str, Path], page: Any) -> None:
    url, folder = hostile_app
    labels = _page_labels()
    tried = _tried(1 + len(labels))  # the Host summary, then every page of pages/
    beacons = _watch(page, url)
    _open_with_files(page, url, folder)
    assert page.get_by_role("combobox", name="Host (3 found)").input_value() == HOST
    _assert_clean(page, beacons, f"Host summary [{tried}]")
    screenshot(page, "hostile_host_summary")
    sidebar = page.locator('[data-testid="stSidebar"]')
    pages, opened = 1, 0
    for label in labels:
        sidebar.get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(f"**/{label.replace(' ', '_')}**")
        _drawn(page)
        _assert_clean(page, beacons, f"{label} [{tried}]")
        opened += _open_everything(page)
        _assert_clean(page, beacons, f"{label} (tabs and expanders open) [{tried}]")
        screenshot(page, f"hostile_{label.replace(' ', '_').lower()}")
        pages += 1
    assert pages == 1 + len(labels) and opened > 0, (pages, opened)
    summary = (
        f"hostile browser check: {tried} ({opened} tabs/expanders opened): "
        "no dialog, no live element, no request off the app"
    )
    print(summary)  # shown with -s / -rP; also kept with the screenshots
    (ARTIFACTS / "hostile_summary.txt").write_text(summary + "\n")


def test_listeners_hear_every_frame(page: Any) -> None:
    """The checks above hear what any frame does: alerts from nested frames (a srcdoc frame in a
    srcdoc frame, as vis-network trees sit in one, and a same-origin blank frame), a beacon from a
    nested frame, and a window opened from a frame."""
    beacons = _watch(page, "http://app.test")
    page.set_content(
        "<script>alert('top')</script>"
        "<iframe srcdoc=\"<iframe srcdoc=&quot;<script>parent.parent.alert(0);alert('nested')</script>"
        "<img src='http://127.0.0.1:9/beacon.png'>&quot;></iframe>\"></iframe>"
        "<iframe id=blank></iframe>"
        "<script>document.getElementById('blank').contentWindow.eval(\"alert('blank')\")</script>"
    )
    page.wait_for_function("() => document.querySelectorAll('iframe').length === 2", timeout=STEP_TIMEOUT)
    page.frames[-1].evaluate("() => window.open('about:blank')")
    deadline = time.time() + 30
    while (len(page.dialogs) < 4 or len(beacons) < 2) and time.time() < deadline:
        page.wait_for_timeout(100)
    assert sorted(page.dialogs) == ["0", "blank", "nested", "top"], page.dialogs
    assert "http://127.0.0.1:9/beacon.png" in beacons, beacons
    assert any(b.startswith("<a new window opened") for b in beacons), beacons


@pytest.mark.parametrize("host", [PAYLOAD_HOST, PAYLOAD_HOST_MD], ids=["svg-host", "markdown-image-host"])
def test_payload_host_names(hostile_app: tuple[str, Path], page: Any, host: str) -> None:
    url, folder = hostile_app
    beacons = _watch(page, url)
    _open_with_files(page, url, folder, host=host)
    assert page.get_by_role("combobox", name="Host (3 found)").input_value() == host
    _assert_clean(page, beacons, f"Host summary of {host!r}")
    screenshot(page, f"hostile_payload_host_{'md' if host == PAYLOAD_HOST_MD else 'svg'}")
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Logons", exact=True).click()
    page.wait_for_url("**/Logons**")
    _drawn(page)
    _assert_clean(page, beacons, f"Logons of {host!r}")


# Screen positions (page coordinates) of every vis-network node inside the viewport.
_NODE_POINTS = """([fx, fy, vw, vh]) => {
    const box = document.getElementById('mynetwork').getBoundingClientRect();
    const pos = network.getPositions();
    return Object.keys(pos).map(id => {
        const d = network.canvasToDOM(pos[id]);
        return [fx + box.left + d.x, fy + box.top + d.y];
    }).filter(([x, y]) => x > 0 && y > 0 && x < vw && y < vh);
}"""
_VIS_TOOLTIP = """() => {
    const t = document.querySelector('div.vis-tooltip');
    if (!t || getComputedStyle(t).visibility === 'hidden' || !t.textContent) return null;
    return {text: t.textContent, tags: Array.from(t.querySelectorAll('*')).map(e => e.tagName)};
}"""
_VEGA_TOOLTIP = """() => {
    const t = document.getElementById('vg-tooltip-element');
    if (!t || !t.classList.contains('visible')) return null;
    return {text: t.textContent, tags: Array.from(t.querySelectorAll('*')).map(e => e.tagName)};
}"""


def test_graph_node_titles_and_chart_tooltips_inert(hostile_app: tuple[str, Path], page: Any) -> None:
    """Hover every process-tree node in view (vis-network shows its title) and sweep every chart
    of Logons and Process trees (Vega tooltips): the tooltips show payload text, built of text
    (vis-network: text and line breaks; vega-tooltip: a table), and nothing runs or is requested."""
    url, folder = hostile_app
    beacons = _watch(page, url)
    _open_with_files(page, url, folder)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("link", name="Process trees", exact=True).click()
    page.wait_for_url("**/Process_trees**")
    _drawn(page)
    frame_el = page.locator('iframe[srcdoc*="vis-network"], iframe[srcdoc*="mynetwork"]').first
    frame_el.scroll_into_view_if_needed()
    frame = frame_el.element_handle().content_frame()
    frame.wait_for_function("() => typeof network === 'object' && network", timeout=STEP_TIMEOUT)
    box = frame_el.bounding_box()
    view = page.viewport_size
    points = frame.evaluate(_NODE_POINTS, [box["x"], box["y"], view["width"], view["height"]])
    titles = []
    for x, y in points:
        page.mouse.move(x, y)
        try:
            frame.wait_for_function(f"({_VIS_TOOLTIP})() !== null", timeout=3_000)
        except Exception:  # a node under the legend or an edge label: no title shown
            continue
        titles.append(frame.evaluate(_VIS_TOOLTIP))
    assert titles, f"no node title shown ({len(points)} nodes hovered)"
    # vis-network sets a string title with innerText, which writes each newline as a <br>
    assert all(set(t["tags"]) <= {"BR"} for t in titles), [t for t in titles if set(t["tags"]) - {"BR"}][:3]
    # payloads reach the titles as text: their real characters (hunting.render.proc_tree_html no
    # longer HTML-escapes them), shown, not parsed: "<script" is in the text and no element was made
    assert sum("pwned" in t["text"] for t in titles) >= 5, [t["text"][:200] for t in titles]
    assert any("<script" in t["text"] for t in titles), [t["text"][:200] for t in titles]
    assert not any("&lt;" in t["text"] or "&quot;" in t["text"] for t in titles)
    _assert_clean(page, beacons, f"Process trees, {len(titles)} node titles shown")

    tips: list[dict[str, Any]] = []
    map_opened = 0
    for label in ("Logons", "Process trees"):
        sidebar.get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(f"**/{label.replace(' ', '_')}**")
        _drawn(page)
        for chart in page.locator('[data-testid="stVegaLiteChart"]').all():
            chart.scroll_into_view_if_needed()
            b = chart.bounding_box()
            if not b or b["height"] < 20:
                continue
            for i in range(1, 24):
                for j in range(1, 6):
                    page.mouse.move(b["x"] + b["width"] * i / 24, b["y"] + b["height"] * j / 6)
                    tip = page.evaluate(_VEGA_TOOLTIP)
                    if tip:
                        tips.append(tip)
        _assert_clean(page, beacons, f"{label}, chart tooltips swept")
        if label == "Logons":  # the folium map inside the app: open every popup and tooltip
            page.get_by_role("tab", name="Interactive map").click()
            page.locator('iframe[title="streamlit_folium.st_folium"]').first.wait_for()
            _drawn(page)
            folium = next(f for f in page.frames if "streamlit_folium" in f.url)
            folium.wait_for_function("window.L && window.L.version", timeout=STEP_TIMEOUT)
            shown = folium.evaluate(OPEN_ALL)
            map_opened = shown["opened"]
            assert map_opened > 0, shown
            assert set(shown["tags"]) <= {"DIV", "B", "BR", "SPAN"}, shown["tags"]
            assert any("pwned" in t for t in shown["texts"]), shown["texts"][:4]
            _assert_clean(page, beacons, f"Logons, {shown['opened']} map popups and tooltips opened")
    assert tips, "no chart tooltip shown"
    allowed = {"TABLE", "TBODY", "TR", "TD", "H2", "THEAD", "TH"}
    assert all(set(t["tags"]) <= allowed for t in tips), [t for t in tips if set(t["tags"]) - allowed][:3]
    with_payload = sum("pwned" in t["text"] for t in tips)
    print(
        f"hovered: {len(titles)} process-tree node titles, {len(tips)} chart tooltips "
        f"({with_payload} with a payload), {map_opened} map popups and tooltips opened"
    )
    assert with_payload > 0, [t["text"][:120] for t in tips][:5]
