"""The one interface pages, CLI and tests call, whatever holds the data.

Both implementations (local DuckDB files, Azure Log Analytics) return frames
conformed to :mod:`hunting.schema`, so a page never knows which one it talks to.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

import pandas as pd

from hunting.readers.base import FileAccount
from hunting.timerange import TimeRange

VolumeKey = Literal["Facility", "SeverityLevel", "ProcessName"]

HOSTS_COLUMNS = [
    "Computer",
    "FirstSeen",
    "LastSeen",
    "SyslogRows",
    "AuditRows",
    "AlertRows",
    "HeartbeatRows",
    "FlowRows",
]
VOLUME_COLUMNS = ["TimeGenerated", "Key", "Count"]


@runtime_checkable
class Source(Protocol):
    """A place to hunt in. Every method filters by host (case-insensitive) and range."""

    name: str

    def tables(self) -> set[str]:
        """Schema table names this source actually holds (pages explain missing ones)."""
        ...

    def hosts(self, contains: str = "", tr: TimeRange | None = None) -> pd.DataFrame:
        """Hosts seen, whose name contains ``contains`` (case-insensitive), with spans and counts."""
        ...

    def syslog(self, host: str, tr: TimeRange, *, limit: int | None = None) -> pd.DataFrame: ...

    def syslog_volume(self, host: str, tr: TimeRange, *, bucket_seconds: int, by: VolumeKey) -> pd.DataFrame:
        """Message counts per time bucket and key; aggregated where the data lives."""
        ...

    def logon_events(self, host: str, tr: TimeRange) -> pd.DataFrame: ...

    def sudo_events(self, host: str, tr: TimeRange) -> pd.DataFrame: ...

    def cron_events(self, host: str, tr: TimeRange) -> pd.DataFrame: ...

    def account_changes(self, host: str, tr: TimeRange) -> pd.DataFrame: ...

    def audit_events(self, host: str, tr: TimeRange) -> pd.DataFrame: ...

    def alerts(self, host: str, tr: TimeRange) -> pd.DataFrame: ...

    def heartbeat(self, host: str, tr: TimeRange) -> pd.DataFrame: ...

    def network_flows(self, host: str, tr: TimeRange) -> pd.DataFrame: ...

    def host_users(self, host: str) -> pd.DataFrame:
        """The host's accounts (HostUsers) from its own passwd data; empty when none was given."""
        ...

    def ingest_report(self) -> list[FileAccount]:
        """Per-file accounting of what was read (empty for remote sources)."""
        ...
