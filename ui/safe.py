"""Rendering log text safely: attackers write the logs the analyst reads."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=\"'])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: object, limit: int = 500) -> str:
    """Log text for display: control characters and bidi overrides made visible, length capped."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", s
    )
    return s if len(s) <= limit else s[:limit] + f"… [{len(s) - limit} more characters]"


def md(text: object, limit: int = 500) -> str:
    """Log text inside st.markdown/st.info: every Markdown and HTML character escaped."""
    return _MD_SPECIAL.sub(r"\\\1", plain(text, limit))
