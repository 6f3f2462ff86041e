"""VirusTotal API v3: ``/api/v3/{ip_addresses|domains|files|urls}/{id}`` with ``x-apikey``.

A URL's id is its unpadded URL-safe base64. Severity from
``last_analysis_stats``: 3 or more engines say malicious -> high; any
malicious or suspicious -> warning; none -> information (no hit). The public
API allows 4 requests a minute, the default rate limit here.
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar, Final
from urllib.parse import quote

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

GUI: Final = "https://www.virustotal.com/gui"
HIGH_ENGINES: Final = 3
_COLLECTION: Final = {
    "ipv4": "ip_addresses",
    "ipv6": "ip_addresses",
    "dns": "domains",
    "url": "urls",
    "md5": "files",
    "sha1": "files",
    "sha256": "files",
}
_GUI_KIND: Final = {"ip_addresses": "ip-address", "domains": "domain", "files": "file", "urls": "url"}


def url_id(url: str) -> str:
    """VirusTotal's identifier for a URL: unpadded URL-safe base64 of its text."""
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class VirusTotalProvider(HttpProvider):
    name: ClassVar[str] = "VirusTotal"
    types: ClassVar[frozenset[str]] = frozenset(_COLLECTION)
    default_base_url: ClassVar[str] = "https://www.virustotal.com"
    default_rate_per_minute: ClassVar[float | None] = 4.0

    def request(self, value: str, ioc_type: str) -> Request:
        collection = _COLLECTION[ioc_type]
        ident = url_id(value) if ioc_type == "url" else quote(value, safe="")
        return Request(
            f"{self.base_url}/api/v3/{collection}/{ident}",
            headers={"x-apikey": self._key, "Accept": "application/json"},
        )

    def parse(self, value: str, ioc_type: str, status: int, payload: Any) -> TiResult:
        collection = _COLLECTION[ioc_type]
        gui_id = dig(payload, "data", "id") if ioc_type == "url" else value
        web = f"{GUI}/{_GUI_KIND[collection]}/{gui_id}" if gui_id else f"{GUI}/search/{quote(value, safe='')}"
        if status == 404:
            return self.result(value, ioc_type, severity=INFORMATION, reference=web, status=NOT_FOUND)
        if status != 200:
            code = dig(payload, "error", "code", default="")
            return self.result(value, ioc_type, status=f"error: HTTP {status} {code}".rstrip())
        stats = dig(payload, "data", "attributes", "last_analysis_stats")
        if not isinstance(stats, dict):
            return self.result(value, ioc_type, status="error: answer has no last_analysis_stats")
        malicious = as_int(stats.get("malicious"))
        suspicious = as_int(stats.get("suspicious"))
        engines = sum(as_int(v) for v in stats.values())
        details = f"malicious {malicious}, suspicious {suspicious} of {engines} engines"
        reputation = dig(payload, "data", "attributes", "reputation")
        if reputation is not None:
            details += f"; reputation {as_int(reputation)}"
        if malicious >= HIGH_ENGINES:
            severity = HIGH
        elif malicious or suspicious:
            severity = WARNING
        else:
            severity = INFORMATION
        return self.result(
            value,
            ioc_type,
            result=bool(malicious or suspicious),
            severity=severity,
            details=details,
            reference=web,
        )
