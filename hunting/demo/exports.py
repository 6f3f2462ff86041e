"""Sentinel table exports (SecurityAlert, Heartbeat, AzureNetworkAnalytics_CL) and a TI feed.

Columns and cell styles follow real exports (msticpy's test data, the Sentinel
notebooks' alert list): times as ``YYYY-MM-DD HH:MM:SS``, Entities and
ExtendedProperties as indented JSON with ``$id`` references, PublicIPs as a
Python list literal.
"""

from __future__ import annotations

import csv
import json
import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hunting.demo import intrusion as ix
from hunting.demo.host import Host
from hunting.demo.world import END, REGION, RESOURCE_GROUP, SCANNER_IPS, START, SUBSCRIPTION_ID, TENANT_ID

ALERT_COLUMNS = (
    "TenantId", "TimeGenerated", "StartTimeUtc", "EndTimeUtc", "ProviderAlertId", "SystemAlertId", "ProviderName",
    "VendorName", "AlertType", "AlertName", "AlertDisplayName", "Description", "Severity", "IsIncident",
    "ExtendedProperties", "Entities", "ConfidenceLevel", "ConfidenceScore", "ExtendedLinks",
    "WorkspaceSubscriptionId", "WorkspaceResourceGroup", "ResourceId", "SourceComputerId", "CompromisedEntity",
    "Tactics", "Techniques",
)  # fmt: skip
HEARTBEAT_COLUMNS = (
    "TenantId", "SourceSystem", "TimeGenerated", "MG", "ManagementGroupName", "SourceComputerId", "ComputerIP",
    "Computer", "Category", "OSType", "OSName", "OSMajorVersion", "OSMinorVersion", "Version", "SCAgentChannel",
    "IsGatewayInstalled", "RemoteIPLongitude", "RemoteIPLatitude", "RemoteIPCountry", "SubscriptionId",
    "ResourceGroup", "ResourceProvider", "Resource", "ResourceId", "ResourceType", "ComputerEnvironment",
    "Solutions", "VMUUID", "Type", "_ResourceId",
)  # fmt: skip
FLOW_COLUMNS = (
    "TenantId", "TimeGenerated", "FlowStartTime", "FlowEndTime", "FlowIntervalEndTime", "FlowType",
    "ResourceGroup", "VMName", "VMIPAddress", "PublicIPs", "SrcIP", "DestIP", "L4Protocol", "L7Protocol",
    "DestPort", "FlowDirection", "AllowedOutFlows", "AllowedInFlows", "DeniedInFlows", "DeniedOutFlows",
    "RemoteRegion", "VMRegion", "AllExtIPs", "TotalAllowedFlows",
)  # fmt: skip


