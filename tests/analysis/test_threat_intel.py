"""Threat-intelligence providers against local fakes of each API, plus retries, limits and cache.

Request shapes follow each provider's public documentation: OTX
``/api/v1/indicators/{section}/{value}/general`` + X-OTX-API-KEY; VirusTotal
``/api/v3/{collection}/{id}`` + x-apikey (URL id = unpadded urlsafe base64; the
docs' example id for http://www.google.com/ is aHR0cDovL3d3dy5nb29nbGUuY29tLw);
AbuseIPDB ``/api/v2/check?ipAddress=..&maxAgeInDays=..`` + Key; GreyNoise
``/v3/community/{ip}`` + key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.threat_intel import TI_RESULTS, lookup_iocs, providers_from_config
from hunting.errors import ParseError, SourceUnavailable
from hunting.ti.abuseipdb import AbuseIpdbProvider
from hunting.ti.base import HttpProvider, Provider, RetryPolicy, TiResult, parse_retry_after
from hunting.ti.cache import TtlCache
from hunting.ti.greynoise import GreyNoiseProvider
from hunting.ti.local_feed import LocalFeedProvider, parse_pattern
from hunting.ti.otx import OtxProvider
from hunting.ti.ratelimit import TokenBucket
from hunting.ti.virustotal import VirusTotalProvider, url_id
from tests.fakes import ti_servers as fake
from tests.fakes.ti_servers import FakeServer

KEY = "SECRET-KEY-7f3a9c"


class FakeClock:
    """A clock that only moves when told to; ``sleep`` advances it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, FakeServer]]:
    made = {
        "otx": fake.otx_server(KEY),
        "vt": fake.virustotal_server(KEY),
        "abuse": fake.abuseipdb_server(KEY),
        "gn": fake.greynoise_server(KEY),
    }
    for s in made.values():
        s.__enter__()
    yield made
    for s in made.values():
        s.__exit__(None, None, None)


@pytest.fixture
def srv(servers: dict[str, FakeServer]) -> dict[str, FakeServer]:
    for s in servers.values():
        s.reset()
    return servers


def _provider(cls: type[HttpProvider], server: FakeServer, **kw: object) -> HttpProvider:
    return cls(KEY, base_url=server.url, rate_per_minute=None, **kw)  # type: ignore[arg-type]


def _run(iocs: list[tuple[str, str]], providers: list[Provider], **kw: object) -> pd.DataFrame:
    sleeps: list[float] = []
    opts: dict[str, object] = {"cache": None, "sleep": sleeps.append, "jitter": lambda a, b: 0.0}
    opts.update(kw)
    return lookup_iocs(iocs, providers, **opts)  # type: ignore[arg-type]


def _one(df: pd.DataFrame) -> dict[str, object]:
    assert len(df) == 1
    return df.iloc[0].to_dict()


# --- OTX -------------------------------------------------------------------------
def test_otx_bad_ip(srv: dict[str, FakeServer]) -> None:
    row = _one(_run([(fake.BAD, "ipv4")], [_provider(OtxProvider, srv["otx"])]))
    assert (row["Result"], row["Severity"], row["Status"]) == (True, "high", "ok")
    assert row["Details"].startswith("7 pulse(s): SSH brute force 0")
    assert row["Reference"] == f"https://otx.alienvault.com/indicator/ip/{fake.BAD}"
    assert srv["otx"].paths == [f"/api/v1/indicators/IPv4/{fake.BAD}/general"]
    assert srv["otx"].headers[0]["X-OTX-API-KEY"] == KEY


def test_otx_clean_and_missing(srv: dict[str, FakeServer]) -> None:
    df = _run([(fake.CLEAN, "ipv4"), (fake.MISSING, "ipv4")], [_provider(OtxProvider, srv["otx"])])
    assert df[["Result", "Severity", "Status"]].values.tolist() == [
        [False, "information", "ok"],
        [False, "information", "not_found"],
    ]


