"""Rendering triage findings: the landing page's summary block and the Findings page's parts.

Every title, user, address and evidence line is log text: labels go through ``md`` with
indicators defanged (``hxxp://``, ``example[.]com``: never a link), evidence through
st.dataframe/st.code (copyable as-is), never through Markdown.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from hunting.analysis.findings import (
    SEVERITIES,
    Finding,
    HuntResult,
    Link,
    collect,
    find_all,
    findings_frame,
    mitre_url,
)
from hunting.defang import defang
from hunting.errors import HuntingError
from hunting.report.build import build_report
from hunting.report.render import render
from ui.context import Hunt, SourceSpec, open_source
from ui.safe import md, plain

FINDINGS_PAGE = "pages/8_Findings.py"
APP_ROOT = Path(__file__).resolve().parent.parent
# Streamlit Material icons (bundled font): emoji show as empty boxes where no emoji font is installed.
SEVERITY_ICON = {
    "high": ":red[:material/error:]",
    "medium": ":orange[:material/warning:]",
    "low": ":gray[:material/info:]",
}
_URL_KEYS = ("source", "host", "range", "ref")


@st.cache_data(max_entries=16, ttl=900, show_spinner="Running the detections…")
def cached_hunt(spec: SourceSpec, host: str, start: datetime, end: datetime) -> HuntResult:
    """Every detection over one host and range (the same call the CLI makes)."""
    from hunting.timerange import TimeRange

    return find_all(collect(open_source(spec), host, TimeRange(start, end)))


@st.cache_data(max_entries=16, ttl=900, show_spinner="Building the report…")
def cached_report(spec: SourceSpec, host: str, start: datetime, end: datetime) -> dict[str, Any]:
    from hunting.timerange import TimeRange

    tr = TimeRange(start, end)
    source = open_source(spec)
    data = collect(source, host, tr)
    return build_report(source, host, tr, data=data, result=find_all(data))


def hunt_findings(hunt: Hunt) -> HuntResult:
    return cached_hunt(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end)


def severity_metrics(result: HuntResult) -> None:
    counts = result.counts()
    cols = st.columns(len(counts) + 1)
    for col, sev in zip(cols, counts, strict=False):
        col.metric(f"{SEVERITY_ICON[sev]} {sev.capitalize()}", counts[sev])
    cols[-1].metric("Detections run", int(result.searched.get("detections", 0)))


def searched_table(result: HuntResult) -> pd.DataFrame:
    """What was searched, as rows a reader can scan ("no findings" among how much)."""
    return pd.DataFrame(
        {
            "Searched": [k.replace("_", " ") for k in result.searched],
            "Count": [int(v) for v in result.searched.values()],
        }
    )


def _url_params(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    params = {k: str(st.session_state[k]) for k in _URL_KEYS if st.session_state.get(k)}
    if params.get("range") == "custom":
        params |= {k: st.session_state[k].isoformat() for k in ("start", "end") if st.session_state.get(k)}
    params |= dict(extra)
    return params


def page_link(link: Link, key_hint: str = "") -> None:
    """A link to the page that shows the evidence, carrying the hunt and the scope hints."""
    if not (APP_ROOT / link.page).is_file():
        st.caption(f"{md(defang(link.label))} (page not available)")
        return
    try:
        st.page_link(
            link.page,
            label=md(defang(link.label), 120),
            icon=":material/search:",
            query_params=_url_params(link.params),
        )
    except StreamlitAPIException:  # a page run as the entry script (tests) has no page links
        st.caption(md(defang(link.label)))


def technique_links(finding: Finding) -> str:
    """Markdown links to ATT&CK; ids are validated (``T1234.567``), so they need no escaping."""
    return ", ".join(f"[{t}]({mitre_url(t)})" for t in finding.mitre) or "–"


def finding_block(finding: Finding, *, expanded: bool = False) -> None:
    """One finding: an expander with what, when, who, ATT&CK, detail, evidence lines and links."""
    label = f"{SEVERITY_ICON[finding.severity]} {finding.severity.upper()} · {finding.time:%Y-%m-%d %H:%M:%S} · {md(defang(finding.title), 200)}"
    with st.expander(label, expanded=expanded):
        st.markdown(f"**ATT&CK:** {technique_links(finding)}")
        facts = pd.DataFrame(
            {
                "Field": ["Rule", "Time (UTC)", "Until", "User", "Address", "Session", "Occurrences"],
                "Value": [
                    finding.rule_id,
                    finding.time.isoformat(),
                    finding.end.isoformat() if finding.end else "",
                    finding.user or "",
                    finding.source_ip or "",
                    finding.session or "",
                    str(finding.occurrences),
                ],
            }
        )
        st.dataframe(facts, hide_index=True, width="content")
        if finding.detail:
            st.text(plain(finding.detail, 2000))
        st.markdown(f"**Evidence** ({len(finding.evidence)} of {finding.occurrences} occurrence(s) shown)")
        st.code(
            "\n".join(plain(line, 4000) for line in finding.evidence) or "(none)",
            language=None,
            wrap_lines=True,
        )
        for link in finding.links:
            page_link(link)


def findings_summary(hunt: Hunt) -> None:
    """Compact block for the landing page: counts by severity, the top 5 findings, a link to all."""
    try:
        result = hunt_findings(hunt)
    except HuntingError as exc:  # the landing page must still render
        st.warning(f"Findings could not be computed: {md(exc)}")
        return
    st.subheader("Triage findings")
    severity_metrics(result)
    top = list(result.findings[:5])
    if not top:
        searched = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in result.searched.items() if v)
        st.success(f"No findings for {md(hunt.host)} in {hunt.tr.label()}. Searched: {md(searched, 1000)}.")
    else:
        st.dataframe(findings_frame(top).drop(columns=["Rule", "Id"]), hide_index=True)
    page_link(Link(FINDINGS_PAGE, "All findings, evidence and report export"))


def export_buttons(hunt: Hunt) -> None:
    """HTML, Markdown and JSON downloads of the report for this host and range."""
    report = cached_report(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end)
    stem = (
        "".join(c if c.isalnum() or c in "-_." else "_" for c in hunt.host) + f"-{hunt.tr.start:%Y%m%d%H%M}"
    )
    cols = st.columns(3)
    for col, (fmt, mime, label) in zip(
        cols,
        (
            ("html", "text/html", "HTML (printable)"),
            ("md", "text/markdown", "Markdown"),
            ("json", "application/json", "JSON"),
        ),
        strict=True,
    ):
        col.download_button(
            f"Export report: {label}",
            data=render(report, fmt),
            file_name=f"hunting-report-{stem}.{fmt}",
            mime=mime,
            key=f"findings_export_{fmt}",
            on_click="ignore",
        )


def severity_filter(result: HuntResult) -> list[Finding]:
    chosen = st.pills(
        "Severity",
        list(reversed(SEVERITIES)),
        selection_mode="multi",
        default=list(reversed(SEVERITIES)),
        key="findings_severity",
    )
    keep = set(chosen or SEVERITIES)
    return [f for f in result.findings if f.severity in keep]
