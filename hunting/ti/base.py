"""One result shape and one provider interface for every threat-intelligence source.

HTTP providers are declarations: how to build the request for an IoC and how
to read the answer. Retries (429, 5xx, time-outs; exponential backoff with
jitter, ``Retry-After`` honoured), the rate limit and the redaction of the API
key live here, once. A provider never raises for a lookup: every failure is a
result row whose Status says what happened.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import requests
from requests.adapters import HTTPAdapter

from hunting.analysis.geo import PUBLIC, ip_scope
from hunting.schema import BOOL, TEXT, Table
from hunting.ti.ratelimit import TokenBucket

log = logging.getLogger(__name__)

UNKNOWN: Final = "unknown"
INFORMATION: Final = "information"
WARNING: Final = "warning"
HIGH: Final = "high"
SEVERITIES: Final = (UNKNOWN, INFORMATION, WARNING, HIGH)

OK: Final = "ok"
NOT_FOUND: Final = "not_found"
RATE_LIMITED: Final = "rate_limited"

TI_RESULTS = Table(
    "TiResults",
    (
        ("Ioc", TEXT),
        ("IocType", TEXT),
        ("Provider", TEXT),
        ("Result", BOOL),  # True: the provider reports the IoC as bad
        ("Severity", TEXT),  # unknown | information | warning | high
        ("Details", TEXT),
        ("Reference", TEXT),
        ("Status", TEXT),  # ok | not_found | rate_limited | error: ... | skipped: ...
    ),
    "One row per (IoC, provider) lookup.",
)

MAX_DETAILS: Final = 300
MAX_BACKOFF: Final = 60.0


@dataclass(frozen=True)
class TiResult:
    """One provider's verdict on one IoC; ``Result`` is False whenever there is no verdict."""

    ioc: str
    ioc_type: str
    provider: str
    result: bool = False
    severity: str = UNKNOWN
    details: str = ""
    reference: str = ""
    status: str = OK

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def cacheable(self) -> bool:
        """Only answers are cached; errors and rate limits are retried on the next run."""
        return self.status in (OK, NOT_FOUND)

    def row(self) -> dict[str, Any]:
        return {
            "Ioc": self.ioc,
            "IocType": self.ioc_type,
            "Provider": self.provider,
            "Result": self.result,
            "Severity": self.severity,
            "Details": self.details[:MAX_DETAILS],
            "Reference": self.reference,
            "Status": self.status,
        }


@dataclass
class RetryPolicy:
    """Retries after the first attempt; backoff ``base * 2**n`` plus up to ``base`` of jitter."""

    retries: int = 3
    timeout: float = 10.0
    backoff_base: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = field(default=random.uniform)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_BACKOFF)
        return min(self.backoff_base * 2.0**attempt + self.jitter(0.0, self.backoff_base), MAX_BACKOFF)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Provider(ABC):
    """A source of verdicts. ``lookup`` must not raise: failures are results."""

    name: ClassVar[str]
    types: ClassVar[frozenset[str]]

    @abstractmethod
    def lookup(self, value: str, ioc_type: str, policy: RetryPolicy) -> TiResult: ...

    def result(self, value: str, ioc_type: str, **kw: Any) -> TiResult:
        return TiResult(value, ioc_type, self.name, **kw)

    def skipped(self, value: str, ioc_type: str, why: str) -> TiResult:
        return self.result(value, ioc_type, status=f"skipped: {why}")


@dataclass(frozen=True)
class Request:
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


class HttpProvider(Provider):
    """A JSON API behind an API key. Subclasses define ``request`` and ``parse``.

    The key is kept in a private attribute, left out of ``repr`` and scrubbed
    from every status text.
    """

    default_base_url: ClassVar[str]
    default_rate_per_minute: ClassVar[float | None] = None
    public_ips_only: ClassVar[bool] = True

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        rate_per_minute: float | None = -1,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ) -> None:
        if not api_key:
            raise ValueError(f"{type(self).__name__} needs an API key")
        self.__key = api_key
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        rate = self.default_rate_per_minute if rate_per_minute == -1 else rate_per_minute
        self.limiter = TokenBucket(rate, clock=clock) if rate else None
        self.session = session or requests.Session()
        self.session.mount("http://", HTTPAdapter(pool_maxsize=16))
        self.session.mount("https://", HTTPAdapter(pool_maxsize=16))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def _key(self) -> str:
        return self.__key

    def redact(self, text: str) -> str:
        return text.replace(self.__key, "***") if self.__key else text

    @abstractmethod
    def request(self, value: str, ioc_type: str) -> Request: ...

    @abstractmethod
    def parse(self, value: str, ioc_type: str, status: int, payload: Any) -> TiResult:
        """Turn one HTTP answer (already JSON-decoded; None when the body is empty) into a result."""

    def lookup(self, value: str, ioc_type: str, policy: RetryPolicy) -> TiResult:
        if ioc_type not in self.types:
            return self.skipped(value, ioc_type, "unsupported type")
        if ioc_type in ("ipv4", "ipv6") and self.public_ips_only and (scope := ip_scope(value)) != PUBLIC:
            return self.skipped(value, ioc_type, f"{scope} address")
        try:
            return self._lookup(value, ioc_type, policy)
        except Exception as exc:  # never raise from a lookup; the key never leaves in the text
            log.debug("%s lookup failed: %s", self.name, type(exc).__name__)
            return self.result(
                value, ioc_type, status=self.redact(f"error: {type(exc).__name__}: {exc}")[:200]
            )

    def _lookup(self, value: str, ioc_type: str, policy: RetryPolicy) -> TiResult:
        req = self.request(value, ioc_type)
        resp: requests.Response | None = None
        for attempt in range(policy.retries + 1):
            if self.limiter is not None:
                self.limiter.acquire()
            last = attempt == policy.retries
            try:
                resp = self.session.get(
                    req.url, headers=dict(req.headers), params=dict(req.params), timeout=policy.timeout
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                if last:
                    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
                    return self.result(value, ioc_type, status=f"error: {kind} after {attempt + 1} attempts")
                policy.sleep(policy.delay(attempt, None))
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                if last:
                    break
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                if retry_after is not None and retry_after > MAX_BACKOFF:
                    break  # a daily quota: waiting here would only stall the page
                resp.close()
                policy.sleep(policy.delay(attempt, retry_after))
                continue
            break
        assert resp is not None
        if resp.status_code == 429:
            return self.result(value, ioc_type, status=RATE_LIMITED)
        if resp.status_code >= 500:
            return self.result(value, ioc_type, status=f"error: HTTP {resp.status_code}")
        if resp.status_code in (401, 403):
            return self.result(value, ioc_type, status=f"error: HTTP {resp.status_code} (check the API key)")
        payload: Any = None
        if resp.content:
            try:
                payload = resp.json()
            except ValueError:
                return self.result(value, ioc_type, status=f"error: malformed JSON (HTTP {resp.status_code})")
        return self.parse(value, ioc_type, resp.status_code, payload)


def dig(payload: Any, *keys: str, default: Any = None) -> Any:
    """``payload[k1][k2]...`` or ``default`` when any level is missing or not a mapping."""
    for key in keys:
        if not isinstance(payload, Mapping) or key not in payload:
            return default
        payload = payload[key]
    return payload


def as_int(value: Any) -> int:
    """An API count as int; anything odd (None, text, bool) counts as 0."""
    if isinstance(value, bool):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