def test_otx_sections_for_domain_hostname_file_url(srv: dict[str, FakeServer]) -> None:
    iocs = [
        ("example.co.uk", "dns"),
        ("www.example.co.uk", "dns"),
        ("d41d8cd98f00b204e9800998ecf8427e", "md5"),
        ("http://evil.example.com/a", "url"),
        ("2a00:1450:4001:80b::200e", "ipv6"),
    ]
    df = _run(iocs, [_provider(OtxProvider, srv["otx"])], max_workers=1)
    assert (df["Status"] == "ok").all()
    assert sorted(srv["otx"].paths) == sorted(
        [
            "/api/v1/indicators/domain/example.co.uk/general",
            "/api/v1/indicators/hostname/www.example.co.uk/general",
            "/api/v1/indicators/file/d41d8cd98f00b204e9800998ecf8427e/general",
            "/api/v1/indicators/url/http://evil.example.com/a/general",
            "/api/v1/indicators/IPv6/2a00%3A1450%3A4001%3A80b%3A%3A200e/general",
        ]
    )


# --- VirusTotal -------------------------------------------------------------------
def test_virustotal_url_id_matches_documentation() -> None:
    assert url_id("http://www.google.com/") == "aHR0cDovL3d3dy5nb29nbGUuY29tLw"


def test_virustotal_bad_clean_missing(srv: dict[str, FakeServer]) -> None:
    df = _run(
        [(fake.BAD, "ipv4"), (fake.CLEAN, "ipv4"), (fake.MISSING, "ipv4")],
        [_provider(VirusTotalProvider, srv["vt"])],
    )
    assert df[["Result", "Severity", "Status"]].values.tolist() == [
        [True, "high", "ok"],
        [False, "information", "ok"],
        [False, "information", "not_found"],
    ]
    assert df.loc[0, "Details"] == "malicious 5, suspicious 1 of 90 engines; reputation -11"
    assert df.loc[0, "Reference"] == f"https://www.virustotal.com/gui/ip-address/{fake.BAD}"
    assert all(h["x-apikey"] == KEY for h in srv["vt"].headers)


def test_virustotal_collections_and_url_reference(srv: dict[str, FakeServer]) -> None:
    iocs = [("evil.example.com", "dns"), ("http://www.google.com/", "url"), ("a" * 64, "sha256")]
    df = _run(iocs, [_provider(VirusTotalProvider, srv["vt"])], max_workers=1)
    assert sorted(srv["vt"].paths) == sorted(
        [
            "/api/v3/domains/evil.example.com",
            "/api/v3/urls/aHR0cDovL3d3dy5nb29nbGUuY29tLw",
            f"/api/v3/files/{'a' * 64}",
        ]
    )
    assert df.loc[1, "Reference"] == (
        "https://www.virustotal.com/gui/url/f1177df4692356280844e1d5af67cc4a9eccecf77aa61c229d483b7082c70a8e"
    )


def test_virustotal_default_rate_is_public_api_limit() -> None:
    vt = VirusTotalProvider(KEY)
    assert vt.limiter is not None and vt.limiter.rate == pytest.approx(4 / 60)
    assert OtxProvider(KEY).limiter is None


def test_virustotal_path_is_skipped_without_request(srv: dict[str, FakeServer]) -> None:
    row = _one(_run([("/tmp/x", "path")], [_provider(VirusTotalProvider, srv["vt"])]))
    assert row["Status"] == "skipped: unsupported type"
    assert srv["vt"].paths == []


# --- AbuseIPDB --------------------------------------------------------------------
def test_abuseipdb_check_request_and_scores(srv: dict[str, FakeServer]) -> None:
    df = _run(
        [(fake.BAD, "ipv4"), (fake.CLEAN, "ipv4"), (fake.MISSING, "ipv4")],
        [_provider(AbuseIpdbProvider, srv["abuse"])],
        max_workers=1,
    )
    assert df[["Result", "Severity", "Status"]].values.tolist() == [
        [True, "high", "ok"],
        [False, "information", "ok"],
        [False, "information", "ok"],
    ]
    assert df.loc[0, "Details"].startswith("confidence 100%, 1234 report(s)")
    assert df.loc[1, "Details"].endswith("; whitelisted")
    assert df.loc[0, "Reference"] == f"https://www.abuseipdb.com/check/{fake.BAD}"
    assert srv["abuse"].paths[0] == f"/api/v2/check?ipAddress={fake.BAD}&maxAgeInDays=90"
    assert srv["abuse"].headers[0]["Key"] == KEY


