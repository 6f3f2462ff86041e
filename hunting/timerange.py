"""The hunting window: always tz-aware UTC, validated once so no query gets a bad range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

# The notebook's bounds around a reference time: 20 days back, 1 day forward.
MAX_BACK = timedelta(days=20)
MAX_FORWARD = timedelta(days=1)


def as_utc(value: datetime | pd.Timestamp | str) -> datetime:
    """A tz-aware UTC datetime; naive inputs are taken to be UTC (never local time)."""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


@dataclass(frozen=True)
class TimeRange:
    """Half-open interval [start, end) in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start))
        object.__setattr__(self, "end", as_utc(self.end))
        if self.end <= self.start:
            raise ValueError(
                f"time range end {self.end.isoformat()} is not after start {self.start.isoformat()}"
            )

    @classmethod
    def around(cls, center: datetime, before: timedelta, after: timedelta) -> TimeRange:
        c = as_utc(center)
        return cls(c - before, c + after)

    @classmethod
    def last(cls, delta: timedelta, *, now: datetime | None = None) -> TimeRange:
        end = as_utc(now or datetime.now(UTC))
        return cls(end - delta, end)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def clamp(self, reference: datetime) -> TimeRange:
        """Keep the range within the notebook's bounds around ``reference``."""
        ref = as_utc(reference)
        start = max(self.start, ref - MAX_BACK)
        end = min(self.end, ref + MAX_FORWARD)
        if end <= start:
            return TimeRange(ref - timedelta(days=1), ref)
        return TimeRange(start, end)

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M} UTC"
