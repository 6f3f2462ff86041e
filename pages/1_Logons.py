"""Logons: successes and failures, by account and process, source map, brute force, sessions."""

from __future__ import annotations

import streamlit as st

from hunting.analysis.logons import BRUTE_FORCE_PRESETS
from hunting.analysis.sessions import flag_alerts
from ui.charts import RESULT_SCALE, bar_counts, event_timeline
from ui.context import explain_empty, sidebar
from ui.icons import page_icon
from ui.maps import interactive_map, world_map
from ui.safe import md, table
from ui.session_views import (
    LOGON_PARAM,
    highlight_flagged,
    hunt_sessions,
    is_system_session,
    logon_bursts,
    logon_figures,
    session_by_id,
    sessions_table,
)

st.set_page_config(page_title="Logons", page_icon=page_icon("login"), layout="wide")
hunt = sidebar()
st.title("Logons")

logons = hunt.fetch("logon_events")
logons_fetched = logons
if logons.empty:
    explain_empty(hunt, "logon events", "Syslog")
    st.stop()

wanted_ip = st.query_params.get(
    "ip"
)  # a link's "failures from this address" (read here: AppTest does not bind the URL)
if wanted_ip:
    from_ip = logons[logons["SourceIP"].astype("string") == wanted_ip]
    if from_ip.empty:
        st.info(
            f"The link asked for logons from {md(wanted_ip)}: none in {hunt.tr.label()}; all addresses are shown."
        )
    else:
        logons = from_ip
        st.info(
            f"Only logons from **{md(wanted_ip)}** (from the link): every figure below is for this address."
        )
        if st.button("Show every address", key="logons_ip_clear"):
            del st.query_params["ip"]
            st.rerun()

cut = logons.attrs.get("truncated")
if cut:  # a source's row cap (Log Analytics: 50,000): every figure below covers the rows fetched
    st.warning(
        f"These logon figures cover only the {len(logons_fetched):,} logon events the source returned "
        f"({md(cut, 300)}): counts, charts and sessions undercount. Narrow the time range for exact figures."
    )
figures = logon_figures(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end, wanted_ip or "")
totals = figures.totals
rows = figures.rows
m1, m2, m3, m4 = st.columns(4)
m1.metric("Successful logons", f"{totals['success']:,}")
m2.metric("Failed logons", f"{totals['failure']:,}")
m3.metric("Accounts", f"{totals['accounts']:,}")
m4.metric("Source IPs", f"{totals['source_ips']:,}")
st.caption(
    "Failures are weighted by rsyslog's `message repeated N times`; pre-authentication notices are kept but not counted."
)

st.subheader("Timeline")
st.altair_chart(
    event_timeline(
        rows,
        y="Result",
        color="Result",
        color_scale=RESULT_SCALE,
        tooltip=["User", "Result", "LogonType", "ProcessName", "SourceIP", "Count"],
        height=140,
    ),
    width="stretch",
)

c1, c2 = st.columns(2)
with c1:
    st.markdown("**By account** (top 25)")
    st.altair_chart(
        bar_counts(
            figures.by_account,
            category="User",
            color="Result",
            height=40 + 18 * figures.top_users,
        ),
        width="stretch",
    )
with c2:
    st.markdown("**By process**")
    st.altair_chart(bar_counts(figures.by_process, category="ProcessName", color="Result"), width="stretch")

st.subheader("Where logons came from")
points = figures.points
if points.empty:
    st.info("No source IP addresses in these logons (local logons only).")
else:
    located = points.dropna(subset=["Latitude", "Longitude"])
    tab_map, tab_live, tab_table = st.tabs(["World map", "Interactive map", "Table"])
    with tab_map:
        st.altair_chart(world_map(located), width="stretch")
        unlocated = len(points) - len(located)
        if unlocated:
            st.caption(
                f"{unlocated} address(es) have no location (private, reserved or unknown): see the table."
            )
    with tab_live:
        interactive_map(located, key="logon_folium")
    with tab_table:
        st.dataframe(points, hide_index=True)

st.subheader("Brute force")
preset = st.selectbox(
    "Threshold",
    list(BRUTE_FORCE_PRESETS),
    format_func=lambda k: f"{k}: {BRUTE_FORCE_PRESETS[k][0]} failures in {BRUTE_FORCE_PRESETS[k][1]}",
    key="logons_bf_preset",
)
threshold, window = BRUTE_FORCE_PRESETS[preset]
bursts, failures = logon_bursts(
    hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end, wanted_ip or "", threshold, window
)
st.caption(f"Rule applied: at least {threshold} failures from one source IP within {window} ({preset}).")
if bursts.empty:
    st.success("No source IP reached this threshold.")
else:
    st.dataframe(table(bursts), hide_index=True)
    st.altair_chart(
        event_timeline(
            failures,
            y="SourceIP",
            color="Result",
            color_scale=RESULT_SCALE,
            tooltip=["User", "SourceIP", "Count"],
        ),
        width="stretch",
    )

st.subheader("Logon sessions")
sessions = hunt_sessions(hunt, include_system=True)  # split below, with a toggle
if "SecurityAlert" in hunt.tables and len(sessions):
    sessions = flag_alerts(sessions, hunt.fetch("alerts"))
if sessions.empty:
    st.info("No logon sessions (no pam session opened/closed lines) in this window.")
else:
    n_system = int(is_system_session(sessions).sum())
    include_system = st.toggle(
        f"Include system sessions (cron, sudo, systemd: {n_system:,})",
        value=False,
        key="logons_sessions_system",
    )
    shown = sessions_table(sessions, include_system=include_system)
    n_flagged = int((shown["Flags"].fillna("") != "").sum())
    st.caption(
        f"{len(shown):,} session(s) shown"
        + ("" if include_system else f", {n_system:,} system session(s) (cron, sudo, systemd) left out")
        + f"; {n_flagged:,} flagged, listed first and tinted. Click a row to scope *Session detail* to it."
    )
    picked = st.dataframe(
        highlight_flagged(shown),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="logons_sessions",
        column_config={
            "Flags": st.column_config.TextColumn("Flags", width="medium", pinned=True),
            "AlertNames": st.column_config.TextColumn("Alerts during session", width="medium"),
            "FailureRatio": st.column_config.NumberColumn("Failure ratio", format="percent"),
        },
    )
    selected = picked.selection.rows if picked else []
    if selected:
        chosen = shown.iloc[selected[0]]
        st.session_state["hunt_session"] = chosen.to_dict()
        st.query_params[LOGON_PARAM] = str(chosen["SessionId"])
    elif st.query_params.get(LOGON_PARAM) and "hunt_session" not in st.session_state:
        linked = session_by_id(sessions, st.query_params.get(LOGON_PARAM))
        if linked is not None:
            st.session_state["hunt_session"] = linked
    current = st.session_state.get("hunt_session")
    if isinstance(current, dict) and current.get("SessionId") in set(sessions["SessionId"].astype(str)):
        st.success(
            f"Session selected ({md(current.get('User'))} from {md(current.get('SourceIP') or 'local')}, "
            f"{md(current.get('Start'))}): the Session detail page now scopes to it; the URL names it."
        )
        st.page_link(
            "pages/2_Session_detail.py",
            label="Open session detail",
            icon=":material/search:",
            query_params={**st.query_params.to_dict(), LOGON_PARAM: str(current.get("SessionId"))},
        )
