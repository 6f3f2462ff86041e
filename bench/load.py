"""Load test: several concurrent analysts on one `streamlit run` over a large generated dataset.

Run: .venv/bin/python bench/load.py [--scale 60] [--sessions 4] [--rounds 3] [--out DIR]
     .venv/bin/python bench/load.py --mode direct [--threads 8]   (no browser: Source calls in threads)

Generates the demo scenario at ``--scale`` (60 gives over a million syslog lines)
into a folder, starts the app with a private HUNTING_CACHE_DIR, then each browser
session (a Playwright context in its own thread) points the "files" source at the
folder and walks hosts × time ranges × pages, timing every step until the script
run is over. The server's RSS is sampled every second. Bounded caches
(``st.cache_data(max_entries=...)`` in ui/context.py) should keep RSS roughly flat
once every combination has been seen: the last round's growth is printed.
Needs Debian's chromium (/usr/bin/chromium) for the browser mode. Never run by tests.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RANGES = ("24h", "3d", "7d")
PATHS_LABEL = "Log files or folders on this machine (one per line)"


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.t0 = time.perf_counter()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.perf_counter() - self.t0, rss_mb(self.pid)))
            self.stop.wait(self.every)

    def at(self, t: float) -> float:
        before = [m for s, m in self.samples if s <= t]
        return before[-1] if before else float("nan")


def generate_data(out: Path, scale: float) -> None:
    from hunting.demo.scenario import generate

    marker = out / ".bench-scale"
    if marker.is_file() and marker.read_text() == str(scale):
        print(f"reusing data in {out} (scale {scale})")
        return
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    manifest = generate(out, scale=scale)
    syslog = sum(f.lines for f in manifest.files if f.kind.startswith(("auth_", "syslog_")))
    audit = sum(f.lines for f in manifest.files if f.kind.startswith("audit_"))
    marker.write_text(str(scale))
    print(f"generated scale {scale} in {time.perf_counter() - t0:.1f} s into {out}")
    print(f"  {syslog:,} syslog lines, {audit:,} audit lines")


def start_server(cache: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    env = dict(os.environ, HUNTING_CACHE_DIR=str(cache))
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
            "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("streamlit did not become healthy")


def wait_run(page: Any, timeout: float = 600_000) -> None:
    """Until the script run an action started is over (its status widget came, then went)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    state = "document.querySelector('[data-testid=\"stApp\"]').getAttribute('data-test-script-state')"
    with contextlib.suppress(PlaywrightTimeout):  # a very short run may be over before it is seen
        page.wait_for_function(f"{state} === 'running'", timeout=1000, polling=20)
    page.wait_for_function(f"{state} === 'notRunning'", timeout=timeout, polling=50)


def page_labels() -> list[str]:
    return ["Host summary"] + [
        p.stem.split("_", 1)[-1].replace("_", " ") for p in sorted((ROOT / "pages").glob("*.py"))
    ]


def pick(page: Any, name_pattern: str, option: str) -> None:
    """Choose ``option`` in the selectbox whose accessible name matches ``name_pattern``."""
    page.get_by_role("combobox", name=re.compile(name_pattern)).click()
    page.keyboard.type(option)  # a Streamlit selectbox filters its options as you type
    page.keyboard.press("Enter")


def browser_session(
    n: int,
    url: str,
    folder: Path,
    rounds: int,
    timings: dict[str, list[float]],
    log: list[tuple[float, str]],
    t0: float,
    lock: threading.Lock,
) -> None:
    from playwright.sync_api import sync_playwright

    def timed(what: str, action: Any) -> None:
        start = time.perf_counter()
        action()
        wait_run(page)
        took = time.perf_counter() - start
        with lock:
            timings[what].append(took)
            log.append((time.perf_counter() - t0, f"session {n}: {what} {took:.2f} s"))
            print(f"  [{time.perf_counter() - t0:6.0f} s] session {n}: {what} {took:.2f} s", flush=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--headless=new", "--no-sandbox"]
        )
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/?source=files")
        wait_run(page)
        box = page.get_by_role("textbox", name=PATHS_LABEL)
        box.fill(str(folder))
        timed(
            "first load (parse or cache)",
            lambda: (
                box.press("Control+Enter"),
                page.get_by_role("combobox", name=re.compile("^Host")).wait_for(timeout=600_000),
            ),
        )
        page.get_by_role("combobox", name=re.compile("^Host")).click()
        hosts = [o.inner_text() for o in page.get_by_role("option").all()]
        page.keyboard.press("Escape")
        sidebar = page.locator('[data-testid="stSidebar"]')
        for r in range(rounds):
            for host in hosts:
                timed("change host", lambda h=host: pick(page, "^Host", h))
                for rng in RANGES:
                    label = {"24h": "Last 24 hours", "3d": "Last 3 days", "7d": "Last 7 days"}[rng]
                    timed("change range", lambda lab=label: pick(page, "^Time range", lab))
                    for pg in page_labels():
                        timed(
                            f"page {pg}",
                            lambda pg=pg: sidebar.get_by_role("link", name=pg, exact=True).click(),
                        )
            with lock:
                log.append((time.perf_counter() - t0, f"session {n}: round {r + 1} done"))
        browser.close()