def _t(ts: float, ms: bool = False) -> str:
    d = datetime.fromtimestamp(ts, UTC)
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if ms else d.strftime("%Y-%m-%d %H:%M:%S")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _resource_id(vm: str) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/providers/"
        f"Microsoft.Compute/virtualMachines/{vm}"
    )


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Mapping[str, object]]) -> tuple[int, int]:
    """Returns (records, physical lines): JSON cells span lines inside quoted fields."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(header), lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow(row)
            n += 1
    with open(path, "rb") as f:
        lines = f.read().count(b"\n")
    return n, lines


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _entities(items: list[dict[str, object]]) -> str:
    out = []
    for i, item in enumerate(items, start=2):
        out.append({"$id": str(i), **item})
    return json.dumps(out, indent=2)


def alerts(path: Path, truth: ix.Truth, seed: int) -> tuple[int, int]:
    """Defender for Servers style alerts about web01 at the story's times, one benign about db01."""
    rng = random.Random(f"{seed}:alerts")
    host_entity = {"HostName": "web01", "OSFamily": "Linux", "Type": "host"}
    s = truth.steps
    specs: list[tuple[Any, ...]] = [
        ("Suspicious SSH brute force", "Medium", "LinuxSshBruteForce", _ts(s["brute_force_start"]),
         _ts(s["logon"]), "InitialAccess", "T1110",
         f"Analysis of host data on web01 detected {truth.brute_force_attempts} failed SSH logons from "
         f"{ix.BRUTE_IP}, followed by a successful logon as {ix.COMPROMISED_USER}.",
         [host_entity, {"Address": ix.BRUTE_IP, "Type": "ip"},
          {"Name": ix.COMPROMISED_USER, "Host": {"$ref": "2"}, "Type": "account"}],
         {"Attacker source IP": ix.BRUTE_IP, "Failed attempts": str(truth.brute_force_attempts),
          "Successful logon account": ix.COMPROMISED_USER}),
        ("New user added to sudoers group", "Medium", "LinuxNewUserInSudoGroup", _ts(s["added_to_sudo"]),
         _ts(s["added_to_sudo"]), "Persistence,PrivilegeEscalation", "T1136,T1098",
         f"User {ix.NEW_USER} was created and added to the sudo group on web01 from a session of {ix.COMPROMISED_USER}.",
         [host_entity, {"Name": ix.NEW_USER, "Host": {"$ref": "2"}, "Type": "account"},
          {"ProcessId": str(truth.pids["usermod"]), "CommandLine": f"usermod -aG sudo {ix.NEW_USER}", "Type": "process"}],
         {"User Name": ix.NEW_USER, "Group": "sudo", "Parent account": ix.COMPROMISED_USER}),
        ("Suspicious download followed by execution", "High", "LinuxDownloadAndRun", _ts(s["download"]),
         _ts(s["tool_executed"]), "Execution", "T1105,T1059.004",
         f"A file was downloaded to {ix.TOOL_PATH} on web01, made executable and run.",
         [host_entity, {"Url": ix.DOWNLOAD_URL, "Type": "url"},
          {"Name": "kworkerd", "Directory": ix.TOOL_DIR, "FileHashes": [{"$id": "9", "Algorithm": "SHA256",
           "Value": ix.tool_sha256(seed), "Type": "filehash"}], "Type": "file"},
          {"Address": ix.C2_IP, "Type": "ip"}],
         {"Download URL": ix.DOWNLOAD_URL, "File path": ix.TOOL_PATH}),
        ("Possible reverse shell", "High", "LinuxReverseShell", _ts(s["reverse_shell"]), _ts(s["reverse_shell"]),
         "Execution,CommandAndControl", "T1059.004,T1071",
         f"A process on web01 opened an interactive shell with its input and output redirected to "
         f"{ix.C2_IP}:{ix.REVERSE_PORT}.",
         [host_entity, {"Address": ix.C2_IP, "Type": "ip"},
          {"ProcessId": str(truth.pids["reverse_shell"]), "CommandLine": f"bash -c {ix.REVERSE_COMMAND}",
           "Type": "process"}],
         {"Suspicious Command Line": f"bash -c {ix.REVERSE_COMMAND}", "Suspicious Process": "/usr/bin/bash",
          "Remote address": f"{ix.C2_IP}:{ix.REVERSE_PORT}"}),
    ]  # fmt: skip
    rows = []
    for name, sev, atype, start, end, tactics, techniques, desc, ents, props in specs:
        rows.append(
            _alert_row(rng, "web01", name, sev, atype, start, end, tactics, techniques, desc, ents, props)
        )
    db_start = datetime(2026, 3, 11, 2, 30, 0, tzinfo=UTC).timestamp()
    rows.append(
        _alert_row(
            rng, "db01", "Unusual volume of data read by a database dump", "Low", "LinuxAnomalousDataRead",
            db_start, db_start + 41, "Collection", "T1005",
            "pg_dumpall on db01 read more data than usual. This is expected for a scheduled backup.",
            [{"HostName": "db01", "OSFamily": "Linux", "Type": "host"},
             {"Name": "postgres", "Host": {"$ref": "2"}, "Type": "account"}],
            {"Process": "/usr/lib/postgresql/15/bin/pg_dumpall", "Account": "postgres"},
        )
    )  # fmt: skip
    rows.sort(key=lambda r: str(r["TimeGenerated"]))
    return _write_csv(path, ALERT_COLUMNS, rows)


def _alert_row(
    rng: random.Random,
    vm: str,
    name: str,
    sev: str,
    atype: str,
    start: float,
    end: float,
    tactics: str,
    techniques: str,
    desc: str,
    ents: list[dict[str, object]],
    props: dict[str, str],
) -> dict[str, object]:
    alert_id = _uuid(rng)
    return {
        "TenantId": TENANT_ID,
        "TimeGenerated": _t(end + 180 + rng.random() * 240),
        "StartTimeUtc": _t(start),
        "EndTimeUtc": _t(end),
        "ProviderAlertId": _uuid(rng),
        "SystemAlertId": alert_id,
        "ProviderName": "Azure Security Center",
        "VendorName": "Microsoft",
        "AlertType": atype,
        "AlertName": name,
        "AlertDisplayName": name,
        "Description": desc,
        "Severity": sev,
        "IsIncident": "False",
        "ExtendedProperties": json.dumps({**props, "resourceType": "Virtual Machine"}, indent=2),
        "Entities": _entities(ents),
        "ConfidenceLevel": "Unknown",
        "ConfidenceScore": "",
        "ExtendedLinks": "",
        "WorkspaceSubscriptionId": SUBSCRIPTION_ID,
        "WorkspaceResourceGroup": RESOURCE_GROUP,
        "ResourceId": _resource_id(vm),
        "SourceComputerId": str(uuid.UUID(int=random.Random(vm).getrandbits(128), version=4)),
        "CompromisedEntity": vm,
        "Tactics": tactics,
        "Techniques": techniques,
    }


