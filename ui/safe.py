"""Rendering log text safely: attackers write the logs the analyst reads."""

from __future__ import annotations

import re

import pandas as pd

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=\"'])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: object, limit: int = 500) -> str:
    """Log text for display: control characters and bidi overrides made visible, length capped."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", s
    )
    return s if len(s) <= limit else s[:limit] + f"… [{len(s) - limit} more characters]"


# Streamlit's GFM turns http(s)://…, www.… and user@host.tld into links *after* parsing
# (mdast-util-gfm-autolink-literal matches the text node, escapes already resolved), so
# backslashes cannot stop it: a WORD JOINER (U+2060, invisible) breaks each trigger.
_AUTOLINK = re.compile(r"(?i)(?<![a-z])(https?|ftp|mailto|xmpp)(?=:)|(?<![a-z])(www)(?=\.)|(@)")


def md(text: object, limit: int = 500) -> str:
    """Log text inside st.markdown/st.info: every Markdown and HTML character escaped, and
    auto-linking (URLs, www., e-mail) defeated, so no link, image or math is ever made."""
    safe = _AUTOLINK.sub(lambda m: m.group(0) + "\u2060", plain(text, limit))
    return _MD_SPECIAL.sub(r"\\\1", safe)


def table(df: pd.DataFrame) -> pd.DataFrame:
    """A frame st.dataframe can show: list/dict cells (e.g. users tried) become text."""
    out = df.copy()
    for col in out.columns:
        if (out[col].dtype == object or str(out[col].dtype).startswith("list")) and out[col].map(
            lambda v: isinstance(v, (list, tuple, dict, set)) or hasattr(v, "tolist")
        ).any():
            out[col] = out[col].map(
                lambda v: (
                    ", ".join(map(str, v.tolist() if hasattr(v, "tolist") else v))
                    if isinstance(v, (list, tuple, set)) or hasattr(v, "tolist")
                    else v
                )
            )
    return out
