"""AppTest helpers: pages run in-process against the built-in demo in a private cache folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the demo and parse caches at a temporary folder for the whole session."""
    folder = tmp_path_factory.mktemp("hunting-cache")
    old = os.environ.get("HUNTING_CACHE_DIR")
    os.environ["HUNTING_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("HUNTING_CACHE_DIR", None)
    else:
        os.environ["HUNTING_CACHE_DIR"] = old


def run_page(
    page: str, *, params: dict[str, str] | None = None, state: dict[str, Any] | None = None
) -> AppTest:
    """Run ``streamlit_app.py`` or ``pages/<file>`` once; query params preselect host/range."""
    at = AppTest.from_file(str(ROOT / page), default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.run()
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
