"""Scope, offline country/ASN lookup and RDAP wrapper.

Expected countries and AS owners were read once from geoip2fast's own lookup
(bundled GeoLite2 data, June 2024) and agree with public registries (8.8.8.8
Google/US, 1.1.1.1 Cloudflare/APNIC-AU, 183.62.140.253 Chinanet). Centroids are
the Google DSPL countries.csv values.
"""

from __future__ import annotations

import socket

import pandas as pd
import pytest

from hunting.analysis import geo
from hunting.analysis.geo import asn_summary, country_centroids, geolocate, ip_scope, whois_rdap
from hunting.errors import SourceUnavailable


@pytest.mark.parametrize(
    ("ip", "scope"),
    [
        ("8.8.8.8", "public"),
        ("2001:4860:4860::8888", "public"),
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("172.32.0.1", "public"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.200", "documentation"),
        ("2001:db8::1", "documentation"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "reserved"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.0.8", "reserved"),
        ("198.18.0.1", "reserved"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:8.8.8.8", "public"),
        ("999.1.1.1", "invalid"),
        ("1.2.3.4.5", "invalid"),
        ("not an ip", "invalid"),
        ("", "invalid"),
    ],
)
def test_ip_scope_ranges(ip: str, scope: str) -> None:
    assert ip_scope(ip) == scope


def test_geolocate_public_addresses() -> None:
    out = geolocate(["8.8.8.8", "1.1.1.1", "183.62.140.253", "2001:4860:4860::8888"])
    assert out["Ip"].tolist() == ["8.8.8.8", "1.1.1.1", "183.62.140.253", "2001:4860:4860::8888"]
    assert out["CountryCode"].tolist() == ["US", "AU", "CN", "US"]
    assert out["AsnOwner"].tolist() == ["GOOGLE", "CLOUDFLARENET", "Chinanet", "GOOGLE"]
    assert out["Network"].tolist()[:2] == ["8.8.8.0/24", "1.1.1.0/24"]
    assert out["Source"].tolist() == ["geoip2fast"] * 4
    us = out.iloc[0]
    assert (us["Latitude"], us["Longitude"]) == (37.09024, -95.712891)
    assert us["CountryName"] == "United States"
    assert out["Asn"].isna().all()  # geoip2fast has AS owners, not numbers


def test_geolocate_private_and_garbage_not_looked_up() -> None:
    out = geolocate(["10.0.0.1", "garbage", "192.0.2.5", "::1", "fe80::1"]).set_index("Ip")
    assert out["Scope"].tolist() == ["private", "invalid", "documentation", "loopback", "link-local"]
    assert out[["CountryCode", "AsnOwner", "Latitude", "Source"]].isna().all().all()


def test_geolocate_ipv4_mapped_ipv6_uses_the_ipv4_answer() -> None:
    out = geolocate(["::ffff:8.8.8.8"])
    assert out.loc[0, "Scope"] == "public"
    assert (out.loc[0, "CountryCode"], out.loc[0, "AsnOwner"]) == ("US", "GOOGLE")


def test_geolocate_dedupes_and_skips_missing_values() -> None:
    out = geolocate(["8.8.8.8", None, float("nan"), " 8.8.8.8 ", "8.8.8.8"])  # type: ignore[list-item]
    assert out["Ip"].tolist() == ["8.8.8.8"]


def test_geolocate_empty_input_has_the_schema() -> None:
    out = geolocate([])
    assert out.empty
    assert list(out.columns) == geo.GEO.names


def test_geolocate_city_db_without_geoip2_says_so() -> None:
    with pytest.raises(SourceUnavailable, match="geoip2"):
        geolocate(["8.8.8.8"], city_db="/nonexistent/GeoLite2-City.mmdb")


def test_geolocate_makes_no_network_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert geolocate(["9.9.9.9"]).loc[0, "Source"] == "geoip2fast"


def test_country_centroids_reads_namibia_and_every_iso_code() -> None:
    cents = country_centroids()
    assert cents.loc["NA", "name"] == "Namibia"
    assert (cents.loc["NA", "latitude"], cents.loc["NA", "longitude"]) == (-22.95764, 18.49041)
    assert len(cents) == 252
    assert cents.index.is_unique
    assert cents["latitude"].between(-90, 90).all() and cents["longitude"].between(-180, 180).all()


def test_country_centroids_cover_every_geoip2fast_country() -> None:
    geo._geoip2fast()
    import geoip2fast.geoip2fast as data

    codes = {item.split(":")[0] for item in data.mainListNamesCountry}
    countries = {c for c in codes if len(c) == 2 and c.isalpha() and c != "EU"}
    assert countries - set(country_centroids().index) == set()


def test_asn_summary_groups_public_addresses() -> None:
    g = geolocate(["8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "1.1.1.1", "10.0.0.1"])
    out = asn_summary(g)
    assert out["AsnOwner"].tolist() == ["GOOGLE", "CLOUDFLARENET"]
    assert out["Ips"].tolist() == [3, 1]
    assert out["Countries"].tolist() == ["US", "AU"]


def test_asn_summary_empty_frame() -> None:
    assert asn_summary(geolocate(["10.0.0.1"])).empty


def test_whois_rdap_disabled_by_default() -> None:
    def boom(ip: str, timeout: float) -> dict[str, object]:
        raise AssertionError("must not be called")

    assert whois_rdap("8.8.8.8", lookup=boom)["Status"].startswith("skipped")


def test_whois_rdap_parses_and_caches() -> None:
    calls: list[str] = []

    def fake(ip: str, timeout: float) -> dict[str, object]:
        calls.append(ip)
        return {
            "asn": "15169",
            "asn_description": "GOOGLE, US",
            "asn_cidr": "8.8.8.0/24",
            "asn_country_code": "US",
            "network": {"name": "GOGL"},
        }

    first = whois_rdap("8.8.4.4", enabled=True, lookup=fake)
    second = whois_rdap("8.8.4.4", enabled=True, lookup=fake)
    assert first == second
    assert first["Asn"] == 15169 and first["AsnOwner"] == "GOOGLE, US" and first["NetworkName"] == "GOGL"
    assert calls == ["8.8.4.4"]


def test_whois_rdap_error_is_a_status_not_an_exception() -> None:
    def fail(ip: str, timeout: float) -> dict[str, object]:
        raise TimeoutError("rdap server did not answer")

    out = whois_rdap("9.9.9.10", enabled=True, lookup=fail)
    assert out["Status"] == "error: TimeoutError: rdap server did not answer"


def test_whois_rdap_private_address_skipped() -> None:
    assert whois_rdap("192.168.1.1", enabled=True)["Status"] == "skipped: private address"


def test_geolocate_frame_types() -> None:
    out = geolocate(["8.8.8.8"])
    assert str(out["Latitude"].dtype) == "Float64"
    assert str(out["Asn"].dtype) == "Int64"
    assert isinstance(out, pd.DataFrame)
