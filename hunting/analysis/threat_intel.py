"""Look IoCs up in threat-intelligence sources, concurrently, with retries, rate limits and a cache.

Providers live in :mod:`hunting.ti`; this module picks them from the
configuration and runs the lookups. The cache is shared across calls (a
re-run of the same hunt does not re-query) and holds answers only: errors and
rate limits are tried again next time.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Final

import pandas as pd

from hunting.schema import conform
from hunting.ti.abuseipdb import AbuseIpdbProvider
from hunting.ti.base import RATE_LIMITED, TI_RESULTS, HttpProvider, Provider, RetryPolicy, TiResult
from hunting.ti.cache import TtlCache
from hunting.ti.greynoise import GreyNoiseProvider
from hunting.ti.local_feed import LocalFeedProvider
from hunting.ti.otx import OtxProvider
from hunting.ti.virustotal import VirusTotalProvider

__all__ = ["DEFAULT_CACHE", "TI_RESULTS", "lookup_iocs", "providers_from_config"]

# config/secrets name -> (environment variable, provider class)
_KEYED: Final[dict[str, tuple[str, type[HttpProvider]]]] = {
    "otx_key": ("HUNTING_OTX_KEY", OtxProvider),
    "vt_key": ("HUNTING_VT_KEY", VirusTotalProvider),
    "abuseipdb_key": ("HUNTING_ABUSEIPDB_KEY", AbuseIpdbProvider),
    "greynoise_key": ("HUNTING_GREYNOISE_KEY", GreyNoiseProvider),
}
_FEEDS: Final = ("ti_feeds", "HUNTING_TI_FEEDS")

DEFAULT_CACHE: Final[TtlCache[TiResult]] = TtlCache(maxsize=10_000, ttl=3600.0)


def _setting(config: Mapping[str, str], env: Mapping[str, str], name: str, env_name: str) -> str:
    """The app's mapping wins over the environment; names match case-insensitively."""
    lowered = {str(k).lower(): v for k, v in config.items()}
    for key in (name, env_name.lower()):
        value = lowered.get(key)
        if value:
            return str(value).strip()
    return str(env.get(env_name, "") or "").strip()


def providers_from_config(config: Mapping[str, str], env: Mapping[str, str] = os.environ) -> list[Provider]:
    """A provider for each configured key, plus the local feed when files are named.

    Keys: ``otx_key``, ``vt_key``, ``abuseipdb_key``, ``greynoise_key`` in
    ``config`` (e.g. from .streamlit/secrets.toml) or HUNTING_OTX_KEY,
    HUNTING_VT_KEY, HUNTING_ABUSEIPDB_KEY, HUNTING_GREYNOISE_KEY. Feeds:
    ``ti_feeds`` / HUNTING_TI_FEEDS, paths separated by commas or ``os.pathsep``.
    ``<name>_url`` (e.g. ``otx_url``) overrides a provider's base URL. With
    nothing configured the list is empty: the page should say how to add a feed.
    """
    providers: list[Provider] = []
    feeds = _setting(config, env, *_FEEDS)
    if feeds:
        paths = [p.strip() for p in feeds.replace(os.pathsep, ",").split(",") if p.strip()]
        providers.append(LocalFeedProvider.from_paths(paths))
    for name, (env_name, cls) in _KEYED.items():
        key = _setting(config, env, name, env_name)
        if key:
            prefix = name.removesuffix("_key")
            base_url = _setting(config, env, f"{prefix}_url", f"HUNTING_{prefix.upper()}_URL") or None
            providers.append(cls(key, base_url=base_url))
    return providers


def lookup_iocs(
    iocs: Sequence[tuple[str, str]],
    providers: Sequence[Provider],
    *,
    max_workers: int = 8,
    timeout: float = 10,
    retries: int = 3,
    progress: Callable[[int, int], None] | None = None,
    cache: TtlCache[TiResult] | None = DEFAULT_CACHE,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[float, float], float] = random.uniform,
) -> pd.DataFrame:
    """One row per distinct (IoC, provider), in input order then provider order (see TI_RESULTS).

    ``iocs`` are (value, type) pairs as extract_iocs writes them. Never raises
    for a failed lookup: the row's Status says ``error: ...``. ``progress(done,
    total)`` is called from the calling thread (safe for Streamlit widgets).
    """
    policy = RetryPolicy(retries=max(0, retries), timeout=timeout, sleep=sleep, jitter=jitter)
    pairs = list(dict.fromkeys((str(v), str(t)) for v, t in iocs))
    stopped: dict[str, str] = {}  # provider name -> why its remaining lookups are skipped
    tasks = [(value, ioc_type, p) for value, ioc_type in pairs for p in providers]
    results: list[TiResult | None] = [None] * len(tasks)
    todo: list[int] = []
    for i, (value, ioc_type, provider) in enumerate(tasks):
        hit = cache.get((provider.name, ioc_type, value)) if cache is not None else None
        if hit is not None:
            results[i] = hit
        else:
            todo.append(i)
    total, done = len(tasks), len(tasks) - len(todo)
    if progress is not None:
        progress(done, total)
    if todo:
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(todo)))) as pool:
            futures = {pool.submit(_safe_lookup, *tasks[i], policy, stopped): i for i in todo}
            for future in as_completed(futures):
                i = futures[future]
                res = future.result()
                results[i] = res
                if cache is not None and res.cacheable:
                    cache.set((res.provider, res.ioc_type, res.ioc), res)
                done += 1
                if progress is not None:
                    progress(done, total)
    rows = [r.row() for r in results if r is not None]
    if not rows:
        return TI_RESULTS.empty()
    return conform(pd.DataFrame(rows), TI_RESULTS)


def _safe_lookup(
    value: str, ioc_type: str, provider: Provider, policy: RetryPolicy, stopped: dict[str, str]
) -> TiResult:
    """One lookup that cannot raise; a provider out of quota or refusing the key is not asked again."""
    if provider.name in stopped:
        return TiResult(value, ioc_type, provider.name, status=f"skipped: {stopped[provider.name]}")
    try:
        res = provider.lookup(value, ioc_type, policy)
    except Exception as exc:
        text = f"error: {type(exc).__name__}: {exc}"
        if isinstance(provider, HttpProvider):
            text = provider.redact(text)
        return TiResult(value, ioc_type, provider.name, status=text[:200])
    if res.status == RATE_LIMITED:
        stopped.setdefault(provider.name, "provider rate limited earlier in this run")
    elif res.status.startswith(("error: HTTP 401", "error: HTTP 403")):
        stopped.setdefault(provider.name, "API key rejected earlier in this run")
    return res
