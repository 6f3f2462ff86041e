"""Local stand-ins for the threat-intelligence APIs, answering in each real API's JSON shape.

Each server listens on 127.0.0.1 on an ephemeral port in a daemon thread and
counts requests per IoC, so tests can check retries from the server's side.
What a server does for an IoC is chosen by the IoC's value (see ``BEHAVIOUR``).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# Public addresses (never contacted: the servers below answer for them).
BAD = "45.155.205.233"
CLEAN = "8.8.8.8"
MISSING = "1.0.0.1"
THROTTLED = "9.9.9.9"  # 429 with Retry-After: 7, then the bad answer
FLAKY = "149.112.112.112"  # 500 once, then the bad answer
BROKEN = "208.67.220.220"  # 500 always
SLOW = "208.67.222.222"  # answers after SLOW_SECONDS
MALFORMED = "64.6.64.6"  # 200 with a body that is not JSON
BEHAVIOUR = {
    BAD: "bad",
    CLEAN: "clean",
    MISSING: "missing",
    THROTTLED: "429",
    FLAKY: "500",
    BROKEN: "500-always",
    SLOW: "slow",
    MALFORMED: "malformed",
}
SLOW_SECONDS = 1.0
RETRY_AFTER = "7"

Reply = tuple[int, dict[str, str], bytes]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


class FakeServer:
    """A threaded HTTP server whose answers come from ``app(ioc, verdict, path, query) -> Reply``."""

    def __init__(
        self, app: Callable[[str, str, str, dict[str, list[str]]], Reply], key_header: str, key: str
    ):
        self.app = app
        self.key_header = key_header
        self.key = key
        self.hits: Counter[str] = Counter()
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.delays: dict[str, float] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        with self._lock:
            self.hits.clear()
            self.paths.clear()
            self.headers.clear()
            self.delays.clear()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        query = parse_qs(split.query)
        ioc = self.ioc_of(split.path, query)
        with self._lock:
            self.hits[ioc] += 1
            count = self.hits[ioc]
            self.paths.append(h.path)
            self.headers.append(dict(h.headers.items()))
        if h.headers.get(self.key_header) != self.key:
            status, headers, body = _json(401, {"error": "wrong key"})
        else:
            status, headers, body = self._reply(ioc, count, split.path, query)
        delay = self.delays.get(ioc, SLOW_SECONDS if BEHAVIOUR.get(ioc) == "slow" else 0.0)
        if delay:
            time.sleep(delay)
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except OSError:  # the client gave up (time-out test)
            pass

    def _reply(self, ioc: str, count: int, path: str, query: dict[str, list[str]]) -> Reply:
        behaviour = BEHAVIOUR.get(ioc, "clean")
        if behaviour == "429" and count == 1:
            return _json(429, {"error": {"code": "QuotaExceededError"}}, {"Retry-After": RETRY_AFTER})
        if behaviour == "500-always" or (behaviour == "500" and count == 1):
            return _json(500, {"error": {"code": "TransientError"}})
        if behaviour == "malformed":
            return 200, {"Content-Type": "application/json"}, b'{"data": {"attributes": '
        verdict = "bad" if behaviour in ("bad", "429", "500") else behaviour
        return self.app(ioc, verdict, path, query)

    def ioc_of(self, path: str, query: dict[str, list[str]]) -> str:
        """The IoC a request is about (decoded from the path, or the ipAddress parameter)."""
        if "ipAddress" in query:
            return query["ipAddress"][0]
        if "/indicators/" in path:  # OTX: /api/v1/indicators/{section}/{value, may hold /}/general
            rest = path.split("/indicators/", 1)[1]
            return unquote(rest.split("/", 1)[1].removesuffix("/general"))
        parts = [unquote(p) for p in path.split("/") if p]
        if "urls" in parts:  # VirusTotal: unpadded urlsafe base64
            ident = parts[-1]
            return base64.urlsafe_b64decode(ident + "=" * (-len(ident) % 4)).decode()
        return parts[-1]


def otx_app(ioc: str, verdict: str, path: str, query: dict[str, list[str]]) -> Reply:
    if verdict == "missing":
        return _json(404, {"detail": "Not found."})
    pulses = [{"name": f"SSH brute force {i}", "id": f"p{i}"} for i in range(7 if verdict == "bad" else 0)]
    return _json(
        200,
        {
            "indicator": ioc,
            "type": "IPv4",
            "pulse_info": {"count": len(pulses), "pulses": pulses, "references": []},
            "validation": [],
            "reputation": 0,
        },
    )


def virustotal_app(ioc: str, verdict: str, path: str, query: dict[str, list[str]]) -> Reply:
    if verdict == "missing":
        return _json(404, {"error": {"code": "NotFoundError", "message": f'Resource "{ioc}" not found'}})
    if verdict == "bad":
        stats = {"malicious": 5, "suspicious": 1, "undetected": 24, "harmless": 60, "timeout": 0}
    else:
        stats = {"malicious": 0, "suspicious": 0, "undetected": 20, "harmless": 70, "timeout": 0}
    ident = "f1177df4692356280844e1d5af67cc4a9eccecf77aa61c229d483b7082c70a8e" if "/urls/" in path else ioc
    return _json(
        200,
        {"data": {"id": ident, "type": "x", "attributes": {"last_analysis_stats": stats, "reputation": -11}}},
    )


def abuseipdb_app(ioc: str, verdict: str, path: str, query: dict[str, list[str]]) -> Reply:
    if not path.endswith("/api/v2/check"):
        return _json(404, {"errors": [{"detail": "no such endpoint", "status": 404}]})
    if verdict == "missing":  # the real API answers unknown addresses with a zero score
        score, reports = 0, 0
    else:
        score, reports = (100, 1234) if verdict == "bad" else (0, 0)
    return _json(
        200,
        {
            "data": {
                "ipAddress": ioc,
                "isPublic": True,
                "ipVersion": 4,
                "isWhitelisted": verdict == "clean",
                "abuseConfidenceScore": score,
                "countryCode": "CN",
                "usageType": "Data Center/Web Hosting/Transit",
                "isp": "Example Hosting",
                "domain": "example.net",
                "totalReports": reports,
                "numDistinctUsers": reports // 10,
                "lastReportedAt": "2024-06-01T12:00:00+00:00",
            }
        },
    )


def greynoise_app(ioc: str, verdict: str, path: str, query: dict[str, list[str]]) -> Reply:
    if verdict == "missing":
        return _json(
            404,
            {
                "ip": ioc,
                "noise": False,
                "riot": False,
                "message": "IP not observed scanning the internet or contained in RIOT data set.",
            },
        )
    if verdict == "bad":
        body = {"noise": True, "riot": False, "classification": "malicious", "name": "unknown"}
    else:
        body = {"noise": False, "riot": True, "classification": "benign", "name": "Google Public DNS"}
    return _json(
        200,
        {
            "ip": ioc,
            **body,
            "link": f"https://viz.greynoise.io/ip/{ioc}",
            "last_seen": "2024-06-01",
            "message": "Success",
        },
    )


def otx_server(key: str) -> FakeServer:
    return FakeServer(otx_app, "X-OTX-API-KEY", key)


def virustotal_server(key: str) -> FakeServer:
    return FakeServer(virustotal_app, "x-apikey", key)


def abuseipdb_server(key: str) -> FakeServer:
    return FakeServer(abuseipdb_app, "Key", key)


def greynoise_server(key: str) -> FakeServer:
    return FakeServer(greynoise_app, "key", key)
