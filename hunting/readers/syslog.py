"""Syslog text files (BSD, RFC 5424, rsyslog ISO, forward formats), parsed column-wise.

A per-line Python loop tops out near 100k lines/s, so lines are split by Arrow
and parsed with RE2 over Arrow arrays: a fast pattern for the three everyday
framings (BSD, rsyslog ISO, rsyslog RFC 5424 with ``-`` msgid and structured
data), then looser patterns for what they leave. Fast patterns keep to four
groups, the most RE2 matches in one pass, and the message is cut by byte
offset, not by regex. Each line is framed on its own, so one file may mix
framings. Choices worth knowing:

- The message starts after ``tag:`` or ``tag[pid]:`` and its leading blanks;
  a word without a colon is not taken as a tag (``Job `cron.daily' terminated``
  keeps ProcessName empty). ``proc[pid]`` without a colon (macOS) is a tag.
- Lines without a host (``Nov 18 08:30:20 kernel: ...``) are kept with Computer
  empty; ChromeOS writes a severity word where the host goes, which becomes
  SeverityLevel. RFC 5424 structured data other than ``-`` stays at the head of
  the message, a BOM before the message is dropped.
- Continuation lines of multi-line messages, NUL or control-byte junk, blank
  lines and invalid dates (Feb 29 in a common year) are counted as unparsed.
  Leading NUL runs (left by a crash before the file was synced) are dropped
  first. Invalid UTF-8 is decoded with replacement characters and still parsed.
- A line over 64 KiB is cut to 64 KiB and parsed, its message ending with
  ``…[truncated N bytes]``; if the cut line does not frame it is unparsed as
  "line too long (over 64 KiB) ...", one reason whatever the length.
- ``message repeated N times: [ ... ]`` stays one row with the text unchanged.
- Records run together without newlines (rsyslog forward format written to a
  file) are not split: the line's first header frames it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hunting.readers.base import FileAccount, ReadOptions, ReadResult
from hunting.schema import FACILITIES, SEVERITIES, SYSLOG, conform

FORMAT = "syslog"
MAX_LINE_BYTES = 64 * 1024
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Well-known programs whose facility is certain enough to fill in when the file does not say.
PROCESS_FACILITY: dict[str, str] = {
    **dict.fromkeys(
        (
            "sshd", "sshd-session", "sudo", "su", "login", "passwd", "useradd", "usermod", "userdel",
            "groupadd", "groupdel", "gpasswd", "chpasswd", "systemd-logind", "polkitd", "pkexec",
        ),
        "authpriv",
    ),
    **dict.fromkeys(("CRON", "cron", "crond", "anacron"), "cron"),
    "kernel": "kern",
}  # fmt: skip
FILE_FACILITY: dict[str, str] = {
    "auth.log": "auth",
    "secure": "authpriv",
    "cron": "cron",
    "cron.log": "cron",
    "kern.log": "kern",
    "mail.log": "mail",
    "maillog": "mail",
    "mail.err": "mail",
    "mail.warn": "mail",
    "mail.info": "mail",
    "daemon.log": "daemon",
    "user.log": "user",
}
# ChromeOS puts the severity where the host name goes.
_SEVERITY_WORDS = {
    "EMERG": 0, "ALERT": 1, "CRIT": 2, "ERR": 3, "ERROR": 3,
    "WARNING": 4, "WARN": 4, "NOTICE": 5, "INFO": 6, "DEBUG": 7,
}  # fmt: skip

# Reasons for unparsed lines.
BLANK = "blank line"
BINARY = "binary data (NUL or control bytes)"
CONTINUATION = "continuation line (no syslog header)"
NOT_SYSLOG = "not a syslog line"
TOO_LONG = "line too long (over 64 KiB) and not a syslog line"
BAD_DATE = "invalid date"
_REASONS = (BLANK, BINARY, CONTINUATION, NOT_SYSLOG, TOO_LONG, BAD_DATE)

# RE2 patterns (also valid Python ``re``). A header pattern stops where the message starts;
# the message is cut out by position (fast patterns) or by ``replace_substring_regex``
# (the others), since capturing ``.*`` triples the cost of a match.
_D2 = "[0-9]{2}"
_BSD_TS = rf"[A-Z][a-z]{{2}} [ 0-9][0-9] {_D2}:{_D2}:{_D2}"  # always 15 characters
_ISO_TS = rf"[0-9]{{4}}-{_D2}-{_D2}T{_D2}:{_D2}:{_D2}(?:\.[0-9]{{1,9}})?(?:Z|[+-]{_D2}:{_D2})"
_HOST = r"(?P<host>\S*[^\s:])"
_TAG = r"(?P<proc>[^\s\[\]:]+)(?:\[(?P<pid>[0-9]{1,10})\])?:(?:[ \t]|$)"
_LOOSE_TAG = r"(?:(?P<proc>[^\s\[\]:]+)(?:\[(?P<pid>[^\]\s]{0,20})\]:?|:)(?:[ \t]+|$))?"
_PRI = r"(?:<(?P<pri>[0-9]{1,3})>)?"
_TIME_PARTS = rf"(?P<H>{_D2}):(?P<M>{_D2}):(?P<S>{_D2})(?:\.(?P<frac>[0-9]{{1,9}}))?"

# The fast patterns are one-pass (RE2 then extracts 2x faster): hosts with a colon go the loose way.
FAST_BSD = rf"^{_BSD_TS} (?P<host>[^\s:]+) {_TAG}"
FAST_ISO = rf"^(?P<ts>{_ISO_TS}) (?P<host>[^\s:]+) {_TAG}"
# rsyslog's RFC 5424 output: NILVALUE msgid and structured data, four groups so RE2 runs one-pass.
FAST_RFC5424 = rf"^<[0-9]{{1,3}}>1 (?P<ts>{_ISO_TS}) (?P<host>\S+) (?P<proc>\S+) (?P<pid>\S+) - -(?: |$)"
RFC5424 = (
    rf"^<(?P<pri>[0-9]{{1,3}})>1 (?P<ts>{_ISO_TS}) (?P<host>\S+) (?P<proc>\S+) (?P<pid>\S+) \S+ "
    r"(?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: [ \t]*|$)"
)
LOOSE_BSD = (
    rf"^{_PRI}(?:(?P<year>[0-9]{{4}}) )?(?P<mon>[A-Z][a-z]{{2}}) {{1,2}}(?P<day>[0-9]{{1,2}}) {_TIME_PARTS} +"
    rf"(?:{_HOST} )?{_LOOSE_TAG}"
)
LOOSE_ISO = (
    rf"^{_PRI}(?P<Y>[0-9]{{4}})-(?P<m>{_D2})-(?P<d>{_D2})[T ]{_TIME_PARTS}"
    rf"(?P<tz>Z|[+-]{_D2}:?{_D2})? +(?:{_HOST} )?{_LOOSE_TAG}"
)
ISO_PARTS = rf"^(?P<Y>[0-9]{{4}})-(?P<m>{_D2})-(?P<d>{_D2})[T ]{_TIME_PARTS}(?P<tz>Z|[+-]{_D2}:?{_D2})?$"
_SNIFF = [re.compile(p) for p in (FAST_BSD, FAST_ISO, RFC5424, LOOSE_BSD, LOOSE_ISO)]


def process_facility(name: str) -> str:
    """Facility implied by a well-known program name ("" when unknown); ``/sbin/x`` and ``su(pam_unix)`` count."""
    base = name.rsplit("/", 1)[-1].split("(", 1)[0]
    return PROCESS_FACILITY.get(base, "")


def file_facility(path: str) -> str:
    """Facility implied by a log file's name, rotation suffixes (``.1``, ``.2.gz``, ``-20250301``) ignored."""
    name = PurePath(path.replace("\\", "/")).name
    while True:
        stripped = re.sub(r"(?:\.(?:gz|bz2|xz|zst)|[.-][0-9]+)$", "", name)
        if stripped == name or not stripped:
            break
        name = stripped
    return FILE_FACILITY.get(name, "")


