"""Every table's column names and types, in one place.

Readers emit these frames, both sources (local DuckDB and Log Analytics) return
them, and analysis code imports the column constants from here. Names follow the
Microsoft Sentinel tables so that a KQL result and a local result are the same
frame: Syslog, SecurityAlert, Heartbeat and AzureNetworkAnalytics_CL keep
Sentinel's names; audit events follow the per-event summary msticpy builds from
AuditLog_CL. Derived tables (logons, sudo, cron, account changes) are produced by
the parsers in ``hunting.analysis`` from Syslog rows.

Times are always timezone-aware UTC (``datetime64[ns, UTC]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pandas as pd

# Logical column types -> pandas dtype and DuckDB type.
TIME: Final = "time"
TEXT: Final = "text"
INT: Final = "int"
FLOAT: Final = "float"
BOOL: Final = "bool"

_PANDAS = {
    TIME: "datetime64[ns, UTC]",
    TEXT: "string",
    INT: "Int64",
    FLOAT: "Float64",
    BOOL: "boolean",
}
_DUCKDB = {TIME: "TIMESTAMP", TEXT: "VARCHAR", INT: "BIGINT", FLOAT: "DOUBLE", BOOL: "BOOLEAN"}


@dataclass(frozen=True)
class Table:
    """A table: its name and ordered (column, logical type) pairs."""

    name: str
    columns: tuple[tuple[str, str], ...]
    description: str = ""

    @property
    def names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def dtype(self, column: str) -> str:
        return _PANDAS[dict(self.columns)[column]]

    def duckdb_ddl(self) -> str:
        cols = ", ".join(f'"{c}" {_DUCKDB[t]}' for c, t in self.columns)
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" ({cols})'

    def empty(self) -> pd.DataFrame:
        return conform(pd.DataFrame(), self)


SYSLOG = Table(
    "Syslog",
    (
        ("TimeGenerated", TIME),
        ("Computer", TEXT),
        ("HostName", TEXT),
        ("Facility", TEXT),
        ("SeverityLevel", TEXT),
        ("ProcessName", TEXT),
        ("ProcessID", INT),
        ("SyslogMessage", TEXT),
        ("HostIP", TEXT),
    ),
    "Sentinel Syslog: one row per syslog line or journal entry.",
)

AUDIT = Table(
    "AuditEvents",
    (
        ("TimeGenerated", TIME),
        ("Computer", TEXT),
        ("EventId", TEXT),  # "EPOCH:SERIAL" from msg=audit(EPOCH:SERIAL)
        ("EventType", TEXT),  # first record type: SYSCALL, USER_LOGIN, ADD_USER ...
        ("RecordTypes", TEXT),  # all record types of the event, comma separated
        ("Syscall", TEXT),  # number as logged ("59") or name when enriched
        ("Success", TEXT),
        ("Exit", TEXT),
        ("Pid", INT),
        ("Ppid", INT),
        ("Uid", INT),
        ("Auid", INT),  # 4294967295 (unset) is kept as is
        ("Euid", INT),
        ("Gid", INT),
        ("Ses", INT),
        ("UidName", TEXT),  # from the ENRICHED format or the host's passwd data
        ("AuidName", TEXT),
        ("Tty", TEXT),
        ("Comm", TEXT),
        ("Exe", TEXT),
        ("Key", TEXT),
        ("Cwd", TEXT),
        ("Argc", INT),
        ("Cmdline", TEXT),  # every EXECVE argument decoded, space joined
        ("Proctitle", TEXT),  # decoded, NUL separators as spaces
        ("Op", TEXT),  # USER_*/CRED_* msg='op=...'
        ("Acct", TEXT),
        ("Addr", TEXT),
        ("Hostname", TEXT),
        ("Terminal", TEXT),
        ("Res", TEXT),
        ("RawMessage", TEXT),  # the event's records, newline separated
    ),
    "One row per auditd event (records grouped by their audit(EPOCH:SERIAL) id).",
)

ALERTS = Table(
    "SecurityAlert",
    (
        ("TimeGenerated", TIME),
        ("StartTimeUtc", TIME),
        ("EndTimeUtc", TIME),
        ("Computer", TEXT),  # host the alert is about (CompromisedEntity or host entity)
        ("AlertName", TEXT),
        ("AlertDisplayName", TEXT),
        ("AlertType", TEXT),
        ("Description", TEXT),
        ("Severity", TEXT),
        ("ProviderName", TEXT),
        ("SystemAlertId", TEXT),
        ("CompromisedEntity", TEXT),
        ("Tactics", TEXT),
        ("Techniques", TEXT),
        ("Entities", TEXT),  # JSON text
        ("ExtendedProperties", TEXT),  # JSON text
    ),
    "Sentinel SecurityAlert.",
)

HEARTBEAT = Table(
    "Heartbeat",
    (
        ("TimeGenerated", TIME),
        ("Computer", TEXT),
        ("ComputerIP", TEXT),
        ("OSType", TEXT),
        ("OSName", TEXT),
        ("OSMajorVersion", TEXT),
        ("OSMinorVersion", TEXT),
        ("Version", TEXT),
        ("ComputerEnvironment", TEXT),
        ("RemoteIPCountry", TEXT),
        ("RemoteIPLatitude", FLOAT),
        ("RemoteIPLongitude", FLOAT),
        ("ResourceId", TEXT),
    ),
    "Sentinel Heartbeat: agent facts about a host.",
)

FLOWS = Table(
    "NetworkFlows",
    (
        ("TimeGenerated", TIME),
        ("FlowStartTime", TIME),
        ("FlowEndTime", TIME),
        ("Computer", TEXT),  # VMName
        ("FlowType", TEXT),
        ("VMIPAddress", TEXT),
        ("SrcIP", TEXT),
        ("DestIP", TEXT),
        ("PublicIPs", TEXT),  # comma separated
        ("L4Protocol", TEXT),
        ("L7Protocol", TEXT),
        ("DestPort", INT),
        ("FlowDirection", TEXT),  # I or O
        ("AllowedOutFlows", INT),
        ("AllowedInFlows", INT),
        ("DeniedInFlows", INT),
        ("DeniedOutFlows", INT),
    ),
    "AzureNetworkAnalytics_CL flows as msticpy's query projects them.",
)

HOST_USERS = Table(
    "HostUsers",
    (
        ("TimeGenerated", TIME),  # mtime of the passwd file it came from
        ("Computer", TEXT),
        ("User", TEXT),
        ("Uid", INT),
        ("Gid", INT),
        ("Gecos", TEXT),
        ("Home", TEXT),
        ("Shell", TEXT),
    ),
    "Accounts from the host's own /etc/passwd (uid -> name without asking the analyst's machine).",
)

# Derived from Syslog by hunting.analysis parsers.
LOGONS = Table(
    "LogonEvents",
    (
        ("TimeGenerated", TIME),
        ("Computer", TEXT),
        ("User", TEXT),
        ("Result", TEXT),  # Success | Failure | Notice (pre-auth lines kept but not counted)
        # password, publickey, keyboard-interactive, su, login, sudo, none, invalid_user,
        # preauth_close, max_attempts, denied_user, pam, or another PAM service name
        ("LogonType", TEXT),
        ("ProcessName", TEXT),
        ("ProcessID", INT),
        ("SourceIP", TEXT),
        ("SourcePort", INT),
        ("InvalidUser", BOOL),  # the account does not exist on the host
        ("Count", INT),  # >1 for "message repeated N times"
        ("SyslogMessage", TEXT),
    ),
    "Successful and failed logons (sshd, su, login, sudo authentication).",
)

SUDO = Table(
    "SudoEvents",
    (
        ("TimeGenerated", TIME),
        ("Computer", TEXT),
        ("ProcessID", INT),
        ("Sudoer", TEXT),
        ("RunAs", TEXT),
        ("Command", TEXT),
        ("CommandBinary", TEXT),
        ("TTY", TEXT),
        ("PWD", TEXT),
        ("Result", TEXT),  # Success | Failure (authentication failure, not in sudoers, ...)
        ("Reason", TEXT),
        ("SyslogMessage", TEXT),
    ),
    "sudo command lines, with '(command continued)' lines joined.",
)

CRON = Table(
    "CronEvents",
    (
        ("TimeGenerated", TIME),
        ("Computer", TEXT),
        ("ProcessName", TEXT),
        ("ProcessID", INT),
        ("User", TEXT),
        ("Action", TEXT),  # run | begin_edit | replace | end_edit | delete | list | reload
        ("Command", TEXT),
        ("SyslogMessage", TEXT),
    ),
    "cron job executions and crontab edits.",
)

ACCOUNTS = Table(
    "AccountChanges",
    (
        ("TimeGenerated", TIME),
        ("Computer", TEXT),
        ("ProcessName", TEXT),
        ("ProcessID", INT),
        # user_add | user_delete | user_modify | group_add | group_delete | group_modify
        # | group_member_add | group_member_remove | password_change
        ("Action", TEXT),
        ("User", TEXT),
        ("Group", TEXT),
        ("UID", INT),
        ("GID", INT),
        ("Home", TEXT),
        ("Shell", TEXT),
        ("Actor", TEXT),  # who made the change, where the line says
        ("SyslogMessage", TEXT),
    ),
    "User and group creations, changes and deletions, password changes.",
)

STORED_TABLES: Final = (SYSLOG, AUDIT, ALERTS, HEARTBEAT, FLOWS, HOST_USERS)
# Derived once at ingest (hunting.store, via hunting.analysis.events) and stored beside the
# raw tables, so a query by host and range never re-parses messages.
DERIVED_TABLES: Final = (LOGONS, SUDO, CRON, ACCOUNTS)
ALL_TABLES: Final = (*STORED_TABLES, *DERIVED_TABLES)
BY_NAME: Final = {t.name: t for t in ALL_TABLES}

SEVERITIES: Final = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
HIGH_SEVERITIES: Final = ("emerg", "alert", "crit", "err", "warning")
FACILITIES: Final = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip


def to_utc(values: pd.Series) -> pd.Series:
    """Times as tz-aware UTC; naive values are taken to be UTC already."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype(_PANDAS[TIME])
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize("UTC").astype(_PANDAS[TIME])
    return pd.to_datetime(values, errors="coerce", utc=True, format="mixed").astype(_PANDAS[TIME])


