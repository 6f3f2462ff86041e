"""Application activity: what each non-system program logged, its risky messages and its process trees."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hunting.analysis import applications as ap
from ui.context import explain_empty, sidebar
from ui.icons import page_icon
from ui.process_views import brushed_volume, process_tree_section
from ui.safe import md, plain

st.set_page_config(page_title="Application activity", page_icon=page_icon("apps"), layout="wide")
hunt = sidebar()
st.title("Application activity")

syslog = hunt.fetch("syslog")
if syslog.empty:
    explain_empty(hunt, "syslog messages", "Syslog")
    st.stop()

with st.expander("System daemons left out of the list"):
    text = st.text_area(
        "Process names or patterns (* and ?), one per line; case does not matter",
        "\n".join(ap.DEFAULT_SYSTEM_DAEMONS),
        height=200,
        key="app_daemons",
    )
daemons = ap.parse_daemon_list(text)
apps = ap.applications(syslog, daemons)
# A Findings link's ?app= (read here: AppTest does not bind the URL). It may name a listed
# system daemon (cron) or differ in case from the syslog tag (CRON): show that program anyway.
wanted = st.query_params.get("app")
if wanted and wanted not in apps["Application"].astype(str).tolist():
    every = ap.applications(syslog, ())
    same = every[every["Application"].astype(str).str.lower() == wanted.lower()]
    if len(same):
        apps = pd.concat([apps, same], ignore_index=True)
        spellings = same["Application"].astype(str).tolist()
        wanted = wanted if wanted in spellings else spellings[0]  # the URL's own spelling, as binding does
        st.info(
            f"The link asked for {md(wanted)}, a system daemon here: "
            f"{md(', '.join(spellings))} added to the list."
        )
if apps.empty:
    st.info(
        f"Every process that logged on {md(hunt.host)} in {hunt.tr.label()} is in the system-daemon list: "
        "remove names from it to see them."
    )
    st.stop()

st.dataframe(apps, hide_index=True, height=min(38 + 35 * len(apps), 300))
names = apps["Application"].astype(str).tolist()
if wanted in names and "app" not in st.session_state:
    st.session_state["app"] = wanted
app = st.selectbox(
    f"Application ({len(names)})",
    names,
    format_func=lambda n: plain(n, 120),
    key="app",
    bind="query-params",
)
if app is None:
    st.stop()
row = apps.loc[apps["Application"] == app].iloc[0]
messages = ap.app_messages(syslog, app)

m = st.columns(4)
m[0].metric("Messages", f"{int(row['Messages']):,}")
m[1].metric("High severity", f"{int(row['HighSeverity']):,}")
m[2].metric("First seen (UTC)", f"{row['FirstSeen']:%b %d %H:%M}")
m[3].metric("Last seen (UTC)", f"{row['LastSeen']:%b %d %H:%M}")

bucket = ap.bucket_seconds(hunt.tr.start, hunt.tr.end)
bucket_label = f"{bucket // 3600} h" if bucket >= 3600 else f"{bucket // 60} min"
st.subheader("Message volume")
st.caption(f"Messages per {bucket_label}. Drag across the small chart to zoom the large one.")
volume = ap.app_volume(hunt.fetch("syslog_volume", bucket_seconds=bucket, by="ProcessName"), app)
volume = ap.fill_buckets(volume, hunt.tr.start, hunt.tr.end, bucket)
if volume.empty:
    st.info("No messages from this application in the range.")
else:
    st.altair_chart(brushed_volume(volume, key_title="Application"), width="stretch")

st.subheader("High-severity messages")
high = ap.fill_buckets(ap.severity_volume(messages, bucket), hunt.tr.start, hunt.tr.end, bucket)
if high.empty:
    st.success(f"No emerg, alert, crit, err or warning messages from {md(app)}.")
else:
    st.altair_chart(brushed_volume(high, key_title="Severity"), width="stretch")

st.subheader("Risky commands in its messages")
risks = ap.message_risks(messages)
if risks.empty:
    st.success(f"No risky-command rule matched a message from {md(app)}.")
else:
    st.dataframe(risks, hide_index=True)

st.subheader("Its process trees (auditd)")
st.caption("Processes whose executable is named or contains the application's name, in their trees.")
process_tree_section(hunt, exe=app, key="app_tree")

st.subheader("Raw messages")
st.dataframe(messages, hide_index=True)
