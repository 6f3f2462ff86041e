"""Where an IP address is: scope, country and AS owner, offline.

Countries and AS owners come from the data bundled with geoip2fast 1.2.2
(MaxMind GeoLite2 Country + ASN, June 2024). That data has no coordinates and
no AS *numbers*, so Latitude/Longitude are the country's centroid from
``hunting/data/country_centroids.csv`` and ``Asn`` stays empty unless a
GeoLite2 City database (``city_db``) or RDAP supplies more. Private, reserved
and other non-public addresses are labelled by :func:`ip_scope` and never
looked up.
"""

from __future__ import annotations

import functools
import ipaddress
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import pandas as pd

from hunting.errors import SourceUnavailable
from hunting.schema import FLOAT, INT, TEXT, Table, conform

PUBLIC: Final = "public"
PRIVATE: Final = "private"
LOOPBACK: Final = "loopback"
LINK_LOCAL: Final = "link-local"
RESERVED: Final = "reserved"
DOCUMENTATION: Final = "documentation"
MULTICAST: Final = "multicast"
INVALID: Final = "invalid"
SCOPES: Final = (PUBLIC, PRIVATE, LOOPBACK, LINK_LOCAL, RESERVED, DOCUMENTATION, MULTICAST, INVALID)

GEO = Table(
    "GeoIp",
    (
        ("Ip", TEXT),
        ("Scope", TEXT),
        ("CountryCode", TEXT),
        ("CountryName", TEXT),
        ("City", TEXT),
        ("Latitude", FLOAT),
        ("Longitude", FLOAT),
        ("Asn", INT),
        ("AsnOwner", TEXT),
        ("Network", TEXT),  # the AS's announced prefix containing the address
        ("Source", TEXT),  # geoip2fast | geolite2-city; empty when not looked up
    ),
    "One row per distinct address: scope, country (centroid coordinates) and AS owner.",
)

ASN_SUMMARY = Table(
    "AsnSummary",
    (("Asn", INT), ("AsnOwner", TEXT), ("Ips", INT), ("Countries", TEXT)),
    "Public addresses grouped by AS owner.",
)

