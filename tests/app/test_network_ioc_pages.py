"""Network and IoC pages on the demo: what they show equals the hunting functions on the same data.

TI lookups run against the demo's feed file, and against a local fake OTX server
(tests/fakes/ti_servers.py) that fails, to see the failure named per provider
while the rest of the page renders.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from hunting.analysis.geo import geolocate
from hunting.analysis.network import (
    IOC_COLUMNS,
    IocSource,
    collect_iocs,
    ioc_overview,
    ip_activity,
    messages_mentioning,
)
from hunting.demo.scenario import demo_feed_path, demo_log_paths, demo_manifest
from hunting.sources.local import LocalSource
from hunting.ti.base import TI_RESULTS
from hunting.timerange import TimeRange
from tests.app.conftest import no_exception, run_page
from tests.fakes.ti_servers import FakeServer

NETWORK = "pages/6_Network.py"
IOCS = "pages/7_IoCs_and_threat_intel.py"
WEB = {"host": "web01", "range": "7d"}
KEY = "test-otx-key-0123456789"


@pytest.fixture(scope="module")
def demo() -> tuple[LocalSource, TimeRange, dict[str, Any]]:
    src = LocalSource.from_paths(demo_log_paths())
    last = src.hosts("web01").iloc[0]["LastSeen"]
    return src, TimeRange(last - pd.Timedelta(days=7), last), dict(demo_manifest().truth)


def _story(truth: dict[str, Any]) -> set[str]:
    return {
        *truth["attacker_ips"].values(),
        truth["domain"],
        truth["cron_host"],
        truth["download_url"],
        truth["cron_url"],
        truth["tool_sha256"],
    }


def _failing_app(
    ioc: str, verdict: str, path: str, query: dict[str, list[str]]
) -> tuple[int, dict[str, str], bytes]:
    return 500, {"Content-Type": "application/json"}, b'{"error": "down"}'


def _slow_app(
    ioc: str, verdict: str, path: str, query: dict[str, list[str]]
) -> tuple[int, dict[str, str], bytes]:
    time.sleep(2.0)  # longer than the page's time-out in the test
    return 200, {"Content-Type": "application/json"}, b'{"pulse_info": {"count": 0}}'


@pytest.fixture()
def failing_otx(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with FakeServer(_failing_app, "X-OTX-API-KEY", KEY) as server:
        monkeypatch.setenv("HUNTING_OTX_KEY", KEY)
        monkeypatch.setenv("HUNTING_OTX_URL", server.url)
        yield server


@pytest.fixture()
def slow_otx(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    with FakeServer(_slow_app, "X-OTX-API-KEY", KEY) as server:
        monkeypatch.setenv("HUNTING_OTX_KEY", KEY)
        monkeypatch.setenv("HUNTING_OTX_URL", server.url)
        yield server


def _metrics(at: Any) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _frames(at: Any) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def _results_frame(at: Any) -> pd.DataFrame:
    """The TI results table the page shows."""
    shown = [f for f in _frames(at) if {"Provider", "Severity", "Details"} <= set(f.columns)]
    assert shown, "a TI results table is shown"
    return shown[-1]


def _frame_with(at: Any, *columns: str) -> pd.DataFrame:
    """The last table shown that has these columns (AppTest finds dataframes by position only)."""
    found = [f for f in _frames(at) if set(columns) <= set(f.columns)]
    assert found, f"no table with {columns}"
    return found[-1]


def _texts(elements: Any) -> list[str]:
    return [e.value for e in elements]


# --- Network ---------------------------------------------------------------------------------


def test_network_page_matches_hunting_functions(demo: tuple[LocalSource, TimeRange, dict[str, Any]]) -> None:
    src, tr, truth = demo
    at = run_page(NETWORK, params=WEB)
    no_exception(at)
    expected = ip_activity(src.syslog("web01", tr), src.network_flows("web01", tr))
    metrics = _metrics(at)
    assert metrics["Addresses seen"] == f"{len(expected):,}"
    assert metrics["Public addresses"] == f"{int(expected['IsPublic'].sum()):,}"
    assert metrics["Flow records"] == f"{len(src.network_flows('web01', tr)):,}"
    shown = _frames(at)[0]
    assert shown["Ip"].tolist() == expected["Ip"].tolist()
    assert shown["SyslogMessages"].tolist() == expected["SyslogMessages"].tolist()
    assert set(truth["attacker_ips"].values()) <= set(shown["Ip"])
    # flows by protocol, flows over time (UTC) and the offline world map
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) >= 3
    assert any('"type": "utc"' in json.dumps(s) for s in specs)
    assert any("topojson" in json.dumps(s) for s in specs), "the offline world map is drawn"
    assert any("demo's threat feed" in i for i in _texts(at.info))


def test_network_ip_messages_and_ti(demo: tuple[LocalSource, TimeRange, dict[str, Any]]) -> None:
    src, tr, truth = demo
    c2 = truth["attacker_ips"]["c2"]
    at = run_page(NETWORK, params=WEB)
    at.selectbox(key="net_ip").set_value(c2).run()
    no_exception(at)
    expected = messages_mentioning(src.syslog("web01", tr), c2)
    messages = _frame_with(at, "ProcessID", "SyslogMessage")
    assert len(expected) > 0
    assert messages["SyslogMessage"].tolist() == expected["SyslogMessage"].tolist()
    results = _results_frame(at)
    assert results[["Ioc", "Provider", "Severity"]].values.tolist() == [[c2, "LocalFeed", "high"]]
    assert bool(results["Result"].iloc[0])
    assert not at.checkbox(key="net_whois").value  # online whois only when ticked


def test_network_owner_lookup(demo: tuple[LocalSource, TimeRange, dict[str, Any]]) -> None:
    _, _, truth = demo
    brute = truth["attacker_ips"]["brute_force"]
    owner = geolocate([brute])["AsnOwner"].iloc[0]
    at = run_page(NETWORK, params=WEB)
    at.multiselect(key="net_owner_pick").set_value([owner]).run()
    at.button(key="net_owner_lookup").click().run()
    no_exception(at)
    results = at.session_state["net_owner_results"]
    assert brute in set(results["Ioc"])
    assert set(results.loc[results["Result"].astype(bool), "Ioc"]) <= _story(truth)
    assert results.loc[results["Ioc"] == brute, "Severity"].tolist() == ["high"]
    status = _frame_with(at, "State")
    assert status["State"].tolist() == ["ok"]


def test_network_quiet_window_explains() -> None:
    at = run_page(
        NETWORK,
        params={
            "host": "web01",
            "range": "custom",
            "start": "2026-02-21T00:00:00",
            "end": "2026-02-22T00:00:00",
        },
    )
    no_exception(at)
    assert any("No addresses in messages or flow records for web01" in i for i in _texts(at.info)), _texts(
        at.info
    )


def test_network_provider_timeout_shown_page_renders(slow_otx: FakeServer, demo: Any) -> None:
    _, _, truth = demo
    c2 = truth["attacker_ips"]["c2"]
    at = run_page(NETWORK, params=WEB, state={"net_ti_timeout": 0.5, "net_ti_retries": 0})
    at.selectbox(key="net_ip").set_value(c2).run()
    no_exception(at)
    assert not any("demo's threat feed" in i for i in _texts(at.info))  # a provider is configured
    warnings = _texts(at.warning)
    assert any(w.startswith("OTX failing") and "timed out" in w for w in warnings), warnings
    assert KEY not in " ".join(warnings + _texts(at.caption) + _texts(at.error))
    assert len(_frame_with(at, "ProcessID", "SyslogMessage")) > 0  # the rest still renders
    assert len(at.get("vega_lite_chart")) >= 3


# --- IoCs ------------------------------------------------------------------------------------


def _expected_overview(src: LocalSource, tr: TimeRange) -> pd.DataFrame:
    return ioc_overview(
        collect_iocs(
            IocSource(name, getattr(src, method)("web01", tr), cols)
            for name, (method, cols) in IOC_COLUMNS.items()
        )
    )


def test_iocs_page_lookup_with_demo_feed(demo: tuple[LocalSource, TimeRange, dict[str, Any]]) -> None:
    src, tr, truth = demo
    at = run_page(IOCS, params=WEB)
    no_exception(at)
    expected = _expected_overview(src, tr)
    shown = _frame_with(at, "Note", "SeenIn")
    assert shown["Value"].tolist() == expected["Value"].tolist()
    assert shown["Count"].tolist() == expected["Count"].tolist()
    assert _metrics(at)["sha256"] == str(int((expected["IocType"] == "sha256").sum()))
    private = shown.loc[shown["IpScope"] == "private"]
    assert len(private) and set(private["Note"]) == {"private address"}
    at.button(key="ioc_lookup").click().run()
    no_exception(at)
    results = _results_frame(at)
    high = set(results.loc[results["Result"].astype(bool) & (results["Severity"] == "high"), "Ioc"])
    assert high == _story(truth)
    assert not set(private["Value"]) & set(results["Ioc"])  # non-public addresses are not looked up
    # the Severity cells are coloured: one red cell per high row
    table = [d for d in at.dataframe if {"Provider", "Details"} <= set(d.value.columns)][-1]
    rules = table.proto.arrow_data.styler.styles.splitlines()
    red = [r for r in rules if "background-color: #e4572e" in r]
    assert len(red) == 1 and red[0].count("_row") == int((results["Severity"] == "high").sum())
    assert _frame_with(at, "State")["State"].tolist() == ["ok"]
    assert at.get("download_button")


def test_iocs_page_failing_provider_named_rest_renders(
    failing_otx: FakeServer, demo: tuple[LocalSource, TimeRange, dict[str, Any]]
) -> None:
    _, _, truth = demo
    at = run_page(IOCS, params=WEB, state={"ioc_ti_retries": 0})
    # with a key configured the demo feed is no longer the default: add it by hand
    at.text_input(key="ioc_ti_feed").set_value(str(demo_feed_path())).run()
    at.button(key="ioc_lookup").click().run()
    no_exception(at)
    assert failing_otx.hits, "the fake OTX server was asked"
    warnings = _texts(at.warning)
    assert any(w.startswith("OTX failing") and "HTTP 500" in w for w in warnings), warnings
    status = _frame_with(at, "State").set_index("Provider")
    assert status.loc["OTX", "State"] == "failing" and status.loc["LocalFeed", "State"] == "ok"
    results = _results_frame(at)
    feed_hits = results[(results["Provider"] == "LocalFeed") & results["Result"].astype(bool)]
    assert _story(truth) <= set(feed_hits["Ioc"])  # the working provider's hits are shown
    assert set(results.columns) >= set(TI_RESULTS.names)
    assert _frame_with(at, "Note", "SeenIn").shape[0] > 0
    assert KEY not in " ".join(warnings + _texts(at.caption) + _texts(at.error) + _texts(at.info))


def test_iocs_page_pick_shows_rows(demo: tuple[LocalSource, TimeRange, dict[str, Any]]) -> None:
    _, _, truth = demo
    at = run_page(IOCS, params=WEB)
    at.selectbox(key="ioc_pick").set_value(truth["tool_sha256"]).run()
    no_exception(at)
    rows = _frame_with(at, "Entities")
    assert len(rows) == 1 and truth["tool_sha256"] in rows["Entities"].iloc[0]


def test_iocs_quiet_window_explains() -> None:
    at = run_page(
        IOCS,
        params={
            "host": "web01",
            "range": "custom",
            "start": "2026-02-21T00:00:00",
            "end": "2026-02-22T00:00:00",
        },
    )
    no_exception(at)
    assert any("No IoCs for web01" in i for i in _texts(at.info)), _texts(at.info)


def test_ti_settings_from_secrets_sections() -> None:
    from ui.network_views import ti_settings_from

    secrets = {
        "loganalytics": {"workspace_id": "x"},
        "vt_key": " top-level ",
        "ti": {
            "otx": "k1",
            "virustotal": "",
            "abuseipdb": "k3",
            "feed": "/feeds/a.csv",
            "otx_url": "http://127.0.0.1:1",
        },
    }
    assert ti_settings_from(secrets) == {
        "vt_key": "top-level",
        "otx_key": "k1",
        "abuseipdb_key": "k3",
        "ti_feeds": "/feeds/a.csv",
        "otx_url": "http://127.0.0.1:1",
    }


def test_iocs_page_looks_up_selected_rows(demo: tuple[LocalSource, TimeRange, dict[str, Any]]) -> None:
    src, tr, truth = demo
    values = _expected_overview(src, tr)["Value"].tolist()
    private = _expected_overview(src, tr).query("IpScope == 'private'")["Value"].iloc[0]
    rows = [values.index(truth["tool_sha256"]), values.index(private)]
    selection = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at = run_page(IOCS, params=WEB, state={"ioc_overview": selection})
    assert at.button(key="ioc_lookup").label == "Look up 2 selected IoC(s)"
    at.button(key="ioc_lookup").click().run()
    no_exception(at)
    results = at.session_state["ioc_results"].set_index("Ioc")
    assert sorted(results.index) == sorted([truth["tool_sha256"], private])  # a selected private address too
    assert bool(results.loc[truth["tool_sha256"], "Result"]) and not bool(results.loc[private, "Result"])
