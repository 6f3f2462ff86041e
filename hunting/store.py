"""The embedded engine: DuckDB tables in the schema, loaded from parsed files.

DuckDB because hunting is columnar work (filters by host and time, group-bys for
charts) over millions of rows, it reads the parquet cache directly, and it needs
no server. Times are stored as naive UTC TIMESTAMPs; the session zone is pinned to
UTC so no comparison ever happens in the analyst's local time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from hunting.queries import sql
from hunting.readers import ProgressFn, cache_dir, iter_files, read_cached
from hunting.readers.auditd import name_unnamed_host
from hunting.readers.base import FileAccount, ReadOptions
from hunting.schema import ALL_TABLES, AUDIT, BY_NAME, DERIVED_TABLES, HOST_USERS, SYSLOG, conform

# Modules whose code decides the derived tables: a change to any of them re-derives.
_DERIVING_MODULES = (
    "events",
    "logons",
    "sudo",
    "cron",
    "accounts",
    "audit_events",
    "sessions",
    "message_forms",
)
_DERIVED_VERSION = "1"
_SNAPSHOT_VERSION = "2"  # layout of the database snapshot (raw and derived tables) in <cache>/db/
# Columns the snapshot stores with ZSTD: the raw record text, read to show a row's evidence,
# never scanned by a page's filter. DuckDB's default string compression analysed and wrote it
# at about 1.4 s of the scale-20 open (1.7 M lines), in 174 MB; ZSTD: 1.3-1.5 s less, 69 MB
# for the whole snapshot instead of 243 MB. Lossless: the same values come back.
_ZSTD_COLUMNS: dict[str, tuple[str, ...]] = {AUDIT.name: ("RawMessage",)}


# Arrow types whose pandas default loses something (a Python object per string, nulls as NaN).
_ARROW_TO_PANDAS: dict[pa.DataType, object] = {
    pa.string(): pd.StringDtype(),
    pa.large_string(): pd.StringDtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _connect(database: str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(database, read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _bindable(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return value


class Store:
    """An in-memory DuckDB holding the stored tables; safe to query from several threads."""

    def __init__(self) -> None:
        self._con = _connect(":memory:")
        self._lock = threading.Lock()
        for table in ALL_TABLES:
            self._con.execute(table.duckdb_ddl())
        self.snapshot: Path | None = None  # the read-only database file this store reads, if any
        self.snapshot_reused = False  # True when load() opened an existing snapshot (nothing inserted)
        self.accounts: list[FileAccount] = []
        self._loaded: list[str] = []  # what was loaded (parse-cache keys, host hints): the derived key
        self.derive_seconds = 0.0  # time spent deriving (0 when the derived cache was reused)
        self._stale = False  # raw rows added by add_frame since the last derivation

    def query(self, text: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        """Run one parameterised query on a per-call cursor (DuckDB cursors are per thread)."""
        bound = {k: _bindable(v) for k, v in (params or {}).items()}
        cur = self._con.cursor()
        try:
            return cur.execute(text, bound).df()
        finally:
            cur.close()

    def rows(self, text: str, params: dict[str, object] | None = None) -> pd.DataFrame:
        """Like :meth:`query`, through Arrow, for frames the caller conforms to a table.

        Why: ``.df()`` builds a Python object per text cell; through Arrow, text columns
        become pandas strings directly (a host's audit rows: 3.7 s -> 0.9 s with the conform).
        Integers keep nulls as ``Int64`` (never floats), timestamps come as Arrow gives them
        (microseconds): :func:`hunting.schema.conform` settles every type.
        """
        bound = {k: _bindable(v) for k, v in (params or {}).items()}
        cur = self._con.cursor()
        try:
            table = cur.sql(text, params=bound).to_arrow_table()
        finally:
            cur.close()
        return table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)

    def add_frame(self, table: str, df: pd.DataFrame) -> None:
        """Append a frame (conformed to the table first); used by tests and the demo.

        Raw syslog or audit rows mark the derived tables stale: :meth:`ensure_derived`
        rebuilds them (in memory) before they are next read.
        """
        self._writable()
        if table in (SYSLOG.name, AUDIT.name):
            self._stale = True
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
        fresh = not self._loaded and not self._touched()
        plan: list[tuple[str, Path, str]] = []
        for f, r in reads:
            for table, pq in r.parquet.items():
                hint = ""
                if table in (AUDIT.name, HOST_USERS.name):
                    hint, rule = name_unnamed_host(f, syslog_hosts, options.host_name)
                    if table == AUDIT.name and self._unnamed_rows(pq):
                        r.account.host, r.account.host_rule = hint, rule
                plan.append((table, pq, hint))
                self._loaded.append(f"{pq.parent.name}/{table}:{hint}" if pq.parent.name else f"{pq}:{hint}")
        if plan and fresh:
            self._load_snapshot(plan, cache)
        else:
            for table, pq, hint in plan:
                self._insert_parquet(table, pq, hint)
            if self._loaded:
                self._derive(cache)
        if progress:
            progress(len(files), len(files), "loaded")
        accounts = [r.account for _, r in reads]
        self.accounts.extend(accounts)
        return accounts

    def _touched(self) -> bool:
        """Whether any table holds rows already (add_frame before load)."""
        return any(self.counts().values())

    def _snapshot_key(self) -> str:
        digest = hashlib.sha256(f"{_SNAPSHOT_VERSION}/{duckdb.__version__}".encode())
        for part in sorted(self._loaded):
            digest.update(part.encode() + b"\0")
        digest.update(_deriving_code())
        return digest.hexdigest()[:32]

    def _load_snapshot(self, plan: list[tuple[str, Path, str]], cache: Path) -> None:
        """Open the loaded tables (raw and derived) from one DuckDB file in the cache, or build it.

        Why: re-inserting millions of parsed rows into an in-memory database took seconds per
        million lines and held every table in memory. A snapshot keyed like the derived tables
        (parse-cache entries, host hints, deriving code, DuckDB version) opens read-only in
        milliseconds and DuckDB pages its columns in as queries touch them. It is built into a
        file, not memory, so the first open does not hold the tables in memory either.
        """
        folder = cache / "db"
        final = folder / f"{self._snapshot_key()}.duckdb"
        if final.is_file():
            try:
                self._use_snapshot(final)
                self.snapshot_reused = True
                return
            except duckdb.Error:  # damaged or from another DuckDB: rebuilt below
                final.unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{final.stem}.{os.getpid()}.{threading.get_ident()}.duckdb"
        tmp.unlink(missing_ok=True)
        memory = self._con
        self._con = _connect(str(tmp))
        try:
            for schema_table in ALL_TABLES:
                ddl = schema_table.duckdb_ddl()
                for col in _ZSTD_COLUMNS.get(schema_table.name, ()):
                    ddl = ddl.replace(f'"{col}" VARCHAR', f'"{col}" VARCHAR USING COMPRESSION zstd', 1)
                self._con.execute(ddl)
            for name, pq, hint in plan:
                self._insert_parquet(name, pq, hint)
            self._derive(cache)
            self._con.execute("CHECKPOINT")
            self._con.close()
            os.replace(tmp, final)
            self._use_snapshot(final)
            memory.close()
        except Exception:
            self._con.close()
            tmp.unlink(missing_ok=True)
            Path(f"{tmp}.wal").unlink(missing_ok=True)
            self._con = memory  # fall back to the in-memory load
            for name, pq, hint in plan:
                self._insert_parquet(name, pq, hint)
            self._derive(cache)

    def _use_snapshot(self, path: Path) -> None:
        con = _connect(str(path), read_only=True)
        old = self._con
        self._con = con
        self.snapshot = path
        old.close()

    def _writable(self) -> None:
        """A store reading a read-only snapshot copies it into memory before the first write."""
        if self.snapshot is None:
            return
        with self._lock:
            if self.snapshot is None:
                return
            memory = _connect(":memory:")
            literal = str(self.snapshot).replace("'", "''")  # our cache path, not log text
            memory.execute(f"ATTACH '{literal}' AS snap (READ_ONLY)")
            memory.execute("COPY FROM DATABASE snap TO memory")
            memory.execute("DETACH snap")
            old, self._con, self.snapshot = self._con, memory, None
            old.close()

    def counts(self) -> dict[str, int]:
        """Rows per table, raw and derived."""
        return {t.name: int(self.query(f'SELECT count(*) FROM "{t.name}"').iloc[0, 0]) for t in ALL_TABLES}

    def ensure_derived(self) -> None:
        """Re-derive the event tables after :meth:`add_frame` added raw rows (no disk cache)."""
        if not self._stale:
            return
        frames = self._derive_frames()
        with self._lock:
            self._stale = False
            for table in DERIVED_TABLES:
                self._con.execute(f'DELETE FROM "{table.name}"')
        for name, df in frames.items():
            self.add_frame(name, df)

    def _derive(self, cache: Path) -> None:
        """Build the derived event tables once for everything loaded, or reuse them from the cache.

        Keyed by the parse-cache entries loaded (each already keyed by file content and
        read options) and the code of the deriving modules, so a re-open reads parquet and
        a parser change re-derives.
        """
        import time

        digest = hashlib.sha256(_DERIVED_VERSION.encode())
        for part in sorted(self._loaded):
            digest.update(part.encode() + b"\0")
        digest.update(_deriving_code())
        folder = cache / "derived" / digest.hexdigest()[:32]
        with self._lock:
            self._stale = False
            for table in DERIVED_TABLES:
                self._con.execute(f'DELETE FROM "{table.name}"')
        done = folder / "tables.json"
        if not done.is_file():
            t = time.perf_counter()
            frames = self._derive_frames()
            tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".derive-"))
            for name, df in frames.items():
                df.to_parquet(tmp / f"{name}.parquet", index=False)
            (tmp / "tables.json").write_text(json.dumps(sorted(frames)))
            folder.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(tmp, folder)
            except OSError:  # another process derived the same; use its copy
                shutil.rmtree(tmp, ignore_errors=True)
            self.derive_seconds = time.perf_counter() - t
        for table in DERIVED_TABLES:
            path = folder / f"{table.name}.parquet"
            if path.is_file():
                self._insert_parquet(table.name, path)

    def _derive_frames(self) -> dict[str, pd.DataFrame]:
        """Every host's event tables, one host at a time (the parsers pair lines within a host).

        Of syslog, the rows :func:`parser_prefilter` admits (built from the parsers' own
        program sets and message marks, so it cannot drift from them); of audit, the user, account and PAM records they read (SYSCALL events,
        the bulk of audit.log, give no logon, sudo or account rows).
        """
        from hunting.analysis.audit_events import PARSER_RECORDS
        from hunting.analysis.events import derive_event_tables

        hosts = self.query(
            "SELECT DISTINCT lower(coalesce(Computer, '')) AS h FROM Syslog "
            "UNION SELECT DISTINCT lower(coalesce(Computer, '')) FROM AuditEvents WHERE EventType IN (SELECT unnest($t))",
            {"t": list(PARSER_RECORDS)},
        )["h"].tolist()
        parts: dict[str, list[pd.DataFrame]] = {t.name: [] for t in DERIVED_TABLES}
        for host in sorted(hosts):
            pre = parser_prefilter()
            text, params = sql(
                "syslog_for_parsers", host=host, processes=pre["processes"], marks=pre["marks"]
            )
            syslog = self.rows(text, params)
            audit = self.rows(
                "SELECT * FROM AuditEvents WHERE lower(coalesce(Computer, '')) = $h "
                "AND EventType IN (SELECT unnest($t)) ORDER BY TimeGenerated, rowid",
                {"h": host, "t": list(PARSER_RECORDS)},
            )
            tables = derive_event_tables(conform(syslog, SYSLOG), conform(audit, AUDIT))
            del syslog, audit
            for name, df in tables.items():
                if len(df):
                    parts[name].append(conform(df, BY_NAME[name]))
        return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items() if frames}


def parser_prefilter() -> dict[str, list[str]]:
    """Programs (lower case) and message marks of every syslog line an event parser reads.

    Taken from the forms file (hunting/rules/message_forms.yaml): each group of forms
    applies to some programs, or to any program whose message holds one of its marks, so
    rows outside this filter yield no event.
    """
    from hunting.analysis.message_forms import message_forms

    forms = message_forms()
    return {"processes": sorted(forms.programs()), "marks": forms.marks()}


def _deriving_code() -> bytes:
    """The source text of the modules that derive the event tables (the derived cache's version)."""
    import hunting.analysis as analysis

    base = Path(analysis.__file__).parent
    digest = hashlib.sha256()
    for name in _DERIVING_MODULES:
        path = base / f"{name}.py"
        if path.is_file():
            digest.update(path.read_bytes())
    schema = Path(__file__).with_name("schema.py")
    digest.update(schema.read_bytes())
    digest.update(Path(__file__).with_name("rules").joinpath("message_forms.yaml").read_bytes())
    return digest.digest()
