"""What the tool depends on fails: TI providers and Log Analytics time out, refuse, throttle, or talk garbage.

Lookups never raise: each (IoC, provider) gets a row whose Status says what went
wrong, and the providers that work still answer. Log Analytics failures become
the documented HuntingError subclasses (SourceUnavailable, QueryError) with a
sentence the analyst can act on, never a raw SDK or JSON exception.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest

from hunting.analysis.threat_intel import lookup_iocs
from hunting.errors import HuntingError, QueryError, SourceUnavailable
from hunting.ti.abuseipdb import AbuseIpdbProvider
from hunting.ti.base import HttpProvider, Provider
from hunting.ti.greynoise import GreyNoiseProvider
from hunting.ti.otx import OtxProvider
from hunting.ti.virustotal import VirusTotalProvider
from hunting.timerange import TimeRange
from tests.fakes import ti_servers as fake
from tests.fakes.ti_servers import FakeServer

KEY = "HOSTILE-TEST-KEY-91c2"
PROVIDERS: dict[str, tuple[type[HttpProvider], Callable[[str], FakeServer]]] = {
    "OTX": (OtxProvider, fake.otx_server),
    "VirusTotal": (VirusTotalProvider, fake.virustotal_server),
    "AbuseIPDB": (AbuseIpdbProvider, fake.abuseipdb_server),
    "GreyNoise": (GreyNoiseProvider, fake.greynoise_server),
}
JULY = TimeRange(datetime(2019, 7, 1, tzinfo=UTC), datetime(2019, 7, 31, tzinfo=UTC))
WS = "52b1ab41-869e-4138-9e40-2a4457f09bf0"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on exit: connections are refused


def _run(iocs: list[tuple[str, str]], providers: list[Provider], **kw: Any) -> pd.DataFrame:
    opts: dict[str, Any] = {"cache": None, "sleep": lambda s: None, "jitter": lambda a, b: 0.0, "retries": 1}
    opts.update(kw)
    return lookup_iocs(iocs, providers, **opts)


class RawServer:
    """An HTTP server answering every GET/POST with one fixed raw reply (status, content type, body)."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        reply = (status, body, content_type)

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                code, data, ctype = reply
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, FakeServer]]:
    made = {name: make(KEY) for name, (_, make) in PROVIDERS.items()}
    for s in made.values():
        s.__enter__()
    yield made
    for s in made.values():
        s.__exit__(None, None, None)


# --- threat intel: one broken provider does not take the others down -----------------------------


def test_lookup_keeps_working_providers_when_others_fail(servers: dict[str, FakeServer]) -> None:
    for s in servers.values():
        s.reset()
    providers: list[Provider] = [
        OtxProvider(KEY, base_url=servers["OTX"].url, rate_per_minute=None),
        VirusTotalProvider(KEY, base_url=f"http://127.0.0.1:{_closed_port()}", rate_per_minute=None),
        AbuseIpdbProvider("WRONG-KEY", base_url=servers["AbuseIPDB"].url, rate_per_minute=None),
        GreyNoiseProvider(KEY, base_url=servers["GreyNoise"].url, rate_per_minute=None),
    ]
    df = _run([(fake.BAD, "ipv4"), (fake.BROKEN, "ipv4"), (fake.MALFORMED, "ipv4")], providers)
    assert len(df) == 12  # every (IoC, provider) pair has a row
    status = {(r.Ioc, r.Provider): r.Status for r in df.itertuples()}
    assert status[(fake.BAD, "OTX")] == "ok"
    assert status[(fake.BAD, "GreyNoise")] == "ok"
    assert df.set_index(["Ioc", "Provider"]).loc[(fake.BAD, "OTX"), "Result"]
    for ioc in (fake.BAD, fake.BROKEN, fake.MALFORMED):
        assert status[(ioc, "VirusTotal")] == "error: connection failed after 2 attempts"
    assert status[(fake.BAD, "AbuseIPDB")] == "error: HTTP 401 (check the API key)"
    # after the key is refused once, the provider is not asked again in this run
    assert {status[(i, "AbuseIPDB")] for i in (fake.BROKEN, fake.MALFORMED)} <= {
        "error: HTTP 401 (check the API key)",
        "skipped: API key rejected earlier in this run",
    }
    assert status[(fake.BROKEN, "OTX")] == "error: HTTP 500"
    assert status[(fake.MALFORMED, "GreyNoise")] == "error: malformed JSON (HTTP 200)"
    assert not df.loc[df["Status"] != "ok", "Result"].any(), "a failed lookup must never read as a hit"
    assert KEY not in df.to_csv()


def test_lookup_times_out_per_provider(servers: dict[str, FakeServer]) -> None:
    servers["OTX"].reset()
    provider = OtxProvider(KEY, base_url=servers["OTX"].url, rate_per_minute=None)
    df = _run([(fake.SLOW, "ipv4"), (fake.CLEAN, "ipv4")], [provider], timeout=0.2, retries=0)
    status = dict(zip(df["Ioc"], df["Status"], strict=True))
    assert status[fake.SLOW] == "error: timed out after 1 attempts"
    assert status[fake.CLEAN] == "ok"


def test_lookup_throttled_provider_is_rate_limited_row(servers: dict[str, FakeServer]) -> None:
    servers["VirusTotal"].reset()
    provider = VirusTotalProvider(KEY, base_url=servers["VirusTotal"].url, rate_per_minute=None)
    df = _run([(fake.THROTTLED, "ipv4"), (fake.CLEAN, "ipv4")], [provider], retries=0, max_workers=1)
    status = dict(zip(df["Ioc"], df["Status"], strict=True))
    assert status[fake.THROTTLED] == "rate_limited"
    assert status[fake.CLEAN] == "skipped: provider rate limited earlier in this run"


