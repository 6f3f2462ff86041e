"""Session detail: sudo, cron, account changes and flagged commands in one session or time window."""

from __future__ import annotations

import streamlit as st

from hunting.analysis import session_detail as sd
from hunting.analysis.cron import crontab_changes, new_cron_commands
from ui.charts import bar_counts
from ui.context import sidebar
from ui.icons import page_icon
from ui.process_views import process_tree_section
from ui.safe import md, table
from ui.session_views import (
    MAX_TIMELINE_MARKS,
    cached_flags,
    cached_sudo_sessions,
    chosen_session,
    clear_session,
    custom_rules_expander,
    explain_empty_in,
    flag_list,
    flags_table,
    raw_messages,
    session_timeline_chart,
    truncation_note,
)

st.set_page_config(page_title="Session detail", page_icon=page_icon("search"), layout="wide")
hunt = sidebar()
st.title("Session detail")

# --- scope: the session picked on the Logons page, or the sidebar's range -----------------------
session = chosen_session(hunt.host, hunt)
window = sd.session_window(session, hunt.tr.start, hunt.tr.end)
if session is not None:
    st.info(f"**Session:** {md(sd.session_label(session), 300)}  \n**Window:** {window.label()}")
    st.button("Clear the session (show the whole time range)", on_click=clear_session, key="session_clear")
    if window.start < hunt.tr.start or window.end > hunt.tr.end:
        st.warning(
            f"The session reaches outside the sidebar's range ({hunt.tr.label()}): only the overlap is shown."
        )
    st.caption(
        "Everything on the host in the session's window is shown, whoever it is logged as: "
        "what a root shell opened from the session runs is logged as root, cron or useradd."
    )
else:
    st.caption(
        f"Whole time range {hunt.tr.label()} on {md(hunt.host)}. Pick a session on the *Logons* page to narrow it."
    )

rules_path, rules = custom_rules_expander()

logons_all = hunt.fetch("logon_events")
sudo_all = hunt.fetch("sudo_events")
cron_all = hunt.fetch("cron_events")
accounts_all = hunt.fetch("account_changes")
syslog_all = hunt.fetch("syslog")
truncation_note(syslog_all)

logons = sd.in_window(logons_all, window)
sudo = sd.in_window(sudo_all, window)
cron = sd.in_window(cron_all, window)
accounts = sd.in_window(accounts_all, window)
syslog = sd.in_window(syslog_all, window)
runs = cron[cron["Action"] == "run"]
edits = crontab_changes(cron)  # the one rule for "crontab edits" (report and Findings count the same)

if syslog.empty and logons.empty:
    explain_empty_in(hunt, window, "messages", "Syslog")
    st.stop()

baseline_end = sd.cron_baseline_end(cron_all, window)
new_cron = sd.in_window(new_cron_commands(cron_all, baseline_end=baseline_end), window, "FirstSeen")
flags = cached_flags(sudo, cron, accounts, new_cron, rules_path)

m = st.columns(5)
m[0].metric("sudo commands", f"{int(sudo['Command'].notna().sum()):,}")
m[1].metric("Cron runs", f"{len(runs):,}")
m[2].metric("Crontab edits", f"{len(edits):,}")
m[3].metric("Account changes", f"{len(accounts):,}")
m[4].metric("Flagged events", f"{len(flags):,}")

# --- flagged events ------------------------------------------------------------------------------
st.subheader("Flagged events")
st.caption(
    f"Risky command rules ({len(rules)} in force) over sudo and cron commands, and the sudo-shell, new-account, "
    "privileged-group, crontab-change and new-cron-job checks of the Findings page. Repeats are counted once."
)
if flags.empty:
    st.success("Nothing flagged in this window.")
else:
    flag_list(flags)
    with st.expander("All flagged events as a table"):
        flags_table(flags, key="session_flags_table")

