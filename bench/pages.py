"""Interactive speed on one busy host: open, re-open, every page (first and second visit),
a sidebar change, the Findings pass, and peak memory.

Run: .venv/bin/python bench/pages.py [--scale 20] [--dir DIR] [--host web01] [--range 7d]
Generates the demo scenario (scale 20 gives web01 about 1.11 M lines: syslog, auth.log,
audit.log) into --dir when it does not exist yet (a new temporary folder without --dir). Targets on a 2-core machine (issue 12):
open >= 330,000 lines/s including process start; re-open from cache < 1 s per million
lines; every page first visit <= 3 s, later <= 1 s; a sidebar change <= 1 s; peak RSS
<= 1.5 GB at 1 M lines; the Findings pass <= 2 s at 1 M lines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ itself is first on sys.path: bench/sigma.py would shadow pySigma.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

OPEN_SCRIPT = """
import json, resource, sys, time
t = time.perf_counter()
from hunting.sources.local import LocalSource
src = LocalSource.from_paths([sys.argv[1]])
lines = sum(a.lines for a in src.ingest_report())
print(json.dumps({"lines": lines, "in_process": time.perf_counter() - t,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PASS_SCRIPT = """
import json, resource, sys, time
from datetime import timedelta
t = time.perf_counter()
from hunting.analysis.findings import collect, find_all
from hunting.sigma.engine import SigmaHunt, load_rules
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
src = LocalSource.from_paths([sys.argv[1]])
hosts = src.hosts()
row = hosts.loc[hosts["Computer"].str.lower() == sys.argv[2].lower()].iloc[0]
days = {"24h": 1, "3d": 3, "7d": 7}[sys.argv[3]]
tr = TimeRange(row["LastSeen"] - timedelta(days=days), row["LastSeen"])
t_open = time.perf_counter() - t
t = time.perf_counter()
data = collect(src, str(row["Computer"]), tr)
t_collect = time.perf_counter() - t
t = time.perf_counter()
result = find_all(data)
t_find = time.perf_counter() - t
hook = SigmaHunt(load_rules(), src)
t = time.perf_counter()
matched = hook(data)
t_sigma = time.perf_counter() - t
t = time.perf_counter()
hook(data)
t_again = time.perf_counter() - t
print(json.dumps({"open": t_open, "collect": t_collect, "detect": t_find, "findings": len(result.findings),
                  "sigma": t_sigma, "sigma_findings": len(matched), "sigma_again": t_again,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_open(folder: Path, cache: Path) -> dict[str, float]:
    """A fresh interpreter opens the folder: wall time from process start to source ready."""
    env = dict(os.environ, HUNTING_CACHE_DIR=str(cache))
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", OPEN_SCRIPT, str(folder)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    return {"wall": wall, **doc}


def host_lines(folder: Path, host: str) -> int:
    n = 0
    for f in (folder / host).rglob("*"):
        if f.is_file():
            with f.open("rb") as fh:
                n += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--host", default="web01")
    ap.add_argument("--range", default="7d", choices=["24h", "3d", "7d"])
    ap.add_argument("--second-range", default="24h", choices=["24h", "3d", "7d"])
    ap.add_argument("--cache", type=Path, help="parse cache folder to use (default: a new, empty one)")
    ap.add_argument(
        "--pages", default="", help="only pages whose file name contains one of these (comma-separated)"
    )
    args = ap.parse_args()

    folder = args.dir
    if folder is None or not folder.exists():
        from hunting.demo.scenario import generate

        folder = folder or Path(tempfile.mkdtemp(prefix="hunting-pages-"))
        t = time.perf_counter()
        generate(folder, scale=args.scale)
        print(f"generated scale={args.scale} in {time.perf_counter() - t:.1f} s into {folder}")
    print(f"host {args.host}: {host_lines(folder, args.host):,} lines in its folder; cores: {os.cpu_count()}")
    with contextlib.suppress(OSError):
        print(f"load average at start: {os.getloadavg()}")

    cache = args.cache or Path(tempfile.mkdtemp(prefix="hunting-pages-cache-"))
    cache.mkdir(parents=True, exist_ok=True)
    first = timed_open(folder, cache)
    again = timed_open(folder, cache)
    lines = first["lines"]
    print(f"\n{'step':<44}{'seconds':>9}   notes")
    print(
        f"{'open (process start to source ready)':<44}{first['wall']:>9.2f}   {lines:,.0f} lines, "
        f"{lines / first['wall']:,.0f} lines/s, peak RSS {first['rss_mb']:,.0f} MB"
    )
    print(
        f"{'re-open from cache (process start)':<44}{again['wall']:>9.2f}   "
        f"{again['wall'] / (lines / 1e6):.2f} s per million lines (in process {again['in_process']:.2f} s), "
        f"peak RSS {again['rss_mb']:,.0f} MB"
    )

    os.environ["HUNTING_CACHE_DIR"] = str(cache)
    os.environ["HUNTING_EVIDENCE_ROOTS"] = str(folder.resolve())  # the sidebar admits typed paths under it
    from streamlit.testing.v1 import AppTest

    state = {"source": "files", "hunt_paths": str(folder), "host": args.host, "range": args.range}
    pages = ["streamlit_app.py", *sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))]
    if args.pages:
        wanted = [w.strip() for w in args.pages.split(",") if w.strip()]
        pages = [p for p in pages if any(w in p for w in wanted)]

    def visit(page: str) -> tuple[float, list[str]]:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
        if page != "streamlit_app.py":
            at.switch_page(page)
        for k, v in state.items():
            at.session_state[k] = v
        t = time.perf_counter()
        at.run()
        dt = time.perf_counter() - t
        problems = [str(e.value)[:120] for e in at.exception] + [str(e.value)[:120] for e in at.error]
        if not at.selectbox or "range" not in [s.key for s in at.selectbox]:
            problems.append("the sidebar did not reach the time range (source not opened?)")
        return dt, problems

    # The source is opened (from the warm parse cache) by the first page run, as in the app.
    for page in pages:
        t1, err1 = visit(page)
        t2, err2 = visit(page)
        err1, err2 = err1[:2], err2[:2]
        note = f"   ERROR {err1 or err2}" if err1 or err2 else ""
        print(f"{'page ' + Path(page).stem:<44}{t1:>9.2f}   second visit {t2:.2f} s{note}")

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=600)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    t = time.perf_counter()
    at.selectbox(key="range").select(args.second_range).run()
    dt = time.perf_counter() - t
    print(f"{'sidebar change (landing, ' + args.range + ' -> ' + args.second_range + ')':<44}{dt:>9.2f}")
    t = time.perf_counter()
    at.selectbox(key="range").select(args.range).run()
    print(f"{'sidebar change back (cached)':<44}{time.perf_counter() - t:>9.2f}")
    # The app's own peak: every page twice and the sidebar change.
    print(f"{'peak RSS of the app (pages, sidebar change)':<44}{peak_mb():>9,.0f}   MB")

    # A fresh interpreter: nothing compiled or cached by the pages (risky rules, Sigma's
    # per-row answers) helps it, as for the first hunt after a server start.
    env = dict(os.environ, HUNTING_CACHE_DIR=str(cache))
    out = subprocess.run(
        [sys.executable, "-c", PASS_SCRIPT, str(folder), args.host, args.range],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{'Findings pass (collect + detections)':<44}{doc['collect'] + doc['detect']:>9.2f}   "
        f"collect {doc['collect']:.2f} s, detections {doc['detect']:.2f} s, {doc['findings']} findings "
        f"(fresh process; source open {doc['open']:.2f} s not counted)"
    )
    print(
        f"{'Sigma pass (the landing runs it too)':<44}{doc['sigma']:>9.2f}   {doc['sigma_findings']} findings"
    )
    print(f"{'Sigma pass again (rows answered before)':<44}{doc['sigma_again']:>9.2f}")
    print(f"{'peak RSS of that process':<44}{doc['rss_mb']:>9,.0f}   MB")
    with contextlib.suppress(OSError):
        print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