def facility_codes(processes: pa.Array) -> np.ndarray:
    """Index into FACILITIES (len(FACILITIES) = unknown) for each process name, via the distinct names."""
    enc = pc.dictionary_encode(processes)
    lookup = [
        FACILITIES.index(f) if (f := process_facility(str(v or ""))) else len(FACILITIES)
        for v in enc.dictionary.to_pylist()
    ]
    table = np.array([*lookup, len(FACILITIES)], dtype=np.int16)
    idx = np.asarray(pc.fill_null(enc.indices, len(lookup)).to_numpy(zero_copy_only=False), dtype=np.int64)
    return table[idx]


@dataclass
class _Rows:
    """Lines one framing matched: their line numbers and fields, times in ns since the epoch."""

    idx: np.ndarray
    ns: np.ndarray  # UTC, or wall-clock time in options.zone where ``local``
    local: np.ndarray
    valid: np.ndarray  # False where the date does not exist
    host: pa.Array
    proc: pa.Array
    pid: pa.Array  # int64 with nulls
    msg: pa.Array
    pri: np.ndarray  # -1 when the line had none
    sev: np.ndarray  # severity from a ChromeOS word, -1 otherwise


def _whole(data: bytes) -> pa.LargeStringArray:
    return pa.LargeStringArray.from_buffers(
        1, pa.py_buffer(np.array([0, len(data)], dtype=np.int64)), pa.py_buffer(data)
    )


