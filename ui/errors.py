"""One place where every page says what went wrong with the data source, in words.

Source errors (``HuntingError``: throttled with HTTP 429, forbidden with 403, time-outs,
unreadable answers) and incomplete answers (``df.attrs["partial"]`` from Log Analytics,
``df.attrs["truncated"]`` from a row cap, ``df.attrs["missing"]`` for an absent table)
are written into a notice area drawn at the top of each page by ``ui.context.sidebar``,
instead of Streamlit's redacted "This app has encountered an error".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from hunting.errors import HuntingError, QueryError, SourceUnavailable
from ui.safe import md

T = TypeVar("T")
_SLOT = "_notice_slot"
_SEEN = "_notices_seen"
FRAME_NOTES = {
    "partial": "Partial result",
    "truncated": "Truncated result",
    "missing": "Missing data",
}


def open_notice_area() -> None:
    """Reserve the notice area (call once per run, at the top of the page)."""
    st.session_state[_SLOT] = st.container()
    st.session_state[_SEEN] = set()


def _notice(kind: str, text: str) -> None:
    seen: set[str] = st.session_state.setdefault(_SEEN, set())
    if text in seen:
        return
    seen.add(text)
    slot = st.session_state.get(_SLOT)
    target: Any = slot if slot is not None else st
    try:
        getattr(target, kind)(text)
    except Exception:  # a container from an earlier run (tests calling helpers alone)
        getattr(st, kind)(text)


def describe(exc: BaseException, what: str = "") -> str:
    """A source error in words (the library's own message, which never quotes secrets)."""
    where = f" while loading {what}" if what else ""
    if isinstance(exc, SourceUnavailable):
        head = f"The data source is not available{where}"
    elif isinstance(exc, QueryError):
        head = f"The data source could not answer{where}"
    else:
        head = f"A problem with the data source{where}"
    return f"{head}: {md(exc, 1000)}"


def source_error(exc: BaseException, what: str = "") -> None:
    """Show a source error in the notice area."""
    _notice("error", describe(exc, what))


def frame_notes(df: pd.DataFrame, what: str = "") -> None:
    """Announce partial, truncated or missing results carried in ``df.attrs``."""
    for key, label in FRAME_NOTES.items():
        note = df.attrs.get(key) if isinstance(df, pd.DataFrame) else None
        if note:
            _notice("warning", f"{label}{f' ({md(what)})' if what else ''}: {md(note, 600)}")


def guarded(call: Callable[[], T], what: str = "", *, stop: bool = True) -> T | None:
    """Run ``call``; a HuntingError is shown in words (and the page stopped when ``stop``),
    a frame's partial/truncated/missing notes are announced."""
    try:
        out = call()
    except HuntingError as exc:
        source_error(exc, what)
        if stop:
            st.stop()
        return None
    if isinstance(out, pd.DataFrame):
        frame_notes(out, what)
    return out