# --- combined timeline ---------------------------------------------------------------------------
st.subheader("Session timeline")
timeline = sd.session_timeline(logons, sudo, cron, accounts)
if timeline.empty:
    st.info(
        "No logons, sudo, cron or account events in "
        + (f"this session's window, {window.label()}." if window.session else f"{hunt.tr.label()}.")
    )
else:
    st.altair_chart(session_timeline_chart(timeline, window=window), width="stretch")
    counts = timeline["Kind"].value_counts()
    st.caption(" · ".join(f"{k}: {int(counts.get(k, 0)):,}" for k in sd.KINDS))
    if len(timeline) > MAX_TIMELINE_MARKS:
        st.caption(
            f"The chart draws the first {MAX_TIMELINE_MARKS:,} events: narrow the window to see the rest."
        )

# --- sudo ----------------------------------------------------------------------------------------
st.subheader("sudo")
if sudo.empty:
    explain_empty_in(hunt, window, "sudo commands", "Syslog")
else:
    freq = sd.sudo_command_counts(sudo)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Command frequency**")
        st.dataframe(freq, hide_index=True, key="session_sudo_freq")
    with c2:
        top = freq.head(15)
        st.altair_chart(bar_counts(top, category="Command", color="Sudoer"), width="stretch")

    st.markdown("**sudo sessions flagged by risky commands or bursts**")
    b1, b2 = st.columns(2)
    n = int(b1.number_input("Burst: at least N commands…", 2, 1000, 10, key="session_burst_n"))
    seconds = float(b2.number_input("…within T seconds", 1, 86_400, 5, key="session_burst_seconds"))
    sessions = cached_sudo_sessions(syslog, sudo, rules_path, n, seconds)
    if sessions.empty:
        st.info("No pam_unix sudo sessions (session opened/closed lines) in this window.")
    else:
        flagged = sessions[sessions["Flagged"].fillna(False)]
        st.caption(
            f"{len(flagged)} of {len(sessions)} sudo session(s) flagged: a risky command, an interactive shell, "
            f"or a burst of at least {n} sudo commands by one user within {seconds:g} s."
        )
        st.dataframe(table(sessions), hide_index=True, key="session_sudo_sessions")

# --- cron ----------------------------------------------------------------------------------------
st.subheader("Cron")
if cron.empty:
    explain_empty_in(hunt, window, "cron activity", "Syslog")
else:
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Most common commands**")
        st.dataframe(sd.cron_top_commands(cron), hide_index=True, key="session_cron_top")
    with c2:
        st.markdown("**Crontab edits**")
        if edits.empty:
            st.caption("No crontab edits in this window.")
        else:
            st.dataframe(edits, hide_index=True, key="session_cron_edits")
    st.markdown("**Commands new in this window**")
    st.caption(
        f"Commands cron first ran after {baseline_end:%Y-%m-%d %H:%M:%S} UTC, never before it in the range."
    )
    if new_cron.empty:
        st.caption("None.")
    else:
        st.dataframe(new_cron, hide_index=True, key="session_cron_new")

# --- account changes -----------------------------------------------------------------------------
st.subheader("Account changes")
if accounts.empty:
    explain_empty_in(hunt, window, "account changes", "Syslog")
else:
    c1, c2 = st.columns([1, 2])
    with c1:
        st.dataframe(sd.account_summary(accounts), hide_index=True, key="session_accounts_summary")
    with c2:
        st.dataframe(accounts, hide_index=True, key="session_accounts")

# --- raw messages --------------------------------------------------------------------------------
st.subheader("Process tree")
if session is not None:
    process_tree_section(hunt, logon=session, key="sd_tree")
else:
    process_tree_section(hunt, start=window.start, end=window.end, key="sd_tree")

st.subheader("Raw messages")
if syslog.empty:
    explain_empty_in(hunt, window, "syslog messages", "Syslog")
else:
    raw_messages(syslog, "session", sudo=sudo)
