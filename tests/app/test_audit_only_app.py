"""An audit.log-only folder in the app: the sidebar's host name field and the Data sources rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT, no_exception


def test_sidebar_host_name_names_audit_only_folder(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    # plaso's ENRICHED audit log: no node= field, 12 events (its SOURCE.md)
    (folder / "audit.log").write_bytes((shared_data / "plaso/audit_enriched.log").read_bytes())
    monkeypatch.setenv("HUNTING_EVIDENCE_ROOTS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    at.switch_page("pages/9_Data_sources.py")
    at.query_params["source"] = "files"
    at.run()
    at.sidebar.text_area(key="hunt_paths").input(str(folder)).run()
    no_exception(at)
    assert at.sidebar.selectbox[0].value == "case"  # from the folder name: no syslog beside it
    at.sidebar.text_input(key="hunt_host_name").input("web01").run()
    no_exception(at)
    assert at.sidebar.selectbox[0].value == "web01"
    table = next(d.value for d in at.dataframe if "Host given" in d.value.columns)
    assert list(table["Host given"]) == ["web01 (named by the analyst)"]
