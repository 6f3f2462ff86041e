"""GreyNoise Community API: ``GET /v3/community/{ip}`` with a ``key`` header (IPv4 only).

Severity: classification ``malicious`` -> high (hit); seen scanning the
internet (``noise``) but not malicious -> warning (hit: a mass scanner);
``riot`` (a known business service) or ``benign`` -> information. A 404 means
GreyNoise has not observed the address: not_found.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from hunting.ti.base import HIGH, INFORMATION, NOT_FOUND, WARNING, HttpProvider, Request, TiResult, dig

WEB: Final = "https://viz.greynoise.io/ip"


class GreyNoiseProvider(HttpProvider):
    name: ClassVar[str] = "GreyNoise"
    types: ClassVar[frozenset[str]] = frozenset({"ipv4"})
    default_base_url: ClassVar[str] = "https://api.greynoise.io"

    def request(self, value: str, ioc_type: str) -> Request:
        return Request(
            f"{self.base_url}/v3/community/{value}", headers={"key": self._key, "Accept": "application/json"}
        )

    def parse(self, value: str, ioc_type: str, status: int, payload: Any) -> TiResult:
        link = dig(payload, "link")
        web = link if isinstance(link, str) and link.startswith("https://") else f"{WEB}/{value}"
        message = str(dig(payload, "message", default="") or "")
        if status == 404:
            return self.result(
                value, ioc_type, severity=INFORMATION, details=message, reference=web, status=NOT_FOUND
            )
        if status != 200 or not isinstance(payload, dict):
            return self.result(value, ioc_type, status=f"error: HTTP {status} {message}".rstrip()[:200])
        if not any(k in payload for k in ("classification", "noise", "riot")):
            return self.result(value, ioc_type, status="error: malformed answer (no classification)")
        classification = str(payload.get("classification") or "unknown")
        noise = payload.get("noise") is True
        riot = payload.get("riot") is True
        name = str(payload.get("name") or "")
        parts = [
            f"classification {classification}",
            f"noise {str(noise).lower()}",
            f"riot {str(riot).lower()}",
        ]
        if name and name != "unknown":
            parts.append(name)
        if payload.get("last_seen"):
            parts.append(f"last seen {payload['last_seen']}")
        if classification == "malicious":
            severity, hit = HIGH, True
        elif noise and not riot and classification != "benign":
            severity, hit = WARNING, True
        else:
            severity, hit = INFORMATION, False
        return self.result(
            value, ioc_type, result=hit, severity=severity, details=", ".join(parts), reference=web
        )
