"""The host record: what the host is, where it is, and what runs on it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd


def _ip_scope(ip: str) -> str:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return "invalid"
    return "private" if addr.is_private else ("public" if addr.is_global else "reserved")


@dataclass
class HostRecord:
    """Facts about one host gathered from heartbeat, syslog and flow data."""

    name: str
    os_type: str = ""
    os_name: str = ""
    os_version: str = ""
    environment: str = ""
    agent_version: str = ""
    ips: dict[str, str] = field(default_factory=dict)  # address -> private/public/...
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    applications: pd.DataFrame = field(default_factory=pd.DataFrame)  # ProcessName, Messages


def _last(series: pd.Series) -> str:
    s = series.dropna().astype(str)
    s = s[s != ""]
    return str(s.iloc[-1]) if len(s) else ""


def host_record(
    name: str,
    *,
    heartbeat: pd.DataFrame,
    process_volume: pd.DataFrame,
    flows: pd.DataFrame | None = None,
    first_seen: datetime | None = None,
    last_seen: datetime | None = None,
) -> HostRecord:
    """Build the record; ``process_volume`` is syslog_volume(by="ProcessName") output."""
    rec = HostRecord(name=name, first_seen=first_seen, last_seen=last_seen)
    hb = heartbeat.sort_values("TimeGenerated") if len(heartbeat) else heartbeat
    if len(hb):
        rec.os_type = _last(hb["OSType"])
        rec.os_name = _last(hb["OSName"])
        major, minor = _last(hb["OSMajorVersion"]), _last(hb["OSMinorVersion"])
        rec.os_version = ".".join(v for v in (major, minor) if v)
        rec.environment = _last(hb["ComputerEnvironment"])
        rec.agent_version = _last(hb["Version"])
        rec.country = _last(hb["RemoteIPCountry"])
        lat, lon = hb["RemoteIPLatitude"].dropna(), hb["RemoteIPLongitude"].dropna()
        rec.latitude = float(lat.iloc[-1]) if len(lat) else None
        rec.longitude = float(lon.iloc[-1]) if len(lon) else None
        for ip in hb["ComputerIP"].dropna().astype(str).unique():
            rec.ips[ip] = _ip_scope(ip)
    if flows is not None and len(flows):
        for ip in flows["VMIPAddress"].dropna().astype(str).unique():
            rec.ips.setdefault(ip, _ip_scope(ip))
    if len(process_volume):
        apps = process_volume.groupby("Key", as_index=False)["Count"].sum()
        apps = apps.rename(columns={"Key": "ProcessName", "Count": "Messages"})
        rec.applications = apps.sort_values("Messages", ascending=False).reset_index(drop=True)
    else:
        rec.applications = pd.DataFrame(columns=["ProcessName", "Messages"])
    return rec
