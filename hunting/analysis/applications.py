"""Applications on a host: the programs that wrote to syslog, less the system's own daemons.

What counts as "the system" differs per distribution and per analyst, so the
daemon list is data (``DEFAULT_SYSTEM_DAEMONS``, shell-style patterns matched
without regard to case) that the caller can replace.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from typing import Final

import pandas as pd

from hunting.analysis.risky import RiskRule
from hunting.analysis.sudo import SUDO_PROCESSES
from hunting.detections.rating import command_hits
from hunting.schema import SYSLOG, conform

DEFAULT_SYSTEM_DAEMONS: Final[tuple[str, ...]] = (
    "kernel", "systemd", "systemd-*", "init", "udevd", "rsyslogd", "syslog-ng", "journald",
    "cron", "crond", "anacron", "atd", "dbus-daemon", "dbus-broker", "polkitd", "snapd",
    "networkmanager", "networkd-dispatcher", "modemmanager", "wpa_supplicant", "dhclient", "dhcpcd",
    "chronyd", "ntpd", "auditd", "audispd", "irqbalance", "multipathd", "packagekitd", "thermald",
    "upowerd", "udisksd", "accounts-daemon", "avahi-daemon", "acpid", "lvm", "iscsid", "sshd",
    "50-motd-news", "unattended-upgrade*", "apport", "rtkit-daemon", "colord", "cups*",
    "waagent", "walinuxagent", "omsagent", "google_*", "amazon-ssm-agent", "cloud-init",
)  # fmt: skip
HIGH_SEVERITIES: Final[tuple[str, ...]] = ("emerg", "alert", "crit", "err", "warning")
# Spellings other syslog sources use for the same levels.
_SEVERITY_ALIASES: Final = {"panic": "emerg", "critical": "crit", "error": "err", "warn": "warning"}
BUCKETS: Final[tuple[int, ...]] = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400)
APP_COLUMNS: Final = ("Application", "Messages", "HighSeverity", "FirstSeen", "LastSeen", "Pids")
RISK_COLUMNS: Final = (
    "TimeGenerated", "ProcessName", "ProcessID", "Command", "RuleId", "Title", "Severity",
    "Techniques", "Matched", "Decoded", "SyslogMessage",
)  # fmt: skip
# Where a message carries a command: sudo's COMMAND=..., cron's CMD (...).
_COMMAND_PATTERNS: Final = (
    re.compile(r"\bCOMMAND=(?P<c>.*)$"),
    re.compile(r"\bCMD \((?P<c>.*)\)\s*$"),
)


def parse_daemon_list(text: str) -> tuple[str, ...]:
    """Patterns from free text (one per line or comma separated); blanks and # comments dropped."""
    items: list[str] = []
    for line in (text or "").splitlines():
        line = line.split("#", 1)[0]
        items.extend(p.strip() for p in line.split(","))
    return tuple(dict.fromkeys(p for p in items if p))


def is_system_daemon(names: pd.Series, daemons: Iterable[str] = DEFAULT_SYSTEM_DAEMONS) -> pd.Series:
    """True where a process name matches one of the daemon patterns (case-insensitive)."""
    pats = [p.lower() for p in daemons]
    uniques = names.dropna().astype(str).unique()
    hit = {n for n in uniques if any(fnmatch.fnmatchcase(n.lower(), p) for p in pats)}
    return names.isin(hit).fillna(False).astype(bool)


def applications(syslog: pd.DataFrame, daemons: Iterable[str] = DEFAULT_SYSTEM_DAEMONS) -> pd.DataFrame:
    """One row per application (process name) with its message counts, most messages first."""
    df = conform(syslog, SYSLOG) if list(syslog.columns) != SYSLOG.names else syslog
    names = df["ProcessName"].astype("string").str.strip()
    keep = names.notna() & (names != "") & ~is_system_daemon(names, daemons)
    df = df.loc[keep].assign(Application=names[keep], High=is_high(df.loc[keep, "SeverityLevel"]))
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=_APP_DTYPES[c]) for c in APP_COLUMNS})
    out = df.groupby("Application", sort=False).agg(
        Messages=("Application", "size"),
        HighSeverity=("High", "sum"),
        FirstSeen=("TimeGenerated", "min"),
        LastSeen=("TimeGenerated", "max"),
        Pids=("ProcessID", "nunique"),
    )
    out = out.reset_index().sort_values(["Messages", "Application"], ascending=[False, True], kind="stable")
    return out.astype(_APP_DTYPES)[list(APP_COLUMNS)].reset_index(drop=True)


def is_high(levels: pd.Series) -> pd.Series:
    """True for emerg, alert, crit, err and warning (and their other spellings)."""
    return normalise_severity(levels).isin(HIGH_SEVERITIES).fillna(False).astype(bool)


def normalise_severity(levels: pd.Series) -> pd.Series:
    low = levels.astype("string").str.strip().str.lower()
    return low.replace(_SEVERITY_ALIASES)


def app_messages(syslog: pd.DataFrame, app: str) -> pd.DataFrame:
    """The application's messages, in time order."""
    names = syslog["ProcessName"].astype("string").str.strip()
    return syslog.loc[(names == app).fillna(False)].sort_values("TimeGenerated", kind="stable")


def bucket_seconds(start: pd.Timestamp, end: pd.Timestamp, *, target: int = 200) -> int:
    """A bucket size from ``BUCKETS`` giving about ``target`` bars (or fewer) over the range."""
    span = max((pd.Timestamp(end) - pd.Timestamp(start)).total_seconds(), 1.0)
    for size in BUCKETS:
        if span / size <= target:
            return size
    return BUCKETS[-1]


