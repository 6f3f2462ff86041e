"""The demo intrusion's indicators are found on web01 and the demo feed flags them; benign ones are not.

Expected values come from the scenario's own ground truth (``demo_manifest().truth``)
and from the generated flow export read with the csv module, never from this code.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from hunting.analysis.network import IOC_COLUMNS, IocSource, collect_iocs, ioc_overview, ip_activity
from hunting.analysis.threat_intel import lookup_iocs
from hunting.demo.scenario import demo_dir, demo_feed_path, demo_log_paths, demo_manifest
from hunting.sources.local import LocalSource
from hunting.ti.local_feed import LocalFeedProvider
from hunting.timerange import TimeRange


@pytest.fixture(scope="module")
def web01() -> Iterator[tuple[LocalSource, TimeRange]]:
    source = LocalSource.from_paths(demo_log_paths())
    hosts = source.hosts()
    row = hosts[hosts["Computer"] == "web01"].iloc[0]
    yield source, TimeRange(row["FirstSeen"] - timedelta(hours=1), row["LastSeen"] + timedelta(hours=1))


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return dict(demo_manifest().truth)


@pytest.fixture(scope="module")
def overview(web01: tuple[LocalSource, TimeRange]) -> pd.DataFrame:
    source, tr = web01
    sources = [
        IocSource(name, getattr(source, method)("web01", tr), columns)
        for name, (method, columns) in IOC_COLUMNS.items()
    ]
    return ioc_overview(collect_iocs(sources))


def _story(truth: dict[str, Any]) -> dict[str, str]:
    """The attacker's indicators by value -> type as extract_iocs names them."""
    return {
        truth["attacker_ips"]["brute_force"]: "ipv4",
        truth["attacker_ips"]["c2"]: "ipv4",
        truth["domain"]: "dns",
        truth["cron_host"]: "dns",
        truth["download_url"]: "url",
        truth["cron_url"]: "url",
        truth["tool_sha256"]: "sha256",
    }


def test_demo_story_iocs_extracted(overview: pd.DataFrame, truth: dict[str, Any]) -> None:
    found = dict(zip(overview["Value"], overview["IocType"], strict=True))
    for value, kind in _story(truth).items():
        assert found.get(value) == kind, value
    assert found.get(truth["tool_path"]) == "path"


def test_demo_feed_flags_story_not_benign(overview: pd.DataFrame, truth: dict[str, Any]) -> None:
    feed = LocalFeedProvider.from_paths([demo_feed_path()])
    pairs = list(zip(overview["Value"].astype(str), overview["IocType"].astype(str), strict=True))
    results = lookup_iocs(pairs, [feed], cache=None)
    assert len(results) == len(pairs)
    hits = results[results["Result"].astype(bool)]
    high = dict(
        zip(
            hits.loc[hits["Severity"] == "high", "Ioc"],
            hits.loc[hits["Severity"] == "high", "IocType"],
            strict=True,
        )
    )
    assert high == _story(truth)  # every story indicator, and nothing else, is a high-severity hit
    private = overview.loc[overview["IpScope"].isin(["private", "loopback"]), "Value"].tolist()
    assert private  # the host's internal addresses are in its logs ...
    assert not results.loc[results["Ioc"].isin(private), "Result"].any()  # ... and are no hits
    assert set(results.loc[results["Ioc"].isin(private), "Status"]) == {"not_found"}


def test_demo_attacker_addresses_in_flows(
    web01: tuple[LocalSource, TimeRange], truth: dict[str, Any]
) -> None:
    source, tr = web01
    act = ip_activity(source.syslog("web01", tr), source.network_flows("web01", tr)).set_index("Ip")
    # the Sentinel flow export the demo wrote, read with the csv module
    with open(demo_dir() / "sentinel" / "AzureNetworkAnalytics_CL.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["VMName"] == "web01"]
    for ip in truth["attacker_ips"].values():
        mine = [r for r in rows if ip in r["PublicIPs"]]
        flows = sum(
            int(float(r[c] or 0))
            for r in mine
            for c in ("AllowedInFlows", "AllowedOutFlows", "DeniedInFlows", "DeniedOutFlows")
        )
        assert (act.loc[ip, "FlowRecords"], act.loc[ip, "Flows"]) == (len(mine), flows), ip
        assert act.loc[ip, "SeenIn"] == "syslog,flows" and act.loc[ip, "Scope"] == "public"
