"""AppTest helpers: pages run in-process against the built-in demo (cache folder: tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def run_page(
    page: str, *, params: dict[str, str] | None = None, state: dict[str, Any] | None = None
) -> AppTest:
    """Run ``streamlit_app.py`` or ``pages/<file>`` once, as the app runs it (from the entry
    script, so the menu's page links resolve); query params preselect host/range."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    if page != "streamlit_app.py":
        at.switch_page(page)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.run()
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
