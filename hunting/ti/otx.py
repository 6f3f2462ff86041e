"""AlienVault OTX DirectConnect v1: ``/api/v1/indicators/{section}/{value}/general``.

Severity: the number of pulses (community reports) that name the IoC —
0 information (no hit), 1-4 warning, 5 or more high. OTX's ``validation``
list (e.g. a whitelisted popular domain) is quoted in Details and caps the
severity at information.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final
from urllib.parse import quote

from hunting.analysis.iocs import registered_domain
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

WEB: Final = "https://otx.alienvault.com/indicator"
HIGH_PULSES: Final = 5
_WEB_KIND: Final = {
    "IPv4": "ip",
    "IPv6": "ip",
    "domain": "domain",
    "hostname": "hostname",
    "url": "url",
    "file": "file",
}


class OtxProvider(HttpProvider):
    name: ClassVar[str] = "OTX"
    types: ClassVar[frozenset[str]] = frozenset({"ipv4", "ipv6", "dns", "url", "md5", "sha1", "sha256"})
    default_base_url: ClassVar[str] = "https://otx.alienvault.com"

    @staticmethod
    def section(value: str, ioc_type: str) -> str:
        if ioc_type == "ipv4":
            return "IPv4"
        if ioc_type == "ipv6":
            return "IPv6"
        if ioc_type == "dns":
            return "domain" if registered_domain(value) == value else "hostname"
        if ioc_type == "url":
            return "url"
        return "file"

    def request(self, value: str, ioc_type: str) -> Request:
        section = self.section(value, ioc_type)
        path = quote(value, safe=":/" if ioc_type == "url" else "")
        return Request(
            f"{self.base_url}/api/v1/indicators/{section}/{path}/general",
            headers={"X-OTX-API-KEY": self._key, "Accept": "application/json"},
        )

    def parse(self, value: str, ioc_type: str, status: int, payload: Any) -> TiResult:
        web = f"{WEB}/{_WEB_KIND[self.section(value, ioc_type)]}/{value}"
        if status in (400, 404):
            return self.result(value, ioc_type, severity=INFORMATION, reference=web, status=NOT_FOUND)
        if status != 200 or not isinstance(payload, dict):
            return self.result(value, ioc_type, status=f"error: unexpected answer (HTTP {status})")
        if not isinstance(payload.get("pulse_info"), dict):
            return self.result(value, ioc_type, status="error: malformed answer (no pulse_info)")
        count = as_int(dig(payload, "pulse_info", "count"))
        pulses = dig(payload, "pulse_info", "pulses", default=[]) or []
        names = [str(p.get("name", "")) for p in pulses if isinstance(p, dict)][:3]
        validation = [str(v.get("name") or v.get("message") or "") for v in payload.get("validation") or []]
        details = f"{count} pulse(s)" + (f": {'; '.join(names)}" if names else "")
        if validation:
            details += f" | validation: {'; '.join(v for v in validation if v)}"
        hit = count > 0 and not validation
        severity = (HIGH if count >= HIGH_PULSES else WARNING) if hit else INFORMATION
        return self.result(value, ioc_type, result=hit, severity=severity, details=details, reference=web)
