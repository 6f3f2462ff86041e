"""Time of the audit-derived event tables on a brute-forced host (logs are large).

Run: PYTHONPATH=. .venv/bin/python bench/audit_events.py [ATTEMPTS]

Builds an audit.log of ATTEMPTS (default 100,000) failed sshd passwords, each a USER_AUTH
and a USER_LOGIN record of one process (3 attempts per process, as sshd's MaxAuthTries
allows), shaped as OpenSSH writes them, plus the matching syslog "Failed password" lines;
prints seconds for: parsing the audit log, audit_logons, and derive_event_tables with
both sides (the merge).
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from hunting.analysis.audit_events import audit_logons
from hunting.analysis.events import derive_event_tables
from hunting.readers.auditd import parse_audit
from hunting.readers.base import ReadOptions
from hunting.schema import SYSLOG, conform

START = 1_700_000_000


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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data, syslog = _audit_log(n), _syslog(n)
    t0 = time.perf_counter()
    audit = parse_audit(data, "bench.log", 0.0, ReadOptions(), host="h").tables["AuditEvents"]
    t1 = time.perf_counter()
    logons = audit_logons(audit)
    t2 = time.perf_counter()
    merged = derive_event_tables(syslog, audit)["LogonEvents"]
    t3 = time.perf_counter()
    print(f"{n:,} attempts, {len(audit):,} audit events")
    print(f"parse audit.log        {t1 - t0:7.2f} s")
    print(f"audit_logons           {t2 - t1:7.2f} s  ({(logons['Result'] == 'Failure').sum():,} failures)")
    print(
        f"derive_event_tables    {t3 - t2:7.2f} s  ({(merged['Result'] == 'Failure').sum():,} failures after merge)"
    )


if __name__ == "__main__":
    main()
