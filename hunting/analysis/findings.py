"""Triage findings: what on a host looks like an intrusion, when, and on what evidence.

Each detection is a function over the host's frames (:class:`HuntData`) returning
:class:`Finding` objects; names, severities, ATT&CK ids and thresholds come from
``hunting/rules/findings.yaml``. Findings are deduplicated per detection (one per
address, account, command or session, with every occurrence counted), linked into
an attack timeline by shared user, address and session, and returned with counts of
what was searched, so that "no findings" says how much was looked at.

Sessions are auditd login sessions (``ses``), the one id that ties an SSH logon to
the sudo, account changes and programs that followed it: syslog lines are mapped to
it through the pid of the audit event (LOGIN, execve) written by the same process.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import yaml

from hunting.analysis.cron import new_cron_commands
from hunting.analysis.geo import PUBLIC, geolocate, ip_scope
from hunting.analysis.logons import FAILURE, SSH_PROCESSES, SUCCESS, brute_force
from hunting.analysis.process_tree import process_events
from hunting.analysis.risky import SEVERITY_RANK, RiskRule, load_rules, match_commands
from hunting.errors import HuntingError
from hunting.rules import RULES_DIR
from hunting.schema import ACCOUNTS, AUDIT, CRON, FLOWS, LOGONS, SUDO, SYSLOG, conform
from hunting.timerange import TimeRange

FINDINGS_RULES: Final = RULES_DIR / "findings.yaml"
SEVERITIES: Final = ("low", "medium", "high")  # ascending
MAX_EVIDENCE: Final = 25  # evidence lines kept per finding; ``occurrences`` counts them all
UNSET_SES: Final = frozenset({4294967295, -1})
_TECHNIQUE: Final = re.compile(r"T\d{4}(?:\.\d{3})?")
_SHELL_WRAPPERS: Final = re.compile(
    r"^(?:(?:nohup|exec|sudo|setsid|nice(?:\s+-n\s*-?\d+)?|timeout\s+\S+|env(?:\s+\w+=\S*)*)\s+"
    r"|(?:\S*/)?(?:ba|da|z|k)?sh\s+-c\s+)+"
)

# Pages (Streamlit's pages/ files) a finding links to, by what they show.
PAGES: Final = {
    "logons": "pages/1_Logons.py",
    "session": "pages/2_Session_detail.py",
    "user": "pages/3_User_activity.py",
    "process": "pages/4_Process_trees.py",
    "application": "pages/5_Application_activity.py",
    "network": "pages/6_Network.py",
    "iocs": "pages/7_IoCs_and_threat_intel.py",
    "data": "pages/9_Data_sources.py",
}


# --- the model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """Where the evidence is shown: a page and scope hints (URL parameters) for it."""

    page: str
    label: str
    params: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"page": self.page, "label": self.label, "params": dict(self.params)}


@dataclass(frozen=True)
class Finding:
    """One suspicious thing, shared by the pages, the CLI and the exported report."""

    id: str
    rule_id: str
    title: str
    severity: str
    mitre: tuple[str, ...]
    time: datetime
    end: datetime | None = None
    host: str = ""
    user: str | None = None
    source_ip: str | None = None
    session: str | None = None
    detail: str = ""
    evidence: tuple[str, ...] = ()
    occurrences: int = 1
    links: tuple[Link, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        bad = [t for t in self.mitre if not _TECHNIQUE.fullmatch(t)]
        if bad:
            raise ValueError(f"not ATT&CK technique ids: {', '.join(bad)}")
        if self.time.tzinfo is None:
            raise ValueError("finding time must be timezone-aware (UTC)")

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "mitre": list(self.mitre),
            "time": iso(self.time),
            "end": iso(self.end) if self.end is not None else None,
            "host": self.host,
            "user": self.user,
            "source_ip": self.source_ip,
            "session": self.session,
            "detail": self.detail,
            "evidence": list(self.evidence),
            "occurrences": self.occurrences,
            "links": [link.to_dict() for link in self.links],
        }


def mitre_url(technique: str) -> str:
    """``T1548.003`` -> https://attack.mitre.org/techniques/T1548/003/"""
    if not _TECHNIQUE.fullmatch(technique):
        raise ValueError(f"not an ATT&CK technique id: {technique!r}")
    return "https://attack.mitre.org/techniques/" + technique.replace(".", "/") + "/"


def iso(ts: datetime | pd.Timestamp) -> str:
    """ISO 8601 UTC with a Z, to the millisecond when there is one."""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond // 1000:03d}"
    return text + "Z"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then oldest first (then id, so the order is stable)."""
    return sorted(findings, key=lambda f: (-f.rank, f.time, f.id))


# --- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectionSpec:
    """One detection's entry in findings.yaml."""

    id: str
    title: str
    severity: str
    mitre: tuple[str, ...]
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        for t in self.mitre:
            if not _TECHNIQUE.fullmatch(str(t)):
                raise ValueError(f"{self.id}: {t!r} is not an ATT&CK technique id")

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise HuntingError(
                f"findings rule {self.id}: parameter {name!r} missing in {FINDINGS_RULES.name}"
            )
        return self.params[name]


def load_specs(path: Path | None = None) -> dict[str, DetectionSpec]:
    """Detections by id from the YAML file (default: the built-in one)."""
    path = path or FINDINGS_RULES
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise HuntingError(f"cannot read findings rules {path}: {exc}") from None
    if not isinstance(data, dict):
        raise HuntingError(f"{path}: expected a mapping of detection id -> settings")
    specs = {}
    for key, item in data.items():
        if not isinstance(item, dict):
            raise HuntingError(f"{path}: {key}: expected a mapping")
        try:
            specs[str(key)] = DetectionSpec(
                id=str(key),
                title=str(item["title"]),
                severity=str(item["severity"]),
                mitre=tuple(str(t) for t in item.get("mitre") or ()),
                description=str(item.get("description") or ""),
                params=dict(item.get("params") or {}),
            )
        except (KeyError, ValueError) as exc:
            raise HuntingError(f"{path}: {key}: {exc}") from None
    missing = set(DETECTIONS) - set(specs)
    if missing:
        raise HuntingError(f"{path}: no settings for detection(s) {', '.join(sorted(missing))}")
    return specs


@lru_cache(maxsize=1)
def _default_specs() -> dict[str, DetectionSpec]:
    return load_specs()


@lru_cache(maxsize=1)
def _default_risky() -> tuple[RiskRule, ...]:
    return tuple(load_rules())


# --- input ----------------------------------------------------------------------------------


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


def _counted_logons(data: HuntData) -> pd.DataFrame:
    lg = conform(data.logons, LOGONS)
    return lg[lg["Result"].isin([SUCCESS, FAILURE]) & lg["TimeGenerated"].notna()].copy()


