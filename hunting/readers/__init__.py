"""Reading whole files and folders: decompression, format detection, caching.

Formats are recognised from content, never from the file name: rotated copies
(``auth.log.1``, ``auth.log.2.gz``) and renamed evidence files read the same.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import lzma
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hunting.evidence import EvidenceError, EvidencePolicy, max_decompressed_bytes, read_regular
from hunting.readers.base import FileAccount, Reader, ReadOptions, ReadResult
from hunting.schema import BY_NAME, conform

# Bump when any reader's output changes, so cached parses are not reused.
READER_VERSION = "5"
SNIFF_LINES = 30
MAX_FILE_BYTES = 4 * 1024**3
MAX_FIELD_CHARS = 66 * 1024  # above syslog's 64 KiB line cut and its marker: such lines are cut once
ProgressFn = Callable[[int, int, str], None]


def readers() -> list[Reader]:
    """Readers in sniffing order: the strictest signatures first."""
    from hunting.readers.auditd import AUDITD_READER
    from hunting.readers.journald import JOURNALD_READER
    from hunting.readers.passwd import PASSWD_READER
    from hunting.readers.sentinel import SENTINEL_READER
    from hunting.readers.syslog import SYSLOG_READER

    return [AUDITD_READER, JOURNALD_READER, SENTINEL_READER, PASSWD_READER, SYSLOG_READER]


def cache_dir() -> Path:
    """Writable cache folder: $HUNTING_CACHE_DIR or the system temp dir (works on Streamlit hosts)."""
    base = os.environ.get("HUNTING_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "linux-hunting-cache")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Regular files under the given paths, folders walked recursively in name order."""
    for p in paths:
        path = Path(p)
        try:
            is_dir = path.is_dir()
        except (OSError, ValueError):  # a name too long: read_file reports it
            is_dir = False
        if is_dir:
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


def _bounded(make: Callable[[], Any], raw: bytes, limit: int) -> tuple[bytes, str]:
    """Run a streaming decompressor over every member/stream, stopping at ``limit`` bytes."""
    out: list[bytes] = []
    size = 0
    data = raw
    while data:
        d = make()
        chunk = d.decompress(data, limit - size + 1)
        out.append(chunk)
        size += len(chunk)
        while size <= limit and not d.eof:
            # zlib keeps unread input in unconsumed_tail; bz2/lzma buffer it internally
            tail = getattr(d, "unconsumed_tail", b"")
            chunk = d.decompress(tail, limit - size + 1)
            if not chunk:
                break
            out.append(chunk)
            size += len(chunk)
        if size > limit:
            return b"".join(out)[:limit], (
                f"decompressed size limit reached: only the first {limit // 1024**2} MiB of "
                f"{len(raw):,} compressed bytes were read (the rest of the file is not counted)"
            )
        if not d.eof:
            return b"".join(out), "truncated or corrupt archive: read what could be decompressed"
        data = d.unused_data
        if data and data.strip(b"\x00") == b"":
            break
    return b"".join(out), ""


def decompress(raw: bytes) -> tuple[bytes, str]:
    """Undo gzip/bzip2/xz by magic number, bounded (hunting.evidence.max_decompressed_bytes);
    a truncated archive yields what was readable, a cut is reported in the note."""
    limit = max_decompressed_bytes(len(raw))
    make: Callable[[], Any] | None = None
    kind = ""
    if raw[:2] == b"\x1f\x8b":
        make, kind = (lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)), "gzip"
    elif raw[:3] == b"BZh":
        make, kind = bz2.BZ2Decompressor, "bzip2"
    elif raw[:6] == b"\xfd7zXZ\x00":
        make, kind = lzma.LZMADecompressor, "xz"
    if make is None:
        return raw, ""
    try:
        return _bounded(make, raw, limit)
    except (EOFError, OSError, ValueError, zlib.error, lzma.LZMAError):
        return b"", f"corrupt {kind}"


def _head(data: bytes) -> list[str]:
    lines: list[str] = []
    for line in data[: 256 * 1024].split(b"\n"):
        if line.strip():
            lines.append(line.decode("utf-8", "replace"))
        if len(lines) >= SNIFF_LINES:
            break
    return lines


