"""The built-in demo: a compromised web server among benign hosts, as real log files.

``generate`` writes what an investigator would collect (rotated auth.log, syslog,
audit.log, passwd, Sentinel exports, a TI feed) and returns a ``Manifest`` with
the ground truth, so tests and pages never hard-code the story's values.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from hunting.demo import exports
from hunting.demo import intrusion as ix
from hunting.demo.background import schedule_background
from hunting.demo.host import Host, Sim
from hunting.demo.world import DAY, END, START, WEB_PASSWD, make_hosts
from hunting.demo.writers import (
    AUTH_FACILITIES,
    Entry,
    bsd_lines,
    iso_lines,
    rfc5424_lines,
    write_lines,
)

DEMO_VERSION = 1
AUDIT_FIRST_SERIAL = {"web01": 1_184_233, "db01": 88_412}
AUDIT_INTERLEAVE = 0.05  # share of close multi-record events whose records the next event splits


@dataclass(frozen=True)
class FileInfo:
    """One written file: ``lines`` are physical lines (decompressed), ``records`` rows or events."""

    path: str  # relative to the scenario folder, "/" separated
    host: str
    kind: str  # auth_bsd, auth_iso, syslog_5424, syslog_iso, syslog_bsd, audit_raw, audit_enriched, passwd, sentinel_*, ti
    lines: int
    records: int


@dataclass(frozen=True)
class Manifest:
    """What ``generate`` wrote and what really happened (JSON-serialisable via ``to_dict``)."""

    root: str
    seed: int
    scale: float
    start: str
    end: str
    hosts: tuple[str, ...]
    files: tuple[FileInfo, ...]
    truth: Mapping[str, Any] = field(default_factory=dict)

    def file(self, path: str) -> FileInfo:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    def lines_of(self, host: str) -> int:
        return sum(f.lines for f in self.files if f.host == host)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hosts"] = list(self.hosts)
        d["truth"] = json.loads(json.dumps(dict(self.truth)))
        return d

    def summary(self) -> str:
        """What ``python -m hunting demo`` prints: where the files are and what to point the app
        at, never the answer key (it spoils the hunt and holds a 9 KB payload)."""
        per_host: dict[str, list[FileInfo]] = {}
        for f in self.files:
            per_host.setdefault(f.host or "(exports)", []).append(f)
        lines = [
            f"Demo written to {self.root}: {len(self.files)} files, {sum(f.lines for f in self.files):,} lines, "
            f"{self.start} – {self.end} (seed {self.seed}, scale {self.scale:g}).",
        ]
        for host, files in per_host.items():
            kinds = ", ".join(sorted({f.kind for f in files}))
            lines.append(f"  {host}: {len(files)} file(s), {sum(f.lines for f in files):,} lines ({kinds})")
        feeds = [f.path for f in self.files if f.kind == "ti"]
        logs = sorted({f.path.split("/", 1)[0] for f in self.files if f.kind != "ti"})
        lines.append(
            f"Logs: point the app or `hunting report --source` at {', '.join(logs)} under {self.root}."
        )
        if feeds:
            lines.append(f"Threat-intel feed (not a log): {', '.join(feeds)}.")
        lines.append("The answer key is not printed: add --answers to print it as JSON.")
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Manifest:
        return cls(
            root=d["root"],
            seed=int(d["seed"]),
            scale=float(d["scale"]),
            start=d["start"],
            end=d["end"],
            hosts=tuple(d["hosts"]),
            files=tuple(FileInfo(**f) for f in d["files"]),
            truth=d["truth"],
        )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _split(entries: Iterable[Entry]) -> tuple[list[Entry], list[Entry]]:
    """rsyslog's Ubuntu/Debian rules: auth,authpriv.* -> auth.log; everything else -> syslog."""
    auth: list[Entry] = []
    other: list[Entry] = []
    for e in entries:
        (auth if e[1] in AUTH_FACILITIES else other).append(e)
    return auth, other


def _between(entries: list[Entry], lo: float, hi: float) -> Iterator[Entry]:
    return (e for e in entries if lo <= e[0] < hi)