def test_abuseipdb_domain_unsupported(srv: dict[str, FakeServer]) -> None:
    row = _one(_run([("evil.example.com", "dns")], [_provider(AbuseIpdbProvider, srv["abuse"])]))
    assert row["Status"] == "skipped: unsupported type"


def test_abuseipdb_threshold() -> None:
    p = AbuseIpdbProvider(KEY, hit_threshold=25)
    body = {"data": {"abuseConfidenceScore": 40, "totalReports": 3}}
    res = p.parse(fake.BAD, "ipv4", 200, body)
    assert (res.result, res.severity) == (True, "warning")
    body["data"]["abuseConfidenceScore"] = 24
    assert p.parse(fake.BAD, "ipv4", 200, body).result is False


def test_abuseipdb_422_error_detail() -> None:
    p = AbuseIpdbProvider(KEY)
    body = {"errors": [{"detail": "The ip address must be a valid IPv4 or IPv6 address.", "status": 422}]}
    assert p.parse("x", "ipv4", 422, body).status == (
        "error: HTTP 422 The ip address must be a valid IPv4 or IPv6 address."
    )


# --- GreyNoise --------------------------------------------------------------------
def test_greynoise_malicious_benign_unobserved(srv: dict[str, FakeServer]) -> None:
    df = _run(
        [(fake.BAD, "ipv4"), (fake.CLEAN, "ipv4"), (fake.MISSING, "ipv4")],
        [_provider(GreyNoiseProvider, srv["gn"])],
    )
    assert df[["Result", "Severity", "Status"]].values.tolist() == [
        [True, "high", "ok"],
        [False, "information", "ok"],
        [False, "information", "not_found"],
    ]
    assert "Google Public DNS" in df.loc[1, "Details"]
    assert df.loc[2, "Details"] == "IP not observed scanning the internet or contained in RIOT data set."
    assert sorted(srv["gn"].paths) == sorted(
        f"/v3/community/{ip}" for ip in (fake.BAD, fake.CLEAN, fake.MISSING)
    )
    assert srv["gn"].headers[0]["key"] == KEY


def test_greynoise_noise_without_classification_is_warning() -> None:
    p = GreyNoiseProvider(KEY)
    res = p.parse(fake.BAD, "ipv4", 200, {"noise": True, "riot": False, "classification": "unknown"})
    assert (res.result, res.severity) == (True, "warning")


def test_greynoise_ipv6_unsupported(srv: dict[str, FakeServer]) -> None:
    row = _one(_run([("2001:4860:4860::8888", "ipv6")], [_provider(GreyNoiseProvider, srv["gn"])]))
    assert row["Status"] == "skipped: unsupported type"


# --- retries, time-outs, malformed answers ------------------------------------------
@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (OtxProvider, "otx"),
        (VirusTotalProvider, "vt"),
        (AbuseIpdbProvider, "abuse"),
        (GreyNoiseProvider, "gn"),
    ],
)
def test_provider_429_then_success_honours_retry_after(
    srv: dict[str, FakeServer], cls: type[HttpProvider], name: str
) -> None:
    sleeps: list[float] = []
    df = lookup_iocs([(fake.THROTTLED, "ipv4")], [_provider(cls, srv[name])], cache=None, sleep=sleeps.append)
    assert (df.loc[0, "Status"], bool(df.loc[0, "Result"])) == ("ok", True)
    assert srv[name].hits[fake.THROTTLED] == 2
    assert sleeps == [7.0]


def test_provider_500_then_success_backs_off(srv: dict[str, FakeServer]) -> None:
    sleeps: list[float] = []
    df = lookup_iocs(
        [(fake.FLAKY, "ipv4")],
        [_provider(OtxProvider, srv["otx"])],
        cache=None,
        sleep=sleeps.append,
        jitter=lambda a, b: 0.25,
    )
    assert df.loc[0, "Status"] == "ok"
    assert srv["otx"].hits[fake.FLAKY] == 2
    assert sleeps == [0.5 + 0.25]


