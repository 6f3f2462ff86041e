"""Sidebar controls for Azure Log Analytics; workspace ids and secrets are never displayed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import streamlit as st

from hunting.errors import SourceUnavailable
from hunting.sources.azure_config import Workspace, auth_settings, build_credential, discover_workspaces
from hunting.sources.base import Source

_MANUAL = "(enter a workspace id)"


def secrets_mapping() -> Mapping[str, Any]:
    """st.secrets as a plain mapping, or {} when the app has no secrets file."""
    try:
        return st.secrets.to_dict()
    except Exception:  # StreamlitSecretNotFoundError and file parse errors alike
        return {}


def _workspaces() -> list[Workspace]:
    try:
        return discover_workspaces(secrets_mapping())
    except SourceUnavailable as exc:
        st.sidebar.error(f"Workspace settings: {exc}")
        return []


def workspace_controls() -> str:
    """Pick a configured workspace by name, or type an id (kept in session state, not the URL)."""
    found = _workspaces()
    names = [w.name for w in found] + [_MANUAL]
    choice = st.sidebar.selectbox(
        "Workspace", names, key="la_workspace", persist_state="session",
        help="From .streamlit/secrets.toml, HUNTING_LA_WORKSPACE_ID or msticpyconfig.yaml",
    )  # fmt: skip
    if choice != _MANUAL:
        return str(choice)
    ws_id = st.sidebar.text_input(
        "Workspace ID", type="password", key="la_manual_id", persist_state="session"
    )
    tenant = st.sidebar.text_input(
        "Tenant ID (optional)", type="password", key="la_manual_tenant", persist_state="session"
    )
    # The cache key must change with the ids without carrying them: a digest does.
    digest = hashlib.sha256(f"{ws_id}|{tenant}".encode()).hexdigest()[:16]
    return f"{_MANUAL}|{digest}"


def _resolve(name: str) -> Workspace:
    if not name.startswith(_MANUAL):
        for ws in _workspaces():
            if ws.name == name:
                return ws
        raise SourceUnavailable(f"workspace {name!r} is no longer configured")
    ws_id = (st.session_state.get("la_manual_id") or "").strip()
    if not ws_id:
        raise SourceUnavailable(
            "enter a workspace id in the sidebar, or configure one in .streamlit/secrets.toml"
        )
    tenant = (st.session_state.get("la_manual_tenant") or "").strip() or None
    return Workspace("entered in the sidebar", ws_id, tenant, origin="sidebar")


def open_loganalytics(name: str) -> Source:
    """Connect lazily: no token is requested until the first query."""
    ws = _resolve(name)
    settings = auth_settings(secrets_mapping(), workspace=ws)
    from hunting.sources.loganalytics import LogAnalyticsSource

    return LogAnalyticsSource(
        ws.workspace_id, build_credential(settings), endpoint=ws.endpoint, name=f"Log Analytics: {ws.name}"
    )
