"""Indicators of compromise in log text: addresses, domains, URLs, hashes, paths.

A vectorised (pyarrow/RE2) search picks the rows that can hold each kind of
IoC; only those rows are scanned with the full patterns, and each distinct
candidate is validated once: IPs with :mod:`ipaddress`, domains against the
public suffix list bundled with tldextract (never fetched), hashes by exact hex
length. Defanged forms (``hxxp://``, ``[.]``, ``(.)``, ``[:]//``) are refanged
first. About 1.5 s for 200,000 sshd lines on this machine. Base64 payloads in the text
(:mod:`hunting.analysis.decode`, rows picked by its RE2 prefilter) are decoded and read too:
their IoCs carry the row and ``<column> (base64)`` (about 0.1 s more per 90,000 demo lines).

Look-alikes are judged by their context: a dotted quad right after ``Product/`` or ``name-``,
a ``...version=`` / ``Version`` / ``release`` / ``build`` word or a product name
(``OpenSSL 1.1.1.1``), or followed by a package suffix (``2.5.2.0-1ubuntu``), is a
version; a bare name that is code (followed by ``(``, inside ``$(...)``, a
capitalised last label or a camelCase label as in ``java.lang.Runtime``, a receiver such as
``self.``/``os.``, a reversed package name ``com.canonical.Unity``, a syslog
``facility.priority`` such as ``auth.info``, or a two-label name ending in a TLD that
doubles as a method, ``afile.read``) is not a domain. Names inside URLs are kept.

Known false positives: a dotted-quad software version with no such context
(``4.15.0.1``) is a valid IPv4 address; a 32/40/64-hex token that is not a hash (systemd boot/machine
ids are masked by their field names, auditd's hex-encoded arguments are dropped
because they decode to printable text, other ids are not); ``name.tld`` where
the TLD doubles as a file extension (``run.sh``, ``config.py``, ``notes.zip``)
is taken for a file name unless it has a subdomain or sits in a URL.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

import pandas as pd
import tldextract

from hunting.analysis.decode import B64_PREFILTER, decode_payloads
from hunting.analysis.geo import ip_scope, parse_ip
from hunting.schema import BOOL, INT, TEXT, Table, conform

IPV4: Final = "ipv4"
IPV6: Final = "ipv6"
DNS: Final = "dns"
URL: Final = "url"
MD5: Final = "md5"
SHA1: Final = "sha1"
SHA256: Final = "sha256"
PATH: Final = "path"
IOC_TYPES: Final = (URL, IPV4, IPV6, DNS, MD5, SHA1, SHA256, PATH)
HASH_TYPES: Final = (MD5, SHA1, SHA256)
DECODED_SUFFIX: Final = " (base64)"  # Column of an IoC found in a column's decoded base64 payload
_HASH_BY_LEN: Final = {32: MD5, 40: SHA1, 64: SHA256}

IOCS = Table(
    "Iocs",
    (("IocType", TEXT), ("Value", TEXT), ("IpScope", TEXT), ("Row", INT), ("Column", TEXT)),
    "One row per IoC occurrence; Row is the source frame's index label.",
)

IOC_SUMMARY = Table(
    "IocSummary",
    (
        ("IocType", TEXT),
        ("Value", TEXT),
        ("IpScope", TEXT),
        ("IsPublic", BOOL),  # False for private/reserved/... addresses; NA for non-IP types
        ("Count", INT),
        ("Rows", INT),
        ("FirstRow", INT),
        ("Columns", TEXT),
    ),
    "Distinct IoCs with occurrence counts.",
)

# --- refanging --------------------------------------------------------------
_REFANG: Final = (
    (re.compile(r"(?i)\bhxxp(s?)(?=\[?:)"), r"http\1"),
    (re.compile(r"(?i)\bfxp(?=\[?:\]?//)"), "ftp"),
    (re.compile(r"\[:\]//|\[://\]"), "://"),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"(?i)\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)"), "."),
)

# --- candidates ----------------------------------------------------------------
# In priority order: where matches overlap the earlier kind wins, so a URL keeps
# its host and path, a path its file name, an IPv6 address its embedded IPv4 and
# a host name the dotted quad it starts with. An address that is a whole component
# of a path or URL path is reported as well (right after the path or URL). Each pattern is run only on rows
# whose cheap trigger (a vectorised RE2 search) matches, and starts with a
# literal or class where possible so that ``re`` can scan ahead quickly.
_CANDIDATES: Final = (
    (URL, "://", r"(?<![\w])(?i:https?|ftp)://[^\s\"'<>\[\]{}|\\^`]+"),
    (PATH, "/", r"/(?<![^\s\"'=(\[,;<>|&`]/)(?:[A-Za-z0-9._+@%~-]+/?)+"),
    (
        IPV6,
        r"::|(?:[0-9A-Fa-f]{1,4}:){6}",
        # "::" somewhere, or all eight groups (six and a dotted quad): never a time like 06:55:46
        r"(?<![\w:.])(?:(?=[0-9A-Fa-f:.]*::)(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?"
        r"|(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){6}(?:\d{1,3}\.){3}\d{1,3})(?![\w:]|\.\d)",
    ),
    (IPV4, r"\d\.\d{1,3}\.\d{1,3}\.\d", r"(?<![\w.])(?=\d)(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\w)"),
    (
        DNS,
        r"[A-Za-z0-9]\.[A-Za-z]",
        r"(?<![\w.-])(?=[a-zA-Z0-9-]+\.[a-zA-Z0-9])"
        r"(?i:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9])(?![\w-]|\.[a-zA-Z0-9])",
    ),
    (
        "hash",
        r"[0-9A-Fa-f]{32}",
        r"(?<![0-9A-Za-z_])(?=[0-9A-Fa-f]{32})(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})(?![0-9A-Za-z_])",
    ),
)
_PATTERNS: Final = tuple((kind, re.compile(pat)) for kind, _, pat in _CANDIDATES)
# Hex after these field names is an id or hex-encoded text (auditd proctitle, EXECVE
# arguments, sockaddr), not a hash.
_HEX_FIELD_BEFORE: Final = re.compile(
    r"(?i)(?:\b_?boot_?id|\b_?machine_?id|\b_?invocation_?id|\bproctitle|\ba\d+|\bsaddr|\bdata)=$"
)
# Rows that may hold a defanged IoC (checked in bulk before the per-row refang).
_DEFANGED: Final = r"(?i)hxxp|fxp|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\[:\]|\[://\]"
_URL_TRAIL: Final = ".,;:!?'\")"
_PATH_TRAIL: Final = ".,;:"

# TLDs that are also common file extensions: "name.<tld>" alone is a file name.
_FILE_TLDS: Final = frozenset((
    "sh", "py", "pl", "pm", "rs", "so", "md", "cc", "ps", "in", "ac", "am", "mo", "ml", "sc", "mk", "cf",
    "tf", "bz", "ms", "sv", "tk", "cat", "pid", "target", "pub", "java", "map", "new", "prof", "zone",
    "run", "zip", "mov",
))  # fmt: skip
# TLDs that double as method or attribute names: "name.<tld>" alone is code (``afile.read``).
_CODE_TLDS: Final = frozenset((
    "read", "foo", "call", "open", "save", "data", "show", "play", "search", "stream", "group", "name",
))  # fmt: skip
# First labels that are code receivers or modules, never a host (``self.foo``, ``os.path``).
_CODE_RECEIVERS: Final = frozenset((
    "self", "this", "cls", "super", "os", "sys", "re", "np", "pd", "json", "math", "string", "socket",
    "subprocess", "base64", "urllib", "requests", "args", "opts", "kwargs", "ctx", "obj", "dbus",
    "java", "javax", "android", "kotlin", "scala", "window", "document", "console", "wscript", "cscript",
    "adodb", "msxml2", "scripting",
))  # fmt: skip
# First labels of reversed names (Java packages, D-Bus names): ``com.canonical.Unity.Scope``.
_REVERSED_FIRST: Final = frozenset(("com", "org", "net", "io", "edu", "gov"))
_SYSLOG_FACILITIES: Final = frozenset((
    "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user", "uucp",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
))  # fmt: skip
_SYSLOG_LEVELS: Final = frozenset(
    ("emerg", "alert", "crit", "err", "error", "warn", "warning", "notice", "info", "debug", "none")
)
# Before a dotted quad that is a version: "Chrome/", "auoms_version=", "Version ", "release ".
_VERSION_BEFORE: Final = re.compile(
    r"(?:[A-Za-z][\w.+-]*/|[A-Za-z][\w.+]*-"
    r"|(?:\b|_|(?<=[a-z])(?=[VRB]))(?i:version|release|build|revision|ver|rev)\w*[\s=:\"']*"
    r"|\b(?i:openssl|openssh|libssl|firefox|chrome|chromium|safari|edge|msie|trident|python|java|node|"
    r"php|perl|ruby|nginx|apache|windows|agent)[\s\"'=:]+)$"
)
_VERSION_AFTER: Final = re.compile(r"[~+]|-\d*[A-Za-z]")
_CODE_BEFORE: Final = re.compile(r"(?:\$\(|\$\{|%\(|\{\{\s*)$")
_TOP_DIRS: Final = frozenset((
    "bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "media", "mnt", "opt", "proc",
    "root", "run", "sbin", "snap", "srv", "sys", "tmp", "usr", "var",
))  # fmt: skip


def make_extractor() -> tldextract.TLDExtract:
    """The public suffix list snapshot bundled with tldextract: no download, no cache directory."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