_INT64_MAX = 2**63 - 1


def _numeric(values: pd.Series, kind: str) -> pd.Series:
    """Numbers from any column; values that are not numbers, or overflow 64 bits, become NA."""
    if kind == INT and pd.api.types.is_integer_dtype(values.dtype):
        return values.astype(_PANDAS[INT])
    num = pd.to_numeric(values, errors="coerce")
    if kind == INT:
        floats = num.astype("float64")
        num = num.where(floats.abs() <= _INT64_MAX)
        if pd.api.types.is_float_dtype(num.dtype):
            # what the per-value check below keeps of floats (|int(v)| <= 2**63 - 1), vectorised
            num = num.where(floats.abs() < 2.0**63)
        elif not pd.api.types.is_integer_dtype(num.dtype):
            # an object column can hold Python ints beyond 64 bits: drop those, keep the rest exact
            num = num.map(lambda v: v if v is None or pd.isna(v) or abs(int(v)) <= _INT64_MAX else None)
            num = pd.to_numeric(num, errors="coerce")
    return num.astype(_PANDAS[kind])


def conform(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return ``df`` with exactly ``table``'s columns, in order and typed.

    Missing columns are added empty, extra ones dropped, so every producer of a
    table (reader, SQL, KQL) hands the pages the same frame.
    """
    out = pd.DataFrame(index=df.index)
    for col, kind in table.columns:
        if col in df.columns:
            s = df[col]
            if kind == TIME:
                s = to_utc(s)
            elif kind in (INT, FLOAT):
                s = _numeric(s, kind)
            elif kind == BOOL:
                s = s.astype("boolean")
            else:
                s = s.astype("string")
            out[col] = s
        else:
            out[col] = pd.Series(pd.NA, index=df.index, dtype=_PANDAS[kind])
    return out.reset_index(drop=True)