def test_provider_500_always_gives_up_after_retries(srv: dict[str, FakeServer]) -> None:
    sleeps: list[float] = []
    df = lookup_iocs(
        [(fake.BROKEN, "ipv4")],
        [_provider(VirusTotalProvider, srv["vt"])],
        retries=2,
        cache=None,
        sleep=sleeps.append,
        jitter=lambda a, b: 0.0,
    )
    assert (df.loc[0, "Status"], bool(df.loc[0, "Result"]), df.loc[0, "Severity"]) == (
        "error: HTTP 500",
        False,
        "unknown",
    )
    assert srv["vt"].hits[fake.BROKEN] == 3
    assert sleeps == [0.5, 1.0]  # exponential: base * 2**attempt


def test_provider_429_exhausted_is_rate_limited(srv: dict[str, FakeServer]) -> None:
    df = _run([(fake.THROTTLED, "ipv4")], [_provider(GreyNoiseProvider, srv["gn"])], retries=0)
    assert df.loc[0, "Status"] == "rate_limited"
    assert srv["gn"].hits[fake.THROTTLED] == 1


def test_provider_slow_answer_times_out(srv: dict[str, FakeServer]) -> None:
    df = _run([(fake.SLOW, "ipv4")], [_provider(AbuseIpdbProvider, srv["abuse"])], timeout=0.1, retries=1)
    assert df.loc[0, "Status"] == "error: timed out after 2 attempts"
    assert srv["abuse"].hits[fake.SLOW] == 2


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (OtxProvider, "otx"),
        (VirusTotalProvider, "vt"),
        (AbuseIpdbProvider, "abuse"),
        (GreyNoiseProvider, "gn"),
    ],
)
def test_provider_malformed_json(srv: dict[str, FakeServer], cls: type[HttpProvider], name: str) -> None:
    row = _one(_run([(fake.MALFORMED, "ipv4")], [_provider(cls, srv[name])]))
    assert row["Status"] == "error: malformed JSON (HTTP 200)"


def test_provider_wrong_key_is_an_error_and_not_retried(srv: dict[str, FakeServer]) -> None:
    p = OtxProvider("wrong-key", base_url=srv["otx"].url)
    df = _run([(fake.BAD, "ipv4"), (fake.CLEAN, "ipv4"), ("evil.example.com", "dns")], [p], max_workers=1)
    assert df["Status"].tolist() == [
        "error: HTTP 401 (check the API key)",
        "skipped: API key rejected earlier in this run",
        "skipped: API key rejected earlier in this run",
    ]
    assert sum(srv["otx"].hits.values()) == 1


