"""Odd and hostile inputs through the real pages (AppTest): no crash, a message in words.

Issue 16 items 5 and 6, issue 14 items 3 and 10: sign-in gate, typed paths on a shared
server, NaT and out-of-window dates from old links, unknown hosts, source errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from hunting.errors import QueryError
from tests.app.conftest import ROOT, no_exception, run_page


def _texts(at: AppTest) -> str:
    parts = [
        e.value for kind in ("markdown", "error", "warning", "info", "caption", "title") for e in at.get(kind)
    ]
    parts += [e.proto.body for e in at.get("alert")] if at.get("alert") else []
    return "\n".join(str(p) for p in parts)


def test_nothing_renders_before_sign_in() -> None:
    """[auth] configured, visitor not signed in: only the sign-in prompt, no page content."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "id",
        "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
    at.secrets["deploy"] = {"allowed_users": ["analyst@example.org"]}
    at.run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Sign in required"]
    assert not at.sidebar.get("radio") and not at.get("selectbox") and not at.get("metric")
    assert [b.label for b in at.button] == ["Sign in"]


_AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "id",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


@pytest.mark.parametrize(
    ("email", "allowed", "title"),
    [
        ("Analyst@Example.org", ["analyst@example.org"], None),  # on the list (case-insensitive)
        ("intruder@example.org", ["analyst@example.org"], "Not allowed"),
        ("analyst@example.org", [], "Not allowed"),  # empty allow-list: fail closed
    ],
)
def test_signed_in_visitor_gated_by_allow_list(
    email: str, allowed: list[str], title: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed in (OIDC answered): only accounts on [deploy] allowed_users see a page."""
    import ui.context

    monkeypatch.setattr(ui.context, "_current_user", lambda: {"is_logged_in": True, "email": email})
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.secrets["auth"] = _AUTH
    at.secrets["deploy"] = {"allowed_users": allowed}
    at.run()
    no_exception(at)
    titles = [t.value for t in at.title]
    if title is None:
        assert titles and titles[0].startswith("Host summary")
    else:
        assert titles == [title]
        assert not at.get("metric") and not at.sidebar.get("selectbox")
        assert [b.label for b in at.button] == ["Sign out"]


def test_no_typed_paths_on_a_shared_server_without_roots() -> None:
    """AppTest has no server.address (Streamlit binds every interface): the box is off."""
    at = run_page("streamlit_app.py", params={"source": "files"}, state={"source": "files"})
    no_exception(at)
    box = at.sidebar.text_area[0]
    assert box.disabled
    assert "upload" in _texts(at).lower()


def test_paths_outside_roots_refused_and_long_path_survives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "evidence"
    root.mkdir()
    monkeypatch.setenv("HUNTING_EVIDENCE_ROOTS", str(root))
    at = run_page(
        "streamlit_app.py",
        params={"source": "files"},
        state={"source": "files", "hunt_paths": f"/etc/shadow\n/proc/self/environ\n{'/x' * 3000}"},
    )
    no_exception(at)
    warnings = [w.value for w in at.sidebar.warning]
    assert sum("outside the evidence roots" in w for w in warnings) == 2
    assert any("too long" in w for w in warnings)
    assert "root:" not in _texts(at)  # nothing of /etc/shadow shown


@pytest.mark.parametrize(
    "params",
    [
        {"range": "custom", "start": "NaT", "end": "NaT"},
        {"range": "custom", "start": "2026-02-01T00:00", "end": "2026-02-02T00:00"},  # far before the data
        {"range": "custom", "start": "9999-01-01T00:00", "end": "not a date"},
    ],
)
def test_old_or_odd_links_clamp_and_say_so(params: dict[str, str]) -> None:
    at = run_page("pages/1_Logons.py", params={"host": "web01", **params})
    no_exception(at)
    assert at.session_state["host"] == "web01"
    said = _texts(at)
    assert "outside what this host allows" in said or "is not a date and time" in said


def test_unknown_host_is_named() -> None:
    at = run_page("streamlit_app.py", params={"host": "nosuch"})
    no_exception(at)
    assert "nosuch" in _texts(at) and "does not hold" in _texts(at)


def test_source_error_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """A throttled source (HTTP 429) is said in the notice area, not Streamlit's crash."""
    from hunting.sources.local import LocalSource

    def throttled(*_: Any, **__: Any) -> Any:
        raise QueryError("Log Analytics is throttling requests (HTTP 429): wait a minute and try again.")

    monkeypatch.setattr(LocalSource, "logon_events", throttled)
    at = run_page("pages/1_Logons.py", params={"host": "db01"})
    no_exception(at)
    assert any("HTTP 429" in e.value and "could not answer" in e.value for e in at.error)


def test_partial_result_announced_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 item 10, second half: a partial answer (Log Analytics' PartialError, carried in
    ``df.attrs["partial"]`` as tests/sources/test_loganalytics.py shows the source sets it) is
    announced on the page that used it, and the rows it did return are still shown."""
    from hunting.sources.local import LocalSource

    real = LocalSource.logon_events
    note = "PartialError: Query result set has exceeded the internal limit"

    def partial(self: Any, *args: Any, **kwargs: Any) -> Any:
        df = real(self, *args, **kwargs).copy()
        df.attrs["partial"] = note
        return df

    monkeypatch.setattr(LocalSource, "logon_events", partial)
    # grep -c Accepted <demo>/db01/auth.log -> 5 (db01's lines span 2026-03-09..12, inside 7 days)
    success_db01 = "5"
    at = run_page("pages/1_Logons.py", params={"host": "db01"})
    no_exception(at)
    warnings = [w.value for w in at.warning]
    # md() escapes the colon in the Markdown source ("PartialError\\:"), shown as typed
    assert any(w.startswith("Partial result") and "exceeded the internal limit" in w for w in warnings), (
        warnings
    )
    # the partial rows are still used: db01's successful logons (the demo's admin) are counted
    assert [m.value for m in at.metric if m.label == "Successful logons"] == [success_db01]