def _split_lines(data: bytes) -> pa.LargeStringArray:
    """One string per line, without the line end; the final newline does not start a line.

    Invalid UTF-8 is decoded with replacement characters first. Arrow checks
    and splits the buffer several times faster than ``bytes.decode`` or numpy.
    """
    if not data:
        return pa.array([], pa.large_string())
    whole = _whole(data)
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        whole = _whole(data.decode("utf-8", "replace").encode("utf-8"))
    lines = pc.split_pattern(whole, "\n").flatten()
    if data.endswith(b"\n"):
        lines = lines.slice(0, len(lines) - 1)
    return pc.utf8_rtrim(lines, "\r") if b"\r" in data else lines


def _ints(arr: pa.Array, default: int = -1) -> np.ndarray:
    """Digit strings from a pattern group as int64; empty (group absent) becomes ``default``."""
    empty = pc.equal(pc.binary_length(arr), 0)
    vals = pc.cast(pc.if_else(empty, "0", arr), pa.int64()).to_numpy(zero_copy_only=False)
    return np.where(empty.to_numpy(zero_copy_only=False), default, vals)


def _pids(arr: pa.Array) -> pa.Array:
    """Process ids as int64, null for ``-``, empty or non-numeric values."""
    ok = pc.match_substring_regex(arr, "^[0-9]{1,18}$")
    return pc.cast(pc.if_else(ok, arr, pa.scalar(None, arr.type)), pa.int64())


