"""Findings: what on this host looks like an intrusion, when, on what evidence; report export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hunting.analysis.findings import findings_frame
from ui.context import sidebar
from ui.findings_view import (
    coverage_expander,
    export_buttons,
    finding_block,
    hunt_findings,
    searched_table,
    severity_filter,
    severity_metrics,
    sigma_expander,
    sigma_sidebar,
)
from ui.icons import page_icon
from ui.safe import md

st.set_page_config(page_title="Findings", page_icon=page_icon("warning"), layout="wide")
hunt = sidebar()
sigma_sidebar()
st.title("Findings")
st.caption(f"Every detection run over {md(hunt.host)} in {hunt.tr.label()}, most severe first.")

result = hunt_findings(hunt)
severity_metrics(result)
for error in result.errors:
    st.warning(f"A detection failed: {md(error)}")

with st.expander("What was searched", expanded=not result.findings):
    st.dataframe(searched_table(result), hide_index=True, width="content")
sigma_expander(hunt)
coverage_expander(hunt)

st.subheader("Export")
export_buttons(hunt)

if not result.findings:
    st.success(f"No findings for {md(hunt.host)} in {hunt.tr.label()}: see what was searched above.")
    st.stop()

shown = severity_filter(result)
st.dataframe(findings_frame(shown), hide_index=True, key="findings_table")

st.subheader("Evidence")
for finding in shown:
    finding_block(finding)

st.subheader("Attack timeline")
st.caption("Findings linked by a shared user, address or session, in time order.")
by_id = {f.id: f for f in result.findings}
for n, group in enumerate(result.timeline, 1):
    members = [by_id[i] for i in group.finding_ids if i in by_id]
    who = ", ".join([*group.users, *group.ips, *group.sessions]) or "unlinked"
    st.markdown(
        f"**{n}. {group.start:%Y-%m-%d %H:%M:%S} – {group.end:%H:%M:%S} UTC** · {group.severity} · {md(who, 300)}"
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Time": [f.time for f in members],
                "Severity": [f.severity for f in members],
                "Finding": [f.title for f in members],
                "ATT&CK": [", ".join(f.mitre) for f in members],
            }
        ),
        hide_index=True,
        key=f"findings_timeline_{n}",
    )
