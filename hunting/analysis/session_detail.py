"""What happened in one logon session or time window, and what one user did.

Pure functions over the SUDO, CRON, ACCOUNTS, LOGONS and SYSLOG frames for the
Session detail and User activity pages. A session is scoped by its time window on
its host, not by its user: what runs in a root shell the session opened is logged
as root (or by cron, useradd, ...), so filtering on the session's user would hide
the intrusion itself.

Flags name their ATT&CK techniques from the two rule files: risky command lines
from ``hunting/rules/risky_commands.yaml`` and the sudo shell, new account,
privileged group, crontab change and new cron job checks from
``hunting/rules/findings.yaml`` (their ids, severities and parameters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import numpy as np
import pandas as pd

from hunting.analysis.bursts import flag_rows_in_bursts
from hunting.analysis.findings import DetectionSpec, load_specs
from hunting.analysis.logons import FAILURE, SUCCESS, counted
from hunting.analysis.risky import SEVERITIES, SEVERITY_RANK, RiskRule, match_commands
from hunting.analysis.sudo import SUDO_PROCESSES
from hunting.detections.base import HuntData
from hunting.detections.rating import rate_commands, sudo_shell_mask
from hunting.detections.runner import run_detectors
from hunting.schema import ACCOUNTS, CRON, LOGONS, SUDO, SYSLOG, conform, to_utc
from hunting.timerange import TimeRange

KINDS: Final = ("Logons", "sudo", "Cron runs", "Cron edits", "Account changes")
EDIT_ACTIONS: Final = ("begin_edit", "replace", "end_edit", "delete")
TIMELINE_COLUMNS: Final = ("TimeGenerated", "Kind", "User", "What", "Result")
FLAG_COLUMNS: Final = (
    "TimeGenerated", "LastSeen", "Count", "Kind", "User", "Event", "RuleId", "Title", "Severity",
    "Techniques", "Matched", "Source",
)  # fmt: skip
SUDO_COUNT_COLUMNS: Final = ("Sudoer", "RunAs", "Command", "Count", "Failures", "FirstSeen", "LastSeen")
RISKY_RULE: Final = "risky command rule"
DETECTION: Final = "detection"
# A sudo command and its pam session are logged within moments (as hunting.analysis.sudo pairs them).
_SUDO_SESSION_TOLERANCE: Final = pd.Timedelta("5s")
_UTC: Final = "datetime64[ns, UTC]"


# --- scope ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The time scope of the page: a logon session's [Start, End] or the sidebar range."""

    start: pd.Timestamp
    end: pd.Timestamp  # inclusive: a session's closing line belongs to it
    session: bool

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M:%S} – {self.end:%Y-%m-%d %H:%M:%S} UTC"


