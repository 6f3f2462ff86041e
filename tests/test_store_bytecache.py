"""The byte-bounded LRU behind every page cache (hunting.bytecache)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from hunting.bytecache import DEFAULT_BUDGET_MB, ByteLRU, budget_bytes, estimate_bytes


def frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"n": np.arange(rows, dtype=np.int64)})


def test_estimate_is_the_frame_memory_usage() -> None:
    df = frame(10_000)
    # 10,000 int64 values (80,000 bytes) plus the RangeIndex (pandas reports 132 bytes)
    assert estimate_bytes(df) == int(df.memory_usage(deep=True).sum())
    assert 80_000 <= estimate_bytes(df) < 81_000
    # containers add their parts: a tuple of two frames is at least both frames
    assert estimate_bytes((df, df)) >= 2 * estimate_bytes(df)


def test_eviction_by_bytes_not_entries() -> None:
    one = estimate_bytes(frame(10_000))  # ~80 kB each
    cache = ByteLRU(budget=int(2.5 * one))
    cache.put("a", frame(10_000))
    cache.put("b", frame(10_000))
    assert len(cache) == 2 and cache.total <= cache.budget
    cache.get("a")  # "a" is now the most recently used
    cache.put("c", frame(10_000))
    assert "b" not in cache  # least recently used went first
    assert "a" in cache and "c" in cache
    assert cache.evictions == 1 and cache.total <= cache.budget
    # many small entries fit where few large ones do: the bound is bytes, not a count
    for i in range(100):
        cache.put(("small", i), frame(10))
    assert len(cache) > 50 and cache.total <= cache.budget


def test_entry_larger_than_budget_is_not_kept() -> None:
    cache = ByteLRU(budget=1000)
    cache.put("big", frame(10_000))
    assert "big" not in cache and cache.total == 0


def test_get_or_compute_computes_once_across_threads() -> None:
    cache = ByteLRU(budget=10_000_000)
    calls = []
    gate = threading.Event()

    def compute() -> pd.DataFrame:
        calls.append(1)
        gate.wait(1)
        return frame(5)

    out: list[pd.DataFrame] = []
    threads = [
        threading.Thread(target=lambda: out.append(cache.get_or_compute("k", compute))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(out) == 4 and all(o is out[0] for o in out)


def test_ttl_expires_entries() -> None:
    cache = ByteLRU(budget=10_000_000, ttl=0.0)
    cache.put("k", 1)
    assert cache.get("k") is None


def test_budget_from_environment() -> None:
    assert budget_bytes({}) == DEFAULT_BUDGET_MB * 1024 * 1024
    assert budget_bytes({"HUNTING_CACHE_MB": "256"}) == 256 * 1024 * 1024
    assert budget_bytes({"HUNTING_CACHE_MB": "junk"}) == DEFAULT_BUDGET_MB * 1024 * 1024
    assert budget_bytes({"HUNTING_CACHE_MB": "-5"}) == DEFAULT_BUDGET_MB * 1024 * 1024