def test_provider_long_retry_after_is_not_waited_for(
    srv: dict[str, FakeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake, "RETRY_AFTER", "86400")
    sleeps: list[float] = []
    df = lookup_iocs(
        [(fake.THROTTLED, "ipv4"), (fake.BAD, "ipv4")],
        [_provider(VirusTotalProvider, srv["vt"])],
        cache=None,
        sleep=sleeps.append,
        max_workers=1,
    )
    assert df["Status"].tolist() == ["rate_limited", "skipped: provider rate limited earlier in this run"]
    assert sleeps == []
    assert sum(srv["vt"].hits.values()) == 1


def test_provider_connection_refused_is_an_error() -> None:
    p = OtxProvider(KEY, base_url="http://127.0.0.1:9")  # discard port: nothing listens
    row = _one(_run([(fake.BAD, "ipv4")], [p], retries=1))
    assert row["Status"] == "error: connection failed after 2 attempts"


def test_provider_private_address_not_sent(srv: dict[str, FakeServer]) -> None:
    row = _one(_run([("10.1.2.3", "ipv4")], [_provider(OtxProvider, srv["otx"])]))
    assert row["Status"] == "skipped: private address"
    assert srv["otx"].paths == []


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_retry_policy_caps_delay() -> None:
    assert RetryPolicy(jitter=lambda a, b: 0.0).delay(10, None) == 60.0
    assert RetryPolicy().delay(0, 3600.0) == 60.0


# --- API keys never leak ----------------------------------------------------------------
def test_key_absent_from_repr_results_and_errors(
    srv: dict[str, FakeServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    providers: list[Provider] = [
        _provider(OtxProvider, srv["otx"]),
        _provider(VirusTotalProvider, srv["vt"]),
        _provider(AbuseIpdbProvider, srv["abuse"]),
        _provider(GreyNoiseProvider, srv["gn"]),
    ]
    for p in providers:
        assert KEY not in repr(p) and KEY not in str(p)
        p.session.get = _raiser  # type: ignore[attr-defined, method-assign]
    df = _run([(fake.BAD, "ipv4")], providers)
    assert df["Status"].str.startswith("error: RuntimeError: upstream said key=***").all()
    assert KEY not in df.to_csv()
    assert KEY not in caplog.text


def _raiser(*args: object, **kwargs: object) -> None:
    raise RuntimeError(f"upstream said key={KEY} is bad")


def test_key_absent_from_results_of_real_requests(
    srv: dict[str, FakeServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    iocs = [(ip, "ipv4") for ip in fake.BEHAVIOUR if ip != fake.SLOW]
    df = _run(iocs, [_provider(OtxProvider, srv["otx"]), _provider(VirusTotalProvider, srv["vt"])])
    assert KEY not in df.to_csv()
    assert "GET /api/v3/ip_addresses" in caplog.text  # urllib3's debug log was captured ...
    assert KEY not in caplog.text  # ... and holds no key


def test_provider_requires_key() -> None:
    with pytest.raises(ValueError, match="needs an API key"):
        OtxProvider("")


# --- rate limit --------------------------------------------------------------------------
def test_token_bucket_burst_then_waits() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(6)]
    assert waits == [0.0, 0.0, 0.0, 0.0, pytest.approx(15.0), pytest.approx(15.0)]
    clock.now += 60
    assert bucket.acquire() == 0.0


def test_token_bucket_refills_with_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(60, capacity=1, clock=clock, sleep=clock.sleep)
    assert bucket.acquire() == 0.0
    clock.now += 0.5
    assert bucket.acquire() == pytest.approx(0.5)


def test_provider_requests_go_through_the_limiter(srv: dict[str, FakeServer]) -> None:
    clock = FakeClock()
    p = _provider(VirusTotalProvider, srv["vt"])
    p.limiter = TokenBucket(4, clock=clock, sleep=clock.sleep)
    iocs = [(f"45.155.205.{i}", "ipv4") for i in range(1, 7)]
    df = _run(iocs, [p], max_workers=1)
    assert (df["Status"] == "ok").all()
    assert clock.slept == [pytest.approx(15.0), pytest.approx(15.0)]


# --- cache ---------------------------------------------------------------------------------
def test_lookup_cache_hit_avoids_second_request(srv: dict[str, FakeServer]) -> None:
    cache: TtlCache[TiResult] = TtlCache()
    p = _provider(OtxProvider, srv["otx"])
    first = _run([(fake.BAD, "ipv4")], [p], cache=cache)
    second = _run([(fake.BAD, "ipv4")], [p], cache=cache)
    assert srv["otx"].hits[fake.BAD] == 1
    pd.testing.assert_frame_equal(first, second)


def test_lookup_cache_ttl_expiry(srv: dict[str, FakeServer]) -> None:
    clock = FakeClock()
    cache: TtlCache[TiResult] = TtlCache(ttl=3600, clock=clock)
    p = _provider(OtxProvider, srv["otx"])
    _run([(fake.BAD, "ipv4")], [p], cache=cache)
    clock.now += 3599
    _run([(fake.BAD, "ipv4")], [p], cache=cache)
    assert srv["otx"].hits[fake.BAD] == 1
    clock.now += 2
    _run([(fake.BAD, "ipv4")], [p], cache=cache)
    assert srv["otx"].hits[fake.BAD] == 2


def test_lookup_cache_does_not_keep_errors(srv: dict[str, FakeServer]) -> None:
    cache: TtlCache[TiResult] = TtlCache()
    p = _provider(OtxProvider, srv["otx"])
    _run([(fake.BROKEN, "ipv4")], [p], cache=cache, retries=0)
    _run([(fake.BROKEN, "ipv4")], [p], cache=cache, retries=0)
    assert srv["otx"].hits[fake.BROKEN] == 2


def test_ttl_cache_evicts_least_recently_used() -> None:
    cache: TtlCache[int] = TtlCache(maxsize=2)
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1
    cache.set("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


# --- concurrency ---------------------------------------------------------------------------
def test_lookup_results_keep_input_order(srv: dict[str, FakeServer]) -> None:
    ips = [f"45.155.205.{i}" for i in range(1, 13)]
    srv["gn"].delays[ips[0]] = 0.3  # the first finishes last
    srv["gn"].delays[ips[1]] = 0.2
    progress: list[tuple[int, int]] = []
    p_gn = _provider(GreyNoiseProvider, srv["gn"])
    p_abuse = _provider(AbuseIpdbProvider, srv["abuse"])
    df = _run(
        [(ip, "ipv4") for ip in ips] + [(ips[0], "ipv4")],
        [p_gn, p_abuse],
        progress=lambda d, t: progress.append((d, t)),
    )
    assert df["Ioc"].tolist() == [ip for ip in ips for _ in range(2)]
    assert df["Provider"].tolist() == ["GreyNoise", "AbuseIPDB"] * 12
    assert progress[0] == (0, 24) and progress[-1] == (24, 24)
    assert [d for d, _ in progress] == list(range(25))


def test_lookup_provider_that_raises_gives_error_row() -> None:
    class Broken(Provider):
        name = "Broken"
        types = frozenset({"ipv4"})

        def lookup(self, value: str, ioc_type: str, policy: RetryPolicy) -> TiResult:
            raise ValueError("bug")

    row = _one(_run([(fake.BAD, "ipv4")], [Broken()]))
    assert (row["Provider"], row["Status"], row["Result"]) == ("Broken", "error: ValueError: bug", False)


def test_lookup_no_providers_or_iocs_gives_schema() -> None:
    for df in (_run([(fake.BAD, "ipv4")], []), _run([], [LocalFeedProvider()])):
        assert df.empty and list(df.columns) == TI_RESULTS.names


# --- local feed ---------------------------------------------------------------------------
FEED_CSV = """indicator,type,severity,description
45.155.205.233,ip,high,SSH brute forcer
EVIL.example.com,domain,Medium,phishing kit
hxxp://bad[.]example.net/x,url,,defanged
http://bad.example.net/payload.sh,url,low,dropper
D41D8CD98F00B204E9800998ECF8427E,md5,critical,empty file
999.1.1.1,ip,high,not an address
,ip,high,empty
"""

STIX = {
    "type": "bundle",
    "id": "bundle--1",
    "objects": [
        {"type": "identity", "id": "identity--1", "name": "us"},
        {
            "type": "indicator",
            "id": "indicator--1",
            "pattern_type": "stix",
            "pattern": "[ipv4-addr:value = '198.51.100.99']",
            "indicator_types": ["malicious-activity"],
            "name": "C2 server",
            "external_references": [{"source_name": "report", "url": "https://example.org/report"}],
        },
        {
            "type": "indicator",
            "id": "indicator--2",
            "pattern": "[domain-name:value = 'c2.example.com'] OR [url:value = 'https://c2.example.com/a']",
            "indicator_types": ["anomalous-activity"],
        },
        {
            "type": "indicator",
            "id": "indicator--3",
            "pattern": "[file:hashes.'SHA-256' = '"
            + "ab" * 32
            + "' OR file:hashes.MD5 = '"
            + "cd" * 16
            + "']",
        },
        {"type": "indicator", "id": "indicator--4", "pattern": "[ipv4-addr:value = '1.1.1.1' AND x:y = 'z']"},
        {"type": "indicator", "id": "indicator--5", "pattern": "[file:name = 'evil.exe']"},
        {"type": "indicator", "id": "indicator--6", "pattern": "[url:value MATCHES '^http']"},
        {
            "type": "indicator",
            "id": "indicator--7",
            "pattern": "[ipv4-addr:value = '2.2.2.2']",
            "revoked": True,
        },
        {
            "type": "indicator",
            "id": "indicator--8",
            "pattern": "[ipv4-addr:value = '3.3.3.3']",
            "valid_until": "2001-01-01T00:00:00Z",
        },
        {
            "type": "indicator",
            "id": "indicator--9",
            "pattern": "[ipv4-addr:value = '4.4.4.4']",
            "pattern_type": "sigma",
        },
    ],
}


def test_local_feed_csv_lookup() -> None:
    feed = LocalFeedProvider()
    stats = feed.add_csv(FEED_CSV, source="feed.csv")
    assert stats.loaded == 5
    assert stats.skipped == {"invalid ip indicator": 1, "empty indicator": 1}
    iocs = [
        ("45.155.205.233", "ipv4"),
        ("evil.example.com", "dns"),
        ("http://bad.example.net/payload.sh", "url"),
        ("d41d8cd98f00b204e9800998ecf8427e", "md5"),
        ("8.8.8.8", "ipv4"),
        ("http://bad.example.net/x", "url"),
    ]
    df = _run(iocs, [feed])
    assert df[["Result", "Severity", "Status"]].values.tolist() == [
        [True, "high", "ok"],
        [True, "warning", "ok"],
        [True, "information", "ok"],
        [True, "high", "ok"],
        [False, "information", "not_found"],
        [True, "warning", "ok"],  # no severity given: warning
    ]
    assert df.loc[0, "Details"] == "SSH brute forcer (feed.csv)"


def test_local_feed_csv_needs_header() -> None:
    with pytest.raises(ParseError, match="indicator,type"):
        LocalFeedProvider().add_csv("1.2.3.4,ip\n")


def test_local_feed_stix_patterns() -> None:
    feed = LocalFeedProvider()
    stats = feed.add_stix(json.dumps(STIX), source="intel.json")
    assert stats.loaded == 5
    assert stats.skipped == {
        "not an indicator object": 1,
        "unsupported pattern": 3,
        "revoked": 1,
        "expired (valid_until)": 1,
        "not a STIX pattern": 1,
    }
    df = _run(
        [
            ("198.51.100.99", "ipv4"),
            ("c2.example.com", "dns"),
            ("https://c2.example.com/a", "url"),
            ("ab" * 32, "sha256"),
            ("cd" * 16, "md5"),
            ("1.1.1.1", "ipv4"),
        ],
        [feed],
    )
    assert df["Result"].tolist() == [True, True, True, True, True, False]
    assert df["Severity"].tolist()[:3] == ["high", "warning", "warning"]
    assert df.loc[0, "Reference"] == "https://example.org/report"


def test_parse_pattern_escapes_and_rejects() -> None:
    assert parse_pattern("[url:value = 'http://x.example.com/it\\'s']") == [
        ("url", "http://x.example.com/it's")
    ]
    assert parse_pattern("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS") is None
    assert parse_pattern("garbage") is None


def test_local_feed_stix_not_json() -> None:
    with pytest.raises(ParseError, match="not JSON"):
        LocalFeedProvider().add_stix("{oops")


def test_local_feed_from_paths(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(FEED_CSV)
    (tmp_path / "b.json").write_text(json.dumps(STIX))
    feed = LocalFeedProvider.from_paths([tmp_path / "a.csv", tmp_path / "b.json"])
    assert len(feed.entries) == 10 and feed.sources == ["a.csv", "b.json"]
    with pytest.raises(SourceUnavailable, match="cannot read threat feed"):
        LocalFeedProvider.from_paths([tmp_path / "missing.csv"])


# --- configuration -----------------------------------------------------------------------
def test_providers_from_config_nothing_configured() -> None:
    assert providers_from_config({}, env={}) == []


def test_providers_from_config_env_and_mapping(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text(FEED_CSV)
    env = {
        "HUNTING_OTX_KEY": "env-otx",
        "HUNTING_VT_KEY": "env-vt",
        "HUNTING_TI_FEEDS": str(tmp_path / "f.csv"),
    }
    config = {"VT_KEY": "cfg-vt", "greynoise_key": "cfg-gn", "greynoise_url": "http://127.0.0.1:1"}
    providers = providers_from_config(config, env=env)
    assert [p.name for p in providers] == ["LocalFeed", "OTX", "VirusTotal", "GreyNoise"]
    assert providers[1]._key == "env-otx"  # type: ignore[attr-defined]
    assert providers[2]._key == "cfg-vt"  # type: ignore[attr-defined]  # the app's mapping wins
    assert providers[3].base_url == "http://127.0.0.1:1"  # type: ignore[attr-defined]
    assert all("env-" not in repr(p) and "cfg-" not in repr(p) for p in providers)