def _count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    return b"\x00" in sample and sample.count(b"\x00") > len(sample) // 100


TI_FEED_REASON = "threat-intel feed, not a log: load it as a feed (Network / IoCs pages, threat intel)"
_TI_FEED_HEADER = re.compile(rb"^\s*indicator\s*,\s*type\s*(,|\r?$)", re.IGNORECASE)


def _is_ti_feed(data: bytes) -> bool:
    """A local threat-intel CSV (header ``indicator,type[,...]``, hunting.ti.local_feed): not a log,
    but named as what it is rather than "format not recognised"."""
    return bool(_TI_FEED_HEADER.match(data[:200].split(b"\n", 1)[0]))


def detect(data: bytes) -> Reader | None:
    head = _head(data)
    for reader in readers():
        if reader.sniff(head):
            return reader
    return None


def read_bytes(data: bytes, path: str, mtime: float, options: ReadOptions) -> ReadResult:
    """Read one file's content; every failure becomes accounting, never an exception."""
    data, note = decompress(data)
    if _looks_binary(data):
        account = FileAccount(path=path, format="binary", error="binary content: not a text log")
        account.lines = _count_lines(data)
        account.unparsed = account.lines
        account.reasons["binary content"] = account.lines
        return ReadResult(tables={}, account=account)
    reader = detect(data)
    if reader is None and _is_ti_feed(data):  # e.g. the demo's ti/demo_feed.csv beside its logs
        account = FileAccount(path=path, format="threat-intel feed")
        account.lines = _count_lines(data)
        for i, line in enumerate(data.split(b"\n")[: account.lines], start=1):
            account.reject(i, TI_FEED_REASON if line.strip() else "blank line", line)
        return ReadResult(tables={}, account=account)
    if reader is None:
        account = FileAccount(path=path, format="unknown")
        account.lines = _count_lines(data)
        if account.lines:
            account.error = "format not recognised"
        for i, line in enumerate(data.split(b"\n")[: account.lines], start=1):
            account.reject(i, "format not recognised" if line.strip() else "blank line", line)
        account.error = note or account.error
        return ReadResult(tables={}, account=account)
    try:
        result = reader.read(data, path, mtime, options)
    except Exception as exc:  # a reader bug must not take the app down; say so plainly
        account = FileAccount(
            path=path, format=reader.format, error=f"reader failed: {type(exc).__name__}: {exc}"
        )
        account.lines = _count_lines(data)
        account.unparsed = account.lines
        account.reasons["reader failed"] = account.lines
        return ReadResult(tables={}, account=account)
    if note:
        result.account.error = note
    _cap_fields(result)
    from hunting.readers.agents import augment  # AUOMS/Sysmon rows inside Syslog: processes, flows

    return augment(result)


def _refused(path: Path, reason: str) -> ReadResult:
    return ReadResult(
        tables={}, account=FileAccount(path=str(path), format="refused", error=f"not read: {reason}")
    )


def max_field_chars() -> int:
    """Longest text value kept for display and analysis (HUNTING_MAX_FIELD_CHARS, 66 Ki)."""
    try:
        value = int(os.environ.get("HUNTING_MAX_FIELD_CHARS", "") or MAX_FIELD_CHARS)
    except ValueError:
        return MAX_FIELD_CHARS
    return value if value > 0 else MAX_FIELD_CHARS


def _cap_fields(result: ReadResult) -> None:
    """Cut text values longer than max_field_chars() in every table, whatever the reader
    (an EXECVE argument, a journald MESSAGE or a Sentinel cell can be megabytes): every
    later step (detections, trees, rendering) then works on bounded text. Counted in the
    file's notes, and each cut value says how much was cut."""
    cap = max_field_chars()
    cut = 0
    for df in result.tables.values():
        for col in df.columns:
            s = df[col]
            if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
                continue
            try:
                long = s.str.len().gt(cap).fillna(False).astype(bool)  # vectorised: one pass
            except (AttributeError, TypeError):  # not text after all
                continue
            if long.any():
                df.loc[long, col] = [
                    f"{v[:cap]}…[truncated {len(v) - cap} characters]" if isinstance(v, str) else v
                    for v in s[long].tolist()
                ]
                cut += int(long.sum())
    if cut:
        result.account.notes.append(f"{cut} value(s) longer than {cap:,} characters truncated")