_EXTRACT = make_extractor()


def refang(text: str) -> str:
    """Undo common defanging: ``hxxps[:]//evil[.]com`` -> ``https://evil.com``."""
    for pattern, repl in _REFANG:
        text = pattern.sub(repl, text)
    return text


@functools.lru_cache(maxsize=65536)
def normalise_ip(text: str) -> tuple[str, str] | None:
    """(type, canonical text) for a valid address; ``::ffff:a.b.c.d`` keeps its dotted tail."""
    if "%" in text:  # zone ids are local by definition
        return None
    addr = parse_ip(text)
    if addr is None:
        return None
    if ":" in text:  # written as IPv6 (possibly IPv4-mapped)
        if addr.version == 4:
            return IPV6, f"::ffff:{addr}"
        return IPV6, str(addr)
    return IPV4, str(addr)


@functools.lru_cache(maxsize=65536)
def normalise_domain(text: str, *, in_url: bool = False) -> str | None:
    """Lower-case FQDN when its suffix is on the public suffix list, else None."""
    name = text.strip().rstrip(".").lower()
    if not name or len(name) > 253 or "." not in name:
        return None
    parts = _EXTRACT(name)
    if not parts.suffix or not parts.domain or parts.suffix.endswith("arpa"):
        return None
    if not in_url and not parts.subdomain and parts.suffix in _FILE_TLDS:
        return None
    return name


