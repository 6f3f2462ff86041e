"""A one-page app for the browser test: log text through ui.safe.md() and, as a control,
the same text raw (which must produce links, or the probe proves nothing)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.hostile.corpus import all_payloads
from ui.safe import md

LINKY = [
    "http://127.0.0.1:9/pwned-autolink",
    "https://evil.example.com/u.sh",
    "www.evil.example.com",
    "root@evil.example.com",
    "![x](http://127.0.0.1:9/pwned-image.png)",
    "[click](http://127.0.0.1:9/pwned-link)",
    "$\\href{javascript:alert('pwned-katex')}{click}$",
]
with st.container(key="safe"):
    for text in [*LINKY, *all_payloads().values()]:
        st.markdown(md(text))
        st.caption(md(text))
        st.info(md(text))
with st.container(key="control"):
    st.markdown("control http://127.0.0.1:9/control-autolink www.control.example.com")
