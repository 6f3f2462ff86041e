"""Host summary and Logons pages on the demo, checked against the hunting functions."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from hunting.analysis.alerts import alert_counts
from hunting.analysis.logons import BRUTE_FORCE_PRESETS, brute_force, by_source_ip, logon_totals
from hunting.analysis.sessions import logon_sessions
from hunting.demo.scenario import demo_log_paths, demo_manifest
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
from tests.app.conftest import no_exception, run_page

WEB = {"host": "web01", "range": "7d"}


@pytest.fixture(scope="module")
def demo() -> tuple[LocalSource, TimeRange, dict]:
    src = LocalSource.from_paths(demo_log_paths())
    row = src.hosts("web01").iloc[0]
    last = row["LastSeen"]
    return src, TimeRange(last - pd.Timedelta(days=7), last), demo_manifest().truth


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_summary_defaults_to_the_host_with_alerts_and_shows_its_record() -> None:
    at = run_page("streamlit_app.py")
    no_exception(at)
    assert at.sidebar.selectbox(key="host").value == "web01"  # most alerts in the demo
    assert at.title[0].value == "Host summary: web01"
    assert _metrics(at)["OS"] == r"Ubuntu 22\.04"  # Markdown-escaped (md), shown as 22.04


def test_summary_alert_counts_and_timeline_match(demo) -> None:
    src, tr, _ = demo
    at = run_page("streamlit_app.py", params=WEB)
    no_exception(at)
    expected = alert_counts(src.alerts("web01", tr))
    charts = at.get("vega_lite_chart")
    specs = [json.loads(c.proto.spec) for c in charts]
    # the alert timeline is a tick chart over AlertName
    assert any(
        s.get("mark", {}).get("type") == "tick" and s["encoding"]["y"]["field"] == "AlertName" for s in specs
    )
    table = at.dataframe[-1].value
    assert sorted(table["AlertName"].value_counts().items()) == sorted(
        zip(expected["AlertName"], expected["Count"], strict=True)
    )


def test_summary_unknown_host_search_explains() -> None:
    at = run_page("streamlit_app.py", state={"hunt_search": "no-such-host"})
    no_exception(at)
    assert any("No hosts to investigate" in w.value for w in at.warning)


def test_logons_numbers_match_hunting_functions(demo) -> None:
    src, tr, _ = demo
    logons = src.logon_events("web01", tr)
    totals = logon_totals(logons)
    at = run_page("pages/1_Logons.py", params=WEB)
    no_exception(at)
    m = _metrics(at)
    assert m["Successful logons"] == f"{totals['success']:,}"
    assert m["Failed logons"] == f"{totals['failure']:,}"
    assert m["Source IPs"] == f"{totals['source_ips']:,}"
    assert totals["failure"] > 0 and totals["success"] > 0


def test_logons_show_burst_success_and_session_of_the_intruder(demo) -> None:
    src, tr, truth = demo
    attacker = truth["attacker_ips"]["brute_force"]
    user = truth["compromised_user"]
    at = run_page("pages/1_Logons.py", params=WEB)
    no_exception(at)
    frames = [d.value for d in at.dataframe]
    bursts = next(f for f in frames if "SourceIP" in f.columns and "Attempts" in f.columns)
    threshold, window = BRUTE_FORCE_PRESETS["wazuh"]
    expected = brute_force(src.logon_events("web01", tr), threshold=threshold, window=window)
    assert len(bursts) == len(expected)
    hit = bursts[bursts["SourceIP"] == attacker]
    assert len(hit) >= 1
    # the success that followed, from the same address, is on the burst row
    followed = hit.filter(regex="Success|User").astype(str).apply(" ".join, axis=1).str.contains(user).any()
    assert followed
    sessions = next(f for f in frames if "SessionId" in f.columns)
    mine = sessions[(sessions["User"] == user) & (sessions["SourceIP"] == attacker)]
    assert len(mine) >= 1
    expected_sessions = logon_sessions(src.syslog("web01", tr), src.logon_events("web01", tr))
    assert len(sessions) == len(expected_sessions)
    ip_table = next(f for f in frames if "CountryName" in f.columns)
    assert set(ip_table["Ip"]) == set(by_source_ip(src.logon_events("web01", tr))["SourceIP"])


def test_logons_map_renders_offline(demo) -> None:
    at = run_page("pages/1_Logons.py", params=WEB)
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    maps = [
        s
        for s in specs
        if "layer" in s
        and any(
            layer.get("mark", {}).get("type") == "geoshape" or layer.get("mark") == "geoshape"
            for layer in s["layer"]
        )
    ]
    assert maps, "the offline world map is drawn"


def test_logons_quiet_window_explains() -> None:
    # a custom window before any data (still within 20 days of the reference)
    at = run_page(
        "pages/1_Logons.py",
        params={
            "host": "web01",
            "range": "custom",
            "start": "2026-02-21T00:00:00",
            "end": "2026-02-22T00:00:00",
        },
    )
    no_exception(at)
    assert any("No logon events for web01" in i.value for i in at.info), [i.value for i in at.info]
