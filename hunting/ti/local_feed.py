"""A feed the analyst supplies, looked up offline: CSV or STIX 2.1 bundles.

CSV columns: ``indicator,type,severity,description``. STIX: ``indicator``
objects whose pattern is one or more equality comparisons joined by OR, such
as ``[ipv4-addr:value = '1.2.3.4']`` or ``[file:hashes.'SHA-256' = '...']``.
Patterns are read with a regular expression, never evaluated; anything else
(AND, MATCHES, qualifiers, other object types), revoked or expired
indicators and bad CSV rows are counted in :class:`FeedStats`, not loaded.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Final

from hunting.analysis.iocs import HASH_TYPES, IOC_TYPES, normalise_domain, normalise_ip, normalise_url, refang
from hunting.errors import ParseError, SourceUnavailable
from hunting.ti.base import HIGH, INFORMATION, NOT_FOUND, UNKNOWN, WARNING, Provider, RetryPolicy, TiResult

_SEVERITY_WORDS: Final = {
    "critical": HIGH,
    "high": HIGH,
    "malicious": HIGH,
    "medium": WARNING,
    "moderate": WARNING,
    "warning": WARNING,
    "suspicious": WARNING,
    "low": INFORMATION,
    "info": INFORMATION,
    "information": INFORMATION,
    "informational": INFORMATION,
    "benign": INFORMATION,
}
_TYPE_WORDS: Final = {
    "ip": "ip",
    "ipv4": "ip",
    "ipv6": "ip",
    "ipv4-addr": "ip",
    "ipv6-addr": "ip",
    "domain": "dns",
    "dns": "dns",
    "hostname": "dns",
    "domain-name": "dns",
    "fqdn": "dns",
    "url": "url",
    "uri": "url",
    "md5": "hash",
    "sha1": "hash",
    "sha-1": "hash",
    "sha256": "hash",
    "sha-256": "hash",
    "hash": "hash",
    "filehash": "hash",
    "path": "path",
    "file-path": "path",
}
_HASH_LEN: Final = {32: "md5", 40: "sha1", 64: "sha256"}
_HEX: Final = re.compile(r"[0-9a-fA-F]+")

# One comparison: object:path = 'value' (the STIX string literal allows \' and \\).
_CMP: Final = re.compile(
    r"(?P<obj>ipv4-addr|ipv6-addr|domain-name|url|file)\s*:\s*"
    r"(?P<prop>value|hashes\.(?:'(?P<h1>[A-Za-z0-9-]+)'|\"(?P<h2>[A-Za-z0-9-]+)\"|(?P<h3>[A-Za-z0-9-]+)))"
    r"\s*=\s*'(?P<val>(?:[^'\\]|\\.)*)'"
)
_GLUE: Final = re.compile(r"[\s\[\]]|\bOR\b")
_STIX_OBJECTS: Final = {"ipv4-addr": "ip", "ipv6-addr": "ip", "domain-name": "dns", "url": "url"}
_STIX_HASHES: Final = {"MD5": "md5", "SHA-1": "sha1", "SHA1": "sha1", "SHA-256": "sha256", "SHA256": "sha256"}


@dataclass
class FeedStats:
    """What was loaded and what was not (reason -> count), for the page to show."""

    loaded: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def merge(self, other: FeedStats) -> None:
        self.loaded += other.loaded
        self.skipped.update(other.skipped)


@dataclass(frozen=True)
class FeedEntry:
    severity: str
    description: str
    source: str
    reference: str = ""


def normalise_indicator(value: str, kind: str) -> tuple[str, str] | None:
    """(IoC type, value as extract_iocs writes it) for a feed value, or None when invalid."""
    value = refang(value.strip())
    kind = _TYPE_WORDS.get(kind.strip().lower(), kind.strip().lower())
    if kind == "ip":
        return normalise_ip(value)
    if kind == "dns":
        name = normalise_domain(value, in_url=True)
        return ("dns", name) if name else None
    if kind == "url":
        res = normalise_url(value)
        return ("url", res[0]) if res else None
    if kind == "hash" or kind in HASH_TYPES:
        if _HEX.fullmatch(value) and len(value) in _HASH_LEN:
            return _HASH_LEN[len(value)], value.lower()
        return None
    if kind == "path":
        return ("path", value) if value.startswith("/") else None
    return None


def _severity(word: str, default: str = WARNING) -> str:
    return _SEVERITY_WORDS.get(word.strip().lower(), default) if word else default


class LocalFeedProvider(Provider):
    """Exact-match lookups in the loaded indicators; needs no account and no network."""

    name: ClassVar[str] = "LocalFeed"
    types: ClassVar[frozenset[str]] = frozenset(IOC_TYPES)

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], FeedEntry] = {}
        self.stats = FeedStats()
        self.sources: list[str] = []

    def __repr__(self) -> str:
        return f"LocalFeedProvider(indicators={len(self.entries)}, sources={self.sources!r})"

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path]) -> LocalFeedProvider:
        """Load each file by its extension (.csv, .json/.stix); raises for unreadable or malformed files."""
        feed = cls()
        for p in paths:
            path = Path(p)
            try:
                text = path.read_text(encoding="utf-8-sig")
            except OSError as exc:
                raise SourceUnavailable(f"cannot read threat feed {path}: {exc.strerror or exc}") from exc
            if path.suffix.lower() == ".csv":
                feed.add_csv(text, source=path.name)
            else:
                feed.add_stix(text, source=path.name)
        return feed

    def _add(self, value: str, kind: str, entry: FeedEntry, stats: FeedStats) -> None:
        norm = normalise_indicator(value, kind)
        if norm is None:
            stats.skipped[f"invalid {kind or 'untyped'} indicator"] += 1
            return
        self.entries[norm] = entry
        stats.loaded += 1

    def add_csv(self, text: str, *, source: str = "csv") -> FeedStats:
        """Rows of indicator,type,severity,description (header required; extra columns ignored)."""
        reader = csv.DictReader(io.StringIO(text))
        needed = {"indicator", "type"}
        if reader.fieldnames is None or not needed <= {f.strip().lower() for f in reader.fieldnames}:
            raise ParseError(
                "threat feed CSV needs a header with indicator,type[,severity,description]", source
            )
        stats = FeedStats()
        for row in reader:
            row = {(k or "").strip().lower(): (v or "") for k, v in row.items() if isinstance(v, str)}
            if not row.get("indicator", "").strip():
                stats.skipped["empty indicator"] += 1
                continue
            entry = FeedEntry(_severity(row.get("severity", "")), row.get("description", "").strip(), source)
            self._add(row["indicator"], row.get("type", ""), entry, stats)
        self._record(source, stats)
        return stats

    def add_stix(self, text: str, *, source: str = "stix", now: datetime | None = None) -> FeedStats:
        """A STIX 2.1 bundle (or a single object, or a list of objects) as JSON text."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"not JSON: {exc.msg}", source, exc.lineno) from exc
        objects = doc.get("objects", [doc]) if isinstance(doc, dict) else doc
        if not isinstance(objects, list):
            raise ParseError("a STIX bundle's objects must be a list", source)
        stats = FeedStats()
        now = now or datetime.now(UTC)
        for obj in objects:
            if not isinstance(obj, dict) or obj.get("type") != "indicator":
                stats.skipped["not an indicator object"] += 1
                continue
            if obj.get("revoked") is True:
                stats.skipped["revoked"] += 1
                continue
            if _expired(obj.get("valid_until"), now):
                stats.skipped["expired (valid_until)"] += 1
                continue
            if obj.get("pattern_type", "stix") != "stix" or not isinstance(obj.get("pattern"), str):
                stats.skipped["not a STIX pattern"] += 1
                continue
            comparisons = parse_pattern(obj["pattern"])
            if comparisons is None:
                stats.skipped["unsupported pattern"] += 1
                continue
            entry = FeedEntry(
                _stix_severity(obj),
                str(obj.get("name") or obj.get("description") or "")[:200],
                source,
                _first_url(obj.get("external_references")),
            )
            for kind, value in comparisons:
                self._add(value, kind, entry, stats)
        self._record(source, stats)
        return stats

    def _record(self, source: str, stats: FeedStats) -> None:
        self.sources.append(source)
        self.stats.merge(stats)

    def lookup(self, value: str, ioc_type: str, policy: RetryPolicy | None = None) -> TiResult:
        entry = self.entries.get((ioc_type, value))
        if entry is None:
            return self.result(value, ioc_type, severity=INFORMATION, status=NOT_FOUND)
        details = f"{entry.description} ({entry.source})" if entry.description else entry.source
        return self.result(
            value, ioc_type, result=True, severity=entry.severity, details=details, reference=entry.reference
        )


