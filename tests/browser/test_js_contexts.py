"""Log text inside generated JavaScript (the folium map) in Chromium: no payload runs.

Issue 16: user names written with JavaScript escapes (``\\u003cimg ... onerror=...\\u003e``)
fired ``alert`` on Logons, because folium pastes popup HTML into a JavaScript template
literal where the escapes turn back into markup. The map's HTML is loaded with the real
Leaflet the app serves (``static/leaflet``, issue 14 item 11), routed from the repository
files (tests stay offline), and every marker's popup and tooltip is opened.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.browser.conftest import ROOT
from tests.hostile.corpus import JS_ESCAPE_PAYLOADS, all_payloads
from ui.maps import folium_map

pytestmark = pytest.mark.browser

# Open every CircleMarker's popup and tooltip with Leaflet's own API; return what they show
# and which elements their content holds.
OPEN_ALL = """() => {
  const texts = [], tags = new Set();
  let opened = 0;
  for (const k of Object.keys(window)) {
    const m = window[k];
    if (!(m instanceof L.CircleMarker)) continue;
    m.openPopup();
    const pc = document.querySelector('.leaflet-popup-content');
    texts.push(pc.textContent);
    pc.querySelectorAll('*').forEach(e => tags.add(e.tagName));
    m.openTooltip();
    const tips = document.querySelectorAll('.leaflet-tooltip');
    const tc = tips[tips.length - 1];
    texts.push(tc.textContent);
    tc.querySelectorAll('*').forEach(e => tags.add(e.tagName));
    m.closeTooltip();
    opened += 2;
  }
  return {texts: texts, tags: Array.from(tags), opened: opened, version: L.version};
}"""


def _serve(route: Any, html: str) -> None:
    """The map page at http://app.test/, the app's static files from static/, nothing else."""
    path = route.request.url.removeprefix("http://app.test")
    if path == "/":
        route.fulfill(body=html, content_type="text/html")
    elif path.startswith("/app/static/") and ".." not in path:
        route.fulfill(path=str(ROOT / "static" / path.removeprefix("/app/static/")))
    else:
        route.abort()


def test_folium_popups_are_inert(page: Any) -> None:
    payloads = list(all_payloads().values())
    assert set(JS_ESCAPE_PAYLOADS.values()) <= set(payloads)
    points = pd.DataFrame(
        {
            "Ip": payloads,
            "User": payloads,
            "Host": [p[::-1] for p in payloads],
            "Latitude": 48.0,
            "Longitude": 2.0,
            "Count": 1,
            "Result": "Failure",
        }
    )
    html = folium_map(points).get_root().render()  # type: ignore[attr-defined]
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.route("**/*", lambda r: _serve(r, html))
    page.goto("http://app.test/")
    page.wait_for_function("window.L && window.L.version")
    shown = page.evaluate(OPEN_ALL)
    page.wait_for_timeout(500)
    assert shown["version"] == "1.9.4"  # the real Leaflet from static/, not a stub
    assert shown["opened"] == 2 * len(payloads)  # a popup and a tooltip per marker
    assert page.dialogs == [], f"a payload ran: {page.dialogs}"
    # popups are <div> of <b>name</b>: value<br>; tooltips a <span>: nothing built from log text
    assert set(shown["tags"]) <= {"DIV", "B", "BR", "SPAN"}, shown["tags"]
    text = "\n".join(shown["texts"])
    for p in JS_ESCAPE_PAYLOADS.values():  # shown as text, backslashes kept as backslashes
        assert p in text
    assert {r for r in requested if not r.startswith("http://app.test/")} == set()
    print(
        f"folium + Leaflet {shown['version']}: {len(payloads)} payloads x 3 fields (popup rows, tooltip) opened, no dialog"
    )


@pytest.fixture(scope="module")
def md_probe_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.browser.conftest import ROOT, _chromium, _free_port

    _chromium()
    port = _free_port()
    log = open(tmp_path_factory.mktemp("md-probe") / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "tests/browser/md_probe_app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--server.runOnSave", "false"],
        cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


def test_markdown_text_makes_no_link_image_or_math(md_probe_url: str, page: Any) -> None:
    """ui.safe.md() output in st.markdown, st.caption and st.info: no <a>, <img>, KaTeX,
    no request to another host; the raw control line does auto-link (the probe works)."""
    from tests.browser.conftest import wait_for_app

    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(md_probe_url) else None)
    page.goto(md_probe_url)
    wait_for_app(page)
    page.locator(".st-key-control [data-testid=stMarkdownContainer]").first.wait_for(timeout=60_000)
    safe = page.locator(".st-key-safe")
    assert safe.locator("[data-testid=stMarkdownContainer]").count() >= 80  # 41 texts x 3 elements
    live = safe.evaluate("e => Array.from(e.querySelectorAll('a, img, svg, .katex, script, iframe')).length")
    control = page.locator(".st-key-control").evaluate("e => e.querySelectorAll('a').length")
    assert control == 2, "the control text should auto-link in this Streamlit; the probe is broken"
    assert live == 0
    assert page.dialogs == []
    assert foreign == []
    text = safe.inner_text()
    assert "http\u2060://127.0.0.1:9/pwned-autolink" in text  # shown, not linked
