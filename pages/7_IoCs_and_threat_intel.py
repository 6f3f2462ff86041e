"""IoCs and threat intel: indicators in messages, command lines, sudo commands and alerts; TI lookups."""

from __future__ import annotations

import streamlit as st

from hunting.analysis.iocs import IOC_TYPES, PATH
from hunting.analysis.network import csv_text, lookup_candidates, worst_severity
from ui.context import explain_empty, sidebar
from ui.icons import page_icon
from ui.network_views import (
    MAX_LOOKUPS,
    hunt_iocs,
    run_lookups,
    show_ti_results,
    ti_controls,
)
from ui.safe import md

st.set_page_config(page_title="IoCs and threat intel", page_icon=page_icon("my_location"), layout="wide")
hunt = sidebar()
st.title("IoCs and threat intel")
st.caption(
    f"Addresses, domains, URLs, hashes and paths in {md(hunt.host)}'s syslog messages, audit command lines, "
    f"sudo commands and alerts, {hunt.tr.label()}."
)

data = hunt_iocs(hunt)
for err in data.errors:
    st.error(f"Could not read {md(err, 400)}")
overview = data.overview
searched = ", ".join(f"{n:,} {t}" for t, n in data.searched.items())
if overview.empty:
    explain_empty(hunt, "IoCs", "Syslog")
    if searched:
        st.caption(f"Searched: {md(searched)} rows.")
    st.stop()

counts = overview["IocType"].value_counts()
cols = st.columns(len(IOC_TYPES))
for col, kind in zip(cols, IOC_TYPES, strict=True):
    col.metric(kind, f"{int(counts.get(kind, 0)):,}")
st.caption(
    f"Searched: {md(searched)} rows. Private, loopback and documentation addresses are marked in *Note*, not dropped."
)

st.subheader("Indicators")
types = st.multiselect("Types", list(IOC_TYPES), default=list(IOC_TYPES), key="ioc_types")
shown = overview[overview["IocType"].isin(types)]
st.caption("Select rows to look up just those IoCs; with no selection the types chosen below are looked up.")
picked = st.dataframe(
    shown, hide_index=True, key="ioc_overview", on_select="rerun", selection_mode="multi-row"
)
selected_rows = [i for i in (picked.selection.rows if picked else []) if i < len(shown)]

st.subheader("Threat-intelligence lookups")
setup = ti_controls(hunt, "ioc")
c1, c2 = st.columns([3, 1])
lookup_types = c1.multiselect(
    "Types to look up",
    list(IOC_TYPES),
    default=[t for t in IOC_TYPES if t != PATH],
    key="ioc_lookup_types",
)
include_private = c2.checkbox("Include non-public addresses", key="ioc_include_private")
if selected_rows:
    chosen = shown.iloc[selected_rows]
    candidates = list(zip(chosen["Value"].astype(str), chosen["IocType"].astype(str), strict=True))
else:
    candidates = lookup_candidates(overview, types=lookup_types, include_non_public=include_private)
if len(candidates) > MAX_LOOKUPS:
    st.warning(f"{len(candidates):,} IoCs selected: only the first {MAX_LOOKUPS} are looked up.")
if st.button(
    f"Look up {min(len(candidates), MAX_LOOKUPS)} {'selected ' if selected_rows else ''}IoC(s)",
    key="ioc_lookup",
    disabled=not (candidates and setup.providers),
):
    st.session_state["ioc_results"] = run_lookups(candidates, setup, f"{len(candidates)} IoC(s)")
results = st.session_state.get("ioc_results")
if results is not None:
    show_ti_results(results, "ioc")

st.subheader("Download")
export = overview.copy()
if results is not None and len(results):
    worst = worst_severity(results)
    export["TiSeverity"] = export["Value"].map(lambda v: worst.get(str(v), ""))
    hits = results[results["Result"].fillna(False).astype(bool)]
    by_ioc = hits.groupby("Ioc")["Provider"].agg(lambda s: ",".join(sorted(set(s))))
    export["TiProviders"] = export["Value"].map(lambda v: by_ioc.get(str(v), ""))
st.download_button(
    "Download IoCs (CSV)",
    data=csv_text(export),
    file_name=f"iocs-{''.join(c if c.isalnum() or c in '-_.' else '_' for c in hunt.host)}.csv",
    mime="text/csv",
    key="ioc_download",
    on_click="ignore",
)

st.subheader("Where an IoC was seen")
values = shown["Value"].astype(str).tolist()
if results is not None and len(results):
    worst = worst_severity(results)
    values = sorted(values, key=lambda v: v not in worst)  # TI hits first
else:
    worst = {}
wanted = st.query_params.get("ioc")  # a Findings link's hint (read here: AppTest does not bind the URL)
if wanted and "ioc_pick" not in st.session_state:
    if wanted in values:
        st.session_state["ioc_pick"] = wanted
    else:
        st.info(f"The link asked for {md(wanted)}: it is not among the IoCs listed above.")
pick = st.selectbox(
    "IoC",
    values,
    index=None,
    format_func=lambda v: f"[{worst[v]}] {v}" if v in worst else v,
    placeholder="Choose an IoC",
    key="ioc_pick",
)
if pick:
    occ = data.occurrences[data.occurrences["Value"] == pick]
    for table, rows in occ.groupby("Table", sort=False)["Row"]:
        frame = data.frames[str(table)]
        st.markdown(f"**{md(table)}** ({rows.nunique():,} row(s))")
        st.dataframe(frame.iloc[sorted(set(rows.astype(int)))], hide_index=True, key=f"ioc_rows_{table}")
