"""Log text inside generated JavaScript (the folium map) in Chromium: no payload runs.

Issue 16: user names written with JavaScript escapes (``\\u003cimg ... onerror=...\\u003e``)
fired ``alert`` on Logons, because folium pastes popup HTML into a JavaScript template
literal where the escapes turn back into markup. Leaflet comes from a CDN and tests are
offline, so Leaflet is replaced by a stub with Leaflet's own content rule (a string
popup/tooltip is set with ``innerHTML``, a DOM node is appended) and jQuery is served
from Debian's package; every popup and tooltip is then put into the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.hostile.corpus import JS_ESCAPE_PAYLOADS, all_payloads
from ui.maps import folium_map

pytestmark = pytest.mark.browser
JQUERY = Path("/usr/share/javascript/jquery/jquery.js")

LEAFLET_STUB = """
(function () {
  window.__layers = [];
  function open(c) {
    if (c == null) return;
    if (c.__isLayer) { open(c.__content); return; }
    var d = document.createElement('div');
    if (typeof c === 'string') d.innerHTML = c; else if (c.nodeType) d.appendChild(c);
    document.body.appendChild(d);
  }
  function layer() {
    var o = function () {};
    o.__isLayer = true;
    var p = new Proxy(o, {
      get: function (t, k) {
        if (k in t) return t[k];
        if (k === 'bindPopup' || k === 'bindTooltip' || k === 'setContent')
          return function (c) { (k === 'setContent' ? (t.__content = c) : window.__layers.push(c)); return p; };
        return layer();
      },
      apply: function () { return layer(); },
      construct: function () { return layer(); }
    });
    return p;
  }
  window.L = layer();
  window.__openAll = function () { window.__layers.forEach(open); return window.__layers.length; };
})();
"""


def _serve(route: Any) -> None:
    url = route.request.url
    if url.endswith("leaflet.js"):
        route.fulfill(body=LEAFLET_STUB, content_type="application/javascript")
    elif "jquery" in url and url.endswith(".js"):
        route.fulfill(body=JQUERY.read_text(), content_type="application/javascript")
    else:
        route.fulfill(body="", content_type="text/plain")


def test_folium_popups_are_inert(page: Any) -> None:
    if not JQUERY.is_file():
        pytest.skip("Debian's libjs-jquery is not installed")
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
    page.route("**/*", lambda r: _serve(r) if not r.request.url.startswith("about:") else r.continue_())
    page.route("http://app.test/", lambda r: r.fulfill(body=html, content_type="text/html"))
    page.goto("http://app.test/")
    opened = page.evaluate("window.__openAll()")
    page.wait_for_timeout(500)
    assert opened == 2 * len(payloads)  # a popup and a tooltip per marker
    assert page.dialogs == [], f"a payload ran: {page.dialogs}"
    text = page.evaluate("document.body.innerText")
    # shown as text, backslashes kept as backslashes
    for p in JS_ESCAPE_PAYLOADS.values():
        assert p in text
    assert page.evaluate("document.querySelectorAll('img,svg,script[data-pwn],iframe,a').length") == 0
    print(f"folium: {len(payloads)} payloads x 3 fields (popup rows, tooltip) opened, no dialog")


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
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
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
