"""AbuseIPDB API v2 check: ``GET /api/v2/check?ipAddress=...&maxAgeInDays=90`` with a ``Key`` header.

Severity from ``abuseConfidenceScore`` (0-100): 75 or more high; from
``hit_threshold`` (default 25) warning; below it information (no hit: a few
stray reports are common for busy addresses). Whitelisted addresses are
information.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from hunting.ti.base import (
    HIGH,
    INFORMATION,
    NOT_FOUND,
    WARNING,
    HttpProvider,
    Request,
    TiResult,
    as_int,
    dig,
)

WEB: Final = "https://www.abuseipdb.com/check"
HIGH_SCORE: Final = 75


class AbuseIpdbProvider(HttpProvider):
    name: ClassVar[str] = "AbuseIPDB"
    types: ClassVar[frozenset[str]] = frozenset({"ipv4", "ipv6"})
    default_base_url: ClassVar[str] = "https://api.abuseipdb.com"

    def __init__(self, api_key: str, *, hit_threshold: int = 25, max_age_days: int = 90, **kw: Any) -> None:
        super().__init__(api_key, **kw)
        self.hit_threshold = hit_threshold
        self.max_age_days = max_age_days

    def request(self, value: str, ioc_type: str) -> Request:
        return Request(
            f"{self.base_url}/api/v2/check",
            headers={"Key": self._key, "Accept": "application/json"},
            params={"ipAddress": value, "maxAgeInDays": str(self.max_age_days)},
        )

    def parse(self, value: str, ioc_type: str, status: int, payload: Any) -> TiResult:
        web = f"{WEB}/{value}"
        if status == 404:
            return self.result(value, ioc_type, severity=INFORMATION, reference=web, status=NOT_FOUND)
        if status != 200:
            errors = dig(payload, "errors", default=[]) or []
            detail = errors[0].get("detail", "") if errors and isinstance(errors[0], dict) else ""
            return self.result(value, ioc_type, status=f"error: HTTP {status} {detail}".rstrip()[:200])
        data = dig(payload, "data")
        if not isinstance(data, dict) or "abuseConfidenceScore" not in data:
            return self.result(value, ioc_type, status="error: answer has no abuseConfidenceScore")
        score = as_int(data.get("abuseConfidenceScore"))
        reports = as_int(data.get("totalReports"))
        whitelisted = data.get("isWhitelisted") is True
        details = f"confidence {score}%, {reports} report(s)"
        extra = [str(data[k]) for k in ("isp", "usageType", "countryCode") if data.get(k)]
        if extra:
            details += f"; {', '.join(extra)}"
        if whitelisted:
            details += "; whitelisted"
        if whitelisted or score < self.hit_threshold:
            severity, hit = INFORMATION, False
        else:
            severity, hit = (HIGH if score >= HIGH_SCORE else WARNING), True
        return self.result(value, ioc_type, result=hit, severity=severity, details=details, reference=web)
