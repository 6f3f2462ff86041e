"""A Log Analytics row cap never undercounts Logons silently: the cut is announced on the page.

The loopback fake (tests/fakes/la_server.py) answers the logon_events template with every
demo logon row of web01 whatever the KQL asks; with the source's row cap set below that
number, the client must mark the frame truncated and the Logons page must say so in words.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
import streamlit as st

from hunting.sources.loganalytics import LogAnalyticsSource
from tests.app.conftest import no_exception, run_page
from tests.app.test_loganalytics_app import workspace  # noqa: F401  (the fake workspace fixture)
from tests.fakes.la_server import FakeLogAnalytics

CAP = 10


@pytest.fixture
def capped() -> Iterator[None]:
    st.cache_resource.clear()  # sources and cached results opened with the default cap
    with mock.patch.dict(LogAnalyticsSource.__init__.__kwdefaults__, {"row_cap": CAP}):
        yield
    st.cache_resource.clear()


def test_logons_page_states_the_row_cap(workspace: FakeLogAnalytics, capped: None) -> None:  # noqa: F811
    # How many rows the fake holds for logon_events: far more than CAP (the demo's web01 week).
    answered = workspace.answers["logon_events"].body["tables"][0]["rows"]
    assert len(answered) > CAP
    at = run_page("pages/1_Logons.py", params={"source": "loganalytics", "host": "web01", "range": "7d"})
    no_exception(at)
    warnings = [w.value for w in at.warning]
    # the notice area (ui.errors.frame_notes) names the cut...
    assert any(w.startswith("Truncated result") and f"only the first {CAP:,} rows" in w for w in warnings), (
        warnings
    )
    # ...and the figures say they cover only the rows fetched
    assert any("logon events the source returned" in w and "undercount" in w for w in warnings), warnings
