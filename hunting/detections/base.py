"""What every detector reads: the host's frames, evidence helpers and the audit-session map."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from hunting.analysis.geo import PUBLIC, ip_scope
from hunting.analysis.process_tree import process_events
from hunting.analysis.risky import RiskRule, match_commands
from hunting.detections.model import (
    MAX_EVIDENCE,
    PAGES,
    Finding,
    Link,
    iso,
)
from hunting.detections.registry import (
    DetectionSpec,
)
from hunting.schema import ACCOUNTS, AUDIT, CRON, FLOWS, LOGONS, SUDO, SYSLOG
from hunting.timerange import TimeRange

UNSET_SES: Final = frozenset({4294967295, -1})
_SHELL_WRAPPERS: Final = re.compile(
    r"^(?:(?:nohup|exec|sudo|setsid|nice(?:\s+-n\s*-?\d+)?|timeout\s+\S+|env(?:\s+\w+=\S*)*)\s+"
    r"|(?:\S*/)?(?:ba|da|z|k)?sh\s+-c\s+)+"
)


@dataclass
class HuntData:
    """Everything the detections read for one host and range (frames in the schema)."""

    host: str
    tr: TimeRange
    syslog: pd.DataFrame = field(default_factory=SYSLOG.empty)
    logons: pd.DataFrame = field(default_factory=LOGONS.empty)
    sudo: pd.DataFrame = field(default_factory=SUDO.empty)
    cron: pd.DataFrame = field(default_factory=CRON.empty)
    accounts: pd.DataFrame = field(default_factory=ACCOUNTS.empty)
    audit: pd.DataFrame = field(default_factory=AUDIT.empty)
    flows: pd.DataFrame = field(default_factory=FLOWS.empty)
    users: dict[int, str] = field(default_factory=dict)  # uid -> name from the host's passwd
    tables: frozenset[str] = frozenset()
    # A page's own ``new_cron_commands`` result (its baseline, e.g. before a session):
    # cron.new_command rates these instead of deriving a baseline from ``tr``.
    new_cron: pd.DataFrame | None = None
    _procs: pd.DataFrame | None = None

    @property
    def processes(self) -> pd.DataFrame:
        """Program starts from auditd (computed once)."""
        if self._procs is None:
            self._procs = process_events(self.audit, users=self.users) if len(self.audit) else _empty_procs()
        return self._procs


def _empty_procs() -> pd.DataFrame:
    from hunting.analysis.process_tree import PROCESSES

    return PROCESSES.empty()


def collect(source: Any, host: str, tr: TimeRange) -> HuntData:
    """Fetch the frames the detections need from any Source (missing tables come back empty)."""
    tables = frozenset(source.tables())
    users_df = source.host_users(host)
    users: dict[int, str] = {}
    if len(users_df):
        for uid, name in zip(users_df["Uid"], users_df["User"], strict=True):
            if pd.notna(uid) and pd.notna(name):
                users.setdefault(int(uid), str(name))
    return HuntData(
        host=host,
        tr=tr,
        syslog=source.syslog(host, tr),
        logons=source.logon_events(host, tr),
        sudo=source.sudo_events(host, tr),
        cron=source.cron_events(host, tr),
        accounts=source.account_changes(host, tr),
        audit=source.audit_events(host, tr) if "AuditEvents" in tables else AUDIT.empty(),
        flows=source.network_flows(host, tr) if "NetworkFlows" in tables else FLOWS.empty(),
        users=users,
        tables=tables,
    )


# --- evidence helpers -----------------------------------------------------------------------


def _s(value: Any) -> str | None:
    """Cell as text, None for NA/empty."""
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return None
    text = str(value)
    return text if text != "" else None


def syslog_line(row: Mapping[str, Any]) -> str:
    """A syslog-derived row as the line it came from: time host process[pid]: message."""
    pid: Any = row.get("ProcessID")
    tag = str(row.get("ProcessName") or "?") + (f"[{int(pid)}]" if pid is not None and pd.notna(pid) else "")
    return f"{iso(row['TimeGenerated'])} {row.get('Computer') or ''} {tag}: {row.get('SyslogMessage') or ''}"


def flow_line(row: Mapping[str, Any]) -> str:
    remote = _s(row.get("PublicIPs")) or _s(row.get("DestIP")) or "?"
    count = row.get("AllowedOutFlows") if row.get("FlowDirection") == "O" else row.get("AllowedInFlows")
    return (
        f"{iso(row['FlowStartTime'])}..{iso(row['FlowEndTime'])} {row.get('FlowType') or ''} "
        f"dir={row.get('FlowDirection') or '?'} {row.get('VMIPAddress') or '?'} <-> {remote}:"
        f"{row.get('DestPort')}/{row.get('L4Protocol') or '?'} ({row.get('L7Protocol') or '?'}) flows={count}"
    )


def _audit_line(row: Mapping[str, Any]) -> str:
    raw = _s(row.get("RawMessage"))
    if raw:
        return raw
    return (
        f"{iso(row['TimeGenerated'])} pid={row.get('Pid')} exe={row.get('Exe')} cmdline={row.get('Cmdline')}"
    )


def _fid(rule_id: str, host: str, *key: object) -> str:
    text = "\x1f".join([rule_id, host.lower(), *("" if k is None else str(k) for k in key)])
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[:12]


def _ts(value: Any) -> datetime:
    t = pd.Timestamp(value)
    return (t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")).to_pydatetime()


def _fmt(template: str, **values: object) -> str:
    """Fill a title template; values (log text) are data, never format strings themselves."""
    safe = {k: ("?" if v is None or (isinstance(v, float) and np.isnan(v)) else v) for k, v in values.items()}
    try:
        return template.format(**safe)
    except (KeyError, IndexError, ValueError):
        return template


def _clip(text: str | None, n: int = 120) -> str:
    t = (text or "").replace("\n", " ")
    return t if len(t) <= n else t[: n - 1] + "…"


def _is_public(ip: str | None) -> bool:
    return bool(ip) and ip_scope(str(ip)) == PUBLIC


def _capped(lines: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for line in lines:
        if line not in out:
            out.append(line)
        if len(out) >= MAX_EVIDENCE:
            break
    return tuple(out)


def _seconds(text: str) -> pd.Timedelta:
    return pd.Timedelta(str(text))


# --- sessions: pid -> audit ses ---------------------------------------------------------------


class _Sessions:
    """Audit login session of a pid at a time, learnt from every audit event with a ses."""

    TOLERANCE: Final = pd.Timedelta("60s")

    def __init__(self, audit: pd.DataFrame, users: Mapping[int, str]) -> None:
        self.users = dict(users)
        if audit.empty:
            self.table = pd.DataFrame(columns=["Pid", "Time", "Ses", "Auid"])
            return
        a = audit[["Pid", "TimeGenerated", "Ses", "Auid"]].dropna(subset=["Pid", "TimeGenerated", "Ses"])
        a = a[~a["Ses"].isin(UNSET_SES)]
        self.table = (
            a.rename(columns={"TimeGenerated": "Time"})
            .astype({"Pid": "int64", "Ses": "int64"})
            .sort_values("Time", kind="stable")
        )

    def ses(self, pids: pd.Series, times: pd.Series) -> pd.Series:
        """``ses N`` text per (pid, time) row, NA where no audit event of that pid is near."""
        out = pd.Series(pd.NA, index=pids.index, dtype="string")
        if self.table.empty or pids.empty:
            return out
        left = pd.DataFrame({"Pid": pids, "Time": times, "_row": np.arange(len(pids))}).dropna()
        if left.empty:
            return out
        left = left.astype({"Pid": "int64"}).sort_values("Time", kind="stable")
        hit = pd.merge_asof(
            left, self.table, on="Time", by="Pid", direction="nearest", tolerance=self.TOLERANCE
        ).dropna(subset=["Ses"])
        vals = out.to_numpy(dtype=object)
        for row, ses in zip(hit["_row"], hit["Ses"], strict=True):
            vals[int(row)] = f"ses {int(ses)}"
        return pd.Series(vals, index=pids.index, dtype="string")

    def ses_of_user(self, users: pd.Series, times: pd.Series, tolerance: pd.Timedelta) -> pd.Series:
        """``ses N`` of the nearest audit event whose login uid is the named user (lines without a pid)."""
        out = pd.Series(pd.NA, index=users.index, dtype="string")
        if self.table.empty or users.empty:
            return out
        uid_of = {name: uid for uid, name in self.users.items()}
        tab = self.table.dropna(subset=["Auid"])
        vals = out.to_numpy(dtype=object)
        for i, (user, time) in enumerate(zip(users, times, strict=True)):
            uid = uid_of.get(str(user)) if pd.notna(user) else None
            if uid is None or pd.isna(time):
                continue
            rows = tab[tab["Auid"] == uid]
            if rows.empty:
                continue
            near = (rows["Time"] - pd.Timestamp(time)).abs()
            if near.min() <= tolerance:
                vals[i] = f"ses {int(rows.loc[near.idxmin(), 'Ses'])}"
        return pd.Series(vals, index=users.index, dtype="string")

    def login_user(self, pid: Any, time: Any) -> str | None:
        """Name of the audit login uid of ``pid`` near ``time`` (who was really at the keyboard)."""
        if self.table.empty or pd.isna(pid):
            return None
        rows = self.table[self.table["Pid"] == int(pid)]
        if rows.empty:
            return None
        near = (rows["Time"] - pd.Timestamp(time)).abs()
        best = rows.loc[near.idxmin()]
        if near.min() > self.TOLERANCE or pd.isna(best["Auid"]) or int(best["Auid"]) in UNSET_SES:
            return None
        return self.users.get(int(best["Auid"]), str(int(best["Auid"])))


# --- detections -------------------------------------------------------------------------------


@dataclass
class _Ctx:
    data: HuntData
    specs: Mapping[str, DetectionSpec]
    risky: Sequence[RiskRule]
    sessions: _Sessions
    # Results shared by one pass's detectors (the command detectors' rule hits).
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def host(self) -> str:
        return self.data.host

    def make(self, detection: str, key: Sequence[object], time: Any, **kw: Any) -> Finding:
        """A finding of ``detection`` (its title, severity and techniques unless overridden)."""
        spec = self.specs[detection]
        values = kw.pop("values", {})
        title = kw.pop("title", None) or _fmt(spec.title, **values)
        shown_id = kw.pop("rule_id", detection)
        return Finding(
            id=_fid(shown_id, self.host, *key),
            rule_id=shown_id,
            title=title,
            severity=kw.pop("severity", spec.severity),
            mitre=tuple(kw.pop("mitre", spec.mitre)),
            time=_ts(time),
            host=self.host,
            **kw,
        )


def _links(*items: tuple[str, str, dict[str, object]]) -> tuple[Link, ...]:
    out = []
    for page, label, params in items:
        clean = tuple((k, str(v)) for k, v in params.items() if v is not None and str(v) != "")
        out.append(Link(PAGES[page], label, clean))
    return tuple(out)


def _sudo_sessions(ctx: _Ctx, rows: pd.DataFrame) -> pd.Series:
    """sudo lines rarely carry a pid: fall back to the sudoer's audit events of the same moment."""
    by_pid = ctx.sessions.ses(rows["ProcessID"], rows["TimeGenerated"])
    by_user = ctx.sessions.ses_of_user(rows["Sudoer"], rows["TimeGenerated"], pd.Timedelta("5s"))
    return by_pid.fillna(by_user)


