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

from tests.browser.conftest import ROOT, _chromium, _free_port, screenshot, wait_for_app
from tests.hostile.corpus import (
    FIELDS,
    FILE_NAME_PAYLOADS,
    HOST,
    INJECTED_SELECTOR,
    PAYLOAD_HOST,
    PAYLOAD_HOST_MD,
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
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not become healthy within 60 s")
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
    page.get_by_role("heading", name="Host summary", exact=False).first.wait_for(timeout=90_000)


def _watch(page: Any, app_url: str) -> list[str]:
    """Requests to any host but the app's own, from the page or any frame: a payload's beacon
    (127.0.0.1:9 in the corpus) or anything else leaving the machine, the app's own assets
    included (Leaflet and page icons are served by the app, issue 14 item 11).
    data:/blob:/about: URLs stay in the browser."""
    app = urllib.parse.urlsplit(app_url).netloc
    beacons: list[str] = []

    def seen(request: Any) -> None:
        parts = urllib.parse.urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != app:
            beacons.append(request.url)

    page.on("request", seen)
    return beacons


def _open_everything(page: Any) -> int:
    """Open every tab and expander of the page (payloads hide in closed ones); returns how many."""
    opened = 0
    for tab in page.locator('[data-baseweb="tab"]').all():
        try:
            tab.click(timeout=2_000)
            page.wait_for_timeout(400)
            opened += 1
        except Exception:  # a tab re-rendered away mid-loop
            continue
    for summary in page.locator('[data-testid="stExpander"] summary').all():
        try:
            summary.click(timeout=2_000)
            opened += 1
        except Exception:
            continue
    page.wait_for_timeout(800)
    return opened


def _assert_clean(page: Any, beacons: list[str], where: str) -> None:
    page.mouse.move(700, 500)  # hover: onmouseover payloads would fire now
    page.wait_for_timeout(300)
    assert page.dialogs == [], f"{where}: a dialog fired: {page.dialogs}"
    assert _injected(page) == [], f"{where}: injected elements"
    assert beacons == [], f"{where}: the page requested attacker URLs: {beacons}"
    assert page.locator('[data-testid="stException"]').count() == 0, f"{where}: the page shows an exception"


def test_every_page_with_hostile_logs(hostile_app: tuple[str, Path], page: Any) -> None:
    url, folder = hostile_app
    beacons = _watch(page, url)
    _open_with_files(page, url, folder)
    assert page.get_by_role("combobox", name="Host (3 found)").input_value() == HOST
    _assert_clean(page, beacons, "Host summary")
    screenshot(page, "hostile_host_summary")
    sidebar = page.locator('[data-testid="stSidebar"]')
    pages, opened = 1, 0
    for label in _page_labels():
        sidebar.get_by_role("link", name=label, exact=True).click()
        wait_for_app(page)
        page.wait_for_timeout(1500)  # charts, maps and iframes finish drawing
        _assert_clean(page, beacons, label)
        opened += _open_everything(page)
        _assert_clean(page, beacons, f"{label} (tabs and expanders open)")
        screenshot(page, f"hostile_{label.replace(' ', '_').lower()}")
        pages += 1
    n_payloads = len(all_payloads()) + len(FILE_NAME_PAYLOADS) + 3  # + host/process-name payloads
    print(
        f"hostile browser check: {n_payloads} payloads x {len(FIELDS)} fields x {pages} pages "
        f"({opened} tabs/expanders opened): no dialog, no live element, no request off the app"
    )


@pytest.mark.parametrize("host", [PAYLOAD_HOST, PAYLOAD_HOST_MD], ids=["svg-host", "markdown-image-host"])
def test_payload_host_names(hostile_app: tuple[str, Path], page: Any, host: str) -> None:
    url, folder = hostile_app
    beacons = _watch(page, url)
    _open_with_files(page, url, folder, host=host)
    assert page.get_by_role("combobox", name="Host (3 found)").input_value() == host
    _assert_clean(page, beacons, f"Host summary of {host!r}")
    screenshot(page, f"hostile_payload_host_{'md' if host == PAYLOAD_HOST_MD else 'svg'}")
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Logons", exact=True).click()
    wait_for_app(page)
    page.wait_for_timeout(1000)
    _assert_clean(page, beacons, f"Logons of {host!r}")
