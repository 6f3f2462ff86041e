"""Fixtures shared by the Log Analytics source tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.la_server import FakeLogAnalytics


@pytest.fixture
def fake() -> Iterator[FakeLogAnalytics]:
    """A loopback Log Analytics query service, one per test."""
    with FakeLogAnalytics() as server:
        yield server
