"""Ingestion throughput: syslog lines/s and audit records/s, end to end (read, parse, store).

Run: .venv/bin/python bench/ingest.py [--scale 60] [--out DIR]
Generates the demo scenario at a scale giving ≥1M syslog lines, then times each stage.
Targets on a 2-core machine: ≥500,000 syslog lines/s and ≥100,000 audit records/s.

Or: .venv/bin/python bench/ingest.py --open DIR [--repeat 3]
Only the open of bench/pages.py (a fresh interpreter opens DIR as the app does, with an
empty parse cache: process start to source ready), repeated; prints the load average.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hunting.demo.scenario import generate
from hunting.readers import iter_files, read_file
from hunting.readers.base import ReadOptions
from hunting.store import Store


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_opens(folder: Path, repeat: int) -> None:
    """bench/pages.py's open step alone, each run with a new empty parse cache."""
    spec = importlib.util.spec_from_file_location("bench_pages", Path(__file__).with_name("pages.py"))
    assert spec and spec.loader
    pages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pages)
    for _ in range(repeat):
        load = os.getloadavg()
        with tempfile.TemporaryDirectory() as cache:
            got = pages.timed_open(folder, Path(cache))
        print(
            f"open {folder}: {got['wall']:.2f} s, {got['lines']:,} lines, {got['lines'] / got['wall']:,.0f} lines/s, "
            f"peak RSS {got['rss_mb']:,.0f} MB; load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=60.0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--open", type=Path, metavar="DIR", help="only time opening DIR (see above)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if args.open:
        time_opens(args.open, args.repeat)
        return
    out = args.out or Path(tempfile.mkdtemp(prefix="hunting-bench-"))
    t0 = time.perf_counter()
    generate(out, scale=args.scale)
    print(f"generated scale={args.scale} in {time.perf_counter() - t0:.1f} s into {out}")

    groups: dict[str, list[Path]] = {}
    by_format: dict[str, list[float]] = {}
    for f in iter_files([out]):
        t = time.perf_counter()
        r = read_file(f, ReadOptions())
        dt = time.perf_counter() - t
        fam = r.account.format.split(":")[0]
        groups.setdefault(fam, []).append(f)
        agg = by_format.setdefault(fam, [0.0, 0.0])
        agg[0] += r.account.lines
        agg[1] += dt
    print(f"{'format':<24}{'lines':>12}{'seconds':>10}{'lines/s':>14}   (read + parse)")
    for fam, (lines, secs) in sorted(by_format.items()):
        print(f"{fam:<24}{int(lines):>12,}{secs:>10.2f}{lines / max(secs, 1e-9):>14,.0f}")

    print(
        f"\n{'end to end':<24}{'lines':>12}{'seconds':>10}{'lines/s':>14}   (read, parse, parquet cache, DuckDB)"
    )
    for fam in ("syslog", "auditd"):
        with tempfile.TemporaryDirectory() as cache:
            store = Store()
            t = time.perf_counter()
            accounts = store.load(groups.get(fam, []), cache=Path(cache))
            cold = time.perf_counter() - t
            lines = sum(a.lines for a in accounts)
            t = time.perf_counter()
            Store().load(groups.get(fam, []), cache=Path(cache))
            warm = time.perf_counter() - t
        print(
            f"{fam:<24}{lines:>12,}{cold:>10.2f}{lines / max(cold, 1e-9):>14,.0f}   reopen from cache: {warm:.2f} s"
        )
    print(f"peak RSS: {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