def detect_password_guessing(ctx: _Ctx) -> list[Finding]:
    spec, spray = ctx.specs["logon.password_guessing"], ctx.specs["logon.password_spraying"]
    lg = _counted_logons(ctx.data)
    bursts = brute_force(lg, threshold=int(spec.param("threshold")), window=str(spec.param("window")))
    fails = lg[lg["Result"] == FAILURE]
    out = []
    for b in bursts.itertuples(index=False):
        rows = fails[
            (fails["SourceIP"] == b.SourceIP)
            & (fails["TimeGenerated"] >= b.FirstAttempt)
            & (fails["TimeGenerated"] <= b.LastAttempt)
        ]
        evidence = _capped(syslog_line(r) for r in rows.to_dict("records"))
        users = list(b.Users)
        user = b.SuccessUser if bool(b.SuccessFollowed) else (users[0] if len(users) == 1 else None)
        detail = (
            f"{int(b.Attempts)} failed logons from {b.SourceIP} between {iso(b.FirstAttempt)} and "
            f"{iso(b.LastAttempt)} (at most {int(b.PeakInWindow)} within {spec.param('window')}); "
            f"{len(users)} account(s) tried: {', '.join(users[:15])}" + (" …" if len(users) > 15 else "")
        )
        links = _links(
            ("logons", "Logons: failures from this address", {"ip": b.SourceIP}),
            ("network", "Network: this address", {"ip": b.SourceIP}),
        )
        common = dict(
            end=_ts(b.LastAttempt),
            user=user,
            source_ip=b.SourceIP,
            detail=detail,
            evidence=evidence,
            occurrences=int(b.Attempts),
            links=links,
        )
        out.append(
            ctx.make(
                "logon.password_guessing",
                (b.SourceIP, iso(b.FirstAttempt)),
                b.FirstAttempt,
                values={"ip": b.SourceIP, "attempts": int(b.Attempts)},
                **common,
            )
        )
        if len(users) >= int(spray.param("min_users")):
            out.append(
                ctx.make(
                    "logon.password_spraying",
                    (b.SourceIP, iso(b.FirstAttempt)),
                    b.FirstAttempt,
                    values={"ip": b.SourceIP, "users": len(users)},
                    **common,
                )
            )
    return out


def _logon_session(ctx: _Ctx, rows: pd.DataFrame) -> pd.Series:
    return ctx.sessions.ses(rows["ProcessID"], rows["TimeGenerated"])


