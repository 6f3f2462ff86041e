"""What every reader returns: tables in the schema plus an account of every line.

The accounting rule is strict: ``lines == parsed + unparsed`` for each file, so
that nothing from a compromised host's logs disappears without being counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Protocol, cast
from zoneinfo import ZoneInfo

import pandas as pd

MAX_EXAMPLES = 5
EXAMPLE_CHARS = 300


@dataclass(frozen=True)
class ReadOptions:
    """How to read logs whose lines lack a year or a time zone.

    ``year`` overrides year inference (which otherwise uses the file's mtime);
    ``tz`` is the zone of timestamps that carry no offset (default UTC);
    ``host_name`` names the host of records that name none (raw audit.log);
    ``roots`` are the evidence roots files must lie in (None: unrestricted, the
    analyst's own machine; see hunting.evidence).
    """

    year: int | None = None
    tz: str = "UTC"
    host_name: str = ""
    roots: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.year is not None and not 1970 <= self.year <= 2100:
            raise ValueError(f"year out of range: {self.year}")
        if len(self.host_name) > 253 or not all(c.isprintable() for c in self.host_name):
            raise ValueError("host name must be at most 253 printable characters")
        ZoneInfo(self.tz)  # raises ZoneInfoNotFoundError for an unknown zone

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.tz)


@dataclass
class FileAccount:
    """Per-file ingestion accounting, shown to the user and returned by the API."""

    path: str
    format: str = "unknown"
    lines: int = 0
    parsed: int = 0
    unparsed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[int, str, str]] = field(default_factory=list)  # (line no, reason, text)
    error: str = ""  # file-level problem (unreadable, binary, ...)
    rows: dict[str, int] = field(default_factory=dict)  # table name -> rows produced
    first_time: datetime | None = None
    last_time: datetime | None = None
    host: str = ""  # host given to records that named none (raw audit.log), and why:
    host_rule: str = ""  # see hunting.readers.auditd.name_unnamed_host
    # what the reader had to assume (day/month order, a time zone) or set aside; not a failure
    notes: list[str] = field(default_factory=list)

    def reject(self, line_no: int, reason: str, text: str | bytes) -> None:
        """Count one unparsed line and keep a few examples of each reason."""
        self.unparsed += 1
        self.reasons[reason] += 1
        if (
            len(self.examples) < MAX_EXAMPLES * 4
            and sum(1 for e in self.examples if e[1] == reason) < MAX_EXAMPLES
        ):
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            self.examples.append((line_no, reason, text[:EXAMPLE_CHARS]))

    @property
    def balanced(self) -> bool:
        return self.lines == self.parsed + self.unparsed

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "lines": self.lines,
            "parsed": self.parsed,
            "unparsed": self.unparsed,
            "reasons": dict(self.reasons),
            "examples": [{"line": n, "reason": r, "text": t} for n, r, t in self.examples],
            "error": self.error,
            "rows": dict(self.rows),
            "first_time": self.first_time.isoformat() if self.first_time else None,
            "last_time": self.last_time.isoformat() if self.last_time else None,
            "host": self.host,
            "host_rule": self.host_rule,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> FileAccount:
        acc = cls(path=str(d["path"]), format=str(d["format"]))
        acc.lines = int(d["lines"])  # type: ignore[call-overload]
        acc.parsed = int(d["parsed"])  # type: ignore[call-overload]
        acc.unparsed = int(d["unparsed"])  # type: ignore[call-overload]
        acc.reasons = Counter(cast("dict[str, int]", d.get("reasons") or {}))
        acc.examples = [(e["line"], e["reason"], e["text"]) for e in d.get("examples") or []]  # type: ignore[attr-defined, index]
        acc.error = str(d.get("error") or "")
        acc.rows = dict(d.get("rows") or {})  # type: ignore[call-overload]
        acc.host = str(d.get("host") or "")
        acc.host_rule = str(d.get("host_rule") or "")
        acc.notes = [str(n) for n in d.get("notes") or []]  # type: ignore[attr-defined]
        for key in ("first_time", "last_time"):
            v = d.get(key)
            setattr(acc, key, datetime.fromisoformat(str(v)) if v else None)
        return acc


@dataclass
class ReadResult:
    """Frames keyed by schema table name (already conformed) and the accounting."""

    tables: dict[str, pd.DataFrame]
    account: FileAccount


class Reader(Protocol):
    """A reader for one format. ``sniff`` looks at the first lines only."""

    format: str

    def sniff(self, head: list[str]) -> bool: ...

    def read(self, data: bytes, path: str, mtime: float, options: ReadOptions) -> ReadResult: ...