GARBAGE = [
    (200, b"[]", "application/json"),
    (200, b"null", "application/json"),
    (200, b'"just a string"', "application/json"),
    (200, b'{"data": [1, 2, 3], "pulse_info": "x", "abuseConfidenceScore": {}}', "application/json"),
    (200, b"<html><body>Gateway</body></html>", "text/html"),
    (200, b"", "application/json"),
    (502, b"<html><h1>502 Bad Gateway</h1></html>", "text/html"),
    (200, b"\xff\xfe\x00garbage\x00", "application/octet-stream"),
]


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
@pytest.mark.parametrize(("status", "body", "ctype"), GARBAGE)
def test_provider_garbage_answer_is_an_error_row(provider: str, status: int, body: bytes, ctype: str) -> None:
    cls, _ = PROVIDERS[provider]
    with RawServer(status, body, ctype) as srv:
        df = _run([(fake.BAD, "ipv4")], [cls(KEY, base_url=srv.url, rate_per_minute=None)], retries=0)
    row = df.iloc[0]
    assert len(df) == 1 and row["Provider"] == provider
    assert not row["Result"], f"garbage {body[:30]!r} read as a hit"
    assert str(row["Status"]).startswith(("error: ", "not_found")), row["Status"]


def test_provider_hostile_answer_text_is_data() -> None:
    """A compromised or spoofed TI answer is text too: capped, never raising."""
    evil = {
        "ip": fake.BAD,
        "noise": True,
        "riot": False,
        "classification": "malicious",
        "name": "<script>alert('pwned-ti')</script>" + "x" * 5000,
        "link": "javascript:alert('pwned-link')",
        "last_seen": "<img src=x onerror=alert(1)>",
    }
    with RawServer(200, json.dumps(evil).encode()) as srv:
        df = _run([(fake.BAD, "ipv4")], [GreyNoiseProvider(KEY, base_url=srv.url, rate_per_minute=None)])
    row = df.iloc[0]
    assert row["Status"] == "ok" and row["Result"]
    assert len(row["Details"]) <= 300
    assert not str(row["Reference"]).startswith("javascript:"), "a provider-supplied link must be https"


# --- Log Analytics: failures are HuntingErrors with a sentence ---------------------------------------


def _la_source(endpoint: str) -> Any:
    from hunting.sources.loganalytics import LogAnalyticsSource
    from tests.fakes.la_server import StaticTokenCredential

    return LogAnalyticsSource(WS, StaticTokenCredential(), endpoint=endpoint, retries=0, read_timeout=2)


@pytest.fixture
def la() -> Iterator[Any]:
    from tests.fakes.la_server import FakeLogAnalytics

    with FakeLogAnalytics() as server:
        yield server


@pytest.mark.parametrize(
    ("status", "code", "error", "says"),
    [
        (429, "ThrottledError", QueryError, "throttling"),
        (504, "GatewayTimeout", QueryError, "timed out"),
        (503, "ServiceUnavailable", QueryError, "HTTP 503"),
        (403, "InsufficientAccessError", SourceUnavailable, "Log Analytics Reader"),
        (404, "WorkspaceNotFoundError", SourceUnavailable, "not found"),
        (400, "SemanticError", QueryError, "rejected"),
    ],
)
def test_la_http_errors_are_hunting_errors(la: Any, status: int, code: str, error: type, says: str) -> None:
    la.fail("syslog", status, code, f"service said <b>{code}</b>")
    with pytest.raises(error) as info:
        _la_source(la.endpoint).syslog("web01", JULY)
    assert says in str(info.value)


def test_la_slow_answer_is_query_error(la: Any) -> None:
    la.slow("alerts", 5.0)
    with pytest.raises(QueryError, match="did not answer"):
        _la_source(la.endpoint).alerts("web01", JULY)


def test_la_refused_connection_is_source_unavailable() -> None:
    src = _la_source(f"http://127.0.0.1:{_closed_port()}/v1")
    with pytest.raises(SourceUnavailable, match="cannot reach Log Analytics"):
        src.syslog("web01", JULY)


LA_GARBAGE = [
    (200, b"<html>proxy login page</html>", "text/html"),
    (200, b'{"tables": "not a list"}', "application/json"),
    (
        200,
        b'{"tables": [{"name": "PrimaryResult", "columns": [{"name": "TimeGenerated"}], "rows": [[1, 2, 3]]}]}',
        "application/json",
    ),
    (200, b'{"unexpected": true}', "application/json"),
    (200, b"", "application/json"),
    (502, b"<html><h1>502 Bad Gateway</h1></html>", "text/html"),
    (200, b'{"tables": [', "application/json"),
]


@pytest.mark.parametrize(("status", "body", "ctype"), LA_GARBAGE)
def test_la_garbage_answer_is_a_hunting_error(status: int, body: bytes, ctype: str) -> None:
    """A proxy's login page or a truncated answer: a HuntingError (the page shows it), or a valid frame."""
    from hunting.schema import SYSLOG

    with RawServer(status, body, ctype) as srv:
        src = _la_source(f"{srv.url}/v1")
        try:
            df = src.syslog("web01", JULY)
        except HuntingError as exc:
            assert str(exc), "an error without a message"
            return
    assert list(df.columns) == SYSLOG.names
