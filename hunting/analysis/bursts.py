"""Command bursts: a user or host issuing many commands in a few seconds.

Humans type a few commands a minute; scripts dropped by an intruder (or a
pasted block of reconnaissance) issue dozens a second. A burst is a run of at
least ``n`` commands from one group in which each ``n`` consecutive commands fit
in ``seconds``; windows that share a command merge into one burst.

The window is inclusive: ``n`` commands whose first and last are exactly
``seconds`` apart form a burst.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from hunting.schema import to_utc


class _Bursts(NamedTuple):
    order: np.ndarray  # input positions of the timed events, sorted by group then time
    first: np.ndarray  # per burst: first index into ``order``
    last: np.ndarray  # per burst: last index into ``order``
    ns: np.ndarray  # times (ns since epoch) in ``order``


def _find(
    events: pd.DataFrame, time_col: str, group_cols: tuple[str, ...], n: int, seconds: float
) -> _Bursts:
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    if not np.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a non-negative number, not {seconds}")
    missing = [c for c in (time_col, *group_cols) if c not in events.columns]
    if missing:
        raise ValueError(f"events lack column(s): {', '.join(missing)}")

    times = to_utc(events[time_col].reset_index(drop=True))
    timed = np.flatnonzero(times.notna().to_numpy())  # an event without a time fits no window
    ns = times.iloc[timed].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if group_cols:
        keys = events.iloc[timed][list(group_cols)]
        group = keys.groupby(list(group_cols), sort=False, dropna=False).ngroup().to_numpy()
    else:
        group = np.zeros(len(timed), dtype=np.int64)
    sort = np.lexsort((ns, group))  # by group, then time; stable for equal times
    order, ns, group = timed[sort], ns[sort], group[sort]

    empty = np.array([], dtype=np.int64)
    if len(order) < n:
        return _Bursts(order, empty, empty, ns)
    first = np.arange(len(order) - n + 1)  # window i covers sorted events i .. i + n - 1
    last = first + (n - 1)
    starts = first[(group[first] == group[last]) & (ns[last] - ns[first] <= round(seconds * 1e9))]
    if not len(starts):
        return _Bursts(order, empty, empty, ns)
    new = np.ones(len(starts), dtype=bool)
    new[1:] = starts[1:] > starts[:-1] + (n - 1)  # no shared event with the previous window
    ends = np.append(starts[np.flatnonzero(new)[1:] - 1], starts[-1]) + (n - 1)
    return _Bursts(order, starts[new], ends, ns)


def command_bursts(
    events: pd.DataFrame,
    *,
    time_col: str = "TimeGenerated",
    group_cols: Sequence[str] = ("Computer", "User"),
    n: int = 10,
    seconds: float = 5.0,
) -> pd.DataFrame:
    """Bursts of at least ``n`` commands within ``seconds`` per group, earliest first.

    Columns: the group columns, Start, End (UTC), Commands (count) and Rows (the
    input index labels of the burst's commands in time order). Input order does
    not matter; events without a time are ignored.
    """
    cols = tuple(group_cols)
    found = _find(events, time_col, cols, n, seconds)
    at_first = found.order[found.first]
    out = pd.DataFrame({c: events[c].iloc[at_first].reset_index(drop=True) for c in cols})
    out["Start"] = pd.Series(found.ns[found.first].astype("datetime64[ns]")).dt.tz_localize("UTC")
    out["End"] = pd.Series(found.ns[found.last].astype("datetime64[ns]")).dt.tz_localize("UTC")
    out["Commands"] = pd.array(found.last - found.first + 1, dtype="Int64")
    labels = events.index
    out["Rows"] = [
        labels[found.order[a : b + 1]].tolist() for a, b in zip(found.first, found.last, strict=True)
    ]
    return out.sort_values(["Start", *cols], kind="stable").reset_index(drop=True)


def flag_rows_in_bursts(
    events: pd.DataFrame,
    *,
    time_col: str = "TimeGenerated",
    group_cols: Sequence[str] = ("Computer", "User"),
    n: int = 10,
    seconds: float = 5.0,
) -> pd.Series:
    """True for each event that belongs to a burst, aligned with ``events.index``."""
    found = _find(events, time_col, tuple(group_cols), n, seconds)
    depth = np.zeros(len(found.order) + 1, dtype=np.int64)
    np.add.at(depth, found.first, 1)
    np.add.at(depth, found.last + 1, -1)
    flags = np.zeros(len(events), dtype=bool)
    flags[found.order] = np.cumsum(depth[:-1]) > 0
    return pd.Series(flags, index=events.index, name="InBurst")
