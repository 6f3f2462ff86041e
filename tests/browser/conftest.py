"""A real `streamlit run` server and Debian's Chromium driven by Playwright.

Skips with a reason where Chromium is missing on a user's machine; in CI (CI=true)
a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no chromium on PATH: .ci/run must install Debian's chromium")
        pytest.skip("no chromium on PATH (apt-get install chromium) — browser tests skipped")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start the app on the demo data once for all browser tests."""
    _chromium()
    port = _free_port()
    env = dict(os.environ, HUNTING_CACHE_DIR=str(tmp_path_factory.mktemp("cache")))
    log = open(tmp_path_factory.mktemp("server") / "streamlit.log", "w")  # noqa: SIM115
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
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    """A fresh page that records dialogs (alert/confirm) so tests can assert none fired."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})  # type: ignore[attr-defined]
    context.set_default_timeout(STEP_TIMEOUT)
    pg = context.new_page()
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    yield pg
    context.close()


# A loaded 2-core CI machine (several test runs at once) takes minutes for a first page visit
# (parsing, detections); every wait is on a condition, these are only the upper bounds.
LOAD_TIMEOUT = 300_000
STEP_TIMEOUT = 120_000
# Busy = a script run in progress (the status widget's running icon; the widget itself also
# stays up to offer "Rerun" after a source file changed, which is not a run), a spinner such as
# the shared caches' "Running the detections…", or a skeleton of an element still to come.
BUSY = '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stSpinner"], [data-testid="stSkeleton"]'
_IDLE = """([busy, settle, key]) => {
    if (!document.querySelector('[data-testid="stApp"]') || document.querySelector(busy)) {
        window[key] = null;
        return false;
    }
    window[key] = window[key] || performance.now();
    return performance.now() - window[key] >= settle;
}"""


def wait_for_app(page: object, timeout: float = LOAD_TIMEOUT, settle: float = 1500) -> None:
    """Wait until the script run is over: no "Running" status widget, no spinner (the shared
    caches' "Running the detections…") and no skeleton, continuously for ``settle`` ms (a
    rerun triggered by a click may not have shown its status widget yet)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    key = f"__idle_{time.monotonic_ns()}"
    try:
        page.wait_for_function(_IDLE, arg=[BUSY, settle, key], polling=100, timeout=timeout)  # type: ignore[attr-defined]
    except PlaywrightTimeout:
        busy = page.evaluate(  # type: ignore[attr-defined]
            "busy => Array.from(document.querySelectorAll(busy)).map(e => e.dataset.testid + ': ' + e.innerText.slice(0, 80))",
            BUSY,
        )
        raise AssertionError(f"the app was still busy after {timeout / 1000:.0f} s: {busy}") from None


def screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