def _risky_hits(ctx: _Ctx, commands: pd.Series) -> pd.DataFrame:
    return (
        match_commands(commands, ctx.risky)
        if len(commands)
        else match_commands(pd.Series([], dtype="string"), ctx.risky)
    )


def _suspicious_exe(exe: pd.Series, dirs: Sequence[str]) -> tuple[pd.Series, pd.Series]:
    """(in a temp dir, in a hidden dir) per executable path."""
    e = exe.fillna("").astype("string")
    in_tmp = pd.Series(False, index=e.index)
    for d in dirs:
        in_tmp |= e.str.startswith(d)
    hidden = e.str.contains(r"/\.[^/.][^/]*/", regex=True) | e.str.contains(r"/\.\.[^/]+/", regex=True)
    return in_tmp.fillna(False).astype(bool), hidden.fillna(False).astype(bool)


def _group(keys: list[tuple[str, ...]]) -> list[int]:
    """Union-find over items sharing any key value; returns a group label per item."""
    parent = list(range(len(keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, ks in enumerate(keys):
        for k in ks:
            if k in first:
                a, b = find(i), find(first[k])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[k] = i
    return [find(i) for i in range(len(keys))]


def _human(delta: pd.Timedelta) -> str:
    s = int(delta.total_seconds())
    if s < 120:
        return f"{delta.total_seconds():.1f} s" if s < 10 else f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def _normalise_command(text: str) -> str:
    t = " ".join(str(text).split())
    prev = None
    while prev != t:
        prev = t
        t = _SHELL_WRAPPERS.sub("", t).strip().strip("'\"")
    return t
