"""Derivation speed of the syslog message parsers (logons, sudo, cron, accounts) on one host.

Run: .venv/bin/python bench/message_forms.py DIR [--host web01] [--repeat 3] [--root ROOT]
DIR is a generated scenario (``python -m hunting.demo.scenario DIR --scale 10``). Loads
the host's files once, takes the rows the store's pre-filter admits (what the ingest
derivation reads), then times each parser (best of --repeat) and their sum. --root runs
another checkout of the code (e.g. ``git archive HEAD~1 hunting | tar -x -C /tmp/old``)
on the same rows, for before/after figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--host", default="web01")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = ap.parse_args()
    sys.path.insert(0, str(args.root))
    from hunting.analysis.accounts import account_changes
    from hunting.analysis.cron import cron_events
    from hunting.analysis.logons import logon_events
    from hunting.analysis.sudo import sudo_events
    from hunting.queries import sql
    from hunting.schema import SYSLOG, conform
    from hunting.store import Store, parser_prefilter

    store = Store()
    with tempfile.TemporaryDirectory() as cache:
        store.load([args.dir / args.host], cache=Path(cache))
    pre = parser_prefilter()
    text, params = sql("syslog_for_parsers", host=args.host, processes=pre["processes"], marks=pre["marks"])
    rows = conform(store.query(text, params), SYSLOG)
    total_rows = store.counts()["Syslog"]
    print(f"code: {args.root}  host {args.host}: {total_rows} syslog rows, {len(rows)} after the pre-filter")
    total = 0.0
    for fn in (logon_events, sudo_events, cron_events, account_changes):
        best = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = fn(rows)
            best = min(best, time.perf_counter() - t)
        total += best
        print(f"{fn.__name__:16s} {best:7.3f} s  {len(out):7d} rows")
    print(f"{'all four':16s} {total:7.3f} s  ({len(rows) / total:,.0f} pre-filtered rows/s)")


if __name__ == "__main__":
    main()
