"""Re-opening a cached source reads one read-only DuckDB snapshot (hunting.store) with the
same rows as the first open, and a store that must take more rows copies it to memory first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from hunting.store import Store

# loghub's OpenSSH_2k.log: 2,000 lines, all parsed as Syslog rows (`grep -c '' OpenSSH_2k.log` = 2000);
# `grep -c "Failed password"` = 520 and `grep -c "Accepted password"` = 1.
LOG = "loghub/OpenSSH_2k.log"


def _copy(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    shutil.copy(shared_data / LOG, folder / "auth.log")
    return folder


def test_reopen_reads_the_snapshot_with_the_same_rows(shared_data: Path, tmp_path: Path) -> None:
    folder, cache = _copy(shared_data, tmp_path), tmp_path / "cache"
    cache.mkdir()
    first = Store()
    first.load([folder], cache=cache)
    assert first.snapshot is not None and not first.snapshot_reused  # built on the first open
    assert first.counts()["Syslog"] == 2000

    again = Store()
    again.load([folder], cache=cache)
    assert again.snapshot_reused and again.snapshot == first.snapshot
    assert again.derive_seconds == 0.0  # nothing parsed, inserted or derived again
    assert again.counts() == first.counts()
    q = "SELECT * FROM LogonEvents ORDER BY TimeGenerated, rowid"
    pd.testing.assert_frame_equal(again.query(q), first.query(q))
    failed = again.query("SELECT count(*) n FROM Syslog WHERE contains(SyslogMessage, 'Failed password')")
    assert int(failed["n"].iloc[0]) == 520


def test_adding_rows_to_a_snapshot_store_copies_it_to_memory(shared_data: Path, tmp_path: Path) -> None:
    folder, cache = _copy(shared_data, tmp_path), tmp_path / "cache"
    cache.mkdir()
    Store().load([folder], cache=cache)
    store = Store()
    store.load([folder], cache=cache)
    assert store.snapshot_reused
    row = store.query("SELECT * FROM Syslog LIMIT 1")
    store.add_frame(
        "Syslog", row.assign(TimeGenerated=pd.to_datetime(row["TimeGenerated"]).dt.tz_localize("UTC"))
    )
    assert store.snapshot is None  # now in memory, the file on disk untouched
    assert store.counts()["Syslog"] == 2001
    other = Store()
    other.load([folder], cache=cache)
    assert other.snapshot_reused and other.counts()["Syslog"] == 2000
