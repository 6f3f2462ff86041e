"""Headless hunting: the same functions the app calls, for automation and triage boxes."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from hunting.errors import HuntingError
from hunting.readers.base import ReadOptions
from hunting.timerange import TimeRange, as_utc

# C0 and C1 controls (CSI is U+009B), DEL, line/paragraph separators and bidi overrides:
# in log text they would move the cursor, recolour or retitle the terminal, or forge rows.
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def term(text: object, keep: str = "") -> str:
    """Log text for a terminal: every control character written as a visible ``\\uXXXX``
    escape (the same escape JSON uses, so JSON output keeps its meaning), except ``keep``
    (newline and tab in a whole report). A host name holding a newline stays one row."""
    return _TERMINAL_UNSAFE.sub(
        lambda m: m.group() if m.group() in keep else f"\\u{ord(m.group()):04x}", str(text)
    )


def _add_source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", nargs="+", required=True, metavar="PATH", help="log files or folders")
    p.add_argument("--year", type=int, help="year of log lines that carry none (default: from file mtime)")
    p.add_argument("--tz", default="UTC", help="time zone of timestamps without offset (default UTC)")
    _add_host_name_arg(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _add_host_name_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host-name",
        default="",
        metavar="NAME",
        help="host of records that name none (raw audit.log); default: the syslog host of the same "
        "folder, else a name from the folder",
    )


def _options(args: argparse.Namespace) -> ReadOptions:
    try:
        return ReadOptions(year=args.year, tz=args.tz, host_name=args.host_name or "")
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError
        raise HuntingError(f"bad --year/--tz/--host-name: {exc}") from exc


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
            f"{term(row.Computer)}\t{row.FirstSeen:%Y-%m-%d %H:%M:%S} – {row.LastSeen:%Y-%m-%d %H:%M:%S} UTC\t"
            f"syslog={row.SyslogRows} audit={row.AuditRows} alerts={row.AlertRows} "
            f"heartbeat={row.HeartbeatRows} flows={row.FlowRows}"
        )
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from hunting.store import Store

    accounts = Store().load(args.source, _options(args))  # names the hosts of records that name none
    if args.json:
        print(json.dumps([a.to_dict() for a in accounts], indent=1))
        return 0
    total = [0, 0, 0]
    for a in accounts:
        total = [total[0] + a.lines, total[1] + a.parsed, total[2] + a.unparsed]
        note = f"  ! {term(a.error)}" if a.error else ""
        print(
            f"{term(a.path)}\t{term(a.format)}\tlines={a.lines} parsed={a.parsed} unparsed={a.unparsed}{note}"
        )
        if a.host_rule:
            print(f"    host {term(repr(a.host))}: {term(a.host_rule)}")
        for text in a.notes:
            print(f"    note: {term(text)}")
        for reason, n in a.reasons.most_common():
            print(f"    {n:>8}  {term(reason)}")
    print(f"TOTAL\t{len(accounts)} files\tlines={total[0]} parsed={total[1]} unparsed={total[2]}")
    return 0


def _when(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        return as_utc(text)
    except (ValueError, TypeError) as exc:
        raise HuntingError(
            f"bad {flag} {text!r}: give an ISO 8601 time such as 2026-03-12T03:00:00Z ({exc})"
        ) from None


def cmd_report(args: argparse.Namespace) -> int:
    """Run the whole hunt on one host headless and write the report (exit 0 with or without findings)."""
    from hunting.report.build import build_report, host_span, resolve_host
    from hunting.report.render import render
    from hunting.sources.local import LocalSource

    start, end = _when(args.start, "--start"), _when(args.end, "--end")
    options = _options(args)
    src = LocalSource.from_paths(args.source, options)
    accounts = src.ingest_report()
    broken = [a for a in accounts if a.error]
    for a in broken:
        print(f"warning: {term(a.path)}: {term(a.error)}", file=sys.stderr)
    if not accounts or len(broken) == len(accounts):
        raise HuntingError("no readable log files in " + ", ".join(args.source))
    row = resolve_host(src, args.host)
    span = host_span(row)
    try:
        tr = TimeRange(start or span.start, end or span.end)
    except ValueError as exc:
        raise HuntingError(f"bad time range: {exc}") from None
    sigma = None
    if not args.no_sigma:
        from hunting.sigma.rules import load_rules, rule_dirs

        sigma = load_rules(rule_dirs(args.sigma or ()))
        for s in sigma.skipped:
            if s.reason == "rule folder not found" or s.reason.startswith("not a Sigma rule"):
                print(f"warning: Sigma: {term(s.path)}: {term(s.reason)}", file=sys.stderr)
    text = render(build_report(src, str(row["Computer"]), tr, sigma=sigma), args.format)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise HuntingError(f"cannot write {args.output}: {exc}") from None
    else:
        sys.stdout.write(term(text, keep="\n\t"))
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
    p = sub.add_parser(
        "report", help="hunt one host and write the investigation report (JSON, HTML, Markdown)"
    )
    p.add_argument("--source", nargs="+", required=True, metavar="PATH", help="log files or folders")
    p.add_argument("--host", required=True, help="host to report on (case-insensitive)")
    p.add_argument("--start", help="ISO 8601 start (default: the host's first event; naive times are UTC)")
    p.add_argument("--end", help="ISO 8601 end (default: just after the host's last event)")
    p.add_argument("--format", choices=["json", "html", "md"], default="json")
    p.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    p.add_argument("--year", type=int, help="year of log lines that carry none (default: from file mtime)")
    p.add_argument("--tz", default="UTC", help="time zone of timestamps without offset (default UTC)")
    p.add_argument(
        "--sigma",
        action="append",
        metavar="DIR",
        help="a folder (or file) of your own Sigma rules, besides the shipped SigmaHQ snapshot and "
        "HUNTING_SIGMA_DIRS (repeatable)",
    )
    p.add_argument("--no-sigma", action="store_true", help="do not run Sigma rules")
    _add_host_name_arg(p)
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("demo", help="write the demo scenario's log files to a folder")
    p.add_argument("out", help="output folder")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--answers", action="store_true", help="also print the answer key (spoils the hunt)")
    p.set_defaults(func=cmd_demo)
    return parser


def cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hunting.demo.scenario import generate

    manifest = generate(Path(args.out), scale=args.scale)
    print(json.dumps(manifest.to_dict(), indent=1, default=str) if args.answers else manifest.summary())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except HuntingError as exc:
        print(f"error: {term(exc)}", file=sys.stderr)
        return 2