def heartbeat(path: Path, hosts: dict[str, Host]) -> tuple[int, int]:
    """One row an hour per host (the agent beats every minute; an hourly summarise keeps it small)."""
    rows = []
    for host in hosts.values():
        vmuuid = str(uuid.UUID(int=random.Random(f"vm:{host.name}").getrandbits(128), version=4))
        os_type, os_name, major, minor = (
            ("Linux", "Debian", "12", "")
            if host.os_name.startswith("Debian")
            else ("Linux", "Ubuntu", "22", "04")
        )
        t = START
        while t < END:
            computer = host.name
            for since, name in host.names_over_time:
                if t >= since:
                    computer = name
            rows.append({
                "TenantId": TENANT_ID, "SourceSystem": "Linux", "TimeGenerated": _t(t + 31),
                "MG": "00000000-0000-0000-0000-000000000002", "ManagementGroupName": "",
                "SourceComputerId": str(uuid.UUID(int=random.Random(host.name).getrandbits(128), version=4)),
                "ComputerIP": host.public_ip, "Computer": computer, "Category": "Direct Agent",
                "OSType": os_type, "OSName": os_name, "OSMajorVersion": major, "OSMinorVersion": minor,
                "Version": "1.17.1", "SCAgentChannel": "Direct", "IsGatewayInstalled": "false",
                "RemoteIPLongitude": "-0.13", "RemoteIPLatitude": "51.5", "RemoteIPCountry": "United Kingdom",
                "SubscriptionId": SUBSCRIPTION_ID, "ResourceGroup": RESOURCE_GROUP,
                "ResourceProvider": "Microsoft.Compute", "Resource": host.name,
                "ResourceId": _resource_id(host.name), "ResourceType": "virtualMachines",
                "ComputerEnvironment": "Azure",
                "Solutions": '"security", "changeTracking", "networkMonitoring", "securityInsights"',
                "VMUUID": vmuuid, "Type": "Heartbeat", "_ResourceId": _resource_id(host.name).lower(),
            })  # fmt: skip
            t += 3600
    rows.sort(key=lambda r: (str(r["TimeGenerated"]), str(r["Computer"])))
    return _write_csv(path, HEARTBEAT_COLUMNS, rows)