def generate(out_dir: Path, *, scale: float = 1.0, seed: int = 7) -> Manifest:
    """Write the scenario into ``out_dir`` (created if needed); same seed and scale, same bytes."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    hosts = make_hosts(seed)
    truth = ix.Truth()
    for name, host in hosts.items():
        sim = Sim()
        schedule_background(sim, host, scale, seed)
        if name == "web01":
            truth = ix.schedule_intrusion(sim, host, seed)
        sim.run()
        host.entries.sort(key=itemgetter(0))
    files: list[FileInfo] = []
    files += _write_web(out_dir, hosts["web01"], seed)
    files += _write_db(out_dir, hosts["db01"], seed)
    files += _write_app(out_dir, hosts["app02"])
    files += _write_exports(out_dir, hosts, truth, seed)
    return Manifest(
        root=str(out_dir),
        seed=seed,
        scale=scale,
        start=_iso(START),
        end=_iso(END),
        hosts=tuple(hosts),
        files=tuple(files),
        truth=_truth_dict(truth, hosts["web01"], seed),
    )


def _write_web(out: Path, host: Host, seed: int) -> list[FileInfo]:
    auth, other = _split(host.entries)
    midnight = (START // DAY + 1) * DAY  # 2026-03-10T00:00Z; logrotate runs daily just after midnight
    cut1, cut2 = midnight + 1.9, midnight + DAY + 1.9
    name = host.hostname
    files = [
        _info(out, "web01/auth.log.2.gz", "web01", "auth_bsd",
              write_lines(out / "web01/auth.log.2.gz", bsd_lines(_between(auth, START, cut1), name),
                          mtime=cut2 + 0.5, compress=True)),
        _info(out, "web01/auth.log.1", "web01", "auth_bsd",
              write_lines(out / "web01/auth.log.1", bsd_lines(_between(auth, cut1, cut2), name), mtime=cut2)),
        _info(out, "web01/auth.log", "web01", "auth_bsd",
              write_lines(out / "web01/auth.log", bsd_lines(_between(auth, cut2, END + 1), name), mtime=END)),
        _info(out, "web01/syslog", "web01", "syslog_5424",
              write_lines(out / "web01/syslog", rfc5424_lines(other, name), mtime=END)),
    ]  # fmt: skip
    files.append(_write_audit(out, host, "web01/audit/audit.log", "audit_raw", seed))
    passwd = out / "web01/etc/passwd"
    files.append(
        _info(
            out,
            "web01/etc/passwd",
            "web01",
            "passwd",
            write_lines(passwd, WEB_PASSWD.splitlines(True), mtime=END),
        )
    )
    return files


def _write_db(out: Path, host: Host, seed: int) -> list[FileInfo]:
    auth, other = _split(host.entries)
    return [
        _info(
            out,
            "db01/auth.log",
            "db01",
            "auth_iso",
            write_lines(out / "db01/auth.log", iso_lines(auth, "db01"), mtime=END),
        ),
        _info(
            out,
            "db01/syslog",
            "db01",
            "syslog_iso",
            write_lines(out / "db01/syslog", iso_lines(other, "db01"), mtime=END),
        ),
        _write_audit(out, host, "db01/audit/audit.log", "audit_enriched", seed),
    ]


def _write_app(out: Path, host: Host) -> list[FileInfo]:
    auth, other = _split(host.entries)
    name = host.hostname
    return [
        _info(
            out,
            "app02/auth.log",
            "app02",
            "auth_bsd",
            write_lines(out / "app02/auth.log", bsd_lines(auth, name), mtime=END),
        ),
        _info(
            out,
            "app02/syslog",
            "app02",
            "syslog_bsd",
            write_lines(out / "app02/syslog", bsd_lines(other, name), mtime=END),
        ),
    ]


def _write_audit(out: Path, host: Host, rel: str, kind: str, seed: int) -> FileInfo:
    assert host.audit is not None
    rng = random.Random(f"{seed}:{host.name}:interleave")
    lines = host.audit.ordered(AUDIT_FIRST_SERIAL[host.name], rng, AUDIT_INTERLEAVE)
    n = write_lines(out / rel, lines, mtime=END)
    return FileInfo(rel, host.name, kind, n, len(host.audit.events))


def _info(out: Path, rel: str, host: str, kind: str, lines: int) -> FileInfo:
    del out
    return FileInfo(rel, host, kind, lines, lines)


def _write_exports(out: Path, hosts: dict[str, Host], truth: ix.Truth, seed: int) -> list[FileInfo]:
    result = []
    for rel, kind, (records, lines) in (
        ("sentinel/SecurityAlert.csv", "sentinel_alerts", exports.alerts(out / "sentinel/SecurityAlert.csv", truth, seed)),
        ("sentinel/Heartbeat.csv", "sentinel_heartbeat", exports.heartbeat(out / "sentinel/Heartbeat.csv", hosts)),
        ("sentinel/AzureNetworkAnalytics_CL.csv", "sentinel_flows",
         exports.flows(out / "sentinel/AzureNetworkAnalytics_CL.csv", hosts, truth, seed)),
        ("ti/demo_feed.csv", "ti", exports.ti_feed(out / "ti/demo_feed.csv", seed)),
    ):  # fmt: skip
        os.utime(out / rel, (END, END))
        result.append(FileInfo(rel, "web01" if kind == "sentinel_alerts" else "", kind, lines, records))
    return result


def _truth_dict(truth: ix.Truth, web: Host, seed: int) -> dict[str, Any]:
    return {
        "host": "web01",
        "attacker_ips": {"brute_force": ix.BRUTE_IP, "c2": ix.C2_IP},
        "compromised_user": ix.COMPROMISED_USER,
        "compromised_uid": web.uid(ix.COMPROMISED_USER),
        "new_account": ix.NEW_USER,
        "new_uid": web.uid(ix.NEW_USER),
        "logon_session": truth.logon_session,
        "domain": ix.DOMAIN,
        "cron_host": ix.CRON_HOST,
        "download_url": ix.DOWNLOAD_URL,
        "cron_url": ix.CRON_URL,
        "cron_command": ix.CRON_COMMAND,
        "tool_path": ix.TOOL_PATH,
        "tool_sha256": ix.tool_sha256(seed),
        "reverse_shell": {"ip": ix.C2_IP, "port": ix.REVERSE_PORT, "command": ix.REVERSE_COMMAND},
        "ssh_key": ix.ATTACKER_KEY,
        "base64_payload": ix.stager_b64(),
        "decoded_payload": ix.stager_script(),
        "brute_force_attempts": truth.brute_force_attempts,
        "malicious_cron_runs": truth.malicious_cron_runs,
        "steps": dict(truth.steps),
        "pids": dict(truth.pids),
        "pid_wrap": _iso(web.pids.wrapped_at) if web.pids.wrapped_at else None,
    }


def _cache_root() -> Path:
    base = os.environ.get("HUNTING_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "linux-hunting-cache")
    return Path(base)


def manifest_path(folder: Path) -> Path:
    """The manifest sits beside the data, so readers walking the folder never ingest it."""
    return folder.with_name(folder.name + ".manifest.json")


def demo_dir() -> Path:
    """The app's demo data, generated once per cache folder; safe against concurrent callers.

    The folder is built under a temporary name and renamed into place, so nobody
    ever sees a half-written demo.
    """
    root = _cache_root()
    final = root / f"demo-v{DEMO_VERSION}"
    if final.is_dir() and manifest_path(final).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".demo-v{DEMO_VERSION}-"))
    try:
        manifest = generate(tmp)
        doc = manifest.to_dict()
        doc["root"] = str(final)
        mtmp = root / f".{final.name}.manifest.{os.getpid()}.json"
        mtmp.write_text(json.dumps(doc, indent=1))
        os.replace(mtmp, manifest_path(final))
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def demo_log_paths() -> list[Path]:
    """What a responder would collect from the demo's hosts: everything but the TI feed."""
    return sorted(p for p in demo_dir().iterdir() if p.name != "ti")


def demo_feed_path() -> Path:
    """The demo's threat-intel feed (CSV), used as the default local TI provider."""
    return demo_dir() / "ti" / "demo_feed.csv"


def demo_manifest() -> Manifest:
    """The ground truth of the cached demo (generating it first if needed)."""
    folder = demo_dir()
    return Manifest.from_dict(json.loads(manifest_path(folder).read_text()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hunting.demo.scenario", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    manifest = generate(args.out_dir, scale=args.scale, seed=args.seed)
    summary = {f.path: f.lines for f in manifest.files}
    sys.stdout.write(json.dumps({"root": manifest.root, "lines": summary}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
