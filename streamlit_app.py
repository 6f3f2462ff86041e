"""Linux host hunting: host summary (the landing page) with related security alerts."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from hunting.analysis.alerts import (
    MAX_AFTER,
    MAX_BEFORE,
    alert_counts,
    alert_entities,
    alert_properties,
    rescope_window,
)
from hunting.analysis.host import host_record
from ui.charts import bar_counts, event_timeline, volume_chart
from ui.context import explain_empty, set_custom_range, sidebar
from ui.findings_view import findings_summary
from ui.icons import page_icon
from ui.safe import md, plain

st.set_page_config(page_title="Linux host hunting", page_icon=page_icon("travel_explore"), layout="wide")
hunt = sidebar()

st.title(f"Host summary: {md(hunt.host, 120)}")
st.caption(f"Hypothesis: this Linux host has been compromised. Window: {hunt.tr.label()}")
findings_summary(hunt)

heartbeat = hunt.fetch("heartbeat")
processes = hunt.fetch("syslog_volume", bucket_seconds=86400, by="ProcessName")
flows = hunt.fetch("network_flows") if "NetworkFlows" in hunt.tables else None
rec = host_record(
    hunt.host,
    heartbeat=heartbeat,
    process_volume=processes,
    flows=flows,
    first_seen=hunt.host_row["FirstSeen"],
    last_seen=hunt.host_row["LastSeen"],
)

st.subheader("Host record")
c1, c2, c3, c4 = st.columns(4)
# metric values are Markdown in Streamlit: Heartbeat text goes through md(), like every label
c1.metric("OS", md(f"{rec.os_name} {rec.os_version}".strip() or rec.os_type or "unknown", 60))
c2.metric("Location", md(rec.country or "unknown", 60))
c3.metric("First seen (UTC)", f"{rec.first_seen:%b %d %H:%M}" if rec.first_seen is not None else "–")
c4.metric("Last seen (UTC)", f"{rec.last_seen:%b %d %H:%M}" if rec.last_seen is not None else "–")
if rec.ips:
    st.dataframe(
        pd.DataFrame({"IP address": list(rec.ips), "Scope": list(rec.ips.values())}),
        hide_index=True,
        width="content",
    )
elif heartbeat.empty:
    explain_empty(hunt, "heartbeat facts (OS, IP addresses, location)", "Heartbeat")

left, right = st.columns(2)
with left:
    st.markdown("**Applications seen** (distinct process names in syslog)")
    if rec.applications.empty:
        explain_empty(hunt, "syslog messages", "Syslog")
    else:
        st.dataframe(rec.applications, hide_index=True, height=260)
with right:
    st.markdown("**Data volume**")
    by = st.segmented_control(
        "Split by", ["Facility", "SeverityLevel"], default="Facility", key="summary_volume_by"
    )
    volume = hunt.fetch("syslog_volume", bucket_seconds=3600, by=by or "Facility")
    if volume.empty:
        explain_empty(hunt, "syslog messages", "Syslog")
    else:
        st.altair_chart(volume_chart(volume, key_title=by or "Facility"), width="stretch")

st.subheader("Related security alerts")
alerts = hunt.fetch("alerts")
if alerts.empty:
    explain_empty(hunt, "security alerts", "SecurityAlert")
else:
    counts = alert_counts(alerts)
    a1, a2 = st.columns([1, 2])
    with a1:
        st.altair_chart(
            bar_counts(counts, category="AlertName", color="Severity", height=40 + 24 * len(counts)),
            width="stretch",
        )
    with a2:
        st.altair_chart(
            event_timeline(
                alerts, y="AlertName", color="Severity", tooltip=["AlertName", "Severity", "Description"]
            ),
            width="stretch",
        )
    table = alerts[["TimeGenerated", "AlertName", "Severity", "Description", "ProviderName", "SystemAlertId"]]
    picked = st.dataframe(
        table, hide_index=True, on_select="rerun", selection_mode="single-row", key="summary_alert_table"
    )
    rows = picked.selection.rows if picked else []
    if rows:
        alert = alerts.iloc[rows[0]]
        st.markdown(f"#### {md(alert['AlertName'])}")
        st.text(plain(alert["Description"], 2000))
        ents = alert_entities(alert)
        if len(ents):
            st.markdown("**Entities**")
            st.dataframe(ents, hide_index=True)
        props = alert_properties(alert)
        if props:
            st.markdown("**Extended properties**")
            st.dataframe(
                pd.DataFrame({"Property": list(props), "Value": list(props.values())}), hide_index=True
            )
        b, a = st.columns(2)
        before = b.slider(
            "Hours before the alert", 1, int(MAX_BEFORE / timedelta(hours=1)), 6, key="rescope_before"
        )
        after = a.slider(
            "Hours after the alert", 0, int(MAX_AFTER / timedelta(hours=1)), 1, key="rescope_after"
        )
        window = rescope_window(alert["TimeGenerated"], timedelta(hours=before), timedelta(hours=after))
        st.button(
            f"Investigate {window.label()}",
            on_click=set_custom_range,
            args=(window,),
            help="Sets the sidebar's time range to this window on every page",
        )