def flows(path: Path, hosts: dict[str, Host], truth: ix.Truth, seed: int) -> tuple[int, int]:
    """Hourly Traffic Analytics rows: benign mirrors/NTP/db traffic, scanners, and the attacker's flows."""
    rng = random.Random(f"{seed}:flows")
    rows: list[dict[str, object]] = []

    def add(hour: float, vm: Host, ftype: str, remote: str, port: int, l4: str, l7: str, direction: str,
            count: int, *, denied: bool = False, region: str = "", src: str = "", dst: str = "") -> None:  # fmt: skip
        start = hour + rng.random() * 1200
        end = min(hour + 3599, start + 60 + rng.random() * 2000)
        public = "" if ftype == "IntraVNet" else str([remote])
        allowed_in = count if direction == "I" and not denied else 0
        allowed_out = count if direction == "O" else 0
        rows.append({
            "TenantId": TENANT_ID, "TimeGenerated": _t(hour + 3600 + 1300 + rng.random() * 300, ms=True),
            "FlowStartTime": _t(start, ms=True), "FlowEndTime": _t(end, ms=True),
            "FlowIntervalEndTime": _t(hour + 3600, ms=True), "FlowType": ftype, "ResourceGroup": RESOURCE_GROUP,
            "VMName": vm.name, "VMIPAddress": vm.private_ip, "PublicIPs": public, "SrcIP": src, "DestIP": dst,
            "L4Protocol": l4, "L7Protocol": l7, "DestPort": port, "FlowDirection": direction,
            "AllowedOutFlows": allowed_out, "AllowedInFlows": allowed_in,
            "DeniedInFlows": count if denied else 0, "DeniedOutFlows": 0,
            "RemoteRegion": region, "VMRegion": REGION, "AllExtIPs": remote if ftype != "IntraVNet" else "",
            "TotalAllowedFlows": allowed_in + allowed_out,
        })  # fmt: skip

    web, db = hosts["web01"], hosts["db01"]
    hour = START
    while hour < END:
        for vm in hosts.values():
            add(
                hour,
                vm,
                "AzurePublic",
                "168.63.129.16",
                80,
                "T",
                "http",
                "O",
                12 + rng.randrange(6),
                region=REGION,
            )
            add(hour, vm, "ExternalPublic", "185.125.190.56", 123, "U", "ntp", "O", 1 + rng.randrange(3))
        add(hour, web, "IntraVNet", db.private_ip, 5432, "T", "postgresql", "O", 150 + rng.randrange(80),
            src=web.private_ip, dst=db.private_ip)  # fmt: skip
        add(hour, db, "IntraVNet", web.private_ip, 5432, "T", "postgresql", "I", 150 + rng.randrange(80),
            src=web.private_ip, dst=db.private_ip)  # fmt: skip
        add(hour, web, "ExternalPublic", rng.choice(SCANNER_IPS), 22, "T", "ssh", "I", 1 + rng.randrange(9))
        add(hour, web, "ExternalPublic", rng.choice(SCANNER_IPS), 3389, "T", "rdp", "I", 1 + rng.randrange(5),
            denied=True)  # fmt: skip
        if datetime.fromtimestamp(hour, UTC).hour == 6:
            add(hour, web, "ExternalPublic", "91.189.91.81", 80, "T", "http", "O", 8 + rng.randrange(10))
            add(hour, db, "ExternalPublic", "151.101.130.132", 80, "T", "http", "O", 6 + rng.randrange(8))
        hour += 3600

    def hour_of(iso: str) -> float:
        return _ts(iso) // 3600 * 3600

    bf_start, bf_end = hour_of(truth.steps["brute_force_start"]), hour_of(truth.steps["logon"])
    h = bf_start
    while h <= bf_end:
        add(h, web, "MaliciousFlow", ix.BRUTE_IP, 22, "T", "ssh", "I", 20 + rng.randrange(10), region="")
        h += 3600
    add(hour_of(truth.steps["download"]), web, "MaliciousFlow", ix.C2_IP, 80, "T", "http", "O", 1)
    add(
        hour_of(truth.steps["reverse_shell"]),
        web,
        "MaliciousFlow",
        ix.C2_IP,
        ix.REVERSE_PORT,
        "T",
        "unknown",
        "O",
        1,
    )
    h = hour_of(truth.steps["tool_executed"])
    while h < END:
        add(h, web, "MaliciousFlow", ix.C2_IP, 443, "T", "https", "O", 60)
        if h >= hour_of(truth.steps.get("malicious_cron_first", truth.steps["tool_executed"])):
            add(h, web, "MaliciousFlow", ix.C2_IP, 80, "T", "http", "O", 6)
        h += 3600
    add(hour_of(truth.steps["backdoor_logon"]), web, "MaliciousFlow", ix.C2_IP, 22, "T", "ssh", "I", 1)
    rows.sort(key=lambda r: (str(r["FlowIntervalEndTime"]), str(r["VMName"]), str(r["FlowStartTime"])))
    return _write_csv(path, FLOW_COLUMNS, rows)


def ti_feed(path: Path, seed: int) -> tuple[int, int]:
    """indicator,type,severity,description: the story's indicators plus unrelated ones."""
    rows = [
        (ix.BRUTE_IP, "ipv4", "high", "Tor exit node; SSH password spraying against Linux servers"),
        (ix.C2_IP, "ipv4", "high", "C2 and payload server of a Linux cryptojacking botnet"),
        (ix.DOMAIN, "domain", "high", "Payload distribution domain (kworkerd dropper)"),
        (ix.CRON_HOST, "domain", "high", "Cron persistence callback host"),
        (ix.DOWNLOAD_URL, "url", "high", "kworkerd ELF download"),
        (ix.CRON_URL, "url", "high", "Shell stager fetched by cron persistence"),
        (ix.tool_sha256(seed), "sha256", "high", "kworkerd: Go backdoor and XMRig loader"),
        (SCANNER_IPS[0], "ipv4", "low", "Mass SSH scanner"),
        ("198.51.100.77", "ipv4", "medium", "Phishing kit host"),
        ("194.26.29.113", "ipv4", "medium", "RDP brute forcer"),
        ("pool.minexmr-mirror.cc", "domain", "medium", "Monero mining pool proxy"),
        ("http://files-cdn-update.xyz/ld.sh", "url", "high", "Mirai loader script"),
        (
            "5f2b7c1e9a0d3b4c6e8f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
            "sha256",
            "high",
            "Mirai arm7 build",
        ),
        (
            "0d1f9c33b2f3a7c08e0f6d1de4bc62e8d9b3a1b8c7e6f5d4c3b2a1908f7e6d5c",
            "sha256",
            "medium",
            "Tsunami IRC bot",
        ),
    ]
    return _write_csv(
        path,
        ("indicator", "type", "severity", "description"),
        ({"indicator": i, "type": t, "severity": s, "description": d} for i, t, s, d in rows),
    )
