"""A least-recently-used cache bounded by bytes, not by entry count.

Why: on a busy host one fetched frame is hundreds of megabytes while another is a few
rows, so "64 entries" says nothing about memory. Entries are sized once when stored
(``DataFrame.memory_usage(deep=True)``, recursively through dataclasses, tuples, lists
and dicts) and the least recently used are dropped until the total fits the budget.
Values are shared, not copied: callers treat them as read-only (pandas' copy-on-write
makes a shallow copy of a frame safe to change).

Plain Python (no Streamlit): ``ui.context`` keeps one instance per server process.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_BUDGET_MB = 1024
ENV_BUDGET = "HUNTING_CACHE_MB"
_MAX_DEPTH = 6


def budget_bytes(env: dict[str, str] | None = None) -> int:
    """The cache budget: ``$HUNTING_CACHE_MB`` megabytes (a positive number), else 1024 MB."""
    raw = (env if env is not None else os.environ).get(ENV_BUDGET, "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_BUDGET_MB
    except ValueError:
        mb = DEFAULT_BUDGET_MB
    if not mb > 0:
        mb = DEFAULT_BUDGET_MB
    return int(mb * 1024 * 1024)


def estimate_bytes(value: Any, _depth: int = 0) -> int:
    """Approximate memory held by ``value``: frames and series by their deep memory usage,
    containers and dataclasses by the sum of their parts (to a small depth)."""
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(deep=True, index=True).sum())
    if isinstance(value, pd.Series | pd.Index):
        return int(value.memory_usage(deep=True))
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, str | bytes):
        return sys.getsizeof(value)
    if _depth >= _MAX_DEPTH:
        return sys.getsizeof(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sys.getsizeof(value) + sum(
            estimate_bytes(getattr(value, f.name), _depth + 1) for f in dataclasses.fields(value)
        )
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(
            estimate_bytes(k, _depth + 1) + estimate_bytes(v, _depth + 1) for k, v in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return sys.getsizeof(value) + sum(estimate_bytes(v, _depth + 1) for v in value)
    return sys.getsizeof(value)


@dataclasses.dataclass
class _Entry:
    value: Any
    size: int
    stored: float


class ByteLRU:
    """Thread-safe LRU whose bound is a total of estimated bytes.

    An entry larger than the whole budget is returned to its caller but not kept. ``ttl``
    (seconds) drops entries older than that on access. :meth:`get_or_compute` computes a
    missing key once even when several threads ask for it at the same time.
    """

    def __init__(
        self, budget: int, *, ttl: float | None = None, sizer: Callable[[Any], int] = estimate_bytes
    ):
        self.budget = int(budget)
        self.ttl = ttl
        self._sizer = sizer
        self._data: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.total = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return self._live(key) is not None

    def _live(self, key: Hashable) -> _Entry | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if self.ttl is not None and time.monotonic() - entry.stored > self.ttl:
            self._drop(key)
            return None
        return entry

    def _drop(self, key: Hashable) -> None:
        entry = self._data.pop(key)
        self.total -= entry.size

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            entry = self._live(key)
            if entry is None:
                self.misses += 1
                return default
            self.hits += 1
            self._data.move_to_end(key)
            return entry.value

    def put(self, key: Hashable, value: Any, size: int | None = None) -> None:
        size = self._sizer(value) if size is None else int(size)
        with self._lock:
            if key in self._data:
                self._drop(key)
            if size > self.budget:
                return
            self._data[key] = _Entry(value, size, time.monotonic())
            self.total += size
            while self.total > self.budget:
                oldest = next(iter(self._data))
                self._drop(oldest)
                self.evictions += 1

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value, or ``compute()`` stored under ``key`` (once across threads)."""
        missing = object()
        value = self.get(key, missing)
        if value is not missing:
            return value
        with self._lock:
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                entry = self._live(key)
                if entry is not None:  # another thread computed it meanwhile
                    self._data.move_to_end(key)
                    return entry.value
            try:
                value = compute()
                self.put(key, value)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.total = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": len(self._data),
                "bytes": self.total,
                "budget": self.budget,
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
            }