def run_browser(args: argparse.Namespace, folder: Path) -> None:
    cache = Path(tempfile.mkdtemp(prefix="hunting-load-cache-"))
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc, url = start_server(cache, port)
    sampler = RssSampler(proc.pid)
    sampler.start()
    timings: dict[str, list[float]] = defaultdict(list)
    log: list[tuple[float, str]] = []
    lock = threading.Lock()
    t0 = sampler.t0
    print(f"server pid {proc.pid} at {url}, RSS at start {rss_mb(proc.pid):.0f} MB")
    try:
        # The first session parses the folder; the others start once it is cached, then all run together.
        first = threading.Thread(
            target=browser_session, args=(0, url, folder, args.rounds, timings, log, t0, lock), daemon=True
        )
        first.start()
        while not timings["first load (parse or cache)"] and first.is_alive():
            time.sleep(1)
        others = [
            threading.Thread(
                target=browser_session,
                args=(i, url, folder, args.rounds, timings, log, t0, lock),
                daemon=True,
            )
            for i in range(1, args.sessions)
        ]
        for t in others:
            t.start()
        for t in [first, *others]:
            t.join()
    finally:
        sampler.stop.set()
        sampler.join()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(cache, ignore_errors=True)
    report(timings, sampler, log)


def report(timings: dict[str, list[float]], sampler: RssSampler, log: list[tuple[float, str]]) -> None:
    print("\nresponse times (s): step, n, median, p90, max")
    for what, xs in sorted(timings.items()):
        xs = sorted(xs)
        p90 = xs[min(len(xs) - 1, int(0.9 * len(xs)))]
        print(f"  {what:<32} {len(xs):5d} {statistics.median(xs):7.2f} {p90:7.2f} {xs[-1]:7.2f}")
    samples = sampler.samples
    if samples:
        peak = max(m for _, m in samples)
        print(f"\nserver RSS: start {samples[0][1]:.0f} MB, peak {peak:.0f} MB, end {samples[-1][1]:.0f} MB")
        step = max(1, len(samples) // 20)
        print("RSS over time (s, MB): " + ", ".join(f"{t:.0f}:{m:.0f}" for t, m in samples[::step]))
    rounds = [(t, msg) for t, msg in log if msg.endswith("done")]
    if len(rounds) >= 2:
        ends = sorted(t for t, _ in rounds)
        n = len(ends) // max(1, len({m.split(":")[0] for _, m in rounds}))
        last, before = ends[-1], ends[-1 - max(1, len(ends) // max(n, 1))]
        growth = sampler.at(last) - sampler.at(before)
        print(f"RSS growth over the last round: {growth:+.0f} MB (bounded caches: should be near 0)")


def run_direct(args: argparse.Namespace, folder: Path) -> None:
    """No browser: the Source calls the pages make, from threads, on one shared LocalSource."""
    import pandas as pd

    from hunting.sources.local import LocalSource
    from hunting.timerange import TimeRange

    os.environ.setdefault("HUNTING_CACHE_DIR", tempfile.mkdtemp(prefix="hunting-load-cache-"))
    pid = os.getpid()
    sampler = RssSampler(pid)
    sampler.start()
    t = time.perf_counter()
    src = LocalSource.from_paths([folder])
    print(f"loaded in {time.perf_counter() - t:.1f} s, RSS {rss_mb(pid):.0f} MB")
    hosts = src.hosts()
    timings: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    calls = [
        ("syslog_volume", {"bucket_seconds": 3600, "by": "Facility"}), ("logon_events", {}), ("sudo_events", {}),
        ("cron_events", {}), ("account_changes", {}), ("audit_events", {}), ("alerts", {}), ("syslog", {}),
    ]  # fmt: skip

    def worker(k: int) -> None:
        for _ in range(args.rounds):
            for _, row in hosts.iterrows():
                last = pd.Timestamp(row["LastSeen"])
                for hours in (24, 72, 168, 1 + k):
                    tr = TimeRange(last - pd.Timedelta(hours=hours), last)
                    for method, kw in calls:
                        start = time.perf_counter()
                        getattr(src, method)(row["Computer"], tr, **kw)
                        with lock:
                            timings[method].append(time.perf_counter() - start)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    sampler.stop.set()
    sampler.join()
    report(timings, sampler, [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=60.0)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mode", choices=("browser", "direct"), default="browser")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "load-data")
    args = ap.parse_args()
    generate_data(args.out, args.scale)
    if args.mode == "browser":
        run_browser(args, args.out)
    else:
        run_direct(args, args.out)


if __name__ == "__main__":
    main()
