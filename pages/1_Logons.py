"""Logons: successes and failures, by account and process, source map, brute force, sessions."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from hunting.analysis.geo import geolocate
from hunting.analysis.logons import BRUTE_FORCE_PRESETS, brute_force, by_source_ip, counted, logon_totals
from hunting.analysis.sessions import flag_alerts, logon_sessions
from ui.charts import RESULT_SCALE, bar_counts, event_timeline
from ui.context import explain_empty, sidebar
from ui.maps import folium_map, world_map
from ui.safe import table

st.set_page_config(page_title="Logons", page_icon="🔑", layout="wide")
hunt = sidebar()
st.title("Logons")

logons = hunt.fetch("logon_events")
if logons.empty:
    explain_empty(hunt, "logon events", "Syslog")
    st.stop()

totals = logon_totals(logons)
rows = counted(logons)
weights = rows["Count"].fillna(1)
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

by_account = (
    rows.assign(Count=weights).groupby(["User", "Result"], dropna=False, as_index=False)["Count"].sum()
)
by_process = (
    rows.assign(Count=weights).groupby(["ProcessName", "Result"], dropna=False, as_index=False)["Count"].sum()
)
c1, c2 = st.columns(2)
with c1:
    st.markdown("**By account** (top 25)")
    top_users = by_account.groupby("User")["Count"].sum().nlargest(25).index
    st.altair_chart(
        bar_counts(
            by_account[by_account["User"].isin(top_users)],
            category="User",
            color="Result",
            height=40 + 18 * len(top_users),
        ),
        width="stretch",
    )
with c2:
    st.markdown("**By process**")
    st.altair_chart(bar_counts(by_process, category="ProcessName", color="Result"), width="stretch")

st.subheader("Where logons came from")
ips = by_source_ip(logons)
if ips.empty:
    st.info("No source IP addresses in these logons (local logons only).")
else:
    geo = geolocate(ips["SourceIP"].unique().tolist())
    points = ips.merge(geo, left_on="SourceIP", right_on="Ip", how="left")
    points = points[
        ["SourceIP", "Result", "Count", "Users", "CountryName", "AsnOwner", "Scope", "Latitude", "Longitude"]
    ]
    points = points.rename(columns={"SourceIP": "Ip"})
    located = points.dropna(subset=["Latitude", "Longitude"])
    tab_map, tab_live, tab_table = st.tabs(
        ["World map (offline)", "Interactive map (needs internet)", "Table"]
    )
    with tab_map:
        st.altair_chart(world_map(located), width="stretch")
        unlocated = len(points) - len(located)
        if unlocated:
            st.caption(
                f"{unlocated} address(es) have no location (private, reserved or unknown): see the table."
            )
    with tab_live:
        st_folium(folium_map(located), height=420, returned_objects=[], key="logon_folium")
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
bursts = brute_force(logons, threshold=threshold, window=window)
st.caption(f"Rule applied: at least {threshold} failures from one source IP within {window} ({preset}).")
if bursts.empty:
    st.success("No source IP reached this threshold.")
else:
    st.dataframe(table(bursts), hide_index=True)
    failures = logons[(logons["Result"] == "Failure") & logons["SourceIP"].isin(bursts["SourceIP"])]
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
syslog_auth = hunt.fetch("syslog")
sessions = logon_sessions(syslog_auth, logons)
if "SecurityAlert" in hunt.tables and len(sessions):
    sessions = flag_alerts(sessions, hunt.fetch("alerts"))
if sessions.empty:
    st.info("No logon sessions (no pam session opened/closed lines) in this window.")
else:
    picked = st.dataframe(
        sessions, hide_index=True, on_select="rerun", selection_mode="single-row", key="logons_sessions"
    )
    selected = picked.selection.rows if picked else []
    if selected:
        chosen = sessions.iloc[selected[0]]
        st.session_state["hunt_session"] = chosen.to_dict()
        st.success("Session selected: the Session detail page now scopes to it.")
        st.page_link("pages/2_Session_detail.py", label="Open session detail", icon="🔎")
