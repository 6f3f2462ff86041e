"""Rendering and caching for the Session detail and User activity pages.

The analysis is in ``hunting.analysis.session_detail``; this module caches it per
frame and draws it. Every log-derived string reaching Markdown goes through
``md``; charts get ``plain`` text in their tooltips.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from hunting.analysis import session_detail as sd
from hunting.analysis.findings import mitre_url
from hunting.analysis.process_scope import audit_sessions, logon_for_hint, parse_ses
from hunting.analysis.risky import RiskRule, RuleError, load_rules
from hunting.analysis.sessions import logon_sessions
from hunting.analysis.sudo import sudo_sessions
from ui.charts import TIME_AXIS
from ui.context import Hunt, SourceSpec, explain_empty, fetch, open_source, shared_cache
from ui.process_views import load_tree
from ui.safe import md, plain

RULES_PATH_KEY = "session_rules_path"
SESSION_KEY = "hunt_session"
HINT_PARAMS = ("session", "user", "logon")  # URL scope hints for the Session detail page
LOGON_PARAM = "logon"  # ?logon=<SessionId>: the logon session chosen on the Logons page, in the URL
# Sessions no person opened: the scheduler's (cron) and the system's own. Rule as data.
SYSTEM_SESSION_TYPES = frozenset({"cron", "crond", "atd", "systemd-user", "systemd"})
# Shown first in the Logons sessions table, in this order (then every other column).
FLAG_COLUMNS = ["Flags", "AlertDuringSession", "AlertNames", "FirstLogonFromIP", "IsRoot", "FailureRatio"]
FLAG_ROW_COLOUR = "background-color: rgba(228, 87, 46, 0.22)"
MAX_RAW_ROWS = 5_000
MAX_FLAG_LINES = 40
MAX_TIMELINE_MARKS = 20_000
KIND_COLORS = alt.Scale(domain=list(sd.KINDS), range=["#4c78a8", "#e45756", "#72b7b2", "#f58518", "#b279a2"])
_TECHNIQUE = re.compile(r"T\d{4}(?:\.\d{3})?")


# --- rules -----------------------------------------------------------------------------------


@shared_cache()
def _rules(extra: tuple[tuple[str, float], ...]) -> list[RiskRule]:
    """Built-in rules plus user files; (path, mtime) keys reload a file the user edited."""
    return load_rules(extra=[Path(p) for p, _ in extra])


def rules_key(path: str) -> tuple[tuple[str, float], ...]:
    """Cache key for a user rules file: its path and modification time (none when blank)."""
    path = (path or "").strip()
    if not path:
        return ()
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        mtime = -1.0  # load_rules reports the problem with the path in its message
    return ((path, mtime),)


def rules_from_path(path: str) -> list[RiskRule]:
    """The rule set for these pages (raises RuleError on a bad user file)."""
    return _rules(rules_key(path))


def custom_rules_expander() -> tuple[str, list[RiskRule]]:
    """The "Custom rules file" expander; returns the path and the rules in force.

    A bad file is reported and the built-in rules are used, so the page still works.
    """
    with st.expander("Custom rules file", expanded=bool(st.session_state.get(RULES_PATH_KEY))):
        path = st.text_input(
            "Path of a YAML rules file on this machine (same format as hunting/rules/risky_commands.yaml)",
            key=RULES_PATH_KEY,
            persist_state="session",
        )
        path = (path or "").strip()
        if path:
            from hunting.evidence import EvidenceError
            from ui.context import evidence_policy

            try:  # shared hosts: only files inside the evidence roots, and only regular files
                evidence_policy().admit_file(path)
            except EvidenceError as exc:
                st.error(f"Custom rules not used: {md(path, 200)}: {md(exc, 300)}")
                return "", rules_from_path("")
            try:
                rules = rules_from_path(path)
            except RuleError as exc:
                st.error(f"Custom rules not used: {md(exc, 1000)}")
                return "", rules_from_path("")
            extra = sum(1 for r in rules if r.source == path)
            st.success(f"{extra} custom rule(s) loaded from {md(path)}, {len(rules)} rules in all.")
            return path, rules
        st.caption("Rules need id, title, severity, tags (attack.tNNNN), pattern and match/nomatch examples.")
    return "", rules_from_path("")


# --- cached analysis -------------------------------------------------------------------------


@shared_cache("Finding and flagging sudo sessions…")
def cached_sudo_sessions(
    syslog: pd.DataFrame, sudo: pd.DataFrame, rules_path: str, n: int, seconds: float
) -> pd.DataFrame:
    """Flagged sudo sessions (the session frame holds lists, so it is built here, not hashed)."""
    sessions = sudo_sessions(syslog, sudo)
    return sd.flag_sudo_sessions(sessions, sudo, rules=rules_from_path(rules_path), n=n, seconds=seconds)


@shared_cache("Matching rules…")
def cached_flags(
    sudo: pd.DataFrame, cron: pd.DataFrame, accounts: pd.DataFrame, new_cron: pd.DataFrame, rules_path: str
) -> pd.DataFrame:
    return sd.flag_events(sudo, cron, accounts, rules=rules_from_path(rules_path), new_cron=new_cron)


@shared_cache("Pairing logon sessions…")
def cached_sessions(
    spec: SourceSpec, host: str, start: datetime, end: datetime, include_system: bool
) -> pd.DataFrame:
    """Logon sessions of the host and range, once per (source, host, range): paired from the
    session lines alone where the source filters them in its engine (LocalSource), else
    from the whole syslog (Log Analytics), with the derived logon events."""
    source = open_source(spec)
    method = "pam_session_lines" if hasattr(source, "pam_session_lines") else "syslog"
    return logon_sessions(
        fetch(spec, method, host, start, end),
        fetch(spec, "logon_events", host, start, end),
        include_system=include_system,
    )


@dataclass(frozen=True)
class LogonFigures:
    """What the Logons page draws, computed once per (source, host, range, address filter)."""

    totals: dict[str, int]
    rows: pd.DataFrame  # Success and Failure rows (the timeline)
    by_account: pd.DataFrame  # top 25 accounts by weighted count, per result
    top_users: int
    by_process: pd.DataFrame
    points: pd.DataFrame  # per source IP and result, with location and owner


def logons_from(logons: pd.DataFrame, ip: str) -> pd.DataFrame:
    """Only the logons from ``ip`` (a link's filter) when there are any, else all of them."""
    if not ip:
        return logons
    from_ip = logons[logons["SourceIP"].astype("string") == ip]
    return from_ip if len(from_ip) else logons


@shared_cache("Counting logons…")
def logon_figures(spec: SourceSpec, host: str, start: datetime, end: datetime, ip: str) -> LogonFigures:
    """Counts, top-N and per-address figures of the Logons page (the page only draws them)."""
    from hunting.analysis.geo import geolocate
    from hunting.analysis.logons import by_source_ip, counted, logon_totals

    logons = logons_from(fetch(spec, "logon_events", host, start, end), ip)
    rows = counted(logons)
    weighted = rows.assign(Count=rows["Count"].fillna(1))
    by_account = weighted.groupby(["User", "Result"], dropna=False, as_index=False)["Count"].sum()
    top = by_account.groupby("User")["Count"].sum().nlargest(25).index
    by_process = weighted.groupby(["ProcessName", "Result"], dropna=False, as_index=False)["Count"].sum()
    ips = by_source_ip(logons)
    points = pd.DataFrame(
        columns=[
            "Ip",
            "Result",
            "Count",
            "Users",
            "CountryName",
            "AsnOwner",
            "Scope",
            "Latitude",
            "Longitude",
        ]
    )
    if len(ips):
        geo = geolocate(ips["SourceIP"].unique().tolist())
        merged = ips.merge(geo, left_on="SourceIP", right_on="Ip", how="left")
        points = merged[
            [
                "SourceIP",
                "Result",
                "Count",
                "Users",
                "CountryName",
                "AsnOwner",
                "Scope",
                "Latitude",
                "Longitude",
            ]
        ].rename(columns={"SourceIP": "Ip"})
    return LogonFigures(
        totals=logon_totals(logons),
        rows=rows,
        by_account=by_account[by_account["User"].isin(top)],
        top_users=len(top),
        by_process=by_process,
        points=points,
    )


@shared_cache("Looking for brute force…")
def logon_bursts(
    spec: SourceSpec, host: str, start: datetime, end: datetime, ip: str, threshold: int, window: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Brute-force bursts for one threshold, and the failures from the bursting addresses."""
    from hunting.analysis.logons import brute_force

    logons = logons_from(fetch(spec, "logon_events", host, start, end), ip)
    bursts = brute_force(logons, threshold=threshold, window=window)
    failures = logons[(logons["Result"] == "Failure") & logons["SourceIP"].isin(bursts["SourceIP"])]
    return bursts, failures


def hunt_sessions(hunt: Hunt, *, include_system: bool = False) -> pd.DataFrame:
    """:func:`cached_sessions` for the sidebar's host and range (source errors become notices)."""
    from ui import errors

    out = errors.guarded(
        lambda: cached_sessions(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end, include_system),
        "logon sessions",
    )
    return out if out is not None else pd.DataFrame()


# --- session scope ---------------------------------------------------------------------------


def is_system_session(sessions: pd.DataFrame) -> pd.Series:
    """True for sessions no person opened: hunting.analysis.sessions' rule (cron, sudo, systemd ...)."""
    from hunting.analysis.sessions import is_system_session as rule

    return rule(sessions).astype(bool)


def session_flags(sessions: pd.DataFrame) -> pd.Series:
    """Why a session deserves a look, in words ("alert, first logon from IP, root, failures 80%");
    empty when nothing stands out. Failure ratio counts when at least half of the user's logons failed."""

    def col(name: str) -> pd.Series:
        if name not in sessions.columns:
            return pd.Series(False, index=sessions.index)
        return sessions[name].astype("boolean").fillna(False).astype(bool)

    ratio = (
        sessions["FailureRatio"].astype("Float64")
        if "FailureRatio" in sessions.columns
        else pd.Series(pd.NA, index=sessions.index, dtype="Float64")
    )
    failing = (ratio >= 0.5).fillna(False).astype(bool)
    parts = [
        col("AlertDuringSession").map({True: "alert during session", False: ""}),
        col("FirstLogonFromIP").map({True: "first logon from this IP", False: ""}),
        col("IsRoot").map({True: "root", False: ""}),
        pd.Series(
            [f"failures {r:.0%}" if f else "" for r, f in zip(ratio.fillna(0), failing, strict=True)],
            index=sessions.index,
        ),
    ]
    joined = pd.concat(parts, axis=1).apply(lambda r: ", ".join(x for x in r if x), axis=1)
    return joined.astype("string") if len(sessions) else pd.Series(dtype="string")


def sessions_table(sessions: pd.DataFrame, *, include_system: bool) -> pd.DataFrame:
    """The Logons sessions table: system (cron) sessions left out unless asked, flagged sessions
    first (alerts before other flags, then by how many flags, then time), flag columns first."""
    out = sessions if include_system else sessions[~is_system_session(sessions)]
    out = out.copy()
    out["Flags"] = session_flags(out) if len(out) else pd.Series(dtype="string")
    alert = (
        out["AlertDuringSession"].astype("boolean").fillna(False).astype(int)
        if "AlertDuringSession" in out.columns
        else 0
    )
    n_flags = out["Flags"].fillna("").map(lambda t: len([x for x in str(t).split(", ") if x]))
    out = (
        out.assign(_alert=alert, _n=n_flags)
        .sort_values(["_alert", "_n", "Start"], ascending=[False, False, True], kind="stable")
        .drop(columns=["_alert", "_n"])
    )
    first = [c for c in FLAG_COLUMNS if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def highlight_flagged(df: pd.DataFrame) -> pd.io.formats.style.Styler:
    """Flagged rows tinted red-orange (the failure colour) so they stand out in the table."""
    flagged = df["Flags"].fillna("").astype(str) != ""
    return df.style.apply(lambda row: [FLAG_ROW_COLOUR if flagged.loc[row.name] else ""] * len(row), axis=1)


def session_by_id(sessions: pd.DataFrame, session_id: object) -> dict[str, Any] | None:
    """The logon session a ``?logon=<SessionId>`` URL names, or None."""
    if not session_id or sessions.empty:
        return None
    hit = sessions[sessions["SessionId"].astype("string") == str(session_id)]
    return hit.iloc[0].to_dict() if len(hit) else None


def clear_session() -> None:
    """Forget the Logons-page session and the link's scope hints (else they would pick it again)."""
    st.session_state.pop(SESSION_KEY, None)
    for name in HINT_PARAMS:
        if name in st.query_params:
            del st.query_params[name]


def chosen_session(host: str, hunt: Hunt | None = None) -> dict[str, Any] | None:
    """The session picked on the Logons page, if it is on this host (else say why it is ignored);
    without one, the logon session a link's ``?session=ses N`` / ``?user=`` names (``hunt`` given)."""
    session = st.session_state.get(SESSION_KEY)
    if (
        (not isinstance(session, dict) or not session)
        and hunt is not None
        and st.query_params.get(LOGON_PARAM)
    ):
        session = session_by_id(hunt_sessions(hunt, include_system=True), st.query_params.get(LOGON_PARAM))
        if session is None:
            st.info(
                f"The link names logon session {md(st.query_params.get(LOGON_PARAM), 40)}, which is not in "
                f"{hunt.tr.label()} on {md(host)}: the whole time range is shown."
            )
    if not isinstance(session, dict) or not session:
        return hinted_session(hunt) if hunt is not None else None
    if sd.host_key(session.get("Computer")) != sd.host_key(host):
        st.warning(
            f"The session picked on the Logons page is on {md(session.get('Computer'))}, not {md(host)}: "
            "showing the whole time range."
        )
        st.button("Forget that session", on_click=clear_session, key="session_clear_other")
        return None
    return session


def hinted_session(hunt: Hunt) -> dict[str, Any] | None:
    """The logon session named by the URL (a Findings link), said in an info box; None if none matches."""
    ses_text = st.query_params.get("session")
    user = st.query_params.get("user") or None
    ses = parse_ses(ses_text)
    if ses is None and not user:
        return None
    logons = hunt_sessions(hunt)
    sessions = audit_sessions(load_tree(hunt)) if ses is not None else pd.DataFrame()
    pos = logon_for_hint(logons, sessions, ses=ses, user=user)
    asked = " and ".join(
        x
        for x in (f"audit session {ses}" if ses is not None else "", f"user {md(user)}" if user else "")
        if x
    )
    if pos is None:
        st.info(
            f"The link asked for {asked}: no single logon session in {hunt.tr.label()} matches it, "
            "so the whole time range is shown. Pick a session on the *Logons* page to narrow it."
        )
        return None
    session = logons.iloc[pos].to_dict()
    st.info(
        f"The link asked for {asked}: scoped to the logon session of {md(session.get('User'))} "
        f"from {md(session.get('SourceIP') or 'local')} at {md(session.get('Start'))}."
    )
    return session


# --- pieces ----------------------------------------------------------------------------------


def technique_links(text: object) -> str:
    """Markdown links to ATT&CK for validated ids (anything else is escaped text)."""
    parts = []
    for t in sd.techniques_of(text):
        parts.append(f"[{t}]({mitre_url(t)})" if _TECHNIQUE.fullmatch(t) else md(t))
    return ", ".join(parts) or "–"


def code_span(text: object, limit: int = 300) -> str:
    """Log text as an inline Markdown code span: shown literally, and URLs in it are not made links.

    The fence is one backtick longer than any run inside, so the text cannot close it.
    """
    s = plain(text, limit).replace("\n", " ").replace("\r", " ")
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {s} {fence}"


def flag_list(flags: pd.DataFrame) -> None:
    """One Markdown line per flag: severity, rule id, ATT&CK links, the escaped matched text."""
    for r in flags.head(MAX_FLAG_LINES).to_dict("records"):
        times = f"×{int(r['Count'])}, first " if int(r["Count"]) > 1 else ""
        st.markdown(
            f"- **{md(r['Severity'])}** · {md(r['RuleId'], 80)} · {md(r['Title'], 120)} · "
            f"{technique_links(r['Techniques'])} · {md(r['Kind'])} by {md('?' if pd.isna(r['User']) or r['User'] == '' else r['User'])} "
            f"({times}{pd.Timestamp(r['TimeGenerated']):%Y-%m-%d %H:%M:%S} UTC)  \n"
            f"  matched: {code_span(r['Matched'], 300)}"
        )
    if len(flags) > MAX_FLAG_LINES:
        st.caption(f"{len(flags) - MAX_FLAG_LINES} more in the table below.")


def flags_table(flags: pd.DataFrame, key: str) -> None:
    out = flags.copy()
    out["ATT&CK"] = out["Techniques"].map(
        lambda t: mitre_url(sd.techniques_of(t)[0]) if sd.techniques_of(t) else None
    )
    st.dataframe(
        out,
        hide_index=True,
        key=key,
        column_config={
            "ATT&CK": st.column_config.LinkColumn(
                "ATT&CK (first technique)", display_text=r"techniques/(T\d+)/"
            ),
        },
    )


def explain_empty_in(hunt: Hunt, window: sd.Window, what: str, *tables: str) -> None:
    """``explain_empty`` for a section scoped to ``window``: a session names its own window
    (not the sidebar's range, which it does not cover)."""
    missing = hunt.missing(*tables)
    if not window.session or missing:
        explain_empty(hunt, what, *tables)
    else:
        st.info(f"No {what} for {md(hunt.host)} in this session's window, {window.label()}.")


def session_timeline_chart(
    timeline: pd.DataFrame, height: int = 220, window: sd.Window | None = None
) -> alt.Chart:
    """One tick per event, one row per kind in a fixed order, UTC axis; text is plain()ed.
    With ``window`` the axis spans the whole window (a session's start to its end), not the events."""
    data = timeline.head(MAX_TIMELINE_MARKS).copy()
    data["Time (UTC)"] = data["TimeGenerated"].dt.strftime("%Y-%m-%d %H:%M:%S")
    for col in ("User", "What", "Result"):
        data[col] = data[col].map(lambda v: plain(v, 200) if pd.notna(v) else "")
    return (
        alt.Chart(data)
        .mark_tick(thickness=2, size=16)
        .encode(
            x=alt.X(
                "TimeGenerated:T",
                title="Time (UTC)",
                scale=alt.Scale(
                    type="utc",
                    domain=[window.start.isoformat(), window.end.isoformat()] if window else alt.Undefined,
                ),
                axis=TIME_AXIS,
            ),
            y=alt.Y("Kind:N", title=None, sort=list(sd.KINDS), scale=alt.Scale(domain=list(sd.KINDS))),
            color=alt.Color("Kind:N", scale=KIND_COLORS, legend=None),
            tooltip=["Time (UTC)", "Kind", "User", "What", "Result"],
        )
        .properties(height=height)
    )


def raw_messages(syslog: pd.DataFrame, key: str, sudo: pd.DataFrame | None = None) -> None:
    """Raw syslog rows, filterable by facility and (when ``sudo`` is given) by sudo command."""
    counts = sd.facility_counts(syslog)
    facilities = [str(f) for f in counts.index]
    c1, c2 = st.columns(2)
    chosen = c1.multiselect(
        "Facilities (none = all)",
        facilities,
        format_func=lambda f: f"{plain(f, 40) or '(none)'} ({int(counts[f]):,})",
        key=f"{key}_facilities",
    )
    rows = syslog
    if sudo is not None:
        commands = sd.sudo_command_counts(sudo)["Command"].dropna().astype(str).unique().tolist()
        command = c2.selectbox(
            "sudo command",
            ["", *commands],
            format_func=lambda c: plain(c, 120) if c else "(any message)",
            key=f"{key}_sudo_command",
        )
        if command:
            rows = sd.sudo_raw_messages(syslog, sudo, command)
    rows = sd.filter_messages(rows, chosen)
    st.caption(
        f"{len(rows):,} message(s)"
        + (f"; the first {MAX_RAW_ROWS:,} are shown." if len(rows) > MAX_RAW_ROWS else ".")
    )
    st.dataframe(
        rows.head(MAX_RAW_ROWS)[
            ["TimeGenerated", "Facility", "SeverityLevel", "ProcessName", "ProcessID", "SyslogMessage"]
        ],
        hide_index=True,
        key=f"{key}_raw",
    )


def truncation_note(*frames: pd.DataFrame) -> None:
    for df in frames:
        note = df.attrs.get("truncated")
        if note:
            st.warning(f"Partial data: {md(note)}.")
            return
