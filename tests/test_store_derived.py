"""Parse once: the event tables built at ingest equal what the parsers return on the raw rows.

The store derives LogonEvents, SudoEvents, CronEvents and AccountChanges once per load
(hunting.store.Store._derive, through hunting.analysis.events.derive_event_tables) from a
program/message pre-filter built from the parsers' own constants. The reference here is
the parsers run on EVERY syslog row of the host (no pre-filter) plus the audit user
records, so a pre-filter that drops a line a parser reads makes these tests fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.audit_events import PARSER_RECORDS
from hunting.analysis.events import derive_event_tables
from hunting.schema import AUDIT, DERIVED_TABLES, SYSLOG, conform
from hunting.sources.local import LocalSource
from hunting.store import Store
from hunting.timerange import TimeRange

WIDE = TimeRange(pd.Timestamp("1970-01-02", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC"))


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    keys = df.astype("string").fillna("\0")
    return df.loc[keys.sort_values(list(keys.columns)).index].reset_index(drop=True)


def reference(store: Store, host: str) -> dict[str, pd.DataFrame]:
    """The parsers on all of the host's syslog rows (no pre-filter) and its audit user records."""
    syslog = store.query(
        "SELECT * FROM Syslog WHERE lower(coalesce(Computer, '')) = $h ORDER BY TimeGenerated, rowid",
        {"h": host},
    )
    audit = store.query(
        "SELECT * FROM AuditEvents WHERE lower(coalesce(Computer, '')) = $h "
        "AND EventType IN (SELECT unnest($t)) ORDER BY TimeGenerated, rowid",
        {"h": host, "t": list(PARSER_RECORDS)},
    )
    return derive_event_tables(conform(syslog, SYSLOG), conform(audit, AUDIT))


def assert_ingest_equals_parsers(paths: list[Path], cache: Path) -> dict[str, int]:
    store = Store()
    store.load(paths, cache=cache)
    hosts = store.query(
        "SELECT DISTINCT lower(coalesce(Computer, '')) h FROM Syslog UNION "
        "SELECT DISTINCT lower(coalesce(Computer, '')) FROM AuditEvents"
    )["h"].tolist()
    totals = dict.fromkeys((t.name for t in DERIVED_TABLES), 0)
    for host in hosts:
        want = reference(store, host)
        for table in DERIVED_TABLES:
            got = store.query(
                f"SELECT * FROM \"{table.name}\" WHERE lower(coalesce(Computer, '')) = $h", {"h": host}
            )
            got = _sorted(conform(got, table))
            exp = _sorted(conform(want[table.name], table))
            pd.testing.assert_frame_equal(got, exp, check_dtype=True, obj=f"{table.name} of {host!r}")
            totals[table.name] += len(got)
    # a re-open reuses the derived parquet (no second derivation) and gives the same rows
    again = Store()
    again.load(paths, cache=cache)
    assert again.derive_seconds == 0.0
    assert again.counts() == store.counts()
    return totals


def _wazuh_log(shared_data: Path, folder: Path) -> Path:
    """The wazuh ruleset's test lines (``log N pass|fail = LINE``) as one syslog file."""
    lines = []
    for ini in ("sshd.ini", "pam.ini", "su.ini", "sudo.ini", "syslog.ini"):
        for raw in (shared_data / "wazuh" / ini).read_text(encoding="utf-8").splitlines():
            m = re.match(r"^log \d+ (?:pass|fail) = (.*)$", raw)
            if m:
                lines.append(m[1])
    out = folder / "wazuh.log"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


REAL = {
    "loghub": ["loghub/OpenSSH_2k.log"],
    "beats-secure-rhel7": ["beats-secure-rhel7/secure-rhel7.log"],
    "plaso-syslog": ["plaso/syslog"],
    "fail2ban": ["fail2ban-auth-corpus/sshd", "fail2ban-auth-corpus/pam-generic"],
    "msticpy": ["msticpy/linux_events.csv", "msticpy/syslog_data.csv", "msticpy/sudo_events.csv",
                "msticpy/sudo_data.csv", "msticpy/sudo_session_test.csv"],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REAL))
def test_ingest_event_tables_equal_parsers_on_real_logs(name: str, shared_data: Path, tmp_path: Path) -> None:
    paths = [shared_data / p for p in REAL[name]]
    totals = assert_ingest_equals_parsers(paths, tmp_path)
    # every set holds logon, sudo or cron lines (grep sshd/sudo/CRON on the files), so an
    # empty derivation would mean the comparison compared nothing
    if name != "fail2ban":  # its files carry fail2ban's test framing; the readers give no events from them
        assert sum(totals.values()) > 0, totals


def test_ingest_event_tables_equal_parsers_on_wazuh(shared_data: Path, tmp_path: Path) -> None:
    log = _wazuh_log(shared_data, tmp_path)
    (tmp_path / "cache").mkdir()
    totals = assert_ingest_equals_parsers([log], tmp_path / "cache")
    assert totals["LogonEvents"] > 0 and totals["SudoEvents"] > 0, totals


def test_ingest_event_tables_equal_parsers_on_demo(tmp_path: Path) -> None:
    from hunting.demo.scenario import demo_log_paths

    totals = assert_ingest_equals_parsers(demo_log_paths(), tmp_path)
    assert all(totals.values()), totals


def test_lines_the_old_program_list_lost_are_derived(tmp_path: Path) -> None:
    """A ``/usr/sbin/cron`` CMD line and a ``groupmems`` line (issue 12): the hand-kept
    program list of the old pre-filter had neither, so both were lost locally."""
    log = tmp_path / "syslog"
    log.write_text(
        "Mar  3 10:00:01 web9 /usr/sbin/cron[2211]: (root) CMD (/usr/local/bin/backup.sh)\n"
        "Mar  3 10:05:00 web9 groupmems[2300]: add member bob to group docker by root\n"
        "Mar  3 10:06:00 web9 kernel: [  1.0] unrelated line\n",
        encoding="utf-8",
    )
    from hunting.readers.base import ReadOptions

    src = LocalSource.from_paths([log], ReadOptions(year=2024))
    cron = src.cron_events("web9", WIDE)
    assert cron["Command"].tolist() == ["/usr/local/bin/backup.sh"]
    assert cron["User"].tolist() == ["root"]
    accounts = src.account_changes("web9", WIDE)
    assert accounts[["Action", "User", "Group", "Actor"]].values.tolist() == [
        ["group_member_add", "bob", "docker", "root"]
    ]


def test_add_frame_rows_are_derived_before_reading(tmp_path: Path) -> None:
    """Rows added with add_frame (tests, demo) are derived too, before the next read."""
    store = Store()
    store.add_frame(
        "Syslog",
        pd.DataFrame(
            {
                "TimeGenerated": [pd.Timestamp("2024-03-03 10:00:01", tz="UTC")],
                "Computer": ["web9"],
                "ProcessName": ["sshd"],
                "ProcessID": [77],
                "SyslogMessage": ["Accepted password for alice from 203.0.113.9 port 5122 ssh2"],
            }
        ),
    )
    logons = LocalSource(store).logon_events("web9", WIDE)
    assert logons[["User", "Result", "SourceIP"]].values.tolist() == [["alice", "Success", "203.0.113.9"]]