def registered_domain(fqdn: str) -> str:
    """``www.evil.co.uk`` -> ``evil.co.uk`` (the name itself when it has no suffix)."""
    parts = _EXTRACT(fqdn)
    return f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else fqdn


@functools.lru_cache(maxsize=65536)
def _is_hash(token: str) -> bool:
    """Exact-length hex that does not decode to printable text (auditd hex-encodes arguments)."""
    if len(token) not in _HASH_BY_LEN:
        return False
    raw = bytes.fromhex(token)
    printable = all(b == 0 or 0x20 <= b < 0x7F or b in (9, 10, 13) for b in raw)
    has_letter = any(c in "abcdefABCDEF" for c in token)
    return not printable and has_letter and len(set(token)) > 2


def normalise_url(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(canonical URL, [(type, host)]) for a URL with a usable host, else None.

    The scheme and host are lower-cased; path and query are kept as written.
    The host is returned as dns/ipv4/ipv6 when it validates.
    """
    url = text.rstrip(_URL_TRAIL) if "(" not in text else text.rstrip(_URL_TRAIL.replace(")", ""))
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if not host or parts.scheme.lower() not in ("http", "https", "ftp"):
        return None
    netloc = parts.netloc
    at = netloc.rfind("@") + 1  # user info keeps its case, the host does not
    rest = url[len(parts.scheme) + 3 + len(netloc) :]
    canonical = f"{parts.scheme.lower()}://{netloc[:at]}{netloc[at:].lower()}{rest}"
    hosts: list[tuple[str, str]] = []
    ip = normalise_ip(host)
    if ip is not None:
        hosts.append(ip)
    else:
        dns = normalise_domain(host, in_url=True)
        if dns is not None:
            hosts.append((DNS, dns))
    return canonical, hosts


def _valid_path(path: str) -> str | None:
    path = path.rstrip(_PATH_TRAIL)
    parts = [p for p in path.split("/") if p]
    if not parts or set(path) <= {"/", "."}:
        return None
    if len(parts) == 1 and parts[0] not in _TOP_DIRS:
        return None
    return path


def _embedded_ips(path: str) -> list[tuple[str, str]]:
    """Addresses that are whole path components: ``/dev/tcp/45.95.147.236/4444`` names its C2 server."""
    found: list[tuple[str, str]] = []
    for part in path.split("/"):
        if part and (part[0].isdigit() or ":" in part):
            ip = normalise_ip(part)
            if ip is not None:
                found.append(ip)
    return found


def _url_path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


def _validate(kind: str, text: str) -> list[tuple[str, str]]:
    """The IoCs (type, normalised value) one candidate stands for; empty when it is not valid."""
    if kind == URL:
        res = normalise_url(text)
        return [] if res is None else [(URL, res[0]), *res[1], *_embedded_ips(_url_path(res[0]))]
    if kind == PATH:
        path = _valid_path(text)
        return [(PATH, path), *_embedded_ips(path)] if path else []
    if kind in (IPV4, IPV6):
        if not any(c.isalnum() for c in text):  # a bare "::" in prose is punctuation
            return []
        ip = normalise_ip(text)
        return [ip] if ip is not None and ip[0] == kind else []
    if kind == DNS:
        name = normalise_domain(text)
        return [(DNS, name)] if name else []
    if kind == "hash":
        return [(_HASH_BY_LEN[len(text)], text.lower())] if _is_hash(text) else []
    return []


# Every match of _VERSION_BEFORE ends in "/" or "-" or holds one of these words in any case,
# also as re's IGNORECASE reads it (ı and İ for i, ſ for s, K for k: _CASE_FOLD): windows
# with none of them skip the regex, which Python tries at every position.
_CASE_FOLD: Final = {0x131: "i", 0x17F: "s", 0x307: None}  # "İ".lower() is "i" + U+0307
_VERSION_WORDS: Final = (
    "ver", "rel", "build", "rev", "openssl", "openssh", "libssl", "firefox", "chrom", "safari",
    "edge", "msie", "trident", "python", "java", "node", "php", "perl", "ruby", "nginx", "apache",
    "windows", "agent",
)  # fmt: skip


def _is_version(text: str, start: int, end: int) -> bool:
    """A dotted quad that the words around it make a software version."""
    before = text[max(0, start - 40) : start]
    low = before.lower().translate(_CASE_FOLD)
    maybe = before[-1:] in ("/", "-") or any(w in low for w in _VERSION_WORDS)
    return (maybe and bool(_VERSION_BEFORE.search(before))) or bool(_VERSION_AFTER.match(text, end))


def _is_code(text: str, start: int, name: str) -> bool:
    """A dotted name that is code, a template field or a syslog selector, not a host."""
    end = start + len(name)
    if text[end : end + 1] == "(" or _CODE_BEFORE.search(text[max(0, start - 4) : start]):
        return True
    labels = name.split(".")
    if re.fullmatch(r"[A-Z][a-z]+", labels[-1]) or any(re.search(r"[a-z][A-Z]", lb) for lb in labels[1:]):
        return True  # java.lang.Runtime, dbus.Array, Unity.Scope.Music, x.getRuntime
    low = [label.lower() for label in labels]
    if low[0] in _CODE_RECEIVERS or (low[0] in _REVERSED_FIRST and len(low) >= 3):
        return True
    syslog_selector = low[0] in _SYSLOG_FACILITIES and low[-1] in _SYSLOG_LEVELS
    return len(low) == 2 and (low[1] in _CODE_TLDS or syslog_selector)


def _in_lookalike_context(text: str, start: int, kind: str, cand: str) -> bool:
    """Context says this candidate is a version (IPv4) or code (domain), not an IoC."""
    if kind == IPV4:
        return _is_version(text, start, start + len(cand))
    if kind == DNS:
        return _is_code(text, start, cand)
    return False


def _row_candidates(text: str, kinds: Sequence[bool]) -> list[tuple[int, str, str]]:
    """(start, kind, text) of non-overlapping candidates in one string, in text order."""
    taken: list[tuple[int, int]] = []
    out: list[tuple[int, str, str]] = []
    for (kind, pattern), wanted in zip(_PATTERNS, kinds, strict=True):
        if not wanted:
            continue
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            if kind == "hash" and _HEX_FIELD_BEFORE.search(text, max(0, start - 20), start):
                continue
            if _in_lookalike_context(text, start, kind, m.group()):
                continue
            out.append((start, kind, m.group()))
    out.sort()
    return out


def _column_iocs(text: pd.Series) -> list[tuple[int, int, str, str]]:
    """IoCs in one column of strings indexed by row position: [(pos, order in row, type, value)]."""
    text = text.astype("string[pyarrow]")
    defanged = text.str.contains(_DEFANGED, regex=True)
    if defanged.any():
        text = text.copy()
        text[defanged] = text[defanged].map(refang)
    # One vectorised RE2 search per kind tells which rows can hold it at all.
    triggers = [text.str.contains(trigger, regex=True).tolist() for _, trigger, _ in _CANDIDATES]
    found: list[tuple[int, int, str, str]] = []
    seen: dict[tuple[str, str], list[tuple[str, str]]] = {}
    # A row's IoCs depend on its text alone (the triggers too): each distinct text is read once
    # (a busy host repeats its cron, sshd and daemon lines many times).
    by_text: dict[str, list[tuple[str, str]]] = {}
    for pos, value, *kinds in zip(text.index, text.tolist(), *triggers, strict=True):
        if not any(kinds):
            continue
        row = by_text.get(value)
        if row is None:
            row = []
            for _, kind, cand in _row_candidates(value, kinds):
                iocs = seen.get((kind, cand))
                if iocs is None:
                    iocs = seen[(kind, cand)] = _validate(kind, cand)
                row.extend(iocs)
            by_text[value] = row
        for order, (ioc_type, ioc) in enumerate(row):
            found.append((pos, order, ioc_type, ioc))
    return found


def _decoded_iocs(text: pd.Series) -> list[tuple[int, int, str, str]]:
    """IoCs in the base64 payloads of a column (:func:`decode_payloads`): [(pos, order, type, value)].

    Rows are picked by the vectorised :data:`B64_PREFILTER` first; every payload of a row
    (both layers) is read like a column value, in payload order; each distinct text once.
    """
    text = text.astype("string[pyarrow]")
    maybe = text.str.contains(B64_PREFILTER, regex=True).fillna(False).astype(bool)
    rows = list(zip(text.index[maybe], text[maybe].tolist(), strict=True))
    owners: list[str] = []  # the distinct text each payload came from
    payloads: list[str] = []
    for value in dict.fromkeys(v for _, v in rows):
        for payload in decode_payloads(value):
            owners.append(value)
            payloads.append(payload.text)
    if not payloads:
        return []
    by_text: dict[str, list[tuple[str, str]]] = {}
    for i, _, ioc_type, value in _column_iocs(pd.Series(payloads, dtype=str)):
        by_text.setdefault(owners[i], []).append((ioc_type, value))
    return [
        (int(pos), order, ioc_type, ioc)
        for pos, value in rows
        for order, (ioc_type, ioc) in enumerate(by_text.get(value, ()))
    ]


def extract_iocs(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Every IoC occurrence in ``frame[columns]`` (see :data:`IOCS`), by row, column, then text order.

    ``Row`` is the frame's index label (its position when the index is not
    integer). Missing values are skipped; other types are read as text. IPs
    carry ``IpScope`` (public, private, loopback, ...): nothing is dropped for
    being private. A URL's host is also reported as dns/ipv4/ipv6, and an
    address that is a whole path component (``/dev/tcp/45.95.147.236/4444``)
    as ipv4/ipv6 next to the path, with the same Row and Column. IoCs inside a
    base64 payload of the text (``{echo,B64}|{base64,-d}|bash``, see
    :mod:`hunting.analysis.decode`) are reported with the same Row and the Column
    named ``<column> (base64)``, after that column's plain ones.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"no such column(s): {', '.join(missing)}")
    labels = frame.index
    rows: list[tuple[int, int, int, str, str, str]] = []
    for col_no, col in enumerate(columns):
        text = frame[col].reset_index(drop=True)
        text = text[text.notna()].astype(str)
        for pos, order, ioc_type, value in _column_iocs(text):
            rows.append((pos, 2 * col_no, order, ioc_type, value, col))
        for pos, order, ioc_type, value in _decoded_iocs(text):
            rows.append((pos, 2 * col_no + 1, order, ioc_type, value, col + DECODED_SUFFIX))
    if not rows:
        return IOCS.empty()
    rows.sort(key=lambda r: r[:3])
    out = pd.DataFrame(
        {
            "IocType": [r[3] for r in rows],
            "Value": [r[4] for r in rows],
            "Row": [labels[r[0]] for r in rows] if _int_index(labels) else [r[0] for r in rows],
            "Column": [r[5] for r in rows],
        }
    )
    is_ip = out["IocType"].isin([IPV4, IPV6])
    out["IpScope"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out.loc[is_ip, "IpScope"] = out.loc[is_ip, "Value"].map(ip_scope)
    return conform(out, IOCS)


def _int_index(index: pd.Index) -> bool:
    return bool(pd.api.types.is_integer_dtype(index.dtype))


def summarise_iocs(iocs: pd.DataFrame) -> pd.DataFrame:
    """Distinct (IocType, Value) with Count, Rows (distinct rows), FirstRow and Columns; most frequent first."""
    if iocs.empty:
        return IOC_SUMMARY.empty()
    grouped = (
        iocs.groupby(["IocType", "Value"], sort=False, dropna=False)
        .agg(
            IpScope=("IpScope", "first"),
            Count=("Value", "size"),
            Rows=("Row", "nunique"),
            FirstRow=("Row", "min"),
            Columns=("Column", lambda s: ",".join(dict.fromkeys(s))),
        )
        .reset_index()
    )
    grouped["IsPublic"] = grouped["IpScope"].map(lambda s: pd.NA if pd.isna(s) else s == "public")
    type_rank = {t: i for i, t in enumerate(IOC_TYPES)}
    grouped["_rank"] = grouped["IocType"].map(type_rank)
    grouped = grouped.sort_values(["Count", "_rank", "Value"], ascending=[False, True, True], kind="stable")
    return conform(grouped, IOC_SUMMARY)


def extract_from_text(text: str) -> list[tuple[str, str]]:
    """[(type, value)] for one piece of text, every occurrence in text order (a URL's host right after it)."""
    if not text:
        return []
    return [(t, v) for _, _, t, v in _column_iocs(pd.Series([text], dtype=str))]
