"""Defanging indicators: attacker URLs, domains and IPs shown so no renderer makes them links.

Markdown renderers (Streamlit's GFM) turn ``http://…``, ``www.…`` and ``user@host.tld`` into
live links; one misclick then opens attacker infrastructure. The analyst still needs the
indicator, so it is written in the usual defanged form (``hxxp://``, ``example[.]com``,
``1.2.3[.]4``) that can be pasted into a TI tool or re-fanged. Every pattern is linear
(no nested quantifiers), so a 1 MB line costs one pass.
"""

from __future__ import annotations

import re

__all__ = ["defang"]

# scheme://host  (host stops at a path, query, fragment, space or quote)
_URL = re.compile(r"(?i)\b(h)tt(ps?)://([^\s/?#\"'<>\\]*)|\b(f)t(p)://([^\s/?#\"'<>\\]*)")
_IPV4 = re.compile(r"(?<![\w.])(\d{1,3}\.\d{1,3}\.\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")
# a dotted name ending in an alphabetic label, not inside a path (not after / or \)
_DOMAIN = re.compile(
    r"(?i)(?<![\w./\\-])((?:[a-z0-9_](?:[a-z0-9_-]{0,62})\.){1,126}[a-z]{2,63})(?![\w-]|\.\w)"
)
_WWW = re.compile(r"(?i)(?<![\w.-])www\.")
# labels that are file extensions far more often than domains ("u.sh", "auth.log")
_FILE_EXT = frozenset(
    [
        "sh",
        "py",
        "pl",
        "rb",
        "php",
        "js",
        "log",
        "txt",
        "gz",
        "bz2",
        "xz",
        "zst",
        "tar",
        "tgz",
        "zip",
        "conf",
        "cfg",
        "ini",
        "json",
        "yaml",
        "yml",
        "toml",
        "csv",
        "xml",
        "html",
        "htm",
        "so",
        "service",
        "timer",
        "socket",
        "mount",
        "pid",
        "lock",
        "sock",
        "tmp",
        "bak",
        "old",
        "swp",
        "key",
        "pem",
        "crt",
        "deb",
        "rpm",
        "bin",
        "exe",
        "dll",
        "elf",
        "out",
        "d",
        "c",
        "h",
        "go",
        "rs",
        "md",
        "parquet",
    ]
)


def _host(host: str) -> str:
    ip = _IPV4.sub(r"\1[.]\2", host)
    return ip if ip != host else host.replace(".", "[.]")


def _url(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return f"hxx{m.group(2).lower()}://{_host(m.group(3))}"
    return f"fxp://{_host(m.group(6))}"


def _domain(m: re.Match[str]) -> str:
    name = m.group(1)
    if not name.lower().startswith("www.") and name.rsplit(".", 1)[1].lower() in _FILE_EXT:
        return name
    return name.replace(".", "[.]")


def defang(text: str) -> str:
    """``text`` with URLs (``hxxp://``), domains (``example[.]com``) and IPv4 addresses
    (``1.2.3[.]4``) defanged; everything else unchanged. Idempotent."""
    text = _URL.sub(_url, text)
    text = _IPV4.sub(r"\1[.]\2", text)
    text = _DOMAIN.sub(_domain, text)
    return _WWW.sub("www[.]", text)