def parse_pattern(pattern: str) -> list[tuple[str, str]] | None:
    """[(indicator kind, value)] for OR-joined equality comparisons, else None (not understood)."""
    found: list[tuple[str, str]] = []
    rest: list[str] = []
    pos = 0
    for m in _CMP.finditer(pattern):
        rest.append(pattern[pos : m.start()])
        pos = m.end()
        value = re.sub(r"\\(.)", r"\1", m.group("val"))
        obj = m.group("obj")
        if obj == "file":
            algo = m.group("h1") or m.group("h2") or m.group("h3")
            if m.group("prop") == "value" or algo is None or algo.upper() not in _STIX_HASHES:
                return None
            found.append(("hash", value))
        elif m.group("prop") != "value":
            return None
        else:
            found.append((_STIX_OBJECTS[obj], value))
    rest.append(pattern[pos:])
    if not found or _GLUE.sub("", "".join(rest)):
        return None
    return found


def _expired(valid_until: Any, now: datetime) -> bool:
    if not isinstance(valid_until, str):
        return False
    try:
        when = datetime.fromisoformat(valid_until.replace("Z", "+00:00"))
    except ValueError:
        return False
    return (when if when.tzinfo else when.replace(tzinfo=UTC)) < now


def _stix_severity(obj: Mapping[str, Any]) -> str:
    """STIX indicators carry no severity: use indicator_types (then labels) as a guide."""
    kinds = {str(k).lower() for k in (obj.get("indicator_types") or []) + (obj.get("labels") or [])}
    if "benign" in kinds:
        return INFORMATION
    if kinds & {"malicious-activity", "attribution", "compromised"}:
        return HIGH
    if "anomalous-activity" in kinds:
        return WARNING
    return WARNING if kinds else UNKNOWN


def _first_url(refs: Any) -> str:
    for ref in refs or []:
        url = ref.get("url") if isinstance(ref, dict) else None
        if isinstance(url, str) and url.startswith("http"):
            return url
    return ""