def app_volume(volume: pd.DataFrame, app: str) -> pd.DataFrame:
    """Rows of a ``syslog_volume(by="ProcessName")`` frame for one application."""
    return volume.loc[(volume["Key"].astype("string").str.strip() == app).fillna(False)].reset_index(
        drop=True
    )


def severity_volume(
    messages: pd.DataFrame, bucket: int, levels: Sequence[str] = HIGH_SEVERITIES
) -> pd.DataFrame:
    """Counts per time bucket and severity (Key) for the given levels: TimeGenerated, Key, Count."""
    sev = normalise_severity(messages["SeverityLevel"])
    keep = sev.isin(levels).fillna(False).astype(bool)
    if not keep.any():
        return pd.DataFrame(
            {
                "TimeGenerated": pd.Series(dtype="datetime64[ns, UTC]"),
                "Key": pd.Series(dtype="string"),
                "Count": pd.Series(dtype="Int64"),
            }
        )
    times = messages.loc[keep, "TimeGenerated"].dt.floor(f"{int(bucket)}s")
    out = pd.DataFrame({"TimeGenerated": times, "Key": sev[keep]}).value_counts().rename("Count")
    out = out.reset_index().sort_values(["TimeGenerated", "Key"], kind="stable").reset_index(drop=True)
    return out.astype({"Key": "string", "Count": "Int64"})


def message_command(messages: pd.Series) -> pd.Series:
    """The command a message reports (sudo COMMAND=, cron CMD (...)), else NA."""
    text = messages.astype("string")
    out = pd.Series(pd.NA, index=messages.index, dtype="string")
    for pattern in _COMMAND_PATTERNS:
        found = text.str.extract(pattern, expand=False).astype("string")
        out = out.fillna(found)
    return out


def message_risks(messages: pd.DataFrame, rules: Sequence[RiskRule] | None = None) -> pd.DataFrame:
    """The Findings engine's hits in the messages, one row per (message, rule), in time order.

    Risky-command rules and encoded payloads on the whole message; a sudo line that
    ran an interactive shell (``COMMAND=/bin/bash``, no refusal reason) is rated by
    ``sudo.shell`` on its command, as on Findings and User activity.
    """
    if messages.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RISK_COLUMNS})
    messages = messages.reset_index(drop=True)
    hits = command_hits(messages["SyslogMessage"], rules=rules)
    shells = _sudo_shell_hits(messages, rules)
    if len(shells):
        hits = pd.concat([shells, hits], ignore_index=True).sort_values("Row", kind="stable")
    if hits.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RISK_COLUMNS})
    rows = messages.loc[hits["Row"]]
    out = hits.drop(columns="Row").reset_index(drop=True)
    for col in ("TimeGenerated", "ProcessName", "ProcessID", "SyslogMessage"):
        out[col] = rows[col].reset_index(drop=True)
    out["Command"] = message_command(rows["SyslogMessage"]).reset_index(drop=True)
    return out[list(RISK_COLUMNS)]


def _sudo_shell_hits(messages: pd.DataFrame, rules: Sequence[RiskRule] | None) -> pd.DataFrame:
    """sudo.shell hits on the sudo lines of ``messages`` (refusals, which carry a reason, never)."""
    from hunting.analysis.sudo import sudo_events
    from hunting.detections.rating import SUDO_SHELL

    proc = messages["ProcessName"].astype("string").str.strip().str.lower()
    lines = messages[proc.isin(SUDO_PROCESSES).fillna(False).to_numpy()]
    if lines.empty:
        return pd.DataFrame()
    parsed = sudo_events(lines)
    if parsed.empty:
        return pd.DataFrame()
    # sudo_events keeps each line's time and message: map its rows back to the messages.
    key = lines.reset_index().merge(
        parsed[["TimeGenerated", "SyslogMessage", "Command", "Result"]].drop_duplicates(
            ["TimeGenerated", "SyslogMessage"]
        ),
        on=["TimeGenerated", "SyslogMessage"],
        how="inner",
    )
    if key.empty:
        return pd.DataFrame()
    commands = pd.Series(key["Command"].to_numpy(), index=key["index"].to_numpy(), dtype="string")
    ok = pd.Series((key["Result"] == "Success").fillna(False).to_numpy(), index=commands.index)
    hits = command_hits(commands, sudo=True, succeeded=ok, rules=rules)
    return hits[hits["RuleId"] == SUDO_SHELL]


_APP_DTYPES: Final = {
    "Application": "string", "Messages": "Int64", "HighSeverity": "Int64",
    "FirstSeen": "datetime64[ns, UTC]", "LastSeen": "datetime64[ns, UTC]", "Pids": "Int64",
}  # fmt: skip


def fill_buckets(volume: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, bucket: int) -> pd.DataFrame:
    """Zero rows for the empty buckets of every key, so a line or area chart does not bridge gaps."""
    if volume.empty:
        return volume
    step = pd.Timedelta(seconds=int(bucket))
    first = pd.Timestamp(start).floor(step)
    grid = pd.date_range(first, pd.Timestamp(end), freq=step, tz="UTC", unit="ns")
    times = volume["TimeGenerated"].astype("datetime64[ns, UTC]")
    keys = volume["Key"].astype("string").unique()
    full = pd.MultiIndex.from_product(
        [grid.union(pd.DatetimeIndex(times.unique())), keys], names=["TimeGenerated", "Key"]
    )
    counts = volume.assign(TimeGenerated=times).groupby(["TimeGenerated", "Key"])["Count"].sum()
    out = counts.reindex(full, fill_value=0).reset_index()
    return out.astype({"Key": "string", "Count": "Int64"})
