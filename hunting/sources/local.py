"""The embedded default: log files and Sentinel exports in a local DuckDB store."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from hunting.errors import QueryError, SourceUnavailable
from hunting.queries import sql
from hunting.readers import ProgressFn
from hunting.readers.base import FileAccount, ReadOptions
from hunting.schema import (
    ACCOUNTS,
    ALERTS,
    AUDIT,
    CRON,
    FLOWS,
    HEARTBEAT,
    HOST_USERS,
    LOGONS,
    SUDO,
    SYSLOG,
    Table,
    conform,
)
from hunting.sources.base import HOSTS_COLUMNS, VOLUME_COLUMNS, VolumeKey
from hunting.store import Store
from hunting.timerange import TimeRange

MAX_ROWS = 5_000_000
VOLUME_KEYS = ("Facility", "SeverityLevel", "ProcessName")
# What every pam session line holds (hunting.analysis.sessions._SESSION_RE reads only such lines).
SESSION_MARKS = ("session opened for user", "session closed for user")


class LocalSource:
    """Hunting over files the analyst has (or the built-in demo)."""

    def __init__(self, store: Store, name: str = "local files") -> None:
        self.store = store
        self.name = name

    @classmethod
    def from_paths(
        cls,
        paths: Iterable[str | Path],
        options: ReadOptions | None = None,
        *,
        name: str = "local files",
        progress: ProgressFn | None = None,
    ) -> LocalSource:
        paths = list(paths)
        missing = [str(p) for p in paths if not Path(p).exists()]
        if missing:
            raise SourceUnavailable(f"path not found: {', '.join(missing)}")
        store = Store()
        store.load(paths, options, progress=progress)
        return cls(store, name)

    def tables(self) -> set[str]:
        counts = self.store.counts()
        present = {name for name, n in counts.items() if n}
        if SYSLOG.name in present:
            present |= {LOGONS.name, SUDO.name, CRON.name, ACCOUNTS.name}
        if AUDIT.name in present:  # audit user records give logons, sudo and account changes too
            present |= {LOGONS.name, SUDO.name, ACCOUNTS.name}
        return present

    def hosts(self, contains: str = "", tr: TimeRange | None = None) -> pd.DataFrame:
        text, params = sql(
            "hosts", contains=contains or "", start=tr.start if tr else None, end=tr.end if tr else None
        )
        df = self.store.query(text, params)
        for col in ("FirstSeen", "LastSeen"):
            df[col] = pd.to_datetime(df[col]).dt.tz_localize("UTC")
        return df[HOSTS_COLUMNS]

    def _rows(self, table: Table, host: str, tr: TimeRange, limit: int | None = None) -> pd.DataFrame:
        text, params = sql(
            "table_rows", identifiers={"table": table.name}, host=host, start=tr.start, end=tr.end,
            limit=min(limit or MAX_ROWS, MAX_ROWS),
        )  # fmt: skip
        df = conform(self.store.rows(text, params), table)
        if len(df) >= MAX_ROWS:
            df.attrs["truncated"] = f"only the first {MAX_ROWS:,} rows are shown; narrow the time range"
        return df

    def syslog(self, host: str, tr: TimeRange, *, limit: int | None = None) -> pd.DataFrame:
        return self._rows(SYSLOG, host, tr, limit)

    def pam_session_lines(self, host: str, tr: TimeRange) -> pd.DataFrame:
        """The syslog rows :func:`hunting.analysis.sessions.pam_sessions` reads (session
        opened/closed lines), filtered in the engine instead of over the whole syslog."""
        text, params = sql(
            "pam_session_lines", host=host, start=tr.start, end=tr.end,
            opened=SESSION_MARKS[0], closed=SESSION_MARKS[1], limit=MAX_ROWS,
        )  # fmt: skip
        df = conform(self.store.rows(text, params), SYSLOG)
        if len(df) >= MAX_ROWS:
            df.attrs["truncated"] = f"only the first {MAX_ROWS:,} rows are shown; narrow the time range"
        return df

    def syslog_volume(self, host: str, tr: TimeRange, *, bucket_seconds: int, by: VolumeKey) -> pd.DataFrame:
        if by not in VOLUME_KEYS:
            raise QueryError(f"cannot count messages by {by!r}; choose one of {', '.join(VOLUME_KEYS)}")
        if bucket_seconds <= 0:
            raise QueryError("time bucket must be positive")
        text, params = sql(
            "syslog_volume", identifiers={"key": by}, host=host, start=tr.start, end=tr.end,
            bucket_seconds=int(bucket_seconds),
        )  # fmt: skip
        df = self.store.query(text, params)
        df["TimeGenerated"] = pd.to_datetime(df["TimeGenerated"]).dt.tz_localize("UTC")
        df["Key"] = df["Key"].astype("string")
        df["Count"] = df["Count"].astype("Int64")
        return df[VOLUME_COLUMNS]

    def _derived(self, table: Table, host: str, tr: TimeRange) -> pd.DataFrame:
        """A derived event table (built once at ingest, see Store._derive) for host and range."""
        self.store.ensure_derived()
        return self._rows(table, host, tr)

    def logon_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._derived(LOGONS, host, tr)

    def sudo_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._derived(SUDO, host, tr)

    def cron_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._derived(CRON, host, tr)

    def account_changes(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._derived(ACCOUNTS, host, tr)

    def audit_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._rows(AUDIT, host, tr)

    def alerts(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._rows(ALERTS, host, tr)

    def heartbeat(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._rows(HEARTBEAT, host, tr)

    def network_flows(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._rows(FLOWS, host, tr)

    def host_users(self, host: str) -> pd.DataFrame:
        text, params = sql("host_users", host=host)
        return conform(self.store.rows(text, params), HOST_USERS)

    def ingest_report(self) -> list[FileAccount]:
        return list(self.store.accounts)
