"""The embedded engine: DuckDB tables in the schema, loaded from parsed files.

DuckDB because hunting is columnar work (filters by host and time, group-bys for
charts) over millions of rows, it reads the parquet cache directly, and it needs
no server. Times are stored as naive UTC TIMESTAMPs; the session zone is pinned to
UTC so no comparison ever happens in the analyst's local time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from hunting.readers import ProgressFn, cache_dir, iter_files, read_cached
from hunting.readers.auditd import name_unnamed_host
from hunting.readers.base import FileAccount, ReadOptions
from hunting.schema import AUDIT, BY_NAME, HOST_USERS, STORED_TABLES, SYSLOG, conform


def _bindable(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return value


class Store:
    """An in-memory DuckDB holding the stored tables; safe to query from several threads."""

    def __init__(self) -> None:
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET TimeZone = 'UTC'")
        self._lock = threading.Lock()
        for table in STORED_TABLES:
            self._con.execute(table.duckdb_ddl())
        self.accounts: list[FileAccount] = []

    def query(self, text: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        """Run one parameterised query on a per-call cursor (DuckDB cursors are per thread)."""
        bound = {k: _bindable(v) for k, v in (params or {}).items()}
        cur = self._con.cursor()
        try:
            return cur.execute(text, bound).df()
        finally:
            cur.close()

    def add_frame(self, table: str, df: pd.DataFrame) -> None:
        """Append a frame (conformed to the table first); used by tests and the demo."""
        frame = conform(df, BY_NAME[table])
        frame["TimeGenerated"] = frame["TimeGenerated"].dt.tz_convert("UTC").dt.tz_localize(None)
        for col, kind in BY_NAME[table].columns:
            if kind == "time" and col != "TimeGenerated":
                frame[col] = frame[col].dt.tz_convert("UTC").dt.tz_localize(None)
        with self._lock:
            cur = self._con.cursor()
            cur.register("incoming", frame)
            cur.execute(f'INSERT INTO "{table}" SELECT * FROM incoming')
            cur.unregister("incoming")
            cur.close()

    def _insert_parquet(self, table: str, path: Path, host_hint: str = "") -> None:
        cols = ", ".join(f'"{c}"' for c in BY_NAME[table].names)
        select = f"SELECT {cols} FROM read_parquet($path)"
        if host_hint:
            select = f"SELECT * REPLACE (coalesce(nullif(Computer, ''), $hint) AS Computer) FROM ({select})"
        params: dict[str, object] = {"path": str(path)}
        if host_hint:
            params["hint"] = host_hint
        with self._lock:
            self._con.execute(f'INSERT INTO "{table}" {select}', params)

    def _unnamed_rows(self, path: Path) -> int:
        q = "SELECT count(*) FROM read_parquet($p) WHERE Computer IS NULL OR Computer = ''"
        return int(self.query(q, {"p": str(path)}).iloc[0, 0])

    def load(
        self,
        paths: Iterable[str | Path],
        options: ReadOptions | None = None,
        *,
        cache: Path | None = None,
        progress: ProgressFn | None = None,
    ) -> list[FileAccount]:
        """Parse (or reuse the cache of) every file under ``paths`` and load it."""
        options = options or ReadOptions()
        cache = cache or cache_dir()
        files = list(iter_files(paths))
        reads = []
        for i, f in enumerate(files):
            if progress:
                progress(i, len(files), str(f))
            reads.append((f, read_cached(f, options, cache)))
        # Raw audit.log has no host name (auditd's name_format defaults to NONE), nor has
        # a passwd file: their rows take the host of the syslog files in the same folder
        # or its parent (the layout of a collected /var/log and /etc).
        syslog_hosts: dict[Path, str] = {}
        for f, r in reads:
            if SYSLOG.name in r.parquet:
                top = self.query(
                    "SELECT Computer, count(*) n FROM read_parquet($p) GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
                    {"p": str(r.parquet[SYSLOG.name])},
                )
                if len(top) and top.iloc[0, 0]:
                    syslog_hosts.setdefault(f.parent, str(top.iloc[0, 0]))
        # Else the host the analyst named, else one from the folder (hunting.readers.auditd).
        for f, r in reads:
            for table, pq in r.parquet.items():
                hint = ""
                if table in (AUDIT.name, HOST_USERS.name):
                    hint, rule = name_unnamed_host(f, syslog_hosts, options.host_name)
                    if table == AUDIT.name and self._unnamed_rows(pq):
                        r.account.host, r.account.host_rule = hint, rule
                self._insert_parquet(table, pq, hint)
            if progress:
                progress(len(files), len(files), "loaded")
        accounts = [r.account for _, r in reads]
        self.accounts.extend(accounts)
        return accounts

    def counts(self) -> dict[str, int]:
        return {t.name: int(self.query(f'SELECT count(*) FROM "{t.name}"').iloc[0, 0]) for t in STORED_TABLES}
