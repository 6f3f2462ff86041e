"""User activity: one account's logons, where they came from, and what it ran with sudo."""

from __future__ import annotations

import streamlit as st

from hunting.analysis import session_detail as sd
from hunting.analysis.geo import geolocate
from hunting.analysis.logons import by_source_ip, counted, logon_totals
from hunting.analysis.risky import RuleError
from hunting.detections.rating import rate_commands
from ui.charts import RESULT_SCALE, bar_counts, event_timeline
from ui.context import explain_empty, sidebar
from ui.icons import page_icon
from ui.maps import world_map
from ui.safe import md, plain
from ui.session_views import RULES_PATH_KEY, rules_from_path

st.set_page_config(page_title="User activity", page_icon=page_icon("person"), layout="wide")
hunt = sidebar()
st.title("User activity")

logons_all = hunt.fetch("logon_events")
sudo_all = hunt.fetch("sudo_events")
users = sd.users_seen(logons_all, sudo_all)
if users.empty:
    explain_empty(hunt, "users in logons or sudo", "Syslog")
    st.stop()

names = users["User"].astype(str).tolist()
stats = users.set_index("User")
wanted = st.query_params.get("user")
if st.session_state.get("user") not in (None, *names):
    del st.session_state["user"]  # a user of another host or range
if "user" not in st.session_state and wanted in names:
    # The browser binds ?user= itself; this makes the same link work where binding does not (AppTest).
    # The default stays the first user, so a chosen one differs from it and stays in the URL.
    st.session_state["user"] = wanted
user = st.selectbox(
    f"User ({len(names)} seen in logons or sudo)",
    names,
    index=0,
    key="user",
    bind="query-params",  # the URL holds the option text itself, so no format_func here
    help="Users who logged on come first, then sudoers, then names only tried by failed logons.",
)
user = str(user)
st.caption(
    f"{md(user)}: {int(stats.at[user, 'Successes']):,} successful and {int(stats.at[user, 'Failures']):,} failed "
    f"logons, {int(stats.at[user, 'SudoCommands']):,} sudo commands in {hunt.tr.label()}."
)
logons = sd.user_logons(logons_all, user)
sudo = sd.user_sudo(sudo_all, user)
totals = logon_totals(logons)

m = st.columns(4)
m[0].metric("Successful logons", f"{totals['success']:,}")
m[1].metric("Failed logons", f"{totals['failure']:,}")
m[2].metric("Source IPs", f"{totals['source_ips']:,}")
m[3].metric("sudo commands", f"{int(sudo['Command'].notna().sum()):,}")

# --- logons --------------------------------------------------------------------------------------
st.subheader("Logon timeline")
rows = counted(logons)
if rows.empty:
    st.info(f"No successful or failed logons by {md(user)} in {hunt.tr.label()}.")
else:
    st.altair_chart(
        event_timeline(
            rows,
            y="Result",
            color="Result",
            color_scale=RESULT_SCALE,
            tooltip=["Result", "LogonType", "ProcessName", "SourceIP", "Count"],
            height=120,
        ),
        width="stretch",
    )
    st.markdown("**Success and failure by process**")
    per_process = sd.results_by_process(logons)
    c1, c2 = st.columns(2)
    c1.dataframe(per_process, hide_index=True, key="user_by_process")
    with c2:
        st.altair_chart(bar_counts(per_process, category="ProcessName", color="Result"), width="stretch")

st.subheader("Where the logons came from")
ips = by_source_ip(logons)
if ips.empty:
    st.info(f"No source IP addresses in the logons of {md(user)} (local logons only, or none).")
else:
    geo = geolocate(ips["SourceIP"].unique().tolist())
    points = ips.merge(geo, left_on="SourceIP", right_on="Ip", how="left")
    points = points[
        ["SourceIP", "Result", "Count", "CountryName", "AsnOwner", "Scope", "Latitude", "Longitude"]
    ]
    points = points.rename(columns={"SourceIP": "Ip"})
    located = points.dropna(subset=["Latitude", "Longitude"])
    st.altair_chart(world_map(located), width="stretch")
    if len(points) > len(located):
        st.caption(
            f"{len(points) - len(located)} address(es) have no location (private, reserved or unknown)."
        )
    st.dataframe(points, hide_index=True, key="user_ips")

# --- sudo ----------------------------------------------------------------------------------------
st.subheader("sudo commands")
if sudo.empty:
    if sudo_all.empty:
        explain_empty(hunt, "sudo commands", "Syslog")
    else:
        st.info(f"{md(user)} ran no sudo commands in {hunt.tr.label()}.")
    st.stop()

freq = sd.sudo_command_counts(sudo)
rules_path = str(st.session_state.get(RULES_PATH_KEY) or "")
try:
    rules = rules_from_path(rules_path)
except RuleError:  # a bad custom file is reported on the Session detail page
    rules = rules_from_path("")
freq["Risk"] = rate_commands(
    freq["Command"], sudo=True, succeeded=freq["Count"] > freq["Failures"], rules=rules
)["Severity"]
st.caption("Risk is the rating the Findings page gives the command (risky-command rules, sudo to a shell).")
st.dataframe(freq, hide_index=True, key="user_sudo_commands")
command = st.selectbox(
    "Raw messages of",
    freq["Command"].astype(str).tolist(),
    format_func=lambda c: f"{plain(c, 120)} ({int(freq.loc[freq['Command'] == c, 'Count'].sum())}×)",
    key="user_sudo_pick",
)
raw = sd.sudo_raw_messages(hunt.fetch("syslog"), sudo, str(command))
st.dataframe(
    raw[["TimeGenerated", "Facility", "SeverityLevel", "ProcessName", "ProcessID", "SyslogMessage"]],
    hide_index=True,
    key="user_sudo_raw",
)
