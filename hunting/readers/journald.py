"""``journalctl -o json`` exports: one JSON object per line, read into the Syslog table.

journalctl writes every field as a string, except a value that is not valid
UTF-8 (an array of byte values), a field set several times in one entry (an
array of values) and a value over 4096 bytes without ``--all`` (``null``, read
here as an empty message). Times are ``__REALTIME_TIMESTAMP`` (µs since the
epoch, UTC), so the year and zone options do not apply. ``json-seq`` output
(records led by 0x1E) reads the same.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from hunting.readers.base import FileAccount, ReadOptions, ReadResult
from hunting.readers.syslog import process_facility
from hunting.schema import FACILITIES, SEVERITIES, SYSLOG, conform

FORMAT = "journald-json"
BLANK = "blank line"
INVALID = "invalid JSON"
NOT_OBJECT = "JSON value is not an object"
NO_TIME = "no __REALTIME_TIMESTAMP"
BAD_TIME = "invalid __REALTIME_TIMESTAMP"
_MAX_US = 4_102_444_800_000_000  # 2100-01-01: later "times" are corrupt, and overflow ns


def _text(value: Any) -> str:
    """A journal field as text: byte arrays decoded with replacement, repeated fields joined by newlines."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        if value and all(isinstance(b, int) and 0 <= b <= 255 for b in value):
            return bytes(value).decode("utf-8", "replace")
        return "\n".join(_text(v) for v in value)
    return str(value)


def _small_int(value: Any) -> int | None:
    """A non-negative integer field (ids, priorities, times), None when absent or not a number."""
    text = value if isinstance(value, str) else _text(value)
    if not (text.isascii() and text.isdigit()):
        text = text.strip()
        if not (text.isascii() and text.isdigit()):
            return None
    return int(text) if len(text) < 19 else None


class JournaldReader:
    """Entries of a journal JSON export; every line is one entry or one counted rejection."""

    format = FORMAT

    def sniff(self, head: list[str]) -> bool:
        hits = 0
        for line in head:
            try:
                entry = json.loads(line.lstrip("\x1e"))
            except ValueError:
                continue
            if isinstance(entry, dict) and ("__REALTIME_TIMESTAMP" in entry or "__CURSOR" in entry):
                hits += 1
        return hits > 0 and 2 * hits >= len(head)

    def read(self, data: bytes, path: str, mtime: float, options: ReadOptions) -> ReadResult:
        account = FileAccount(path=path, format=FORMAT)
        raw_lines = data.decode("utf-8", "replace").split("\n")
        if raw_lines and raw_lines[-1] == "":
            raw_lines.pop()  # the final newline ends the last line, it does not start one
        account.lines = len(raw_lines)
        times: list[int] = []
        hosts: list[str] = []
        procs: list[str] = []
        pids: list[int | None] = []
        severities: list[str] = []
        facilities: list[str] = []
        messages: list[str] = []
        loads = json.loads
        for no, raw in enumerate(raw_lines, start=1):
            try:
                entry = loads(raw)
            except ValueError:
                line = raw.strip().lstrip("\x1e")
                if not line:
                    account.reject(no, BLANK, raw)
                    continue
                try:
                    entry = loads(line)
                except ValueError:
                    account.reject(no, INVALID, raw)
                    continue
            if not isinstance(entry, dict):
                account.reject(no, NOT_OBJECT, raw)
                continue
            stamp = entry.get("__REALTIME_TIMESTAMP")
            if stamp is None:
                account.reject(no, NO_TIME, raw)
                continue
            us = _small_int(stamp)
            if us is None or us > _MAX_US:
                account.reject(no, BAD_TIME, raw)
                continue
            proc = _text(entry.get("SYSLOG_IDENTIFIER") or entry.get("_COMM"))
            pri = _small_int(entry.get("PRIORITY"))
            fac = _small_int(entry.get("SYSLOG_FACILITY"))
            times.append(us * 1000)
            hosts.append(_text(entry.get("_HOSTNAME")))
            procs.append(proc)
            pids.append(_small_int(entry.get("_PID") or entry.get("SYSLOG_PID")))
            severities.append(SEVERITIES[pri] if pri is not None and pri < 8 else "")
            facilities.append(
                FACILITIES[fac] if fac is not None and fac < len(FACILITIES) else process_facility(proc)
            )
            messages.append(_text(entry.get("MESSAGE")))
        account.parsed = len(times)
        stamps = pd.DatetimeIndex(np.array(times, dtype=np.int64).view("datetime64[ns]")).tz_localize("UTC")
        df = pd.DataFrame(
            {
                "TimeGenerated": stamps,
                "Computer": hosts,
                "HostName": hosts,
                "Facility": facilities,
                "SeverityLevel": severities,
                "ProcessName": procs,
                "ProcessID": pd.array(pids, dtype="Int64"),
                "SyslogMessage": messages,
                "HostIP": [""] * len(times),
            }
        )
        df = conform(df, SYSLOG)
        account.rows[SYSLOG.name] = len(df)
        if len(df):
            account.first_time = stamps.min().to_pydatetime()
            account.last_time = stamps.max().to_pydatetime()
        return ReadResult(tables={SYSLOG.name: df}, account=account)


JOURNALD_READER = JournaldReader()