def _ts(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def host_key(name: object) -> str:
    """Lower-case short host name, so ``web01`` and ``WEB01.contoso.com`` compare equal."""
    text = str(name or "").strip().lower()
    if not text or text.replace(".", "").isdigit() or ":" in text:
        return text
    return text.split(".", 1)[0]


def session_window(session: Mapping[str, Any] | None, start: Any, end: Any) -> Window:
    """The session's window, open ends filled from the range ``start``/``end``; no session: the range.

    A session without a close (still open, or its close is outside the data) runs to
    the range end; one whose ``opened`` line is missing starts at the range start.
    """
    lo, hi = _ts(start), _ts(end)
    if lo is None or hi is None:
        raise ValueError("the range needs a start and an end")
    if not session:
        return Window(lo, hi, False)
    s, e = _ts(session.get("Start")), _ts(session.get("End"))
    s = s if s is not None else lo
    e = e if e is not None else hi
    if e < s:
        e = s
    return Window(s, e, True)


def in_window(df: pd.DataFrame, window: Window, time_col: str = "TimeGenerated") -> pd.DataFrame:
    """Rows whose time is within the window (both ends included); rows without a time are left out."""
    if df.empty:
        return df
    t = to_utc(df[time_col])
    keep = (t >= window.start) & (t <= window.end)
    return df[keep.fillna(False).to_numpy(dtype=bool)]


def session_label(session: Mapping[str, Any]) -> str:
    """One line naming a logon session (plain text: escape it before Markdown)."""

    def text(key: str) -> str:
        v = session.get(key)
        return "" if v is None or (not isinstance(v, list | tuple) and pd.isna(v)) else str(v)

    parts = [f"{text('User') or '?'} via {text('SessionType') or '?'}"]
    if text("SourceIP"):
        parts.append(f"from {text('SourceIP')}")
    if text("ProcessID"):
        parts.append(f"pid {text('ProcessID')}")
    if text("SessionId"):
        parts.append(f"session {text('SessionId')}")
    return ", ".join(parts)


# --- combined timeline ----------------------------------------------------------------------


def _part(
    times: pd.Series, kind: str, user: pd.Series, what: pd.Series, result: pd.Series | None
) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame(
        {
            "TimeGenerated": to_utc(times).to_numpy(),
            "Kind": pd.array([kind] * n, dtype="string"),
            "User": user.astype("string").to_numpy(),
            "What": what.astype("string").to_numpy(),
            "Result": (result if result is not None else pd.Series(pd.NA, index=times.index))
            .astype("string")
            .to_numpy(),
        }
    )


def _s(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("")


def session_timeline(
    logons: pd.DataFrame, sudo: pd.DataFrame, cron: pd.DataFrame, accounts: pd.DataFrame
) -> pd.DataFrame:
    """One row per event, Kind one of ``KINDS``, oldest first: the pages' combined timeline.

    Logons are the Success/Failure rows (pre-auth notices are attempts counted
    elsewhere); cron edits are BEGIN/REPLACE/END EDIT and DELETE.
    """
    lg = counted(conform(logons, LOGONS))
    su = conform(sudo, SUDO)
    cr = conform(cron, CRON)
    ac = conform(accounts, ACCOUNTS)
    runs = cr[cr["Action"] == "run"]
    edits = cr[cr["Action"].isin(EDIT_ACTIONS).fillna(False)]
    parts = [
        _part(
            lg["TimeGenerated"], "Logons", lg["User"],
            _s(lg["Result"]) + " " + _s(lg["LogonType"]) + " from " + lg["SourceIP"].astype("string").fillna("local"),
            lg["Result"],
        ),
        _part(su["TimeGenerated"], "sudo", su["Sudoer"], "as " + _s(su["RunAs"]) + ": " + _s(su["Command"]),
              su["Result"]),
        _part(runs["TimeGenerated"], "Cron runs", runs["User"], runs["Command"], None),
        _part(edits["TimeGenerated"], "Cron edits", edits["User"],
              _s(edits["Action"]) + " crontab of " + _s(edits["Command"]), None),
        _part(ac["TimeGenerated"], "Account changes", ac["User"].fillna(ac["Group"]),
              _s(ac["Action"]) + " " + _s(ac["User"].fillna(ac["Group"]))
              + ac["Group"].where(ac["User"].notna()).astype("string").map(lambda g: "" if pd.isna(g) else f" ({g})"),
              None),
    ]  # fmt: skip
    out = (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    )
    out["TimeGenerated"] = out["TimeGenerated"].astype(_UTC)
    out = out[out["TimeGenerated"].notna()]
    order = out["Kind"].map({k: i for i, k in enumerate(KINDS)})
    out = out.assign(_k=order).sort_values(["TimeGenerated", "_k"], kind="stable").drop(columns="_k")
    return out[list(TIMELINE_COLUMNS)].reset_index(drop=True)


# --- sudo -----------------------------------------------------------------------------------


def sudo_command_counts(sudo: pd.DataFrame) -> pd.DataFrame:
    """Runs per (Sudoer, RunAs, Command), most frequent first; Failures counts refused runs."""
    su = conform(sudo, SUDO)
    su = su[su["Command"].notna()]
    if su.empty:
        return pd.DataFrame({c: pd.Series(dtype=_COUNT_DTYPES[c]) for c in SUDO_COUNT_COLUMNS})
    key = ["Sudoer", "RunAs", "Command"]
    out = (
        su.assign(_fail=(su["Result"] == FAILURE).fillna(False).astype("int64"))
        .groupby(key, dropna=False, sort=False)
        .agg(
            Count=("Command", "size"),
            Failures=("_fail", "sum"),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
        .sort_values(["Count", "FirstSeen"], ascending=[False, True], kind="stable")
    )
    return out[list(SUDO_COUNT_COLUMNS)].astype(_COUNT_DTYPES).reset_index(drop=True)


_COUNT_DTYPES = {
    "Sudoer": "string", "RunAs": "string", "Command": "string", "Count": "Int64", "Failures": "Int64",
    "FirstSeen": _UTC, "LastSeen": _UTC,
}  # fmt: skip


def is_shell_command(sudo: pd.DataFrame, specs: Mapping[str, DetectionSpec] | None = None) -> pd.Series:
    """True for successful sudo runs of an interactive shell: the ``sudo.shell`` detector's own test."""
    return sudo_shell_mask(conform(sudo, SUDO).set_axis(sudo.index), specs)


def flag_sudo_sessions(
    sessions: pd.DataFrame,
    sudo: pd.DataFrame,
    *,
    rules: Sequence[RiskRule] | None = None,
    n: int = 10,
    seconds: float = 5.0,
    specs: Mapping[str, DetectionSpec] | None = None,
) -> pd.DataFrame:
    """``sudo_sessions`` rows with why each is suspicious; flagged ones first.

    Adds RiskSeverity (highest risky-rule severity of its commands), RiskRules,
    InBurst (one of its commands is in a burst of at least ``n`` sudo commands by the
    same sudoer within ``seconds``), Shell (it ran an interactive shell) and Flagged.
    Commands are tied to sessions as ``sudo_sessions`` does: same host (and pid when
    logged), opened within 5 s of the command.
    """
    out = sessions.copy().reset_index(drop=True)
    out["RiskSeverity"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["RiskRules"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["InBurst"] = pd.array([False] * len(out), dtype="boolean")
    out["Shell"] = pd.array([False] * len(out), dtype="boolean")
    su = conform(sudo, SUDO)
    su = su[su["Command"].notna() & su["TimeGenerated"].notna()].reset_index(drop=True)
    if not out.empty and not su.empty:
        rated = rate_commands(
            su["Command"], sudo=True, succeeded=su["Result"] == SUCCESS, rules=rules, specs=specs
        )
        su["_sev"] = rated["Severity"]
        su["_rules"] = rated["Rules"]
        su["_burst"] = flag_rows_in_bursts(su, group_cols=("Computer", "Sudoer"), n=n, seconds=seconds)
        su["_shell"] = is_shell_command(su, specs)
        owner = _sudo_owner(out, su)
        su["_srow"] = owner
        tied = su[su["_srow"].notna()].astype({"_srow": "int64"})
        grp = tied.groupby("_srow")
        rank = tied["_sev"].map(SEVERITY_RANK)
        worst = rank.groupby(tied["_srow"]).max().dropna().astype("int64").map(dict(enumerate(SEVERITIES)))
        out.loc[worst.index, "RiskSeverity"] = worst.astype("string")
        rules_of = grp["_rules"].agg(
            lambda s: ", ".join(sorted({r for v in s.dropna() for r in str(v).split(", ")}))
        )
        rules_of = rules_of[rules_of != ""]
        out.loc[rules_of.index, "RiskRules"] = rules_of.astype("string")
        out.loc[grp["_burst"].any().pipe(lambda s: s[s]).index, "InBurst"] = True
        out.loc[grp["_shell"].any().pipe(lambda s: s[s]).index, "Shell"] = True
    out["Flagged"] = (out["RiskSeverity"].notna() | out["InBurst"] | out["Shell"]).astype("boolean")
    return out.sort_values(["Flagged", "Start"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def _sudo_owner(sessions: pd.DataFrame, su: pd.DataFrame) -> pd.Series:
    """Row of ``sessions`` each sudo command belongs to (NA when none opened within 5 s)."""
    opened = sessions[sessions["Start"].notna()]
    owner = pd.Series(pd.NA, index=su.index, dtype="Int64")
    if opened.empty:
        return owner
    right = pd.DataFrame(
        {
            "Start": opened["Start"].astype(_UTC),
            "Computer": opened["Computer"].astype("string").fillna(""),
            "_pid": opened["ProcessID"].astype("Int64").fillna(-1).astype("int64"),
            "_srow": opened.index.to_numpy(),
        }
    ).sort_values("Start", kind="stable")
    left = pd.DataFrame(
        {
            "TimeGenerated": su["TimeGenerated"].astype(_UTC),
            "Computer": su["Computer"].astype("string").fillna(""),
            "_pid": su["ProcessID"].astype("Int64").fillna(-1).astype("int64"),
            "_row": su.index.to_numpy(),
        }
    ).sort_values("TimeGenerated", kind="stable")
    hit = pd.merge_asof(
        left, right, left_on="TimeGenerated", right_on="Start", by=["Computer", "_pid"],
        direction="nearest", tolerance=_SUDO_SESSION_TOLERANCE,
    )  # fmt: skip
    hit = hit[hit["_srow"].notna()]
    owner.loc[hit["_row"].to_numpy()] = hit["_srow"].astype("int64").to_numpy()
    return owner


def sudo_raw_messages(syslog: pd.DataFrame, sudo: pd.DataFrame, command: str) -> pd.DataFrame:
    """The syslog lines behind every run of ``command``: its sudo lines and pam lines of the same moment.

    A sudo event's SyslogMessage holds its lines (continuations included), so the
    lines are found by text among the sudo process's rows; pam_unix(sudo...) lines
    on the same host within 5 s of a run are added (the session that ran it).
    """
    sy = conform(syslog, SYSLOG)
    su = conform(sudo, SUDO)
    runs = su[su["Command"] == command]
    if runs.empty or sy.empty:
        return sy.iloc[0:0]
    lines = {line for msg in runs["SyslogMessage"].dropna() for line in str(msg).split("\n")}
    proc = sy["ProcessName"].fillna("").str.strip().str.lower()
    is_sudo = proc.isin(SUDO_PROCESSES)
    own = is_sudo & sy["SyslogMessage"].isin(lines).fillna(False)
    pam = is_sudo & sy["SyslogMessage"].fillna("").str.startswith("pam_unix(sudo")
    near = pd.Series(False, index=sy.index)
    if pam.any():
        cand = sy[pam]
        times = np.sort(runs["TimeGenerated"].dropna().astype(_UTC).to_numpy(dtype="datetime64[ns]"))
        t = cand["TimeGenerated"].astype(_UTC).to_numpy(dtype="datetime64[ns]")
        tol = np.timedelta64(int(_SUDO_SESSION_TOLERANCE.value), "ns")
        pos = np.searchsorted(times, t - tol, side="left")
        ok = (pos < len(times)) & (times[np.minimum(pos, len(times) - 1)] <= t + tol)
        hosts = set(runs["Computer"].dropna().map(host_key))
        same_host = cand["Computer"].map(host_key).isin(hosts).to_numpy(dtype=bool) if hosts else True
        near.loc[cand.index] = ok & same_host
    return sy[(own | near).to_numpy(dtype=bool)].sort_values("TimeGenerated", kind="stable")


# --- cron -----------------------------------------------------------------------------------


def cron_top_commands(cron: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The ``top`` commands cron ran most, per user: User, Command, Runs, FirstSeen, LastSeen."""
    cr = conform(cron, CRON)
    runs = cr[cr["Action"] == "run"]
    out = (
        runs.groupby(["User", "Command"], dropna=False, sort=False)
        .agg(Runs=("Command", "size"), FirstSeen=("TimeGenerated", "min"), LastSeen=("TimeGenerated", "max"))
        .reset_index()
        .sort_values(["Runs", "FirstSeen"], ascending=[False, True], kind="stable")
        .head(top)
    )
    return out.astype(
        {"User": "string", "Command": "string", "Runs": "Int64", "FirstSeen": _UTC, "LastSeen": _UTC}
    ).reset_index(drop=True)


def cron_edits(cron: pd.DataFrame) -> pd.DataFrame:
    """crontab edits and deletes (BEGIN/REPLACE/END EDIT, DELETE); Command is the crontab's owner."""
    cr = conform(cron, CRON)
    return cr[cr["Action"].isin(EDIT_ACTIONS).fillna(False)].reset_index(drop=True)


def cron_baseline_end(cron: pd.DataFrame, window: Window, fraction: float | None = None) -> pd.Timestamp:
    """Where the regular cron background ends: a session's start, else a fraction into the data.

    For a whole range the fraction is findings.yaml's ``cron.new_command``
    baseline_fraction (the first quarter of the cron runs' span in the window), so
    this page and the Findings page call the same commands new.
    """
    if window.session:
        return window.start
    frac = float(
        fraction if fraction is not None else default_specs()["cron.new_command"].param("baseline_fraction")
    )
    cr = conform(cron, CRON)
    runs = cr.loc[(cr["Action"] == "run") & cr["TimeGenerated"].notna(), "TimeGenerated"]
    if runs.empty:
        return window.start
    start = max(window.start, runs.min())
    end = min(window.end, runs.max())
    return start + (end - start) * frac


# --- accounts -------------------------------------------------------------------------------


def account_summary(accounts: pd.DataFrame) -> pd.DataFrame:
    """Changes per Action with the accounts or groups they touched: Action, Count, Names."""
    ac = conform(accounts, ACCOUNTS)
    if ac.empty:
        return pd.DataFrame(
            {
                "Action": pd.Series(dtype="string"),
                "Count": pd.Series(dtype="Int64"),
                "Names": pd.Series(dtype="string"),
            }
        )
    name = ac["User"].fillna(ac["Group"]).fillna("?")
    member = ac["Group"].where(ac["User"].notna())
    name = name + member.map(lambda g: "" if pd.isna(g) else f" → {g}").astype("string")
    out = (
        ac.assign(_name=name)
        .groupby("Action", sort=False)
        .agg(Count=("Action", "size"), Names=("_name", lambda s: ", ".join(dict.fromkeys(str(x) for x in s))))
        .reset_index()
        .sort_values(["Count", "Action"], ascending=[False, True], kind="stable")
    )
    return out.astype({"Action": "string", "Count": "Int64", "Names": "string"}).reset_index(drop=True)


# --- flags ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _specs() -> dict[str, DetectionSpec]:
    return load_specs()


def default_specs() -> dict[str, DetectionSpec]:
    """The built-in findings.yaml detections (ids, severities, ATT&CK, parameters)."""
    return _specs()


def techniques_of(text: object) -> list[str]:
    """``'T1105, T1059.004'`` -> ``['T1105', 'T1059.004']``."""
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


# findings.yaml titles are templates for one finding; these name the check itself.
_DETECTION_TITLES: Final = {
    "sudo.shell": "sudo to an interactive shell",
    "account.new_user": "Local account created",
    "account.privileged_group": "Account added to a privileged group",
    "cron.crontab_edit": "Crontab replaced or deleted",
    "cron.new_command": "Cron job first run after the baseline",
}


def _detection_rows(
    spec: DetectionSpec, rows: pd.DataFrame, kind: str, user: pd.Series, event: pd.Series, matched: pd.Series,
    severity: pd.Series | None = None,
) -> pd.DataFrame:  # fmt: skip
    return pd.DataFrame(
        {
            "TimeGenerated": rows["TimeGenerated"].to_numpy(),
            "Kind": kind,
            "User": user.astype("string").to_numpy(),
            "Event": event.astype("string").to_numpy(),
            "RuleId": spec.id,
            "Title": _DETECTION_TITLES.get(spec.id, spec.id),
            "Severity": severity.to_numpy() if severity is not None else spec.severity,
            "Techniques": ", ".join(spec.mitre),
            "Matched": matched.astype("string").to_numpy(),
            "Source": DETECTION,
        }
    )


def _risky_rows(
    frame: pd.DataFrame,
    column: str,
    kind: str,
    user: pd.Series,
    event: pd.Series,
    rules: Sequence[RiskRule] | None,
) -> pd.DataFrame:
    commands = frame[column]
    if commands.dropna().empty:
        return pd.DataFrame()
    hits = match_commands(commands, rules)
    if hits.empty:
        return pd.DataFrame()
    rows = hits["Row"].to_numpy()
    return pd.DataFrame(
        {
            "TimeGenerated": frame.loc[rows, "TimeGenerated"].to_numpy(),
            "Kind": kind,
            "User": user.loc[rows].astype("string").to_numpy(),
            "Event": event.loc[rows].astype("string").to_numpy(),
            "RuleId": hits["RuleId"].to_numpy(),
            "Title": hits["Title"].to_numpy(),
            "Severity": hits["Severity"].to_numpy(),
            "Techniques": hits["Techniques"].to_numpy(),
            "Matched": (
                hits["Matched"] + hits["Decoded"].map({True: " (in decoded base64)", False: ""})
            ).to_numpy(),
            "Source": RISKY_RULE,
        }
    )


def flag_events(
    sudo: pd.DataFrame,
    cron: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    rules: Sequence[RiskRule] | None = None,
    new_cron: pd.DataFrame | None = None,
    specs: Mapping[str, DetectionSpec] | None = None,
) -> pd.DataFrame:
    """Suspicious sudo, cron and account events, each with its rule, severity and ATT&CK ids.

    Risky command rules run over sudo and cron commands; the findings.yaml checks
    flag sudo shells, new accounts, privileged group memberships, crontab
    replacements/deletions and (given ``new_cron``, a ``new_cron_commands`` result)
    cron jobs first run after the baseline. Repeats of one (Kind, User, Event, rule)
    are one row with Count, first TimeGenerated and LastSeen; most severe first.
    """
    specs = specs or default_specs()
    su = conform(sudo, SUDO).reset_index(drop=True)
    cr = conform(cron, CRON).reset_index(drop=True)
    ac = conform(accounts, ACCOUNTS).reset_index(drop=True)
    runs = cr[cr["Action"] == "run"]
    sudo_event = _s(su["Sudoer"]) + " as " + _s(su["RunAs"]) + ": " + _s(su["Command"])
    parts = [
        _risky_rows(su, "Command", "sudo", su["Sudoer"], sudo_event, rules),
        _risky_rows(
            runs, "Command", "Cron runs", runs["User"], _s(runs["User"]) + ": " + _s(runs["Command"]), rules
        ),
    ]
    parts.append(_engine_rows(su, cr, ac, rules=rules, specs=specs, new_cron=new_cron))
    return _fold_flags([p for p in parts if len(p)])


# Detectors whose findings Session detail lists as flags, and the event kind each belongs to.
_ENGINE_KINDS: Final = {
    "sudo.shell": "sudo",
    "account.new_user": "Account changes",
    "account.privileged_group": "Account changes",
    "cron.crontab_edit": "Cron edits",
    "cron.new_command": "Cron runs",
}


def _engine_rows(
    sudo: pd.DataFrame,
    cron: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    rules: Sequence[RiskRule] | None,
    specs: Mapping[str, DetectionSpec] | None,
    new_cron: pd.DataFrame | None,
) -> pd.DataFrame:
    """Flags from the findings engine itself (same detectors, same severities as the Findings page)."""
    times = pd.concat([to_utc(f["TimeGenerated"]) for f in (sudo, cron, accounts)]).dropna()
    if times.empty:
        return pd.DataFrame()
    tr = TimeRange(times.min().to_pydatetime(), (times.max() + pd.Timedelta("1s")).to_pydatetime())
    data = HuntData(host="", tr=tr, sudo=sudo, cron=cron, accounts=accounts, new_cron=new_cron)
    ids = [k for k in _ENGINE_KINDS if new_cron is not None or k != "cron.new_command"]
    found = run_detectors(data, ids, specs=specs, risky_rules=rules)
    if not found:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime([f.time for f in found], utc=True),
            "Kind": [_ENGINE_KINDS[f.rule_id] for f in found],
            "User": [f.user for f in found],
            "Event": [f.title for f in found],
            "RuleId": [f.rule_id for f in found],
            "Title": [_DETECTION_TITLES.get(f.rule_id, f.rule_id) for f in found],
            "Severity": [f.severity for f in found],
            "Techniques": [", ".join(f.mitre) for f in found],
            "Matched": [
                f.evidence[0].split(": ", 1)[-1] if f.evidence else f.detail for f in found
            ],  # the message
            "Source": DETECTION,
        }
    )


def _fold_flags(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=_FLAG_DTYPES[c]) for c in FLAG_COLUMNS})
    df = pd.concat(parts, ignore_index=True)
    df["TimeGenerated"] = to_utc(df["TimeGenerated"])
    key = ["Kind", "User", "Event", "RuleId", "Matched"]
    for k in key:
        df[k] = df[k].astype("string").fillna("")
    out = (
        df.sort_values("TimeGenerated", kind="stable")
        .groupby(key, sort=False, dropna=False)
        .agg(
            TimeGenerated=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
            Count=("TimeGenerated", "size"),
            Title=("Title", "first"),
            Severity=("Severity", "first"),
            Techniques=("Techniques", "first"),
            Source=("Source", "first"),
        )
        .reset_index()
    )
    out["_rank"] = out["Severity"].map(SEVERITY_RANK).fillna(-1)
    out = out.sort_values(["_rank", "TimeGenerated"], ascending=[False, True], kind="stable")
    return out[list(FLAG_COLUMNS)].astype(_FLAG_DTYPES).reset_index(drop=True)


_FLAG_DTYPES = {
    "TimeGenerated": _UTC, "LastSeen": _UTC, "Count": "Int64", "Kind": "string", "User": "string",
    "Event": "string", "RuleId": "string", "Title": "string", "Severity": "string", "Techniques": "string",
    "Matched": "string", "Source": "string",
}  # fmt: skip


# --- raw messages ---------------------------------------------------------------------------


def filter_messages(syslog: pd.DataFrame, facilities: Sequence[str] = ()) -> pd.DataFrame:
    """Syslog rows of the chosen facilities (all when none is chosen), oldest first; "" is no facility."""
    sy = conform(syslog, SYSLOG)
    if facilities:
        sy = sy[sy["Facility"].fillna("").isin(list(facilities)).to_numpy(dtype=bool)]
    return sy.sort_values("TimeGenerated", kind="stable")


def facility_counts(syslog: pd.DataFrame) -> pd.Series:
    """Messages per facility ("" where the source gave none), largest first."""
    sy = conform(syslog, SYSLOG)
    return sy["Facility"].fillna("").value_counts()


# --- users ----------------------------------------------------------------------------------


USER_COLUMNS: Final = ("User", "Successes", "Failures", "SudoCommands")


def users_seen(logons: pd.DataFrame, sudo: pd.DataFrame) -> pd.DataFrame:
    """Every user named in logons (any result) or sudo (as sudoer or run-as), with counts.

    Successes/Failures are weighted logons (``message repeated N times`` counts N);
    SudoCommands counts runs as sudoer. Users who logged on come first, then sudoers,
    then names only tried by password guessers.
    """
    lg = conform(logons, LOGONS)
    su = conform(sudo, SUDO)
    names = pd.concat([lg["User"], su["Sudoer"], su["RunAs"]]).dropna()
    names = names[names.str.strip() != ""].unique()
    out = pd.DataFrame({"User": pd.array(sorted(str(n) for n in names), dtype="string")})
    weight = lg["Count"].fillna(1)
    for col, result in (("Successes", SUCCESS), ("Failures", FAILURE)):
        per = weight[lg["Result"] == result].groupby(lg["User"]).sum()
        out[col] = out["User"].map(per).fillna(0).astype("Int64")
    out["SudoCommands"] = (
        out["User"].map(su.loc[su["Command"].notna(), "Sudoer"].value_counts()).fillna(0).astype("Int64")
    )
    out = out.sort_values(
        ["Successes", "SudoCommands", "Failures", "User"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    return out.reset_index(drop=True)


def user_logons(logons: pd.DataFrame, user: str) -> pd.DataFrame:
    """The user's logon rows (all results), oldest first."""
    lg = conform(logons, LOGONS)
    return lg[(lg["User"] == user).fillna(False).to_numpy(dtype=bool)].sort_values(
        "TimeGenerated", kind="stable"
    )


def results_by_process(logons: pd.DataFrame) -> pd.DataFrame:
    """Weighted Success/Failure counts per process: ProcessName, Result, Count."""
    rows = counted(conform(logons, LOGONS))
    out = (
        rows.assign(
            Count=rows["Count"].fillna(1).astype("int64"), ProcessName=rows["ProcessName"].fillna("?")
        )
        .groupby(["ProcessName", "Result"], as_index=False)["Count"]
        .sum()
        .sort_values(["Count", "ProcessName"], ascending=[False, True], kind="stable")
    )
    return out.astype({"ProcessName": "string", "Result": "string", "Count": "Int64"}).reset_index(drop=True)


def user_sudo(sudo: pd.DataFrame, user: str) -> pd.DataFrame:
    """sudo runs by ``user`` as sudoer, oldest first."""
    su = conform(sudo, SUDO)
    return su[(su["Sudoer"] == user).fillna(False).to_numpy(dtype=bool)].sort_values(
        "TimeGenerated", kind="stable"
    )
