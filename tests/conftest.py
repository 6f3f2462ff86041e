"""Shared fixtures: the real public logs in ../shared/data, skipped visibly when absent."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def missing(reason: str) -> None:
    """Skip a test whose data set or tool is absent, except in CI (``CI=true``), where it fails:
    CI installs every tool and has ../shared beside the project, so absence there is a fault."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real logs nobody here wrote; absent: skipped locally, a failure in CI."""
    if not SHARED_DATA.is_dir():
        missing(f"real public logs not found at {SHARED_DATA} (../shared is beside the project in CI)")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Parse caches and the demo go to a per-run folder, never the user's real cache."""
    folder = tmp_path_factory.mktemp("hunting-cache")
    old = os.environ.get("HUNTING_CACHE_DIR")
    os.environ["HUNTING_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("HUNTING_CACHE_DIR", None)
    else:
        os.environ["HUNTING_CACHE_DIR"] = old
