"""Where auth syslog and audit.log describe the same logons, each logon counts once (the demo's hosts).

No data set in ../shared/data holds both for one host (msticpy's Syslog is squid-uk-02, its
AuditLog_CL MSTICAlertsLxVM2; plaso's syslog and audit files come from different machines; the
other sets are audit-only or syslog-only), so this runs on the demo's web01 and db01, whose auth logs
and audit.log are written from one simulated history. Counts are taken in the test with grep-like
line counting of the auth logs and with auditd's own ``aureport``:
    web01: 11 'sshd[N]: Accepted' lines = aureport --login --success 11; failed passwords 407 single
           lines + 49 inside 'message repeated N times: [ Failed ...]' = 456 = aureport --auth --failed;
    db01:  5 Accepted = aureport --login --success 5.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.audit_events import audit_logons
from hunting.analysis.logons import logon_events, logon_totals
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
from tests.analysis.test_audit_events import aureport_count

_ACCEPTED = re.compile(r" sshd\[\d+\]: Accepted ")
_FAILED = re.compile(r" sshd\[\d+\]: Failed (?:password|publickey|none) ")
_REPEATED = re.compile(r" sshd\[\d+\]: message repeated (\d+) times: \[ Failed (?:password|publickey|none) ")


def _auth_lines(folder: Path) -> list[str]:
    lines: list[str] = []
    for f in sorted(folder.glob("auth.log*")):
        data = gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes()
        lines += data.decode("utf-8", "replace").splitlines()
    return lines


@pytest.fixture(scope="module")
def demo() -> tuple[Path, TimeRange]:
    from hunting.demo.scenario import demo_dir, demo_manifest

    m = demo_manifest()
    return demo_dir(), TimeRange(pd.Timestamp(m.start), pd.Timestamp(m.end) + pd.Timedelta(hours=1))


@pytest.mark.parametrize("host", ["web01", "db01"])
def test_syslog_and_audit_of_one_logon_count_once(demo: tuple[Path, TimeRange], host: str) -> None:
    root, tr = demo
    folder = root / host
    audit_log = folder / "audit" / "audit.log"
    lines = _auth_lines(folder)
    accepted = sum(1 for line in lines if _ACCEPTED.search(line))
    failed = sum(1 for line in lines if _FAILED.search(line)) + sum(
        int(m.group(1)) for line in lines if (m := _REPEATED.search(line))
    )
    assert accepted == aureport_count(audit_log, "--login", "--success") > 0
    assert failed == aureport_count(audit_log, "--auth", "--failed")

    src = LocalSource.from_paths([folder])
    merged = logon_totals(src.logon_events(host, tr))
    syslog_only = logon_totals(logon_events(src.syslog(host, tr)))
    audit_only = logon_totals(audit_logons(src.audit_events(host, tr)))
    # each side alone sees every logon; together they are the same logons, not twice as many
    assert syslog_only["success"] == audit_only["success"] == merged["success"] == accepted
    assert syslog_only["failure"] == audit_only["failure"] == merged["failure"] == failed
