"""auditd logs (``/var/log/audit/audit.log``, raw or ENRICHED) as one row per audit event.

Records are grouped by their ``msg=audit(EPOCH:SERIAL)`` id, not by position:
the kernel interleaves records of concurrent events, and aggregated logs
(``node=`` prefixes) repeat serials across hosts, so the node is part of the key.

Parsing is columnar (pyarrow regexes over whole columns, pandas group-by) because
audit logs are large: millions of records per day on a busy host. Only EXECVE
arguments and hex values are decoded in Python, and only for the rows that need it.

Values are kept as logged (``hostname=?`` stays ``"?"``, ``auid`` 4294967295 stays
a number); quoted values are unquoted and unquoted hex values (auditd's encoding
of strings with spaces or control characters) are decoded. ``Computer`` is the
``node=`` name, or the ``host`` given by the caller (raw audit.log names no host).
``Syscall`` is the number as logged, or the name when the ENRICHED format adds one.
Every record, EOE included, counts in ``RecordTypes`` and ``RawMessage``.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hunting.readers.base import EXAMPLE_CHARS, MAX_EXAMPLES, FileAccount, ReadOptions, ReadResult
from hunting.schema import AUDIT, conform

RAW_MESSAGE_CAP = 64 * 1024
TRUNCATED = "\n[... RawMessage truncated: {} more characters]"

# The record header only: anchored and short, so RE2 stops early on long lines.
_HEADER = (
    r"^(?:node=(?P<node>\S*) )?type=(?P<type>\S+) msg=audit\("
    r"(?P<id>(?P<sec>\d{1,12})(?:\.(?P<frac>\d{1,9}))?:\d{1,20})\)"
)
_SNIFF = re.compile(r"^(?:node=\S* )?type=\S+ msg=audit\(\d+(?:\.\d+)?:\d+\)")
_MAX_EPOCH = 4_102_444_800  # 2100-01-01, the last year ReadOptions accepts
_GS = "\x1d"  # ENRICHED format: the host's own translations follow this separator

# Records that carry no process or account fields; skipping them keeps the
# per-field regexes off the (numerous) PATH records.
_NOT_PROCESS = ("EXECVE", "PATH", "PROCTITLE", "CWD", "EOE", "SOCKADDR")
_SYSCALL_FIELDS = {
    "Syscall": "syscall", "Success": "success", "Exit": "exit", "Ppid": "ppid", "Pid": "pid",
    "Uid": "uid", "Auid": "auid", "Euid": "euid", "Gid": "gid", "Ses": "ses", "Tty": "tty",
    "Comm": "comm", "Exe": "exe", "Key": "key",
}  # fmt: skip
_OTHER_FIELDS = {
    "Pid": "pid", "Uid": "uid", "Auid": "auid", "Ses": "ses", "Tty": "tty", "Comm": "comm", "Exe": "exe",
    "Key": "key", "Op": "op", "Acct": "acct", "Hostname": "hostname", "Addr": "addr", "Terminal": "terminal",
    "Res": "res",
}  # fmt: skip
_INT_COLUMNS = ("Pid", "Ppid", "Uid", "Auid", "Euid", "Gid", "Ses", "Argc")
_ENRICHED = {"UidName": "UID", "AuidName": "AUID", "SyscallName": "SYSCALL"}
# Fields auditd hex-encodes when the value holds spaces, quotes or control characters.
_ENCODED = {"comm", "exe", "key", "cwd", "acct", "cmd", "proctitle"}
_TRIM_INNER = {
    "hostname",
    "addr",
    "terminal",
    "res",
}  # old format: "(hostname=?, addr=?, terminal=cron res=success)"
_HEX = r"^(?:[0-9A-Fa-f]{2})+$"
_HEX_RE = re.compile(_HEX)
_EXECVE_ARG = re.compile(r'(?:^|\s)(argc|a\d+(?:_len|\[\d+\])?)=("[^"]*"|[^\s\x1d]*)')
_UNQUOTED_ARG = r'\sa\d+(?:\[\d+\]|_len)?=[^"]'
_EXECVE_HEAD = r"^(?:node=\S* )?type=\S+ msg=audit\([^)]*\):?\s*(?:argc=\S*)?"
_CHUNKED_ARG = r"\sa\d+(?:\[\d+\]|_len)="
_EXECVE_PLAIN = re.compile(r'\sa\d+=("[^"]*"|[^\s\x1d]*)')


def _field_pattern(name: str) -> str:
    return rf"(?:^|[ '(]){re.escape(name)}=(?P<v>\"[^\"]*\"|[^\s'\"\x1d]*)"


def _extract(values: pa.Array, pattern: str) -> pa.Array:
    """First capture of ``pattern`` per row; null where it does not match."""
    if len(values) == 0:
        return pa.array([], pa.large_string())
    return pc.struct_field(pc.extract_regex(values, pattern), [0])


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _may_hold(values: pa.Array, text: str) -> bool:
    """False when no value of ``values`` holds ``text`` (one search of the data buffer, which
    may also hold bytes outside a slice: True only means "look row by row")."""
    data = values.buffers()[2] if isinstance(values, pa.Array) and len(values.buffers()) > 2 else None
    return data is None or re.search(re.escape(text.encode()), memoryview(data)) is not None  # no copy


_FIELDS_CHUNK = 50_000


def _fields(text: pa.Array, names: Sequence[str]) -> dict[str, pa.Array]:
    """``{name: _extract(text, _field_pattern(name))}`` for every name, in one pass over ``text``.

    Why: one regex per field over every record was the largest cost of reading audit.log
    (1.8 of 4 s for 800,000 records). Here each record is split once at the places a field
    may start (line start, a space, a quote ``'``), and each piece that begins ``name=`` is
    a match at that place. The value is the piece after ``=`` (cut at the ENRICHED
    separator), or its leading ``"..."`` when quoted. A record where a value may run past
    its piece (a quoted value holding a space or ``'``, a stray quote, a tab, CR or form
    feed) or where a field starts after ``(`` (the old ``(hostname=?, ...`` form) is read
    with the per-field regexes, so every result equals theirs
    (tests/test_perf_regressions.py compares both on the demo and every shared log).
    """
    n = len(text)
    if n == 0:
        return {name: _extract(text, _field_pattern(name)) for name in names}
    text = text.cast(pa.large_string())
    if n > _FIELDS_CHUNK:  # the pieces of a whole log would take ~1 KB per record at once
        parts = [_fields(text.slice(at, _FIELDS_CHUNK), names) for at in range(0, n, _FIELDS_CHUNK)]
        return {name: pa.concat_arrays([part[name] for part in parts]) for name in names}
    alt = "|".join(re.escape(name) for name in names)
    slow = _mask(pc.match_substring_regex(text, rf"\((?:{alt})=|[\t\f\r]"))
    pieces = pc.split_pattern(pc.replace_substring(text, "'", " "), " ")
    row = np.repeat(np.arange(n), pc.list_value_length(pieces).to_numpy(zero_copy_only=False))
    flat = pieces.flatten()
    has_eq = np.flatnonzero(_mask(pc.match_substring(flat, "=")))
    kv = pc.split_pattern(pc.take(flat, has_eq), "=", max_splits=1)
    code = pc.index_in(pc.list_element(kv, 0), value_set=pa.array(list(names), pa.large_string()))
    codes = pc.fill_null(code, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    cand = np.flatnonzero(codes >= 0)
    codes = codes[cand]
    rows = row[has_eq[cand]]
    value = pc.list_element(pc.take(kv, cand), 1)

    def replace(at: np.ndarray, new: pa.Array) -> pa.Array:
        index = np.arange(len(value))
        index[at] = len(value) + np.arange(len(at))
        return pc.take(pa.concat_arrays([value, new.cast(pa.large_string())]), index)

    cut = np.flatnonzero(_mask(pc.match_substring(value, _GS)))
    if len(cut):  # the ENRICHED part ends an unquoted value
        value = replace(cut, pc.list_element(pc.split_pattern(pc.take(value, cut), _GS, max_splits=1), 0))
    quoted = np.flatnonzero(_mask(pc.match_substring(value, '"')))
    if len(quoted):
        closed = _extract(pc.take(value, quoted), r'^(?P<v>"[^"]*")')
        slow[rows[quoted[~_mask(pc.is_valid(closed))]]] = True
        value = replace(quoted, closed)
    _, first = np.unique(rows * len(names) + codes, return_index=True)  # pieces are in line order
    slow_rows = np.flatnonzero(slow)
    pick = np.arange(n)
    pick[slow_rows] = n + np.arange(len(slow_rows))
    slow_text = pc.take(text, slow_rows)
    out = {}
    for k, name in enumerate(names):
        sel = first[codes[first] == k]
        index = np.full(n, -1, np.int64)
        index[rows[sel]] = sel
        got = pc.take(value, pa.array(index, mask=index < 0))
        if len(slow_rows):
            old = _extract(slow_text, _field_pattern(name)).cast(pa.large_string())
            got = pc.take(pa.concat_arrays([got, old]), pick)
        out[name] = got
    return out


def _hex_text(value: str) -> str:
    return bytes.fromhex(value).decode("utf-8", "replace")


def _proctitle(value: str) -> str:
    """PROCTITLE is argv with NUL separators, hex-encoded; show it space separated."""
    return bytes.fromhex(value).rstrip(b"\x00").replace(b"\x00", b" ").decode("utf-8", "replace")


def _decode_values(values: pa.Array, name: str) -> pa.Array:
    """Unquote ``"..."`` values; hex-decode unquoted hex in fields auditd encodes."""
    quoted = pc.fill_null(pc.starts_with(values, '"'), False)
    out = pc.if_else(quoted, pc.utf8_slice_codeunits(values, 1, -1), values)
    if name in _TRIM_INNER:
        out = pc.if_else(quoted, out, pc.utf8_rtrim(out, characters=",)"))
    if name == "key":
        out = pc.if_else(pc.equal(out, "(null)"), "", out)
    if name in _ENCODED:
        idx = np.flatnonzero(_mask(pc.and_(pc.invert(quoted), pc.match_substring_regex(values, _HEX))))
        if len(idx):
            decoded = out.to_pylist()
            decode = _proctitle if name == "proctitle" else _hex_text
            for i in idx:
                decoded[i] = decode(decoded[i])
            out = pa.array(decoded, pa.large_string())
    return out


class _Grouper:
    """Event codes of records, and per-event reductions over record columns."""

    def __init__(self, codes: np.ndarray, n_events: int) -> None:
        self.codes = codes
        self.n_events = n_events

    def first(self, rows: np.ndarray, prio: np.ndarray, columns: dict[str, pa.Array]) -> dict[str, pa.Array]:
        """Per event, the first non-null value of each column (records ``rows``), lower ``prio`` first."""
        ev = self.codes[rows]
        order = np.lexsort((np.arange(len(rows)), prio, ev))
        ev = ev[order]
        out = {}
        for name, col in columns.items():
            col = pc.take(col, order)
            valid = np.flatnonzero(_mask(pc.is_valid(col)))
            ev_valid = ev[valid]
            starts = np.flatnonzero(np.r_[True, ev_valid[1:] != ev_valid[:-1]]) if len(ev_valid) else valid
            index = np.full(self.n_events, -1, np.int64)
            index[ev_valid[starts]] = valid[starts]
            out[name] = pc.take(col, pa.array(index, mask=index < 0))
        return out

    def join(self, rows: np.ndarray, values: pa.Array, sep: str) -> pa.Array:
        """``values`` (aligned with ``rows``) joined with ``sep`` per event, in record order."""
        ev = self.codes[rows]
        order = np.argsort(ev, kind="stable")
        counts = np.bincount(ev, minlength=self.n_events)
        offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
        lists = pa.ListArray.from_arrays(pa.array(offsets), pc.take(values, order))
        return pc.binary_join(lists, pa.scalar(sep, values.type))


def _cap_raw(raw: pa.Array) -> pa.Array:
    idx = np.flatnonzero(_mask(pc.greater(pc.binary_length(raw), RAW_MESSAGE_CAP)))
    if not len(idx):
        return raw
    values = raw.to_pylist()
    for i in idx:
        text = values[i]
        if len(text) > RAW_MESSAGE_CAP:
            values[i] = text[:RAW_MESSAGE_CAP] + TRUNCATED.format(len(text) - RAW_MESSAGE_CAP)
    return pa.array(values, pa.large_string())


def _arg_bytes(value: str) -> bytes:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].encode("utf-8", "surrogateescape")
    if _HEX_RE.match(value):
        return bytes.fromhex(value)
    return value.encode("utf-8", "surrogateescape")  # "(null)" and other literal markers


def _execve_one(line: str) -> str:
    """Command line of an event's only EXECVE record when no argument is chunked."""
    return " ".join(_arg_bytes(v).decode("utf-8", "replace") for v in _EXECVE_PLAIN.findall(line))


def _execve_slow(codes: np.ndarray, lines: list[str]) -> dict[int, str]:
    """Command lines from EXECVE records with chunked arguments or several records.

    Long arguments come as ``a1_len=N a1[0]=.. a1[1]=..``, possibly over several
    records; each chunk is encoded on its own, so chunks are joined as bytes.
    """
    state: dict[int, dict[int, list[bytes]]] = {}
    for ev, line in zip(codes.tolist(), lines, strict=True):
        args = state.setdefault(ev, {})
        for m in _EXECVE_ARG.finditer(line):
            name, value = m.group(1), m.group(2)
            if name == "argc" or name.endswith("_len"):
                continue
            bracket = name.find("[")
            index = int(name[1:bracket] if bracket > 0 else name[1:])
            args.setdefault(index, []).append(_arg_bytes(value))
    return {
        ev: " ".join(b"".join(args[i]).decode("utf-8", "replace") for i in sorted(args))
        for ev, args in state.items()
    }


def _execve(group: _Grouper, types: np.ndarray, lines: pa.Array) -> dict[str, pa.Array]:
    """Argc and Cmdline per event; plain quoted arguments are handled column-wise."""
    rows = np.flatnonzero(types == "EXECVE")
    if not len(rows):
        return {}
    text = pc.take(lines, rows)
    per_event = np.bincount(group.codes[rows], minlength=group.n_events)
    single = (per_event[group.codes[rows]] == 1) & ~_mask(pc.match_substring_regex(text, _CHUNKED_ARG))
    simple = single & ~_mask(pc.match_substring_regex(text, _UNQUOTED_ARG))
    # Quoted arguments hold no spaces or quotes (auditd hex-encodes those), so
    # the command line is the record with the names and quotes removed.
    cmd = pc.replace_substring_regex(text, _EXECVE_HEAD, "", max_replacements=1)
    cmd = pc.replace_substring_regex(cmd, r'(?:^|\s+)a\d+="([^"]*)"', r" \1")
    cmd = pc.utf8_slice_codeunits(pc.utf8_rtrim(cmd, "\r\n\t"), 1)  # each argument brought one leading space
    cmd = pc.if_else(pa.array(simple), cmd, pa.scalar(None, pa.large_string()))
    if not simple.all():
        values = cmd.to_pylist()
        hexed = np.flatnonzero(single & ~simple)
        for i, line in zip(hexed.tolist(), pc.take(text, hexed).to_pylist(), strict=True):
            values[i] = _execve_one(line)
        slow = np.flatnonzero(~single)
        if len(slow):
            codes = group.codes[rows]
            parsed = _execve_slow(codes[slow], pc.take(text, slow).to_pylist())
            for i in slow.tolist():
                values[i] = parsed[int(codes[i])]
        cmd = pa.array(values, pa.large_string())
    argc = _extract(text, r"(?:^|\s)argc=(?P<v>\d+)")
    prio = np.zeros(len(rows), np.int64)
    return group.first(rows, prio, {"Argc": argc, "Cmdline": cmd})


def _to_int(values: pa.Array) -> pa.Array:
    ok = pc.match_substring_regex(values, r"^-?\d{1,18}$")
    return pc.cast(pc.if_else(ok, values, pa.scalar(None, values.type)), pa.int64())


def _events(
    node: pa.Array, rtype: pa.Array, event_id: pa.Array, time_ns: np.ndarray, lines: pa.Array, host: str
) -> pd.DataFrame:
    """Group parsed records (arrays aligned, one row per record) into AUDIT rows."""
    n = len(rtype)
    if n == 0:
        return AUDIT.empty()
    node = pc.fill_null(node, "")
    key = pc.binary_join_element_wise(node, event_id, pa.scalar("\x00", node.type))
    encoded = pc.dictionary_encode(key)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    group = _Grouper(codes, len(encoded.dictionary))
    _, first = np.unique(codes, return_index=True)  # codes are numbered in order of appearance
    types = rtype.to_numpy(zero_copy_only=False)
    everything = np.arange(n)

    cols: dict[str, pa.Array | np.ndarray] = {
        "TimeGenerated": time_ns[first],
        "Computer": pc.take(node, first),
        "EventId": pc.take(event_id, first),
        "EventType": pc.take(rtype, first),
    }
    type_codes = pc.dictionary_encode(rtype).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    _, pair_first = np.unique(codes * (int(type_codes.max()) + 1) + type_codes, return_index=True)
    pair_first.sort()
    cols["RecordTypes"] = group.join(pair_first, pc.take(rtype, pair_first), ",")
    cols["RawMessage"] = _cap_raw(group.join(everything, lines, "\n"))

    is_syscall = np.isin(types, ("SYSCALL", "URINGOP"))  # io_uring operations carry the same process fields
    sys_rows = np.flatnonzero(is_syscall)
    other_rows = np.flatnonzero(~is_syscall & ~np.isin(types, _NOT_PROCESS))
    found: dict[str, list[tuple[np.ndarray, pa.Array]]] = {}
    process_rows = np.union1d(sys_rows, other_rows)
    names = sorted(set(_SYSCALL_FIELDS.values()) | set(_OTHER_FIELDS.values()))
    by_name = _fields(pc.take(lines, process_rows), names) if len(process_rows) else {}
    for rows, fields in ((sys_rows, _SYSCALL_FIELDS), (other_rows, _OTHER_FIELDS)):
        if len(rows):
            at = pa.array(np.searchsorted(process_rows, rows))
            for col, name in fields.items():
                values = pc.take(by_name[name], at)
                if col not in _INT_COLUMNS:  # numbers are never quoted or encoded
                    values = _decode_values(values, name)
                found.setdefault(col, []).append((rows, values))
    # Most logs are not ENRICHED: one search of the text buffer spares a per-record search.
    enriched_rows = (
        np.flatnonzero(_mask(pc.match_substring(lines, _GS)))
        if _may_hold(lines, _GS)
        else np.zeros(0, np.int64)
    )
    if len(enriched_rows):
        text = pc.take(lines, enriched_rows)
        for col, name in _ENRICHED.items():
            values = _extract(text, rf'{_GS}(?:.*\s)?{name}=(?P<v>"[^"]*"|\S*)')
            found.setdefault(col, []).append((enriched_rows, pc.utf8_trim(values, '"')))
    for col, parts in found.items():
        rows = np.concatenate([r for r, _ in parts])
        values = pa.concat_arrays([v.cast(pa.large_string()) for _, v in parts])
        cols.update(group.first(rows, np.where(is_syscall[rows], 0, 1), {col: values}))
    if "SyscallName" in cols:
        syscall_name = cols.pop("SyscallName")
        if "Syscall" in cols:  # the host's name for the number, where the ENRICHED format gives one
            cols["Syscall"] = pc.if_else(
                pc.is_valid(cols["Syscall"]), pc.coalesce(syscall_name, cols["Syscall"]), cols["Syscall"]
            )

    for wanted, col, name, prio_type in (
        (("CWD", "USER_CMD"), "Cwd", "cwd", "CWD"),
        (("PROCTITLE",), "Proctitle", "proctitle", "PROCTITLE"),
        (("USER_CMD",), "Cmdline", "cmd", "USER_CMD"),
    ):
        rows = np.flatnonzero(np.isin(types, wanted))
        if len(rows):
            values = _decode_values(_extract(pc.take(lines, rows), _field_pattern(name)), name)
            cols.update(group.first(rows, np.where(types[rows] == prio_type, 0, 1), {col: values}))
    execve = _execve(group, types, lines)
    if execve:
        cols["Argc"] = execve["Argc"]
        cols["Cmdline"] = (
            pc.coalesce(execve["Cmdline"], cols["Cmdline"]) if "Cmdline" in cols else execve["Cmdline"]
        )
    for col in _INT_COLUMNS:
        if col in cols:
            cols[col] = _to_int(cols[col])

    frame = pd.DataFrame({k: (v if isinstance(v, np.ndarray) else v.to_pandas()) for k, v in cols.items()})
    frame["TimeGenerated"] = pd.to_datetime(frame["TimeGenerated"], unit="ns", utc=True)
    if host:
        frame.loc[frame["Computer"] == "", "Computer"] = host
    return conform(frame, AUDIT)


def _count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _reject_many(
    account: FileAccount, line_numbers: np.ndarray, reasons: np.ndarray, lines: pa.Array
) -> None:
    """``FileAccount.reject`` for many lines at once: counts for all, examples for a few."""
    account.unparsed += len(line_numbers)
    account.reasons.update(Counter(reasons.tolist()))
    seen: Counter[str] = Counter(r for _, r, _ in account.examples)
    for pos, reason in zip(line_numbers.tolist(), reasons.tolist(), strict=True):
        if seen[reason] < MAX_EXAMPLES and len(account.examples) < MAX_EXAMPLES * 4:
            text = lines[pos].as_py() or ""
            account.examples.append((pos + 1, reason, text[:EXAMPLE_CHARS]))
            seen[reason] += 1


def _time_ns(sec: pa.Array, frac: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Nanoseconds since the epoch, and which rows have an epoch in range."""
    secs = pc.cast(sec, pa.int64()).to_numpy(zero_copy_only=False)
    frac_digits = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.fill_null(frac, ""), 9, "0"), 0, 9)
    nanos = pc.cast(frac_digits, pa.int64()).to_numpy(zero_copy_only=False)
    ok = (secs >= 0) & (secs < _MAX_EPOCH)
    return np.where(ok, secs, 0) * 1_000_000_000 + nanos, ok


def _split_lines(data: bytes) -> pa.Array:
    """Physical lines as one Arrow column (a trailing newline ends the last line, it adds none)."""
    if data:
        try:  # valid UTF-8 (the usual case) goes to Arrow as is, without a Python str of the file
            whole = pa.array([data], pa.large_binary()).cast(pa.large_string())
        except pa.ArrowInvalid:
            pass  # invalid bytes: decoded below, each replaced by U+FFFD
        else:
            lines = pc.split_pattern(whole, "\n").flatten()
            if data.endswith(b"\n"):
                lines = lines.slice(0, len(lines) - 1)
            return pc.utf8_rtrim(lines, "\r") if b"\r" in data else lines
    text = data.decode("utf-8", "replace")
    if text.endswith("\n"):
        text = text[:-1]
    if not data:
        return pa.array([], pa.large_string())
    lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
    if "\r" in text:
        lines = pc.utf8_rtrim(lines, "\r")
    return lines


def parse_audit(data: bytes, path: str, mtime: float, options: ReadOptions, host: str = "") -> ReadResult:
    """Parse a whole audit log; ``host`` names the machine for records without ``node=``.

    ``mtime`` and ``options`` are unused: audit timestamps are epoch seconds (UTC).
    """
    del mtime, options
    account = FileAccount(path=path, format=AUDITD_READER.format)
    account.lines = _count_lines(data)
    lines = _split_lines(data)
    header = pc.extract_regex(lines, _HEADER) if len(lines) else None
    matched = _mask(pc.is_valid(header)) if header is not None else np.zeros(0, bool)
    ok = matched.copy()
    if header is not None and matched.any():
        fields = {
            name: pc.struct_field(header, [i]) for i, name in enumerate(("node", "type", "id", "sec", "frac"))
        }
        sel = np.flatnonzero(matched)
        time_ns, in_range = _time_ns(pc.take(fields["sec"], sel), pc.take(fields["frac"], sel))
        ok[sel[~in_range]] = False
        keep = sel[in_range]
        events = _events(
            pc.take(fields["node"], keep),
            pc.take(fields["type"], keep),
            pc.take(fields["id"], keep),
            time_ns[in_range],
            pc.take(lines, keep),
            host,
        )
    else:
        events = AUDIT.empty()
    account.parsed = int(ok.sum())
    bad = np.flatnonzero(~ok)
    if len(bad):
        bad_lines = pc.take(lines, bad)
        blank = _mask(pc.match_substring_regex(bad_lines, r"^\s*$"))
        has_type = _mask(pc.match_substring_regex(bad_lines, r"(?:^|\s)type=\S"))
        reasons = np.where(
            matched[bad],
            "bad epoch",
            np.where(
                blank,
                "blank line",
                np.where(has_type, "no msg=audit(EPOCH:SERIAL) id", "not an audit record"),
            ),
        )
        _reject_many(account, bad, reasons, lines)
    account.rows[AUDIT.name] = len(events)
    _set_times(account, events)
    return ReadResult(tables={AUDIT.name: events}, account=account)


def _set_times(account: FileAccount, events: pd.DataFrame) -> None:
    times = events["TimeGenerated"].dropna()
    if len(times):
        account.first_time = times.min().to_pydatetime()
        account.last_time = times.max().to_pydatetime()


HOST_NAMED: Final = "named by the analyst"
HOST_SYSLOG_FOLDER: Final = "syslog host of the same folder"
HOST_SYSLOG_PARENT: Final = "syslog host of the parent folder"
HOST_FOLDER: Final = "from the folder name (no syslog beside it; name one with --host-name)"
# Folders of a collected tree that name no machine: /var/log/audit/audit.log, /etc/passwd.
_GENERIC_FOLDERS: Final = frozenset({"", "audit", "log", "logs", "var", "etc", "tmp", "temp", "private"})
_NOT_HOST_CHARS = re.compile(r"[^a-z0-9.-]+")


def folder_host_name(path: Path) -> str:
    """A stable host name from the nearest folder of ``path`` that is not a generic log folder.

    Lower case, letters, digits, dots and dashes only (other runs become one dash), at most
    63 characters; ``audit-host`` when no folder gives a name.
    """
    for folder in path.absolute().parents:
        name = _NOT_HOST_CHARS.sub("-", folder.name.lower()).strip("-.")[:63].strip("-.")
        if name and name not in _GENERIC_FOLDERS:
            return name
    return "audit-host"


def name_unnamed_host(path: Path, syslog_hosts: Mapping[Path, str], named: str = "") -> tuple[str, str]:
    """Host (and the rule that gave it) for records of ``path`` that name none.

    The analyst's name first; else the busiest syslog host of the file's folder or its
    parent (the layout of a collected /var/log); else a name from the folder, so that
    an audit.log on its own still makes a host.
    """
    if named.strip():
        return named.strip(), HOST_NAMED
    if path.parent in syslog_hosts:
        return syslog_hosts[path.parent], HOST_SYSLOG_FOLDER
    if path.parent.parent in syslog_hosts:
        return syslog_hosts[path.parent.parent], HOST_SYSLOG_PARENT
    return folder_host_name(path), HOST_FOLDER


class AuditdReader:
    """Raw and ENRICHED auditd logs, with or without ``node=`` prefixes."""

    format = "auditd"

    def sniff(self, head: list[str]) -> bool:
        records = [h for h in head if not h.lstrip().startswith("#")]
        hits = sum(1 for h in records if _SNIFF.match(h))
        return hits > 0 and hits * 2 >= len(records)

    def read(self, data: bytes, path: str, mtime: float, options: ReadOptions) -> ReadResult:
        return parse_audit(data, path, mtime, options, host="")


AUDITD_READER = AuditdReader()


_CL_ID = re.compile(r"^\s*(\d{1,12})(?:\.(\d{1,9}))?:(\d{1,20})\s*$")


def _cl_records(message: object) -> list[tuple[str, str]] | None:
    """(type, body) pairs from one AuditdMessage cell, or None if it is not that shape.

    CSV exports hold a Python literal (pandas wrote the list); JSON exports may
    already hold the list itself.
    """
    if isinstance(message, str):
        try:
            value = ast.literal_eval(message)  # literals only; never eval
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    else:
        value = message
    if not isinstance(value, list):
        return None
    out: list[tuple[str, str]] = []
    for item in value:
        if not isinstance(item, dict):
            return None
        for rtype, kvs in item.items():
            if not isinstance(kvs, list | tuple):
                return None
            out.append((str(rtype), " ".join(str(kv) for kv in kvs)))
    return out


def audit_events_from_auditlog_cl(df: pd.DataFrame) -> tuple[pd.DataFrame, FileAccount]:
    """Sentinel AuditLog_CL summarised per event (msticpy's shape) as AUDIT rows.

    ``df`` has ``Computer``, ``mssg_id`` ("EPOCH:SERIAL") and ``AuditdMessage`` (a
    Python-literal list of ``{TYPE: ["k=v", ...]}``). Each row is rebuilt into raw
    records and parsed like audit.log, so both paths give the same columns.
    TimeGenerated is the event's own epoch from ``mssg_id`` (Log Analytics'
    TimeGenerated is ingestion time, rounded in this export).

    Returns the frame and a FileAccount (``path`` empty) whose ``lines`` are the
    rows of ``df``, ``parsed`` the rows converted and ``reasons``/``examples``
    the rejected rows (examples numbered by 1-based row position).
    """
    counts = FileAccount(path="", format="auditlog_cl")
    counts.lines = len(df)
    if not {"mssg_id", "AuditdMessage"} <= set(df.columns):
        missing = sorted({"mssg_id", "AuditdMessage"} - set(df.columns))
        for i in range(len(df)):
            counts.reject(i + 1, f"missing column {', '.join(missing)}", "")
        return AUDIT.empty(), counts
    computers: Sequence[object] = df["Computer"].tolist() if "Computer" in df.columns else [""] * len(df)
    node: list[str] = []
    rtype: list[str] = []
    ids: list[str] = []
    nanos: list[int] = []
    raws: list[str] = []
    for row, (computer, mid, message) in enumerate(
        zip(computers, df["mssg_id"].tolist(), df["AuditdMessage"].tolist(), strict=True), start=1
    ):
        m = _CL_ID.match(mid) if isinstance(mid, str) else None
        if m is None or not 0 <= int(m.group(1)) < _MAX_EPOCH:
            counts.reject(row, "bad mssg_id", str(mid))
            continue
        records = _cl_records(message)
        if not records:
            counts.reject(row, "bad AuditdMessage", str(message))
            continue
        counts.parsed += 1
        event_id = mid.strip()
        ns = int(m.group(1)) * 1_000_000_000 + int((m.group(2) or "").ljust(9, "0")[:9])
        name = computer if isinstance(computer, str) else ""
        for t, body in records:
            node.append(name)
            rtype.append(t)
            ids.append(event_id)
            nanos.append(ns)
            raws.append(f"type={t} msg=audit({event_id}): {body}")
    events = _records_frame(node, rtype, ids, nanos, raws)
    counts.rows[AUDIT.name] = len(events)
    _set_times(counts, events)
    return events, counts


def _records_frame(
    node: list[str], rtype: list[str], ids: list[str], nanos: list[int], raws: list[str]
) -> pd.DataFrame:
    """AUDIT rows from records already split into their parts (raw lines still give the fields)."""
    return _events(
        pa.array(node, pa.large_string()),
        pa.array(rtype, pa.large_string()),
        pa.array(ids, pa.large_string()),
        np.array(nanos, np.int64),
        pa.array(raws, pa.large_string()),
        "",
    )


__all__ = [
    "AUDITD_READER", "AuditdReader", "audit_events_from_auditlog_cl", "folder_host_name", "name_unnamed_host",
    "parse_audit",
]  # fmt: skip
