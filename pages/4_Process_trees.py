"""Process trees from auditd: the whole range, a logon session, an application or an alert's window."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import streamlit as st

from hunting.analysis.process_scope import audit_sessions, match_logon, parse_ses, pid_exe
from hunting.render.proc_tree_html import ses_text
from ui.context import explain_empty, sidebar
from ui.icons import page_icon
from ui.process_views import WHAT, load_tree, process_tree_section
from ui.safe import md, plain

st.set_page_config(page_title="Process trees", page_icon=page_icon("account_tree"), layout="wide")
hunt = sidebar()
st.title("Process trees")
st.caption(
    "Every program start auditd logged (execve), linked to its parent by pid and time. "
    "User names come from the host's own passwd file and audit log, never from this machine."
)

tree = load_tree(hunt)
if tree.empty:
    explain_empty(hunt, WHAT, "AuditEvents")
    st.stop()

SCOPES = {
    "all": "Whole time range",
    "session": "A logon session",
    "exe": "An application (executable)",
    "alert": "Around an alert",
}
logon = st.session_state.get("hunt_session")
if not isinstance(logon, dict) or str(logon.get("Computer", "")).lower() != hunt.host.lower():
    logon = None
# Scope hints of a Findings link (read here: AppTest does not bind the URL to widgets).
hint_ses = parse_ses(st.query_params.get("session"))
hint_pid = parse_ses(st.query_params.get("pid"))
hint_exe = st.query_params.get("exe") or (
    pid_exe(tree, hint_pid) if hint_pid is not None and hint_ses is None else None
)
if "pt_scope" not in st.session_state:
    if hint_ses is not None:
        st.session_state["pt_scope"] = "session"
    elif hint_exe:
        st.session_state["pt_scope"] = "exe"
        st.session_state.setdefault("pt_exe", hint_exe)
    if hint_pid is not None:
        st.session_state.setdefault("pt_filter", str(hint_pid))
if hint_pid is not None and st.session_state.get("pt_filter") == str(hint_pid):
    st.info(f"The link points at process {hint_pid}: the table below is filtered to it.")
scope = st.radio(
    "Scope",
    list(SCOPES),
    index=1 if logon else 0,
    format_func=SCOPES.__getitem__,
    horizontal=True,
    key="pt_scope",
)
args: dict = {}
if scope == "session":
    sessions = audit_sessions(tree)
    if sessions.empty:
        st.info("No login sessions in these process starts (every process has an unset audit session).")
        st.stop()
    chosen = match_logon(sessions, logon) if logon else None
    if hint_ses is not None:
        hit = np.flatnonzero((sessions["Ses"] == hint_ses).fillna(False).to_numpy(dtype=bool))
        chosen = int(hit[0]) if len(hit) else chosen
        st.info(
            f"The link asked for audit session {hint_ses}: "
            + ("it is preselected below." if len(hit) else f"it started no process in {hunt.tr.label()}.")
        )
    elif logon:
        st.info(
            f"**Logons-page selection:** {md(logon.get('User'))} from {md(logon.get('SourceIP') or 'local')} "
            f"at {md(logon.get('Start'))}. "
            + (
                "Its audit session is preselected below."
                if chosen is not None
                else "No audit session of this user started in its window: pick one below."
            )
        )
    only_tty = st.checkbox("Only sessions with a terminal (interactive)", value=True, key="pt_only_tty")
    shown = sessions[sessions["Tty"].notna()] if only_tty else sessions
    if chosen is not None and chosen not in shown.index:
        shown = pd.concat([shown, sessions.iloc[[chosen]]]).sort_index()
    if shown.empty:
        st.info("No session with a terminal: untick the box to list the others (cron, services).")
        st.stop()
    options = shown.index.tolist()

    def label(i: int) -> str:
        r = sessions.loc[i]
        return plain(
            f"ses {ses_text(r['Ses'])} · {r['LoginUser']} (auid {r['Auid']}) · {r['Start']:%b %d %H:%M:%S}–"
            f"{r['End']:%H:%M:%S} · {r['Processes']} processes · {r['Tty'] if pd.notna(r['Tty']) else 'no tty'}",
            200,
        )

    pick = st.selectbox(
        f"Audit session ({len(options):,})",
        options,
        index=options.index(chosen) if chosen in options else 0,
        format_func=label,
        key=f"pt_ses_{hint_ses if hint_ses is not None else logon.get('SessionId', '') if logon else ''}",
    )
    row = sessions.loc[pick]
    args = {"ses": int(row["Ses"]), "auid": None if pd.isna(row["Auid"]) else int(row["Auid"])}
elif scope == "exe":
    real = tree[~tree["IsSynthetic"].fillna(False).astype(bool)]
    exes = real["Exe"].dropna().astype(str).value_counts()
    exe = st.selectbox(
        "Executable (path or part of it; type to search or enter your own)",
        exes.index.tolist(),
        index=None,
        format_func=lambda e: plain(f"{e} ({exes.get(e, 0):,} starts)", 200),
        accept_new_options=True,
        placeholder="e.g. /tmp/, wget, bash",
        key="pt_exe",
    )
    if not exe:
        st.info("Choose an executable: the trees holding it are drawn from their roots.")
        st.stop()
    args = {"exe": str(exe)}
elif scope == "alert":
    alerts = hunt.fetch("alerts")
    if alerts.empty:
        explain_empty(hunt, "security alerts", "SecurityAlert")
        st.stop()
    alerts = alerts.sort_values("TimeGenerated").reset_index(drop=True)
    pick = st.selectbox(
        "Alert",
        alerts.index.tolist(),
        format_func=lambda i: plain(
            f"{alerts.at[i, 'TimeGenerated']:%b %d %H:%M:%S} · {alerts.at[i, 'AlertName']} "
            f"({alerts.at[i, 'Severity']})",
            200,
        ),
        key="pt_alert",
    )
    alert = alerts.loc[pick]
    start = alert["StartTimeUtc"] if pd.notna(alert["StartTimeUtc"]) else alert["TimeGenerated"]
    end = alert["EndTimeUtc"] if pd.notna(alert["EndTimeUtc"]) else alert["TimeGenerated"]
    end = max(end, start)
    b, a = st.columns(2)
    before = b.slider("Minutes before the alert's activity", 0, 24 * 60, 15, step=5, key="pt_before")
    after = a.slider("Minutes after", 0, 24 * 60, 30, step=5, key="pt_after")
    st.caption(
        f"Activity reported from {start:%b %d %H:%M:%S} to {end:%H:%M:%S} UTC. Window "
        f"{start - timedelta(minutes=before):%b %d %H:%M:%S} – {end + timedelta(minutes=after):%b %d %H:%M:%S} UTC: "
        "every process started in it is in the table below (with its ancestors); when there are many, "
        "the graph draws the risky ones with their ancestors and children."
    )
    args = {
        "alert_time": start,
        "before": timedelta(minutes=before),
        "after": (end - start) + timedelta(minutes=after),
    }

process_tree_section(hunt, tree=tree, key="pt", highlight_pid=hint_pid, **args)
