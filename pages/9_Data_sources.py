"""What was read: per-file accounting (lines, parsed, not parsed and why), tables present."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hunting.schema import STORED_TABLES
from ui.context import sidebar
from ui.icons import page_icon
from ui.safe import md, plain

st.set_page_config(page_title="Data sources", page_icon=page_icon("folder_open"), layout="wide")
hunt = sidebar()
st.title("Data sources")
st.caption(f"Source: {md(hunt.source.name)}")  # file and source names are log-derived: inert Markdown

st.subheader("Tables")
st.dataframe(
    pd.DataFrame(
        {
            "Table": [t.name for t in STORED_TABLES],
            "Present": [t.name in hunt.tables for t in STORED_TABLES],
            "What it is": [t.description for t in STORED_TABLES],
        }
    ),
    hide_index=True,
)

accounts = hunt.source.ingest_report()
if not accounts:
    st.info("This source is queried remotely; there is no per-file accounting.")
    st.stop()

st.subheader("Files read")
table = pd.DataFrame(
    [
        {
            "File": a.path,
            "Format": a.format,
            "Lines": a.lines,
            "Parsed": a.parsed,
            "Not parsed": a.unparsed,
            "Problem": a.error,
            # records naming no host (raw audit.log): the host they were given, and the rule
            "Host given": f"{a.host} ({a.host_rule})" if a.host_rule else "",
            "Notes": "; ".join(a.notes),  # what the reader assumed (day/month order, zone)
            "First event (UTC)": a.first_time,
            "Last event (UTC)": a.last_time,
        }
        for a in accounts
    ]
)
c1, c2, c3 = st.columns(3)
c1.metric("Files", len(accounts))
c2.metric("Lines read", f"{int(table['Lines'].sum()):,}")
c3.metric("Not parsed", f"{int(table['Not parsed'].sum()):,}")
st.dataframe(table, hide_index=True)

problems = [a for a in accounts if a.unparsed or a.error]
if problems:
    st.subheader("Lines not parsed, with examples")
    for a in problems:
        with st.expander(f"{md(a.path, 200)} — {a.unparsed:,} not parsed"):
            if a.error:
                st.warning(md(a.error))
            st.dataframe(
                pd.DataFrame({"Reason": list(a.reasons), "Lines": list(a.reasons.values())}), hide_index=True
            )
            if a.examples:
                st.dataframe(
                    pd.DataFrame(a.examples, columns=["Line", "Reason", "Text"]).assign(
                        Text=lambda d: d["Text"].map(plain)
                    ),
                    hide_index=True,
                )
else:
    st.success("Every line of every file was parsed.")