def read_file(path: Path, options: ReadOptions) -> ReadResult:
    """Read one file the evidence policy admits: its real path inside the roots (symlinks
    resolved), a regular file (FIFOs hang, devices never end), at most MAX_FILE_BYTES.
    The account shows the path as given; errors never quote file content."""
    try:
        real = EvidencePolicy(options.roots).admit(path)
    except EvidenceError as exc:
        return _refused(path, str(exc))
    try:
        raw, mtime = read_regular(real, MAX_FILE_BYTES)
    except OSError as exc:
        account = FileAccount(
            path=str(path), format="unreadable", error=f"cannot read: {exc.strerror or exc}"
        )
        return ReadResult(tables={}, account=account)
    return read_bytes(raw, str(path), mtime, options)


def _cache_key(path: Path, options: ReadOptions) -> str:
    """Keyed by what is read (real path, size, mtime) and how, not by the name typed.

    The evidence roots decide whether a file may be read (checked here, before any cache
    use), not how it parses: they are not part of the key, so the app (which sets roots)
    reuses the parse of the CLI or an earlier session instead of parsing again.
    """
    real = EvidencePolicy(options.roots).admit(path)
    st = real.stat()
    how = {k: v for k, v in asdict(options).items() if k != "roots"}
    ident = json.dumps([str(real), st.st_size, st.st_mtime_ns, how, READER_VERSION])
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


@dataclass
class CachedRead:
    """A file's parse on disk: parquet per table plus its accounting."""

    account: FileAccount
    parquet: dict[str, Path]


def read_cached(path: Path, options: ReadOptions, cache: Path | None = None) -> CachedRead:
    """Parse ``path`` once; later calls with an unchanged file reuse the parquet files."""
    cache = cache or cache_dir()
    try:
        key = _cache_key(path, options)
    except (OSError, ValueError):  # refused or unreadable: never cached, reported as such
        return CachedRead(read_file(path, options).account, {})
    folder = cache / "parsed" / key
    meta = folder / "account.json"
    if meta.is_file():
        try:
            doc = json.loads(meta.read_text())
            return CachedRead(
                FileAccount.from_dict(doc["account"]), {t: folder / f"{t}.parquet" for t in doc["tables"]}
            )
        except (ValueError, KeyError, OSError):
            pass  # a damaged cache entry is simply re-parsed
    result = read_file(path, options)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".parse-"))
    tables = []
    for name, df in result.tables.items():
        if len(df):
            conform(df, BY_NAME[name]).to_parquet(tmp / f"{name}.parquet", index=False)
            tables.append(name)
    (tmp / "account.json").write_text(json.dumps({"account": result.account.to_dict(), "tables": tables}))
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, folder)
    except OSError:  # another process won the race; use its copy
        _rmtree(tmp)
    return CachedRead(result.account, {t: folder / f"{t}.parquet" for t in tables})


def _rmtree(path: Path) -> None:
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def read_paths(
    paths: Iterable[str | Path],
    options: ReadOptions | None = None,
    *,
    progress: ProgressFn | None = None,
) -> tuple[dict[str, pd.DataFrame], list[FileAccount]]:
    """Read files and folders without the cache: tables concatenated, one account per file."""
    options = options or ReadOptions()
    files = list(iter_files(paths))
    frames: dict[str, list[pd.DataFrame]] = {}
    accounts = []
    for i, f in enumerate(files):
        if progress:
            progress(i, len(files), str(f))
        result = read_file(f, options)
        accounts.append(result.account)
        for name, df in result.tables.items():
            frames.setdefault(name, []).append(df)
    tables = {n: pd.concat(dfs, ignore_index=True) for n, dfs in frames.items()}
    return tables, accounts