# Explicit tables rather than ipaddress's is_private/is_global, whose answers
# changed between Python releases (192.0.0.8 is "global" on 3.11.7).
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
)
# RFC 1918, shared address space (carrier-grade NAT, RFC 6598) and IPv6 unique local.
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_RESERVED = tuple(
    ipaddress.ip_network(n)
    for n in ("0.0.0.0/8", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4", "100::/64", "2001::/23")
)

_GEOIP_FILE: Final = "geoip2fast-asn-ipv6.dat.gz"
_CENTROIDS: Final = Path(__file__).resolve().parent.parent / "data" / "country_centroids.csv"


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in ``text`` (surrounding space and [] allowed), or None; IPv4-mapped IPv6 unwrapped."""
    try:
        ip = ipaddress.ip_address(str(text).strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@functools.lru_cache(maxsize=65536)
def ip_scope(ip: str) -> str:
    """public, private, loopback, link-local, reserved, documentation, multicast, or invalid.

    ``::ffff:a.b.c.d`` takes the scope of a.b.c.d. Private includes carrier-grade
    NAT (100.64.0.0/10) and IPv6 unique local addresses (fc00::/7).
    """
    addr = parse_ip(ip)
    if addr is None:
        return INVALID
    if addr.is_loopback:
        return LOOPBACK
    if addr.is_unspecified:
        return RESERVED
    if addr.is_link_local:
        return LINK_LOCAL
    if addr.is_multicast:
        return MULTICAST
    if any(addr in net for net in _DOCUMENTATION):
        return DOCUMENTATION
    if any(addr in net for net in _PRIVATE):
        return PRIVATE
    if any(addr in net for net in _RESERVED) or addr.is_reserved or not addr.is_global:
        return RESERVED
    return PUBLIC


_lock = threading.Lock()
_geoip: Any = None


def _geoip2fast() -> Any:
    """The loaded geoip2fast database, built once (about 0.5 s, ~200 MB) and shared by threads.

    The absolute path matters: given a bare file name, geoip2fast first looks in
    the current directory and unpickles whatever it finds there.
    """
    global _geoip
    with _lock:
        if _geoip is None:
            import geoip2fast
            from geoip2fast import GeoIP2Fast

            path = Path(geoip2fast.__file__).resolve().parent / _GEOIP_FILE
            if not path.is_file():
                raise SourceUnavailable(f"geoip2fast data file not found: {path}")
            _geoip = GeoIP2Fast(verbose=False, geoip2fast_data_file=str(path))
        return _geoip


@functools.lru_cache(maxsize=1)
def country_centroids() -> pd.DataFrame:
    """ISO alpha-2 code -> name, latitude, longitude (``NA`` is Namibia, not a missing value)."""
    frame = pd.read_csv(_CENTROIDS, comment="#", keep_default_na=False, dtype=str)
    frame["latitude"] = pd.to_numeric(frame["latitude"], errors="coerce")
    frame["longitude"] = pd.to_numeric(frame["longitude"], errors="coerce")
    return frame.set_index("country")


def _city_reader(city_db: str | Path) -> Any:
    try:
        import geoip2.database
    except ImportError as exc:
        raise SourceUnavailable(
            "a GeoLite2 City database needs the geoip2 package, which is not installed"
        ) from exc
    path = Path(city_db)
    if not path.is_file():
        raise SourceUnavailable(f"GeoLite2 City database not found: {path}")
    return geoip2.database.Reader(str(path))


def _lookup_city(reader: Any, ip: str) -> dict[str, Any] | None:
    """One GeoLite2 City answer, or None when the address is not in the database."""
    try:
        rec = reader.city(ip)
    except Exception:  # geoip2.errors.AddressNotFoundError and friends
        return None
    return {
        "CountryCode": rec.country.iso_code,
        "CountryName": rec.country.name,
        "City": rec.city.name,
        "Latitude": rec.location.latitude,
        "Longitude": rec.location.longitude,
        "Source": "geolite2-city",
    }


def _lookup_geoip2fast(ip: str) -> dict[str, Any]:
    res = _geoip2fast().lookup(ip)
    code = res.country_code if res.country_code not in ("", "--") else None
    row: dict[str, Any] = {
        "CountryCode": code,
        "CountryName": res.country_name if code else None,
        "AsnOwner": res.asn_name or None,
        "Network": res.asn_cidr or None,
        "Source": "geoip2fast",
    }
    if code:
        cents = country_centroids()
        if code in cents.index:
            row["Latitude"] = cents.at[code, "latitude"]
            row["Longitude"] = cents.at[code, "longitude"]
    return row


def geolocate(ips: Iterable[str], *, city_db: str | Path | None = None) -> pd.DataFrame:
    """One row per distinct address, in first-seen order; missing values (None/NaN) are skipped.

    Only public addresses are looked up. A garbage string gives a row with Scope
    ``invalid``. With ``city_db`` (a GeoLite2 City .mmdb, needs the ``geoip2``
    package) city and coordinates come from it and the AS owner still from
    geoip2fast.
    """
    reader = _city_reader(city_db) if city_db is not None else None
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw in ips:
        if raw is None or (not isinstance(raw, str) and pd.isna(raw)):
            continue
        text = str(raw).strip()
        if text in seen:
            continue
        seen.add(text)
        scope = ip_scope(text)
        row: dict[str, Any] = {"Ip": text, "Scope": scope}
        if scope == PUBLIC:
            addr = str(parse_ip(text))
            row.update(_lookup_geoip2fast(addr))
            if reader is not None:
                city = _lookup_city(reader, addr)
                if city is not None:
                    row.update({k: v for k, v in city.items() if v is not None})
        rows.append(row)
    return conform(pd.DataFrame(rows), GEO)


def asn_summary(geo: pd.DataFrame) -> pd.DataFrame:
    """Public addresses per AS owner (most addresses first), with their countries."""
    public = geo[(geo["Scope"] == PUBLIC) & geo["AsnOwner"].notna()]
    if public.empty:
        return ASN_SUMMARY.empty()
    grouped = (
        public.groupby(["Asn", "AsnOwner"], dropna=False, sort=False)
        .agg(
            Ips=("Ip", "nunique"),
            Countries=("CountryCode", lambda s: ",".join(sorted(set(s.dropna())))),
        )
        .reset_index()
        .sort_values(["Ips", "AsnOwner"], ascending=[False, True], kind="stable")
    )
    return conform(grouped, ASN_SUMMARY)


RdapLookup = Callable[[str, float], dict[str, Any]]


def _ipwhois_rdap(ip: str, timeout: float) -> dict[str, Any]:
    from ipwhois import IPWhois

    return dict(IPWhois(ip, timeout=int(max(1, timeout))).lookup_rdap(depth=0, retry_count=1))


@functools.lru_cache(maxsize=4096)
def _rdap_cached(ip: str, timeout: float, lookup: RdapLookup) -> tuple[tuple[str, Any], ...]:
    raw = lookup(ip, timeout)
    asn = str(raw.get("asn") or "").split()[0] if raw.get("asn") else ""
    network = raw.get("network") or {}
    return (
        ("Ip", ip),
        ("Asn", int(asn) if asn.isdigit() else None),
        ("AsnOwner", raw.get("asn_description")),
        ("AsnCidr", raw.get("asn_cidr")),
        ("AsnCountry", raw.get("asn_country_code")),
        ("NetworkName", network.get("name") if isinstance(network, dict) else None),
        ("Status", "ok"),
    )


def whois_rdap(
    ip: str, *, timeout: float = 5, enabled: bool = False, lookup: RdapLookup | None = None
) -> dict[str, Any]:
    """RDAP registration facts for a public address (network access: off unless ``enabled``).

    Successful answers are cached for the process; failures are returned (Status
    ``error: ...``), never raised, and not cached. ``lookup`` replaces ipwhois
    in tests.
    """
    if not enabled:
        return {"Ip": ip, "Status": "skipped: RDAP lookups are disabled"}
    scope = ip_scope(ip)
    if scope != PUBLIC:
        return {"Ip": ip, "Status": f"skipped: {scope} address"}
    addr = str(parse_ip(ip))
    try:
        return dict(_rdap_cached(addr, float(timeout), lookup or _ipwhois_rdap))
    except Exception as exc:  # ipwhois raises many types (HTTPLookupError, ASNRegistryError, ...)
        return {"Ip": ip, "Status": f"error: {type(exc).__name__}: {exc}"[:300]}