def _line_buffers(lines: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets (n + 1) and bytes of a large_string array, without copying."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    return offsets, np.frombuffer(lines.buffers()[2], dtype=np.uint8)


def _words(data: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """The 4 bytes from each ``pos`` as a little-endian uint32, zero past the buffer: one gather, not four."""
    n = len(data)
    if n >= 4:
        words = np.ndarray((n - 3,), dtype="<u4", buffer=data, strides=(1,))  # unaligned reads
        out = words[np.minimum(pos, n - 4)]
    else:
        out = np.zeros(len(pos), np.uint32)
    late = np.flatnonzero(pos > n - 4)
    if len(late):  # the last 3 bytes: read from a zero-padded copy of the tail
        m = min(n, 4)
        tail = np.zeros(8, np.uint8)
        tail[:m] = data[n - m :]
        out[late] = np.ndarray((5,), dtype="<u4", buffer=tail, strides=(1,))[
            np.minimum(pos[late] - (n - m), 4)
        ]
    return out


def _skip_blanks(data: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Move ``start`` past up to 16 leading spaces and tabs, in place, four bytes a round.

    Returns the rows that may have more, for an Arrow trim, rather than
    looping over a hostile line.
    """
    todo = np.flatnonzero(length > 0)
    for _ in range(4):
        word, room = _words(data, start[todo]), length[todo]
        run = np.ones(len(todo), bool)
        count = np.zeros(len(todo), np.int64)
        for i in range(4):
            byte = (word >> np.uint32(8 * i)) & np.uint32(0xFF)
            run &= ((byte == 32) | (byte == 9)) & (room > i)
            count += run
        start[todo] += count
        length[todo] -= count
        todo = todo[count == 4]
        if not len(todo):
            break
    return todo


def _skip_boms(data: np.ndarray, start: np.ndarray, length: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """Move ``start`` past up to 8 leading byte order marks except in rows ``skip``; returns rows as above."""
    room = length >= 3
    room[skip] = False
    todo = np.flatnonzero(room)
    for _ in range(8):
        bom = (_words(data, start[todo]) & np.uint32(0xFFFFFF)) == 0xBFBBEF  # EF BB BF
        todo = todo[bom & (length[todo] >= 3)]
        start[todo] += 3
        length[todo] -= 3
        if not len(todo):
            break
    return todo


def _tails(lines: pa.Array, skip: np.ndarray, bom: bool = False) -> pa.Array:
    """Each line from byte ``skip`` on, blanks (then BOMs if ``bom``) dropped: views into the line buffer, one copy.

    This is what keeps the message out of the regex: capturing ``.*`` or
    deleting the header with a regex replace costs as much as the header match.
    The trims run on the start offsets, as an Arrow trim would copy every message again.
    """
    offsets, data = _line_buffers(lines)
    start = offsets[:-1] + skip
    length = offsets[1:] - start
    more_blanks = _skip_blanks(data, start, length)
    more_boms = _skip_boms(data, start, length, more_blanks) if bom else more_blanks[:0]
    length = length.astype(np.int32)
    views = np.zeros((len(start), 4), dtype=np.int32)  # length, prefix, buffer index, offset
    views[:, 0] = length
    long = np.flatnonzero(length > 12)
    views[long, 1] = _words(data, start[long]).view(np.int32)
    views[long, 3] = start[long]
    short = np.flatnonzero(length <= 12)
    if len(short):  # strings of up to 12 bytes live inside the view
        k = np.arange(12)
        chars = data[np.minimum(start[short, None] + k, len(data) - 1)]
        inline = np.where(k < length[short, None], chars, 0).astype(np.uint8)
        views.view(np.uint8).reshape(-1, 16)[short, 4:] = inline
    arr = pa.Array.from_buffers(pa.string_view(), len(start), [None, pa.py_buffer(views), lines.buffers()[2]])
    out = arr.cast(pa.large_string())
    if len(more_blanks) or len(more_boms):  # finish the few rows with long runs in Arrow
        blanks = pc.utf8_ltrim(out.take(more_blanks), " \t")
        redo = [
            pc.utf8_ltrim(blanks, "\ufeff") if bom else blanks,
            pc.utf8_ltrim(out.take(more_boms), "\ufeff"),
        ]
        rows = np.concatenate([more_blanks, more_boms])
        order = np.argsort(rows, kind="stable")
        mask = np.zeros(len(out), bool)
        mask[rows] = True
        out = pc.replace_with_mask(out, pa.array(mask), pa.concat_arrays(redo).take(order))
    return out


def _civil_ns(
    year: np.ndarray,
    month: np.ndarray,
    day: np.ndarray,
    h: np.ndarray,
    m: np.ndarray,
    s: np.ndarray,
    frac: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Calendar fields to ns since the epoch, plus a mask of dates that exist (days_from_civil, H. Hinnant)."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)]
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days + ((month == 2) & leap))
    valid &= (year >= 1) & (h < 24) & (m < 60) & (s <= 60)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    secs = days * 86400 + h * 3600 + m * 60 + s
    return np.where(valid, secs * 1_000_000_000 + frac, 0), valid


def _frac_ns(arr: pa.Array) -> np.ndarray:
    return _ints(pc.utf8_rpad(arr, 9, "0"), 0)


def _bsd_years(months: np.ndarray, options: ReadOptions, mtime: float) -> np.ndarray:
    """The year of lines that lack one: options.year, else the mtime's year (previous one for later months)."""
    if options.year is not None:
        return np.full(len(months), options.year, dtype=np.int64)
    try:
        ref = datetime.fromtimestamp(mtime, options.zone)
    except (OverflowError, OSError, ValueError):
        ref = datetime.now(options.zone)
    return np.where(months > ref.month, ref.year - 1, ref.year).astype(np.int64)


def _month_numbers(names: pa.Array) -> np.ndarray:
    found = pc.fill_null(pc.index_in(names, value_set=pa.array(MONTHS)), -1)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64) + 1


def _chromeos(host: pa.Array, pri: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """A severity word in the host position (ChromeOS) becomes the severity; the host is then unknown."""
    enc = pc.dictionary_encode(host)
    words = [_SEVERITY_WORDS.get(str(v), -1) for v in enc.dictionary.to_pylist()]
    if max(words, default=-1) < 0:
        return host, np.full(len(host), -1, dtype=np.int16)
    sev = np.array(words, dtype=np.int16)[enc.indices.to_numpy(zero_copy_only=False)]
    sev = np.where(pri < 0, sev, -1)
    return pc.if_else(pa.array(sev >= 0), "", host), sev


_MONTH_KEYS = np.array(sorted((int.from_bytes(m.encode(), "big"), i + 1) for i, m in enumerate(MONTHS)))


def _fast_bsd(lines: pa.Array, opts: ReadOptions, mtime: float) -> dict[str, object]:
    """Times of lines that start with the 15 characters ``Mar  5 10:22:01``, read straight from the bytes."""
    offsets, data = _line_buffers(lines)
    c = data[offsets[:-1, None] + np.arange(15)].astype(np.int64)
    keys = c[:, 0] << 16 | c[:, 1] << 8 | c[:, 2]
    pos = np.clip(np.searchsorted(_MONTH_KEYS[:, 0], keys), 0, 11)
    month = np.where(_MONTH_KEYS[pos, 0] == keys, _MONTH_KEYS[pos, 1], 0)
    c -= 48
    day = np.where(c[:, 4] < 0, 0, c[:, 4]) * 10 + c[:, 5]  # "Mar  5": a space pads the day
    ns, valid = _civil_ns(
        _bsd_years(month, opts, mtime), month, day,
        c[:, 7] * 10 + c[:, 8], c[:, 10] * 10 + c[:, 11], c[:, 13] * 10 + c[:, 14], np.zeros(len(c), np.int64),
    )  # fmt: skip
    return {"ns": ns, "valid": valid, "local": np.ones(len(c), bool)}


def _iso_cast(st: pa.StructArray) -> dict[str, object]:
    """ISO times with an offset; an impossible one (month 13, second 60) sends all through the field path."""
    try:
        ns = (
            pc.cast(st.field("ts"), pa.timestamp("ns", "UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
        )
    except pa.ArrowInvalid:
        return _loose_iso(pc.extract_regex(st.field("ts"), ISO_PARTS))
    return {"ns": ns, "valid": np.ones(len(ns), bool), "local": np.zeros(len(ns), bool)}


def _loose_bsd(st: pa.StructArray, opts: ReadOptions, mtime: float) -> dict[str, object]:
    month = _month_numbers(st.field("mon"))
    year = _ints(st.field("year"))
    year = np.where(year < 0, _bsd_years(month, opts, mtime), year)
    ns, valid = _civil_ns(
        year, month, _ints(st.field("day")), _ints(st.field("H")), _ints(st.field("M")), _ints(st.field("S")),
        _frac_ns(st.field("frac")),
    )  # fmt: skip
    return {"ns": ns, "valid": valid, "local": np.ones(len(ns), bool)}


def _loose_iso(st: pa.StructArray) -> dict[str, object]:
    f = st.field
    ns, valid = _civil_ns(
        _ints(f("Y")),
        _ints(f("m")),
        _ints(f("d")),
        _ints(f("H")),
        _ints(f("M")),
        _ints(f("S")),
        _frac_ns(f("frac")),
    )
    tz = pc.replace_substring(f("tz"), ":", "")  # "", "Z", "+0530"
    local = pc.equal(pc.binary_length(tz), 0).to_numpy(zero_copy_only=False)
    sign = np.where(pc.starts_with(tz, "-").to_numpy(zero_copy_only=False), -1, 1)
    hh = _ints(pc.utf8_slice_codeunits(tz, 1, 3), 0)
    mm = _ints(pc.utf8_slice_codeunits(tz, 3, 5), 0)
    ns = ns - sign * (hh * 60 + mm) * 60_000_000_000
    return {"ns": ns, "valid": valid, "local": local}


def _rfc5424_msg(st: pa.StructArray, msg: pa.Array) -> pa.Array:
    msg = pc.utf8_ltrim(msg, "\ufeff")
    sd = st.field("sd")
    with_sd = pc.if_else(pc.equal(msg, ""), sd, pc.binary_join_element_wise(sd, msg, pa.scalar(" ", sd.type)))
    return pc.if_else(pc.equal(sd, "-"), msg, with_sd)


def _nil(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, "-"), "", arr)


def _lengths(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.binary_length(arr).to_numpy(zero_copy_only=False), dtype=np.int64)


def _tag_end(st: pa.StructArray) -> np.ndarray:
    """Bytes of ``proc[pid]:`` in a fast-pattern match."""
    pid = _lengths(st.field("pid"))
    return _lengths(st.field("proc")) + np.where(pid > 0, pid + 2, 0) + 1


def _leading_bytes(lines: pa.Array) -> np.ndarray:
    """First byte of each line (0 for an empty one)."""
    offsets, data = _line_buffers(lines)
    if not len(data):
        return np.zeros(len(lines), dtype=np.uint8)
    first = data[np.minimum(offsets[:-1], len(data) - 1)]
    return np.where(offsets[1:] > offsets[:-1], first, 0)


def _byte_set(chars: str) -> np.ndarray:
    table = np.zeros(256, bool)
    table[[ord(c) for c in chars]] = True
    return table


# The first byte each fast framing requires, to skip its pass when no line could match.
_LEADS = {
    "fast_bsd": _byte_set("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "fast_iso": _byte_set("0123456789"),
    "fast_rfc": _byte_set("<"),
    "rfc5424": _byte_set("<"),
}


def _fast_pri(lines: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """PRI value and digit count of lines known to start ``<d>``, ``<dd>`` or ``<ddd>``."""
    offsets, data = _line_buffers(lines)
    word = _words(data, offsets[:-1]).astype(np.int64)  # "<", digit, digit or ">", digit or ">"
    d1, d2, d3 = ((word >> shift & 0xFF) - 48 for shift in (8, 16, 24))
    one, two = d2 == ord(">") - 48, d3 == ord(">") - 48
    pri = np.where(one, d1, np.where(two, d1 * 10 + d2, d1 * 100 + d2 * 10 + d3))
    return pri, np.where(one, 1, np.where(two, 2, 3))


_FRAMINGS = (
    ("fast_bsd", FAST_BSD),
    ("fast_iso", FAST_ISO),
    ("fast_rfc", FAST_RFC5424),
    ("rfc5424", RFC5424),
    ("bsd", LOOSE_BSD),
    ("iso", LOOSE_ISO),
)
# Views address the line buffer with int32 offsets; beyond that the message comes from a regex replace.
_VIEW_LIMIT = 2**31 - 1


def _frame(
    lines: pa.Array, idx: np.ndarray, opts: ReadOptions, mtime: float
) -> tuple[list[_Rows], np.ndarray]:
    """Apply each framing to the lines the previous ones left; return matches and the unmatched line numbers."""
    found: list[_Rows] = []
    leads = _leading_bytes(lines)
    for name, pattern in _FRAMINGS:
        if not len(idx):
            break
        if name in _LEADS and not _LEADS[name][leads[idx]].any():
            continue  # no line starts the way this framing must: skip a pass over the file
        st = pc.extract_regex(lines, pattern)
        ok = pc.is_valid(st)
        ok_np = ok.to_numpy(zero_copy_only=False)
        if not ok_np.any():
            continue
        every = bool(ok_np.all())
        st = st if every else pc.filter(st, ok)
        hit = lines if every else pc.filter(lines, ok)
        pri = np.full(len(st), -1, dtype=np.int64)
        host, proc = st.field("host"), st.field("proc")
        fast = name.startswith("fast") and len(hit.buffers()[2]) < _VIEW_LIMIT
        if name == "fast_bsd":
            cols = _fast_bsd(hit, opts, mtime)
            skip = 16 + _lengths(host) + 1 + _tag_end(st)
        elif name == "fast_iso":
            cols = _iso_cast(st)
            skip = _lengths(st.field("ts")) + 1 + _lengths(host) + 1 + _tag_end(st)
        elif name == "fast_rfc":
            cols = _iso_cast(st)
            pri, pri_len = _fast_pri(hit)
            ts_len, pid_len = _lengths(st.field("ts")), _lengths(st.field("pid"))
            # "<" pri ">1 " ts " " host " " proc " " pid " - -": the message follows, blanks first
            skip = pri_len + 4 + ts_len + 1 + _lengths(host) + 1 + _lengths(proc) + 1 + pid_len + 4
            host, proc = _nil(host), _nil(proc)
        elif name == "rfc5424":
            cols = _iso_cast(st)
            pri = _ints(st.field("pri"))
            host, proc = _nil(host), _nil(proc)
        elif name == "bsd":
            cols = _loose_bsd(st, opts, mtime)
            pri = _ints(st.field("pri"))
        else:
            cols = _loose_iso(st)
            pri = _ints(st.field("pri"))
        if fast:
            msg = _tails(hit, skip, bom=name == "fast_rfc")
        else:
            msg = pc.utf8_ltrim(pc.replace_substring_regex(hit, pattern, "", max_replacements=1), " \t")
        if name == "rfc5424":
            msg = _rfc5424_msg(st, msg)
        elif name == "fast_rfc" and not fast:
            msg = pc.utf8_ltrim(msg, "\ufeff")  # structured data is "-": only the BOM to drop
        sev = np.full(len(st), -1, dtype=np.int16)
        if name in ("fast_iso", "iso"):
            host, sev = _chromeos(host, pri)
        pid = _pids(st.field("pid"))
        found.append(_Rows(idx=idx[ok_np], host=host, proc=proc, pid=pid, msg=msg, pri=pri, sev=sev, **cols))  # type: ignore[arg-type]
        if every:
            idx = idx[:0]
            break
        lines = pc.filter(lines, pc.invert(ok))
        idx = idx[~ok_np]
    return found, idx


def _to_utc(ns: np.ndarray, local: np.ndarray, opts: ReadOptions) -> np.ndarray:
    """Wall-clock times in options.zone to UTC; a repeated DST hour is inferred from order, else taken as DST."""
    if opts.tz == "UTC" or not local.any():
        return ns
    wall = pd.DatetimeIndex(ns[local].view("datetime64[ns]"))
    try:
        aware = wall.tz_localize(opts.zone, ambiguous="infer", nonexistent="shift_forward")
    except ValueError:
        aware = wall.tz_localize(opts.zone, ambiguous=np.ones(len(wall), bool), nonexistent="shift_forward")
    out = ns.copy()
    out[local] = aware.tz_convert("UTC").asi8
    return out


def _names(codes: np.ndarray, names: tuple[str, ...]) -> pd.arrays.ArrowStringArray:
    dictionary = pa.array([*names, ""], pa.large_string())
    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), dictionary)
    return pd.arrays.ArrowStringArray(pc.cast(arr, pa.large_string()))


def _text(arr: pa.Array) -> pd.arrays.ArrowStringArray:
    return pd.arrays.ArrowStringArray(pc.cast(arr, pa.large_string()))


class SyslogReader:
    """Every syslog framing of a line; see the module docstring for the choices made."""

    format = FORMAT

    def sniff(self, head: list[str]) -> bool:
        hits = sum(1 for line in head if any(p.match(line) for p in _SNIFF))
        return hits > 0 and 2 * hits >= len(head)

    def read(self, data: bytes, path: str, mtime: float, options: ReadOptions) -> ReadResult:
        account = FileAccount(path=path, format=FORMAT)
        lines = _split_lines(data)
        n = len(lines)
        account.lines = n
        if not n:
            account.rows[SYSLOG.name] = 0
            return ReadResult(tables={SYSLOG.name: SYSLOG.empty()}, account=account)
        if b"\x00" in data:
            lines = pc.utf8_ltrim(lines, "\x00")
        lengths = pc.binary_length(lines).to_numpy(zero_copy_only=False)
        cut = np.flatnonzero(lengths > MAX_LINE_BYTES)
        if len(cut):
            short = [
                s.encode()[:MAX_LINE_BYTES].decode("utf-8", "ignore") for s in pc.take(lines, cut).to_pylist()
            ]
            mask = np.zeros(n, bool)
            mask[cut] = True
            lines = pc.replace_with_mask(lines, pa.array(mask), pa.array(short, pa.large_string()))

        found, missed = _frame(lines, np.arange(n, dtype=np.int64), options, mtime)
        status = np.zeros(n, dtype=np.int8)  # 0 parsed, else 1 + index into _REASONS
        self._classify(lines, missed, lengths, status)
        df = self._frame_rows(found, lines, lengths, path, options, status)
        for code, reason in enumerate(_REASONS, start=1):
            where = np.flatnonzero(status == code)
            if len(where):
                texts = pc.take(lines, where[:5]).to_pylist()
                for i, text in zip(where[:5], texts, strict=True):
                    account.reject(int(i) + 1, reason, text)
                account.unparsed += len(where) - len(texts)
                account.reasons[reason] += len(where) - len(texts)
        account.parsed = len(df)
        account.rows[SYSLOG.name] = len(df)
        if len(df):
            times = df["TimeGenerated"]
            account.first_time = times.min().to_pydatetime(warn=False)  # datetime has no ns: truncated
            account.last_time = times.max().to_pydatetime(warn=False)
        return ReadResult(tables={SYSLOG.name: df}, account=account)

    @staticmethod
    def _classify(lines: pa.Array, missed: np.ndarray, lengths: np.ndarray, status: np.ndarray) -> None:
        """Give each line no framing matched a reason."""
        if not len(missed):
            return
        text = pc.take(lines, missed)
        blank = pc.equal(pc.binary_length(pc.utf8_trim_whitespace(text)), 0).to_numpy(zero_copy_only=False)
        binary = pc.match_substring_regex(text, "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]").to_numpy(
            zero_copy_only=False
        )
        indented = pc.match_substring_regex(text, "^[ \t]").to_numpy(zero_copy_only=False)
        code = np.full(len(missed), _REASONS.index(NOT_SYSLOG) + 1, dtype=np.int8)
        code[lengths[missed] > MAX_LINE_BYTES] = _REASONS.index(TOO_LONG) + 1
        code[indented] = _REASONS.index(CONTINUATION) + 1
        code[binary] = _REASONS.index(BINARY) + 1
        code[blank] = _REASONS.index(BLANK) + 1
        status[missed] = code

    @staticmethod
    def _frame_rows(
        found: list[_Rows],
        lines: pa.Array,
        lengths: np.ndarray,
        path: str,
        opts: ReadOptions,
        status: np.ndarray,
    ) -> pd.DataFrame:
        """Join the framings' rows in file order and build the Syslog frame."""
        if not found:
            return SYSLOG.empty()
        idx = np.concatenate([r.idx for r in found])
        order = None if len(found) == 1 else np.argsort(idx, kind="stable")

        def cat(arrays: list[pa.Array]) -> pa.Array:
            if len(arrays) == 1:  # concatenating would copy every message
                return arrays[0]
            arr = pa.concat_arrays([a.cast(arrays[0].type) for a in arrays])
            return arr if order is None else pc.take(arr, order)

        def cat_np(arrays: list[np.ndarray]) -> np.ndarray:
            arr = np.concatenate(arrays)
            return arr if order is None else arr[order]

        idx = cat_np([r.idx for r in found])
        valid = cat_np([r.valid for r in found])
        status[idx[~valid]] = _REASONS.index(BAD_DATE) + 1
        keep = None if valid.all() else pa.array(valid)

        def sel(arr: pa.Array) -> pa.Array:
            return arr if keep is None else pc.filter(arr, keep)

        idx, ns, local = (
            idx[valid],
            cat_np([r.ns for r in found])[valid],
            cat_np([r.local for r in found])[valid],
        )
        pri, sev = cat_np([r.pri for r in found])[valid], cat_np([r.sev for r in found])[valid]
        host, proc = sel(cat([r.host for r in found])), sel(cat([r.proc for r in found]))
        pid, msg = sel(cat([r.pid for r in found])), sel(cat([r.msg for r in found]))

        cut = np.flatnonzero(lengths[idx] > MAX_LINE_BYTES)
        if len(cut):
            marks = [
                f"{m}…[truncated {int(lengths[idx[i]]) - len(lines[int(idx[i])].as_py().encode())} bytes]"
                for i, m in zip(cut, pc.take(msg, cut).to_pylist(), strict=True)
            ]
            mask = np.zeros(len(msg), bool)
            mask[cut] = True
            msg = pc.replace_with_mask(msg, pa.array(mask), pa.array(marks, msg.type))

        by_file = file_facility(path)
        default = (
            np.full(len(idx), FACILITIES.index(by_file), np.int16)
            if by_file
            else facility_codes(proc).astype(np.int16)
        )
        has_pri = (pri >= 0) & (pri <= 191)
        facility = np.where(has_pri, pri >> 3, default)
        severity = np.where(has_pri, pri & 7, np.where(sev >= 0, sev, len(SEVERITIES)))

        times = pd.DatetimeIndex(_to_utc(ns, local, opts).view("datetime64[ns]")).tz_localize("UTC")
        pid_np = pc.fill_null(pid, 0).to_numpy(zero_copy_only=False)
        pid_na = pc.is_null(pid).to_numpy(zero_copy_only=False)
        df = pd.DataFrame(
            {
                "TimeGenerated": times,
                "Computer": _text(host),
                "HostName": _text(host),
                "Facility": _names(facility, FACILITIES),
                "SeverityLevel": _names(severity, SEVERITIES),
                "ProcessName": _text(proc),
                "ProcessID": pd.arrays.IntegerArray(pid_np.astype(np.int64), pid_na),
                "SyslogMessage": _text(msg),
                "HostIP": pd.arrays.ArrowStringArray(pa.repeat("", len(idx)).cast(pa.large_string())),
            }
        )
        return conform(df, SYSLOG)


SYSLOG_READER = SyslogReader()
