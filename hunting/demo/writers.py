"""Line framings exactly as rsyslog and auditd write them, plus buffered file output.

Formatting is cached per second because the benchmark scenario writes millions of
lines: building a timestamp string is the costliest step per line.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BUFFER = 1 << 20

# Syslog facility and severity numbers (RFC 5424 section 6.2.1).
FACILITY = {"kern": 0, "user": 1, "daemon": 3, "auth": 4, "syslog": 5, "cron": 9, "authpriv": 10}
SEVERITY = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
AUTH_FACILITIES = frozenset({FACILITY["auth"], FACILITY["authpriv"]})

# One syslog entry: (epoch seconds, facility, severity, app, pid or None, message).
Entry = tuple[float, int, int, str, int | None, str]


class _SecondCache:
    """Formats the whole-second part of a timestamp; the date part once per day."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.second = -1
        self.text = ""
        self.day = -1
        self.day_text = ""

    def get(self, sec: int) -> str:
        if sec != self.second:
            day, rest = divmod(sec, 86400)
            if day != self.day:
                d = datetime.fromtimestamp(day * 86400, UTC)
                self.day = day
                self.day_text = (
                    f"{_MONTHS[d.month - 1]} {d.day:2d} " if self.fmt == "bsd" else f"{d:%Y-%m-%d}T"
                )
            h, rest = divmod(rest, 3600)
            m, s = divmod(rest, 60)
            self.text = f"{self.day_text}{h:02d}:{m:02d}:{s:02d}"
            self.second = sec
        return self.text


def tag(app: str, pid: int | None) -> str:
    return f"{app}[{pid}]" if pid is not None else app


def bsd_lines(entries: Iterable[Entry], hostname: str | Sequence[tuple[float, str]]) -> Iterable[str]:
    """Ubuntu's default RSYSLOG_TraditionalFileFormat: ``Mar  5 10:22:01 host app[pid]: msg``."""
    cache = _SecondCache("bsd")
    names = _host_names(hostname)
    for ts, _fac, _sev, app, pid, msg in entries:
        t = int(ts)
        host = names(ts)
        yield f"{cache.get(t)} {host} {tag(app, pid)}: {msg}\n"


def iso_lines(entries: Iterable[Entry], hostname: str | Sequence[tuple[float, str]]) -> Iterable[str]:
    """Debian 12's rsyslog default (RSYSLOG_FileFormat): microseconds and the UTC offset."""
    cache = _SecondCache("iso")
    names = _host_names(hostname)
    for ts, _fac, _sev, app, pid, msg in entries:
        t, us = divmod(round(ts * 1e6), 1_000_000)
        yield f"{cache.get(t)}.{us:06d}+00:00 {names(ts)} {tag(app, pid)}: {msg}\n"


def rfc5424_lines(entries: Iterable[Entry], hostname: str | Sequence[tuple[float, str]]) -> Iterable[str]:
    """rsyslog's RSYSLOG_SyslogProtocol23Format.

    The template is ``<%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID%
    %MSGID% %STRUCTURED-DATA% %msg%``; rsyslog keeps the space that followed the tag
    in %msg%, hence the double space before the text.
    """
    cache = _SecondCache("iso")
    names = _host_names(hostname)
    for ts, fac, sev, app, pid, msg in entries:
        t, us = divmod(round(ts * 1e6), 1_000_000)
        procid = "-" if pid is None else str(pid)
        yield f"<{fac * 8 + sev}>1 {cache.get(t)}.{us:06d}+00:00 {names(ts)} {app} {procid} - -  {msg}\n"


def _host_names(hostname: str | Sequence[tuple[float, str]]):  # type: ignore[no-untyped-def]
    """A fixed name, or (from_time, name) steps for a host renamed during the story."""
    if isinstance(hostname, str):
        return lambda _ts: hostname
    steps = sorted(hostname)

    def name(ts: float) -> str:
        current = steps[0][1]
        for since, n in steps:
            if ts >= since:
                current = n
        return current

    return name


def write_lines(path: Path, lines: Iterable[str], *, mtime: float, compress: bool = False) -> int:
    """Write lines with large buffers; set the mtime the host would show. Returns the line count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    chunk: list[str] = []
    if compress:
        # logrotate pipes through gzip: no file name in the header, a fixed mtime keeps it reproducible.
        with (
            open(path, "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=int(mtime), filename="") as out,
        ):
            for line in lines:
                chunk.append(line)
                if len(chunk) >= 20000:
                    out.write("".join(chunk).encode())
                    count += len(chunk)
                    chunk.clear()
            out.write("".join(chunk).encode())
            count += len(chunk)
    else:
        with open(path, "w", encoding="utf-8", newline="\n", buffering=BUFFER) as f:
            for line in lines:
                chunk.append(line)
                if len(chunk) >= 20000:
                    f.write("".join(chunk))
                    count += len(chunk)
                    chunk.clear()
            f.write("".join(chunk))
            count += len(chunk)
    os.utime(path, (mtime, mtime))
    return count


def set_mtime(path: Path, mtime: float) -> None:
    os.utime(path, (mtime, mtime))
