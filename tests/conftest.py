"""Shared fixtures: the real public logs in ../shared/data, skipped visibly when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real logs nobody here wrote; tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public logs not found at {SHARED_DATA} (../shared is beside the project in CI)")
    return SHARED_DATA