def detect_success_after_failures(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["logon.success_after_failures"]
    lg = _counted_logons(ctx.data).dropna(subset=["SourceIP"])
    ok = lg[lg["Result"] == SUCCESS]
    fails = lg[lg["Result"] == FAILURE].assign(_n=lambda d: d["Count"].fillna(1).astype("int64"))
    if ok.empty or fails.empty:
        return []
    ok = ok.assign(_ses=_logon_session(ctx, ok))
    out, seen = [], set()
    for r in ok.to_dict("records"):
        key = (r["SourceIP"], r["User"])
        if key in seen:
            continue
        before = fails[(fails["SourceIP"] == r["SourceIP"]) & (fails["TimeGenerated"] <= r["TimeGenerated"])]
        n = int(before["_n"].sum())
        if n < int(spec.param("min_failures")):
            continue
        seen.add(key)
        evidence = _capped(
            [syslog_line(r), *(syslog_line(x) for x in before.tail(MAX_EVIDENCE - 1).to_dict("records"))]
        )
        out.append(
            ctx.make(
                "logon.success_after_failures",
                key,
                r["TimeGenerated"],
                values={"user": r["User"], "ip": r["SourceIP"], "failures": n},
                user=_s(r["User"]),
                source_ip=r["SourceIP"],
                session=_s(r["_ses"]),
                detail=f"{n} failed logons from {r['SourceIP']} before this {r['LogonType']} logon as {r['User']}; "
                f"first failure {iso(before['TimeGenerated'].min())}.",
                evidence=evidence,
                occurrences=1,
                links=_links(
                    ("logons", "Logons from this address", {"ip": r["SourceIP"]}),
                    ("session", "Session of this logon", {"user": r["User"], "session": r["_ses"]}),
                ),
            )
        )
    return out


def detect_new_source(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["logon.new_source"]
    lg = _counted_logons(ctx.data).dropna(subset=["SourceIP"])
    ok = lg[lg["Result"] == SUCCESS].sort_values("TimeGenerated", kind="stable")
    if ok.empty:
        return []
    first = ok.drop_duplicates("SourceIP").copy()
    first["_ses"] = _logon_session(ctx, first)
    public = [ip for ip in first["SourceIP"] if _is_public(ip)]
    geo = geolocate(public) if public else pd.DataFrame(columns=["Ip", "CountryName", "CountryCode"])
    country = dict(zip(geo["Ip"], geo["CountryName"], strict=True))
    seen_countries: set[str] = set()
    out = []
    for r in first.to_dict("records"):
        ip = r["SourceIP"]
        is_public = _is_public(ip)
        name = _s(country.get(ip)) if is_public else None
        if is_public:
            where = (
                f"{name}, a country not seen before"
                if name and name not in seen_countries
                else (name or "public, unknown country")
            )
            if name:
                seen_countries.add(name)
        else:
            where = ip_scope(str(ip)) + " address"
        later = int((ok["SourceIP"] == ip).sum())
        out.append(
            ctx.make(
                "logon.new_source",
                (ip,),
                r["TimeGenerated"],
                values={"ip": ip, "where": where, "user": r["User"]},
                severity=spec.severity if is_public else str(spec.param("severity_private")),
                user=_s(r["User"]),
                source_ip=ip,
                session=_s(r["_ses"]),
                detail=f"First successful logon from {ip} ({where}) in the range, as {r['User']} "
                f"({r['LogonType']}); {later} successful logon(s) from it in all.",
                evidence=(syslog_line(r),),
                occurrences=later,
                links=_links(
                    ("logons", "Logons from this address", {"ip": ip}),
                    ("session", "Session of this logon", {"user": r["User"], "session": r["_ses"]}),
                ),
            )
        )
    return out


def detect_root_ssh(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["logon.root_ssh"]
    lg = _counted_logons(ctx.data)
    ok = lg[(lg["Result"] == SUCCESS) & (lg["User"] == "root")]
    ok = ok[ok["ProcessName"].str.lower().isin(SSH_PROCESSES).fillna(False)]
    if ok.empty:
        return []
    ok = ok.assign(_ses=_logon_session(ctx, ok))
    out = []
    for ip, rows in ok.groupby(ok["SourceIP"].fillna("?"), sort=False):
        r = rows.iloc[0]
        out.append(
            ctx.make(
                "logon.root_ssh",
                (ip,),
                r["TimeGenerated"],
                values={"ip": ip},
                severity=spec.severity if _is_public(ip) else str(spec.param("severity_private")),
                end=_ts(rows["TimeGenerated"].max()),
                user="root",
                source_ip=None if ip == "?" else ip,
                session=_s(r["_ses"]),
                detail=f"{len(rows)} SSH logon(s) as root from {ip}.",
                evidence=_capped(syslog_line(x) for x in rows.to_dict("records")),
                occurrences=len(rows),
                links=_links(("logons", "Logons as root", {"user": "root", "ip": ip})),
            )
        )
    return out


def _sudo_sessions(ctx: _Ctx, rows: pd.DataFrame) -> pd.Series:
    """sudo lines rarely carry a pid: fall back to the sudoer's audit events of the same moment."""
    by_pid = ctx.sessions.ses(rows["ProcessID"], rows["TimeGenerated"])
    by_user = ctx.sessions.ses_of_user(rows["Sudoer"], rows["TimeGenerated"], pd.Timedelta("5s"))
    return by_pid.fillna(by_user)


def detect_sudo_shell(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["sudo.shell"]
    shells = {str(s) for s in spec.param("shells")}
    su = conform(ctx.data.sudo, SUDO)
    su = su[(su["Result"] == "Success") & su["Command"].notna()]
    binary = su["CommandBinary"].fillna("").str.replace(r"^.*/", "", regex=True)
    hits = su[binary.isin(shells).to_numpy()]
    if hits.empty:
        return []
    hits = hits.assign(_ses=_sudo_sessions(ctx, hits))
    out = []
    for r in hits.to_dict("records"):
        out.append(
            ctx.make(
                "sudo.shell",
                (r["Sudoer"], r["RunAs"], r["Command"], iso(r["TimeGenerated"])),
                r["TimeGenerated"],
                values={"user": r["Sudoer"], "run_as": r["RunAs"], "command": _clip(r["Command"], 60)},
                user=_s(r["Sudoer"]),
                session=_s(r["_ses"]),
                detail=f"{r['Sudoer']} ran {r['Command']} as {r['RunAs']} (tty {r['TTY']}, in {r['PWD']}).",
                evidence=(syslog_line(r),),
                links=_links(
                    ("session", "Session where sudo ran", {"user": r["Sudoer"], "session": r["_ses"]}),
                    ("user", "User activity", {"user": r["Sudoer"]}),
                ),
            )
        )
    return out


def _account_rows(ctx: _Ctx, actions: Sequence[str]) -> pd.DataFrame:
    ac = conform(ctx.data.accounts, ACCOUNTS)
    ac = ac[ac["Action"].isin(actions)]
    return ac.assign(_ses=ctx.sessions.ses(ac["ProcessID"], ac["TimeGenerated"]))


def detect_new_user(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["account.new_user"]
    out = []
    for r in _account_rows(ctx, ["user_add"]).to_dict("records"):
        uid0 = pd.notna(r["UID"]) and int(r["UID"]) == 0
        actor = _s(r["Actor"]) or ctx.sessions.login_user(r["ProcessID"], r["TimeGenerated"])
        out.append(
            ctx.make(
                "account.new_user",
                (r["User"], r["UID"]),
                r["TimeGenerated"],
                values={"user": r["User"]},
                severity=str(spec.param("severity_uid0")) if uid0 else spec.severity,
                user=_s(r["User"]),
                session=_s(r["_ses"]),
                detail=f"Account {r['User']} (uid {r['UID']}, home {r['Home']}, shell {r['Shell']}) created"
                + (f" from a session of {actor}." if actor else "."),
                evidence=(syslog_line(r),),
                links=_links(
                    ("user", "User activity of the new account", {"user": r["User"]}),
                    ("session", "Session that created it", {"session": r["_ses"]}),
                ),
            )
        )
    return out


def detect_privileged_group(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["account.privileged_group"]
    groups = {str(g) for g in spec.param("groups")}
    rows = _account_rows(ctx, ["group_member_add"])
    rows = rows[rows["Group"].isin(groups).fillna(False)]
    out = []
    for r in rows.to_dict("records"):
        actor = _s(r["Actor"]) or ctx.sessions.login_user(r["ProcessID"], r["TimeGenerated"])
        out.append(
            ctx.make(
                "account.privileged_group",
                (r["User"], r["Group"]),
                r["TimeGenerated"],
                values={"user": r["User"], "group": r["Group"]},
                user=_s(r["User"]),
                session=_s(r["_ses"]),
                detail=f"{r['User']} became a member of {r['Group']}" + (f" (by {actor})." if actor else "."),
                evidence=(syslog_line(r),),
                links=_links(
                    ("user", "User activity", {"user": r["User"]}),
                    ("session", "Session that did it", {"session": r["_ses"]}),
                ),
            )
        )
    return out


def detect_password_other(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["account.password_other"]
    unknown_procs = {str(p) for p in spec.param("unknown_actor_processes")}
    audit = ctx.data.audit
    chauth = audit[audit["EventType"] == "USER_CHAUTHTOK"] if len(audit) else audit
    out = []
    for r in _account_rows(ctx, ["password_change"]).to_dict("records"):
        actor = _s(r["Actor"])
        evidence = [syslog_line(r)]
        if actor is None and len(chauth):
            near = chauth[
                (chauth["Pid"] == r["ProcessID"])
                & ((chauth["TimeGenerated"] - r["TimeGenerated"]).abs() <= pd.Timedelta("60s"))
            ]
            if len(near):
                ev = near.iloc[0]
                if pd.notna(ev["Auid"]) and int(ev["Auid"]) not in UNSET_SES:
                    actor = _s(ev["AuidName"]) or ctx.data.users.get(int(ev["Auid"]), str(int(ev["Auid"])))
                    evidence.append(_audit_line(ev))
        if actor is not None and actor == r["User"]:
            continue
        proc = str(r["ProcessName"] or "").lower()
        if actor is None and proc not in unknown_procs:
            continue
        out.append(
            ctx.make(
                "account.password_other",
                (r["User"], iso(r["TimeGenerated"])),
                r["TimeGenerated"],
                values={"user": r["User"], "actor": actor or f"another user ({proc})"},
                severity=spec.severity if actor else str(spec.param("severity_unknown_actor")),
                user=_s(r["User"]),
                session=_s(r["_ses"]),
                detail=f"The password of {r['User']} was set by {proc}"
                + (f", run in a login session of {actor}." if actor else "; who ran it is not logged."),
                evidence=_capped(evidence),
                links=_links(
                    ("user", "User activity", {"user": r["User"]}),
                    ("session", "Session that did it", {"session": r["_ses"]}),
                ),
            )
        )
    return out


def _crontab_changes(data: HuntData) -> pd.DataFrame:
    cr = conform(data.cron, CRON)
    return cr[cr["Action"].isin(["replace", "delete"])]


def detect_crontab_edit(ctx: _Ctx) -> list[Finding]:
    cr = conform(ctx.data.cron, CRON)
    edits = _crontab_changes(ctx.data)
    edits = edits.assign(_ses=ctx.sessions.ses(edits["ProcessID"], edits["TimeGenerated"]))
    out = []
    for r in edits.to_dict("records"):
        same = cr[
            (cr["ProcessID"] == r["ProcessID"])
            & ((cr["TimeGenerated"] - r["TimeGenerated"]).abs() <= pd.Timedelta("1h"))
        ]
        lines = [syslog_line(x) for x in same.to_dict("records")] or [syslog_line(r)]
        owner = r["Command"] or r["User"]
        out.append(
            ctx.make(
                "cron.crontab_edit",
                (r["User"], owner, iso(r["TimeGenerated"])),
                r["TimeGenerated"],
                values={"owner": owner, "user": r["User"]},
                user=_s(r["User"]),
                session=_s(r["_ses"]),
                detail=f"{r['User']} {'deleted' if r['Action'] == 'delete' else 'replaced'} the crontab of {owner}.",
                evidence=_capped(lines),
                links=_links(
                    ("application", "Cron activity", {"app": "cron"}),
                    ("session", "Session that did it", {"session": r["_ses"]}),
                ),
            )
        )
    return out


def _risky_hits(ctx: _Ctx, commands: pd.Series) -> pd.DataFrame:
    return (
        match_commands(commands, ctx.risky)
        if len(commands)
        else match_commands(pd.Series([], dtype="string"), ctx.risky)
    )


def detect_new_cron_command(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["cron.new_command"]
    cr = conform(ctx.data.cron, CRON)
    runs = cr[(cr["Action"] == "run") & cr["TimeGenerated"].notna()]
    if runs.empty:
        return []
    start = max(pd.Timestamp(ctx.data.tr.start), runs["TimeGenerated"].min())
    end = min(pd.Timestamp(ctx.data.tr.end), runs["TimeGenerated"].max())
    baseline_end = start + (end - start) * float(spec.param("baseline_fraction"))
    # One host may be written "app02" in one file and "APP02" in another.
    new = new_cron_commands(cr.assign(Computer=cr["Computer"].str.lower()), baseline_end=baseline_end)
    if new.empty:
        return []
    hits = _risky_hits(ctx, new["Command"])
    risky_rows = set(hits.loc[hits["Severity"].map(SEVERITY_RANK) >= SEVERITY_RANK["medium"], "Row"].tolist())
    edits = _crontab_changes(ctx.data)
    out = []
    for i, r in new.iterrows():
        edited = edits[
            ((edits["Command"] == r["User"]) | (edits["User"] == r["User"]))
            & (edits["TimeGenerated"] <= r["FirstSeen"])
        ]
        reasons = []
        if i in risky_rows:
            titles = sorted(set(hits.loc[hits["Row"] == i, "Title"]))
            reasons.append("risky command line (" + "; ".join(titles) + ")")
        if len(edited):
            reasons.append(f"crontab of {r['User']} changed at {iso(edited['TimeGenerated'].max())}")
        rows = runs[(runs["User"] == r["User"]) & (runs["Command"] == r["Command"])]
        out.append(
            ctx.make(
                "cron.new_command",
                (r["User"], r["Command"]),
                r["FirstSeen"],
                values={"user": r["User"], "command": _clip(r["Command"], 80)},
                severity=str(spec.param("severity_suspicious")) if reasons else spec.severity,
                end=_ts(r["LastSeen"]),
                user=_s(r["User"]),
                detail=f"cron ran this command of {r['User']} {int(r['Runs'])} time(s) from {iso(r['FirstSeen'])}, "
                f"never in the baseline up to {iso(baseline_end)}"
                + (("; " + "; ".join(reasons)) if reasons else "")
                + ".",
                evidence=_capped(syslog_line(x) for x in rows.to_dict("records")),
                occurrences=int(r["Runs"]),
                links=_links(
                    ("application", "Cron activity", {"app": "cron", "user": r["User"]}),
                    ("process", "Process trees of these runs", {"exe": "cron"}),
                ),
            )
        )
    return out


def _suspicious_exe(exe: pd.Series, dirs: Sequence[str]) -> tuple[pd.Series, pd.Series]:
    """(in a temp dir, in a hidden dir) per executable path."""
    e = exe.fillna("").astype("string")
    in_tmp = pd.Series(False, index=e.index)
    for d in dirs:
        in_tmp |= e.str.startswith(d)
    hidden = e.str.contains(r"/\.[^/.][^/]*/", regex=True) | e.str.contains(r"/\.\.[^/]+/", regex=True)
    return in_tmp.fillna(False).astype(bool), hidden.fillna(False).astype(bool)


def detect_suspicious_path(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["process.suspicious_path"]
    procs = ctx.data.processes
    if procs.empty:
        return []
    in_tmp, hidden = _suspicious_exe(procs["Exe"], [str(d) for d in spec.param("dirs")])
    hits = procs[(in_tmp | hidden).to_numpy()]
    raw = (
        ctx.data.audit.set_index("EventId")["RawMessage"]
        if len(ctx.data.audit)
        else pd.Series(dtype="string")
    )
    raw = raw[~raw.index.duplicated()]
    out = []
    for exe, rows in hits.groupby("Exe", sort=False):
        r = rows.iloc[0]
        tmp_flag, hid_flag = bool(in_tmp[rows.index[0]]), bool(hidden[rows.index[0]])
        where = " and ".join(
            w for w, ok in (("a temporary directory", tmp_flag), ("a hidden directory", hid_flag)) if ok
        )
        mitre = tuple(spec.mitre) + (tuple(spec.param("hidden_mitre")) if hid_flag else ())
        user = _s(r["LoginUser"]) if _s(r["LoginUser"]) not in (None, "unset") else _s(r["User"])
        ses = f"ses {int(r['Ses'])}" if pd.notna(r["Ses"]) and int(r["Ses"]) not in UNSET_SES else None
        out.append(
            ctx.make(
                "process.suspicious_path",
                (exe,),
                r["TimeGenerated"],
                values={"where": where, "exe": exe},
                mitre=mitre,
                end=_ts(rows["TimeGenerated"].max()),
                user=user,
                session=ses,
                detail=f"{exe} started {len(rows)} time(s) (pid {r['Pid']}, parent {r['Ppid']}, as {r['User']}, "
                f"login user {r['LoginUser']}): {_clip(r['Cmdline'], 200)}",
                evidence=_capped(
                    str(raw.get(e, "")) or _audit_line(x)
                    for e, x in zip(rows["EventId"], rows.to_dict("records"), strict=True)
                ),
                occurrences=len(rows),
                links=_links(
                    ("process", "Process tree of this program", {"exe": exe, "pid": r["Pid"]}),
                    ("session", "Session it ran in", {"session": ses}),
                ),
            )
        )
    return out


def _normalise_command(text: str) -> str:
    t = " ".join(str(text).split())
    prev = None
    while prev != t:
        prev = t
        t = _SHELL_WRAPPERS.sub("", t).strip().strip("'\"")
    return t


@dataclass
class _Cmd:
    """A command line to check, with where it came from."""

    time: Any
    command: str
    user: str | None
    session: str | None
    line: str
    pid: Any
    origin: str  # audit | sudo | cron
    suspicious_exe: bool = False


def _commands(ctx: _Ctx) -> list[_Cmd]:
    out: list[_Cmd] = []
    procs = ctx.data.processes
    if len(procs):
        dirs = [str(d) for d in ctx.specs["process.suspicious_path"].param("dirs")]
        in_tmp, hidden = _suspicious_exe(procs["Exe"], dirs)
        raw = ctx.data.audit.drop_duplicates("EventId").set_index("EventId")["RawMessage"]
        # A pid that exec'd a program from such a path: its wrapper (nohup, env ...) is covered too.
        flagged = procs.loc[(in_tmp | hidden).to_numpy(), ["Computer", "Pid"]]
        sus_pids = {
            (str(c).lower(), int(p))
            for c, p in zip(flagged["Computer"], flagged["Pid"], strict=True)
            if pd.notna(p)
        }
        marks = [
            pd.notna(p) and (str(c).lower(), int(p)) in sus_pids
            for c, p in zip(procs["Computer"], procs["Pid"], strict=True)
        ]
        for r, sus in zip(procs.to_dict("records"), marks, strict=True):
            if _s(r["Cmdline"]) is None:
                continue
            user = _s(r["LoginUser"]) if _s(r["LoginUser"]) not in (None, "unset") else _s(r["User"])
            ses = f"ses {int(r['Ses'])}" if pd.notna(r["Ses"]) and int(r["Ses"]) not in UNSET_SES else None
            out.append(
                _Cmd(
                    r["TimeGenerated"],
                    str(r["Cmdline"]),
                    user,
                    ses,
                    str(raw.get(r["EventId"], "")) or _audit_line(r),
                    r["Pid"],
                    "audit",
                    sus,
                )
            )
    su = conform(ctx.data.sudo, SUDO)
    su = su[su["Command"].notna()]
    ses = _sudo_sessions(ctx, su)
    for r, s in zip(su.to_dict("records"), ses.tolist(), strict=True):
        out.append(
            _Cmd(
                r["TimeGenerated"],
                str(r["Command"]),
                _s(r["Sudoer"]),
                _s(s),
                syslog_line(r),
                r["ProcessID"],
                "sudo",
            )
        )
    cr = conform(ctx.data.cron, CRON)
    for r in cr[(cr["Action"] == "run") & cr["Command"].notna()].to_dict("records"):
        out.append(
            _Cmd(
                r["TimeGenerated"],
                str(r["Command"]),
                _s(r["User"]),
                None,
                syslog_line(r),
                r["ProcessID"],
                "cron",
            )
        )
    return out


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


def detect_risky_commands(ctx: _Ctx) -> list[Finding]:
    """Risky command-line rule hits; base64 payloads become one finding with what they hide."""
    spec, enc = ctx.specs["command.risky"], ctx.specs["command.encoded_payload"]
    covered = {str(x) for x in spec.param("covered_by_process_path")}
    cmds = _commands(ctx)
    if not cmds:
        return []
    hits = _risky_hits(ctx, pd.Series([c.command for c in cmds], dtype="string"))
    if hits.empty:
        return []
    by_id = {r.id: r for r in ctx.risky}
    encoded_rows = set(hits.loc[hits["Decoded"].fillna(False).astype(bool), "Row"].tolist())
    items: list[tuple[str, _Cmd, pd.DataFrame]] = []  # (rule key, command, its hits)
    for row, h in hits.groupby("Row", sort=True):
        c = cmds[int(row)]
        if int(row) in encoded_rows:
            items.append(("command.encoded_payload", c, h))
            continue
        for rule_id, hr in h.groupby("RuleId", sort=False):
            if c.suspicious_exe and rule_id in covered:
                continue
            items.append((str(rule_id), c, hr))
    out = []
    for rule_key in dict.fromkeys(k for k, _, _ in items):
        group_items = [(c, h) for k, c, h in items if k == rule_key]
        keys = [
            tuple(
                x
                for x in ("cmd:" + _normalise_command(c.command), f"ses:{c.session}" if c.session else "")
                if x
            )
            for c, _ in group_items
        ]
        labels = _group(keys)
        for label in dict.fromkeys(labels):
            members = sorted(
                (m for m, lab in zip(group_items, labels, strict=True) if lab == label),
                key=lambda m: pd.Timestamp(m[0].time),
            )
            first = members[0][0]
            allhits = pd.concat([h for _, h in members])
            distinct = list(dict.fromkeys(_normalise_command(c.command) for c, _ in members))
            sessions = [c.session for c, _ in members if c.session]
            common = dict(
                end=_ts(max(pd.Timestamp(c.time) for c, _ in members)),
                user=first.user,
                session=sessions[0] if sessions else None,
                occurrences=len(members),
                evidence=_capped(c.line for c, _ in members),
                links=_links(
                    ("process", "Process tree around it", {"pid": first.pid, "session": first.session}),
                    ("session", "Session it ran in", {"session": first.session, "user": first.user}),
                    ("user", "User activity", {"user": first.user}),
                ),
            )
            if rule_key == "command.encoded_payload":
                hidden = allhits[allhits["Decoded"].fillna(False).astype(bool)]
                titles = list(dict.fromkeys(hidden["Title"].astype(str)))
                techniques = [t.strip() for ts in allhits["Techniques"].astype(str) for t in ts.split(",")]
                severity = max(
                    [enc.severity, *allhits["Severity"].astype(str)], key=SEVERITY_RANK.__getitem__
                )
                out.append(
                    ctx.make(
                        rule_key,
                        (distinct[0],),
                        first.time,
                        values={
                            "hidden": "; ".join(titles[:4])
                            + (f" (+{len(titles) - 4} more)" if len(titles) > 4 else "")
                        },
                        severity=severity,
                        mitre=tuple(dict.fromkeys([*enc.mitre, *techniques])),
                        detail=f"A command carrying base64 text that decodes to {len(titles)} kind(s) of risky "
                        f"action: {'; '.join(titles)}. Command: {_clip(first.command, 300)}",
                        **common,
                    )
                )
                continue
            rule = by_id.get(rule_key)
            if rule is None:
                continue
            out.append(
                ctx.make(
                    "command.risky",
                    (distinct[0],),
                    first.time,
                    rule_id=rule.id,
                    values={"rule_title": rule.title, "command": _clip(distinct[0], 80)},
                    severity=rule.severity,
                    mitre=tuple(t.strip() for t in rule.techniques.split(",")),
                    detail=f"Rule {rule.id} ({rule.title}) matched {len(members)} command line(s)"
                    f" from {', '.join(sorted({c.origin for c, _ in members}))}: "
                    + " | ".join(_clip(d, 150) for d in distinct[:5]),
                    **common,
                )
            )
    return out


_DOWNLOAD: Final = re.compile(
    r"\b(?:wget|curl)\b.*?(?:\s-O\s*|\s-o\s*|\s--output(?:-document)?[=\s])['\"]?(/[^\s'\";|&]+)"
)


def _proc_raw(ctx: _Ctx) -> pd.Series:
    audit = ctx.data.audit
    if audit.empty:
        return pd.Series(dtype="string")
    return audit.drop_duplicates("EventId").set_index("EventId")["RawMessage"]


def _proc_user_ses(r: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(login user, else the uid's name; ``ses N``) of a process row."""
    login = _s(r.get("LoginUser"))
    user = login if login not in (None, "unset") else _s(r.get("User"))
    ses_v = r.get("Ses")
    ses = (
        f"ses {int(ses_v)}" if ses_v is not None and pd.notna(ses_v) and int(ses_v) not in UNSET_SES else None
    )
    return user, ses


def detect_download_execute(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["command.download_execute"]
    procs = ctx.data.processes
    if procs.empty:
        return []
    window = _seconds(spec.param("window"))
    cmd = procs["Cmdline"].fillna("").astype(str)
    raw = _proc_raw(ctx)
    out = []
    seen: set[str] = set()
    for i in np.flatnonzero(cmd.str.contains(r"\b(?:wget|curl)\b", regex=True).to_numpy()):
        m = _DOWNLOAD.search(cmd.iloc[i])
        if not m or m.group(1) in seen:
            continue
        path, d = m.group(1), procs.iloc[i]
        t0 = d["TimeGenerated"]
        later = procs[(procs["TimeGenerated"] > t0) & (procs["TimeGenerated"] <= t0 + window)]
        later_cmd = later["Cmdline"].fillna("").astype(str)
        runs = later[
            (later["Exe"] == path).fillna(False).to_numpy()
            | later_cmd.str.match(
                rf"^(?:\S*/)?(?:nohup|setsid|exec|sh|bash)?\s*{re.escape(path)}(?:\s|$)"
            ).to_numpy()
        ]
        if runs.empty:
            continue
        chmods = later[later_cmd.str.contains(rf"\bchmod\s+\S*\s*{re.escape(path)}", regex=True).to_numpy()]
        seen.add(path)
        user, ses = _proc_user_ses(d)
        rows = [d, *(r for _, r in chmods.iterrows()), *(r for _, r in runs.iterrows())]
        evidence = [str(raw.get(r["EventId"], "")) or _audit_line(r) for r in rows]
        first_run = runs.iloc[0]
        out.append(
            ctx.make(
                "command.download_execute",
                (path,),
                t0,
                values={"path": path},
                end=_ts(first_run["TimeGenerated"]),
                user=user,
                session=ses,
                occurrences=len(runs),
                detail=f"`{_clip(d['Cmdline'], 200)}` saved {path} at {iso(t0)}; "
                + (f"chmod at {iso(chmods['TimeGenerated'].iloc[0])}; " if len(chmods) else "")
                + f"run at {iso(first_run['TimeGenerated'])} as `{_clip(first_run['Cmdline'], 200)}`.",
                evidence=_capped(evidence),
                links=_links(
                    ("process", "Process tree of the download", {"pid": d["Pid"], "session": ses}),
                    ("iocs", "IoCs: the download URL", {"ioc": path}),
                ),
            )
        )
    return out


_KEYS_PATH: Final = re.compile(r'name="?([^"\s]*authorized_keys2?)"?')


def detect_authorized_keys(ctx: _Ctx) -> list[Finding]:
    audit = ctx.data.audit
    if audit.empty:
        return []
    records = audit["RecordTypes"].fillna("").astype(str)
    cand = audit[
        audit["RawMessage"].str.contains("authorized_keys", regex=False).fillna(False).to_numpy()
        & ~records.str.contains("EXECVE", regex=False).to_numpy()
    ]
    out = []
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in cand.to_dict("records"):
        m = _KEYS_PATH.search(str(r["RawMessage"]))
        if m:
            groups.setdefault(m.group(1), []).append(r)
    for path, rows in groups.items():
        r = rows[0]
        auid: Any = r.get("Auid")
        user = _s(r.get("AuidName")) or (
            ctx.data.users.get(int(auid), str(int(auid)))
            if pd.notna(auid) and int(auid) not in UNSET_SES
            else None
        )
        ses = f"ses {int(r['Ses'])}" if pd.notna(r["Ses"]) and int(r["Ses"]) not in UNSET_SES else None
        out.append(
            ctx.make(
                "file.ssh_authorized_keys",
                (path,),
                r["TimeGenerated"],
                values={"path": path},
                end=_ts(rows[-1]["TimeGenerated"]),
                user=user,
                session=ses,
                occurrences=len(rows),
                detail=f"{len(rows)} audit event(s) on {path}; first by {r.get('Exe')} (pid {r.get('Pid')}, "
                f"audit key {r.get('Key')}).",
                evidence=_capped(_audit_line(x) for x in rows),
                links=_links(
                    ("process", "Process tree around it", {"pid": r.get("Pid"), "session": ses}),
                    ("session", "Session it happened in", {"session": ses}),
                ),
            )
        )
    return out


_DEV_TCP: Final = re.compile(r"/dev/(?:tcp|udp)/([0-9A-Za-z.:\-]+)/(\d+)")
_NC_TARGET: Final = re.compile(r"\b(?:nc|ncat|netcat)\b[^|;&]*?\s((?:\d{1,3}\.){3}\d{1,3})\s+(\d+)")


def _remote_of(cmdline: str) -> tuple[str, int] | None:
    for pattern in (_DEV_TCP, _NC_TARGET):
        m = pattern.search(cmdline)
        if m:
            return m.group(1), int(m.group(2))
    return None


def _sockaddr(raw: str) -> tuple[str, int] | None:
    """IPv4/IPv6 address and port from an auditd SOCKADDR record's saddr hex."""
    m = re.search(r"saddr=([0-9A-Fa-f]{16,})", raw)
    if not m:
        return None
    b = bytes.fromhex(m.group(1)[: len(m.group(1)) // 2 * 2])
    family = int.from_bytes(b[:2], "little")
    if family == 2 and len(b) >= 8:
        return str(ipaddress.IPv4Address(b[4:8])), int.from_bytes(b[2:4], "big")
    if family == 10 and len(b) >= 24:
        return str(ipaddress.IPv6Address(b[8:24])), int.from_bytes(b[2:4], "big")
    return None


def detect_shell_outbound(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["network.shell_outbound"]
    shells = {str(s) for s in spec.param("shells")}
    window = _seconds(spec.param("window"))
    out: list[Finding] = []
    audit = ctx.data.audit
    # 1. audit connect() of a shell
    if len(audit):
        conn = audit[audit["Syscall"].astype("string").isin(["42", "connect"]).fillna(False)]
        conn = conn[conn["RawMessage"].str.contains("SOCKADDR", regex=False).fillna(False)]
        name = conn["Exe"].fillna(conn["Comm"]).fillna("").str.replace(r"^.*/", "", regex=True)
        for r in conn[name.isin(shells).to_numpy()].to_dict("records"):
            remote = _sockaddr(str(r["RawMessage"]))
            if remote is None or not _is_public(remote[0]):
                continue
            ip, port = remote
            user = (
                ctx.data.users.get(int(r["Auid"]))
                if pd.notna(r["Auid"]) and int(r["Auid"]) not in UNSET_SES
                else None
            )
            ses = f"ses {int(r['Ses'])}" if pd.notna(r["Ses"]) and int(r["Ses"]) not in UNSET_SES else None
            out.append(
                ctx.make(
                    "network.shell_outbound",
                    (ip, port, r["Pid"]),
                    r["TimeGenerated"],
                    values={"ip": ip, "port": port},
                    user=user,
                    source_ip=ip,
                    session=ses,
                    detail=f"{r['Exe']} (pid {r['Pid']}) connected to {ip}:{port} (audit connect).",
                    evidence=(_audit_line(r),),
                    links=_links(
                        ("network", "Network: this address", {"ip": ip}),
                        ("process", "Process tree", {"pid": r["Pid"]}),
                    ),
                )
            )
    # 2. a shell naming a remote in its command line, confirmed by an outbound flow
    procs, flows = ctx.data.processes, conform(ctx.data.flows, FLOWS)
    if procs.empty or flows.empty:
        return out
    outbound = flows[flows["FlowDirection"] == "O"]
    name = procs["Exe"].fillna("").str.replace(r"^.*/", "", regex=True)
    cands = procs[name.isin(shells).to_numpy() & procs["Cmdline"].notna().to_numpy()]
    raw = audit.drop_duplicates("EventId").set_index("EventId")["RawMessage"]
    seen = set()
    for r in cands.to_dict("records"):
        remote = _remote_of(str(r["Cmdline"]))
        if remote is None or not _is_public(remote[0]) or remote in seen:
            continue
        ip, port = remote
        t = pd.Timestamp(r["TimeGenerated"])
        to_ip = outbound["PublicIPs"].fillna("").str.contains(ip, regex=False) | (
            outbound["DestIP"] == ip
        ).fillna(False)
        start = outbound["FlowStartTime"].fillna(outbound["TimeGenerated"])
        end = outbound["FlowEndTime"].fillna(outbound["TimeGenerated"])
        near = (start <= t + window) & (end >= t - window)
        match = outbound[(to_ip & near).to_numpy()]
        if match.empty:
            continue
        same_port = match[match["DestPort"] == port]
        match = same_port if len(same_port) else match
        seen.add(remote)
        user = _s(r["LoginUser"]) if _s(r["LoginUser"]) not in (None, "unset") else _s(r["User"])
        ses = f"ses {int(r['Ses'])}" if pd.notna(r["Ses"]) and int(r["Ses"]) not in UNSET_SES else None
        out.append(
            ctx.make(
                "network.shell_outbound",
                (ip, port),
                r["TimeGenerated"],
                values={"ip": ip, "port": port},
                user=user,
                source_ip=ip,
                session=ses,
                detail=f"{r['Exe']} (pid {r['Pid']}) ran `{_clip(r['Cmdline'], 150)}`, and the network flows show "
                f"{len(match)} outbound flow record(s) to {ip} within {spec.param('window')} "
                f"(ports {', '.join(sorted({str(p) for p in match['DestPort'].dropna()}))}).",
                evidence=_capped(
                    [
                        str(raw.get(r["EventId"], "")) or _audit_line(r),
                        *(flow_line(x) for x in match.to_dict("records")),
                    ]
                ),
                occurrences=len(match),
                links=_links(
                    ("network", "Network: flows to this address", {"ip": ip}),
                    ("process", "Process tree of the shell", {"pid": r["Pid"], "session": ses}),
                ),
            )
        )
    return out


def detect_logging_stopped(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["logging.stopped"]
    out: list[Finding] = []
    audit_mitre = tuple(str(t) for t in spec.param("mitre_audit"))
    what_of = {"audit": "Audit daemon", "logging": "System logging"}
    hits: list[tuple[str, Any, str]] = []  # (kind, time, raw line)
    sy = conform(ctx.data.syslog, SYSLOG)
    if len(sy):
        proc = sy["ProcessName"].fillna("")
        msg = sy["SyslogMessage"].fillna("")
        for kind, proc_re, msg_re in spec.param("messages"):
            mask = proc.str.fullmatch(f"(?i:{proc_re})") & msg.str.contains(f"(?i:{msg_re})", regex=True)
            for r in sy[mask.fillna(False).to_numpy()].to_dict("records"):
                hits.append((str(kind), r["TimeGenerated"], syslog_line(r)))
    audit = ctx.data.audit
    if len(audit):
        stop = audit["EventType"].isin([str(e) for e in spec.param("audit_events")])
        off = (audit["EventType"] == "CONFIG_CHANGE") & audit["RawMessage"].str.contains(
            r"audit_enabled=0\b", regex=True
        )
        for r in audit[(stop | off.fillna(False)).to_numpy()].to_dict("records"):
            hits.append(("audit", r["TimeGenerated"], _audit_line(r)))
    for kind in ("audit", "logging"):
        mine = sorted((h for h in hits if h[0] == kind), key=lambda h: pd.Timestamp(h[1]))
        # One finding per stop: lines within 10 minutes of each other are the same event.
        groups: list[list[tuple[str, Any, str]]] = []
        for h in mine:
            if groups and pd.Timestamp(h[1]) - pd.Timestamp(groups[-1][-1][1]) <= pd.Timedelta("10min"):
                groups[-1].append(h)
            else:
                groups.append([h])
        for g in groups:
            out.append(
                ctx.make(
                    "logging.stopped",
                    (kind, iso(g[0][1])),
                    g[0][1],
                    values={"what": what_of[kind], "host": ctx.host},
                    severity=str(spec.param("severity_audit")) if kind == "audit" else spec.severity,
                    mitre=audit_mitre if kind == "audit" else spec.mitre,
                    end=_ts(g[-1][1]),
                    detail=f"{len(g)} line(s) say {what_of[kind].lower()} stopped or was disabled.",
                    evidence=_capped(h[2] for h in g),
                    occurrences=len(g),
                    links=_links(
                        (
                            "application",
                            "Application activity",
                            {"app": "auditd" if kind == "audit" else "rsyslogd"},
                        ),
                        ("data", "Data sources", {}),
                    ),
                )
            )
    return out


def detect_log_gaps(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["logging.gap"]
    times = [conform(ctx.data.syslog, SYSLOG)["TimeGenerated"]]
    if len(ctx.data.audit):
        times.append(ctx.data.audit["TimeGenerated"])
    t = pd.concat(times).dropna().sort_values().reset_index(drop=True)
    if len(t) < 3:
        return []
    gaps = t.diff().iloc[1:]
    median = gaps.median()
    threshold = max(_seconds(spec.param("min_gap")), median * float(spec.param("factor")))
    big = gaps[gaps > threshold]
    sparse = median > _seconds(spec.param("sparse"))
    out = []
    for i, gap in big.items():
        before, after = t.iloc[int(i) - 1], t.iloc[int(i)]
        duration = _human(gap)
        out.append(
            ctx.make(
                "logging.gap",
                (iso(before),),
                before,
                values={"host": ctx.host, "duration": duration},
                severity=str(spec.param("severity_sparse")) if sparse else spec.severity,
                end=_ts(after),
                detail=f"No syslog or audit event between {iso(before)} and {iso(after)} ({duration}); this host's "
                f"median interval between events is {_human(median)}.",
                evidence=(
                    f"last event before the gap: {iso(before)}",
                    f"first event after the gap: {iso(after)}",
                ),
                links=_links(("data", "Data sources", {}), ("application", "Application activity", {})),
            )
        )
    return out


def _human(delta: pd.Timedelta) -> str:
    s = int(delta.total_seconds())
    if s < 120:
        return f"{delta.total_seconds():.1f} s" if s < 10 else f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


DETECTIONS: Final[dict[str, Callable[[_Ctx], list[Finding]]]] = {
    "logon.password_guessing": detect_password_guessing,  # also logon.password_spraying
    "logon.success_after_failures": detect_success_after_failures,
    "logon.new_source": detect_new_source,
    "logon.root_ssh": detect_root_ssh,
    "sudo.shell": detect_sudo_shell,
    "account.new_user": detect_new_user,
    "account.privileged_group": detect_privileged_group,
    "account.password_other": detect_password_other,
    "cron.crontab_edit": detect_crontab_edit,
    "cron.new_command": detect_new_cron_command,
    "command.risky": detect_risky_commands,  # also command.encoded_payload
    "process.suspicious_path": detect_suspicious_path,
    "command.download_execute": detect_download_execute,
    "file.ssh_authorized_keys": detect_authorized_keys,
    "network.shell_outbound": detect_shell_outbound,
    "logging.stopped": detect_logging_stopped,
    "logging.gap": detect_log_gaps,
}


# --- running it all --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineGroup:
    """Findings tied together by a shared user, address or session, in time order."""

    id: str
    start: datetime
    end: datetime
    severity: str
    finding_ids: tuple[str, ...]
    users: tuple[str, ...]
    ips: tuple[str, ...]
    sessions: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": iso(self.start),
            "end": iso(self.end),
            "severity": self.severity,
            "finding_ids": list(self.finding_ids),
            "users": list(self.users),
            "ips": list(self.ips),
            "sessions": list(self.sessions),
        }


@dataclass(frozen=True)
class HuntResult:
    """Findings (sorted), the attack timeline and what was searched."""

    host: str
    tr: TimeRange
    findings: tuple[Finding, ...]
    timeline: tuple[TimelineGroup, ...]
    searched: Mapping[str, int]
    errors: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in reversed(SEVERITIES)}

    def by_id(self, finding_id: str) -> Finding:
        for f in self.findings:
            if f.id == finding_id:
                return f
        raise KeyError(finding_id)


def searched_counts(data: HuntData, risky: Sequence[RiskRule], detections: int) -> dict[str, int]:
    """How much each detection looked at: the denominator of "no findings"."""
    lg = conform(data.logons, LOGONS)
    counted = lg[lg["Result"].isin([SUCCESS, FAILURE])]
    cr = conform(data.cron, CRON)
    procs = data.processes
    return {
        "syslog_lines": len(data.syslog),
        "logon_attempts": int(counted["Count"].fillna(1).sum()),
        "successful_logons": int(counted.loc[counted["Result"] == SUCCESS, "Count"].fillna(1).sum()),
        "sudo_commands": len(data.sudo),
        "cron_runs": int((cr["Action"] == "run").sum()),
        "crontab_changes": int(cr["Action"].isin(["replace", "delete", "begin_edit"]).sum()),
        "account_changes": len(data.accounts),
        "audit_events": len(data.audit),
        "process_starts": len(procs),
        "network_flows": len(data.flows),
        "command_lines_checked": int(len(procs) + len(data.sudo) + int((cr["Action"] == "run").sum())),
        "risky_command_rules": len(risky),
        "detections": detections,
    }


def attack_timeline(findings: Sequence[Finding]) -> list[TimelineGroup]:
    """Group findings linked by a shared user, address or session; groups and members in time order."""
    ordered = sorted(findings, key=lambda f: (f.time, -f.rank, f.id))
    keys = [
        tuple(
            k
            for k in (
                f.user and f"u:{f.user}",
                f.source_ip and f"i:{f.source_ip}",
                f.session and f"s:{f.session}",
            )
            if k
        )
        or (f"f:{f.id}",)
        for f in ordered
    ]
    labels = _group([tuple(str(k) for k in ks) for ks in keys])
    groups: list[TimelineGroup] = []
    for label in dict.fromkeys(labels):
        members = [f for f, lab in zip(ordered, labels, strict=True) if lab == label]
        ends = [f.end or f.time for f in members]
        groups.append(
            TimelineGroup(
                id=_fid("timeline", members[0].host, *(f.id for f in members)),
                start=min(f.time for f in members),
                end=max(ends),
                severity=max((f.severity for f in members), key=SEVERITIES.index),
                finding_ids=tuple(f.id for f in members),
                users=tuple(dict.fromkeys(f.user for f in members if f.user)),
                ips=tuple(dict.fromkeys(f.source_ip for f in members if f.source_ip)),
                sessions=tuple(dict.fromkeys(f.session for f in members if f.session)),
            )
        )
    return sorted(groups, key=lambda g: (g.start, g.id))


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per id: repeats (same rule and key) are merged, evidence and counts added up."""
    merged: dict[str, Finding] = {}
    for f in findings:
        old = merged.get(f.id)
        if old is None:
            merged[f.id] = f
            continue
        merged[f.id] = replace(
            old,
            time=min(old.time, f.time),
            end=max(x for x in (old.end, f.end, old.time, f.time) if x is not None),
            evidence=_capped([*old.evidence, *f.evidence]),
            occurrences=old.occurrences + f.occurrences,
            severity=max(old.severity, f.severity, key=SEVERITIES.index),
        )
    return list(merged.values())


def _fold_corroborations(findings: list[Finding], merge_into: Mapping[str, str]) -> list[Finding]:
    """A command-line hit that restates a structured finding (same session, minutes apart) joins it.

    ``usermod -aG sudo x`` in auditd and ``add 'x' to group 'sudo'`` in syslog are
    one event seen twice: the structured finding keeps both lines and the union of
    techniques.
    """
    window = pd.Timedelta("10min")
    out = list(findings)
    for f in findings:
        target_rule = merge_into.get(f.rule_id)
        if target_rule is None:
            continue
        targets = [
            t
            for t in out
            if t.rule_id == target_rule
            and abs(pd.Timestamp(t.time) - pd.Timestamp(f.time)) <= window
            and (
                (f.session is not None and t.session == f.session) or (f.session is None and t.user == f.user)
            )
        ]
        if not targets:
            continue
        t = targets[0]
        merged = replace(
            t,
            mitre=tuple(dict.fromkeys([*t.mitre, *f.mitre])),
            evidence=_capped([*t.evidence, *f.evidence]),
            detail=t.detail + f" Also seen as a command line: {f.title}.",
        )
        out = [merged if x is t else x for x in out if x is not f]
    return out


def find_all(
    data: HuntData,
    *,
    specs: Mapping[str, DetectionSpec] | None = None,
    risky_rules: Sequence[RiskRule] | None = None,
) -> HuntResult:
    """Run every detection on one host's data; a failing detection is reported, not fatal."""
    specs = specs or _default_specs()
    risky = tuple(risky_rules) if risky_rules is not None else _default_risky()
    ctx = _Ctx(data, specs, risky, _Sessions(data.audit, data.users))
    found: list[Finding] = []
    errors: list[str] = []
    for rule_id, detect in DETECTIONS.items():
        try:
            found.extend(detect(ctx))
        except HuntingError as exc:
            errors.append(f"{rule_id}: {exc}")
    merge_into = {str(k): str(v) for k, v in (specs["command.risky"].params.get("merge_into") or {}).items()}
    findings = sort_findings(_fold_corroborations(_dedupe(found), merge_into))
    return HuntResult(
        host=data.host,
        tr=data.tr,
        findings=tuple(findings),
        timeline=tuple(attack_timeline(findings)),
        searched=searched_counts(data, risky, len(DETECTIONS)),
        errors=tuple(errors),
    )


def hunt(source: Any, host: str, tr: TimeRange) -> HuntResult:
    """Fetch a host's data from any Source and run the detections."""
    return find_all(collect(source, host, tr))


def findings_frame(findings: Sequence[Finding]) -> pd.DataFrame:
    """A table of findings for display (no evidence): severity, time, title, ATT&CK, who, where."""
    return pd.DataFrame(
        {
            "Severity": [f.severity for f in findings],
            "Time": pd.to_datetime([f.time for f in findings], utc=True),
            "Title": [f.title for f in findings],
            "ATT&CK": [", ".join(f.mitre) for f in findings],
            "User": [f.user for f in findings],
            "IP": [f.source_ip for f in findings],
            "Session": [f.session for f in findings],
            "Occurrences": [f.occurrences for f in findings],
            "Rule": [f.rule_id for f in findings],
            "Id": [f.id for f in findings],
        },
        columns=["Severity", "Time", "Title", "ATT&CK", "User", "IP", "Session", "Occurrences", "Rule", "Id"],
    )
