"""Time of the audit-derived event tables on a brute-forced host (logs are large), before and after.

Run: PYTHONPATH=. .venv/bin/python bench/audit_events.py [ATTEMPTS] [BEFORE_COMMIT]

Builds an audit.log of ATTEMPTS (default 100,000) failed sshd passwords, each a USER_AUTH
and a USER_LOGIN record of one process (3 attempts per process, as sshd's MaxAuthTries
allows), shaped as OpenSSH writes them, plus one sudo command (USER_ACCT, USER_CMD,
USER_START, USER_END) per 20 attempts, and the matching syslog "Failed password" lines.
Prints seconds for parsing, each audit_* function now and, when git can show it, the same
function as it was at BEFORE_COMMIT (default 6bdb0b9, before the vectorising), and checks
both give identical frames; then derive_event_tables with both sides (the merge).
Measured 2026-12-05 on the shared 2-core box (load ~7), 34,000 attempts / 75k records:
audit_logons 3.4 s before → 1.0 s after; unloaded runs are about a third of that.
"""

from __future__ import annotations

import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from hunting.analysis import audit_events
from hunting.analysis.events import derive_event_tables
from hunting.readers.auditd import parse_audit
from hunting.readers.base import ReadOptions
from hunting.schema import SYSLOG, conform

START = 1_700_000_000
FUNCTIONS = ("audit_logons", "audit_sudo", "audit_sessions", "audit_account_changes")


def _audit_log(n: int) -> bytes:
    lines = []
    for i in range(n):
        pid, t, ip = 10_000 + i // 3, START + i * 2, f"203.0.113.{i % 250}"
        for k, (rtype, op) in enumerate((("USER_AUTH", "PAM:authentication"), ("USER_LOGIN", "login"))):
            lines.append(
                f"type={rtype} msg=audit({t}.{100 + k:03d}:{2 * i + k}): pid={pid} uid=0 auid=4294967295 "
                f'ses=4294967295 msg=\'op={op} acct="root" exe="/usr/sbin/sshd" hostname=? addr={ip} '
                "terminal=ssh res=failed'"
            )
        if i % 20 == 0:  # sudo's records as sudo 1.8 writes them (cmd= hex-encoded when it holds spaces)
            spid, base = 900_000 + i, 10_000_000 + 4 * i
            common = f"pid={spid} uid=1000 auid=1000 ses=3"
            lines += [
                f'type=USER_ACCT msg=audit({t}.500:{base}): {common} msg=\'op=PAM:accounting acct="admin" '
                'exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/0 res=success\'',
                f'type=USER_CMD msg=audit({t}.501:{base + 1}): {common} msg=\'cwd="/home/admin" '
                "cmd=6C73202D6C61202F726F6F74 terminal=pts/0 res=success'",
                f"type=USER_START msg=audit({t}.502:{base + 2}): {common} msg='op=PAM:session_open "
                'acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/0 res=success\'',
                f"type=USER_END msg=audit({t}.503:{base + 3}): {common} msg='op=PAM:session_close "
                'acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/0 res=success\'',
            ]
    return ("\n".join(lines) + "\n").encode()


def _syslog(n: int) -> pd.DataFrame:
    idx = range(n)
    return conform(
        pd.DataFrame(
            {
                "TimeGenerated": pd.to_datetime([START + i * 2 for i in idx], unit="s", utc=True),
                "Computer": "h",
                "Facility": "auth",
                "ProcessName": "sshd",
                "ProcessID": [10_000 + i // 3 for i in idx],
                "SyslogMessage": [
                    f"Failed password for root from 203.0.113.{i % 250} port 4{i % 9999} ssh2" for i in idx
                ],
            }
        ),
        SYSLOG,
    )


def _before(commit: str) -> types.ModuleType | None:
    """The module as it was at ``commit`` (git show), or None outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    shown = subprocess.run(
        ["git", "-C", str(root), "show", f"{commit}:hunting/analysis/audit_events.py"],
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        return None
    module = types.ModuleType("audit_events_before")
    exec(compile(shown.stdout, f"{commit}:audit_events.py", "exec"), module.__dict__)
    return module


def _timed(fn: Callable[[pd.DataFrame], pd.DataFrame], audit: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    t = time.perf_counter()
    out = fn(audit)
    return time.perf_counter() - t, out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    before = _before(sys.argv[2] if len(sys.argv) > 2 else "6bdb0b9")
    data, syslog = _audit_log(n), _syslog(n)
    t0 = time.perf_counter()
    audit = parse_audit(data, "bench.log", 0.0, ReadOptions(), host="h").tables["AuditEvents"]
    print(f"{n:,} attempts, {len(audit):,} audit events")
    print(f"parse audit.log          {time.perf_counter() - t0:7.2f} s")
    for name in FUNCTIONS:
        after, rows = _timed(getattr(audit_events, name), audit)
        line = f"{name:24} {after:7.2f} s  ({len(rows):,} rows; {after / len(audit) * 100_000:.2f} s per 100k records)"
        if before is not None:
            was, old_rows = _timed(getattr(before, name), audit)
            pd.testing.assert_frame_equal(old_rows.reset_index(drop=True), rows.reset_index(drop=True))
            line += f"  before {was:.2f} s, identical"
        print(line)
    t2 = time.perf_counter()
    merged = derive_event_tables(syslog, audit)["LogonEvents"]
    t3 = time.perf_counter()
    print(
        f"derive_event_tables      {t3 - t2:7.2f} s  ({(merged['Result'] == 'Failure').sum():,} failures after merge)"
    )


if __name__ == "__main__":
    main()
