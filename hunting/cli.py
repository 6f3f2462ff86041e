"""Headless hunting: the same functions the app calls, for automation and triage boxes."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from hunting.errors import HuntingError
from hunting.readers.base import ReadOptions


def _add_source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", nargs="+", required=True, metavar="PATH", help="log files or folders")
    p.add_argument("--year", type=int, help="year of log lines that carry none (default: from file mtime)")
    p.add_argument("--tz", default="UTC", help="time zone of timestamps without offset (default UTC)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _options(args: argparse.Namespace) -> ReadOptions:
    try:
        return ReadOptions(year=args.year, tz=args.tz)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError
        raise HuntingError(f"bad --year/--tz: {exc}") from exc


def cmd_hosts(args: argparse.Namespace) -> int:
    from hunting.sources.local import LocalSource

    src = LocalSource.from_paths(args.source, _options(args))
    hosts = src.hosts(args.contains or "")
    if args.json:
        print(hosts.to_json(orient="records", date_format="iso"))
        return 0
    if hosts.empty:
        print("no hosts found")
        return 0
    for row in hosts.itertuples(index=False):
        print(
            f"{row.Computer}\t{row.FirstSeen:%Y-%m-%d %H:%M:%S} – {row.LastSeen:%Y-%m-%d %H:%M:%S} UTC\t"
            f"syslog={row.SyslogRows} audit={row.AuditRows} alerts={row.AlertRows} "
            f"heartbeat={row.HeartbeatRows} flows={row.FlowRows}"
        )
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from hunting.readers import read_paths

    _, accounts = read_paths(args.source, _options(args))
    if args.json:
        print(json.dumps([a.to_dict() for a in accounts], indent=1))
        return 0
    total = [0, 0, 0]
    for a in accounts:
        total = [total[0] + a.lines, total[1] + a.parsed, total[2] + a.unparsed]
        note = f"  ! {a.error}" if a.error else ""
        print(f"{a.path}\t{a.format}\tlines={a.lines} parsed={a.parsed} unparsed={a.unparsed}{note}")
        for reason, n in a.reasons.most_common():
            print(f"    {n:>8}  {reason}")
    print(f"TOTAL\t{len(accounts)} files\tlines={total[0]} parsed={total[1]} unparsed={total[2]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hunting", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("hosts", help="list hosts with their time span and row counts")
    _add_source_args(p)
    p.add_argument("--contains", help="only hosts whose name contains this (case-insensitive)")
    p.set_defaults(func=cmd_hosts)
    p = sub.add_parser("ingest", help="print the ingestion accounting per file")
    _add_source_args(p)
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("demo", help="write the demo scenario's log files to a folder")
    p.add_argument("out", help="output folder")
    p.add_argument("--scale", type=float, default=1.0)
    p.set_defaults(func=cmd_demo)
    return parser


def cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hunting.demo.scenario import generate

    manifest = generate(Path(args.out), scale=args.scale)
    print(json.dumps(manifest.to_dict(), indent=1, default=str))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except HuntingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
