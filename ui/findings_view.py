"""Rendering triage findings: the landing page's summary block and the Findings page's parts.

Every title, user, address and evidence line is log text: labels go through ``md`` with
indicators defanged (``hxxp://``, ``example[.]com``: never a link), evidence through
st.dataframe/st.code (copyable as-is), never through Markdown.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from hunting.analysis.findings import (
    SEVERITIES,
    Finding,
    HuntData,
    HuntResult,
    Link,
    collect,
    find_all,
    findings_frame,
    mitre_url,
)
from hunting.defang import defang
from hunting.detections.coverage import Coverage, coverage, coverage_rows
from hunting.errors import HuntingError
from hunting.evidence import EvidenceError, EvidencePolicy
from hunting.report.build import build_report
from hunting.report.render import render
from hunting.sigma.engine import SigmaHunt, SigmaStatus
from hunting.sigma.rules import SIGMAHQ_URL, RuleSet, load_rules, rule_dirs
from ui.context import CachedSource, Hunt, SourceSpec, _secret_section, evidence_policy, shared_cache
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
_SAFE_URL = re.compile(r"[A-Za-z0-9_./:-]+")
SIGMA_DIRS_KEY = "sigma_dirs"  # the sidebar box: the visitor's own Sigma rule folders
SigmaKey = tuple[tuple[str, ...], tuple[str, ...]]


@shared_cache("Fetching the host's data…")
def cached_collect(spec: SourceSpec, host: str, start: datetime, end: datetime) -> HuntData:
    """The frames the detections read, fetched through the shared page cache (one copy)."""
    from hunting.timerange import TimeRange

    return collect(CachedSource(spec), host, TimeRange(start, end))


@shared_cache("Loading Sigma rules…")
def cached_sigma_rules(settings: tuple[str, ...], typed: tuple[str, ...], policy: EvidencePolicy) -> RuleSet:
    """The shipped snapshot, settings folders and the visitor's typed folders (through ``policy``)."""
    return load_rules(rule_dirs(settings), typed=typed, policy=policy)


@shared_cache("Running the detections and Sigma rules…")
def cached_hunt_sigma(
    spec: SourceSpec, host: str, start: datetime, end: datetime, sigma: SigmaKey = ((), ())
) -> tuple[HuntResult, SigmaStatus]:
    """Every detection and Sigma rule over one host and range, once per (source, host, range,
    rule folders); the Sigma rules' skipped list and notes beside the result."""
    rules = cached_sigma_rules(sigma[0], sigma[1], evidence_policy())
    hook = SigmaHunt(rules, CachedSource(spec).source)
    result = find_all(cached_collect(spec, host, start, end), extra=[hook])
    return result, hook.status


def cached_hunt(
    spec: SourceSpec, host: str, start: datetime, end: datetime, sigma: SigmaKey = ((), ())
) -> HuntResult:
    """Every detection over one host and range, once per (source, host, range): the landing
    page, the Findings page and the report share it (the same call the CLI makes)."""
    return cached_hunt_sigma(spec, host, start, end, sigma)[0]


@shared_cache("Building the report…")
def cached_report(
    spec: SourceSpec, host: str, start: datetime, end: datetime, sigma: SigmaKey = ((), ())
) -> dict[str, Any]:
    """The report from the cached data and the cached detection result (nothing re-run)."""
    from hunting.timerange import TimeRange

    data = cached_collect(spec, host, start, end)
    result, status = cached_hunt_sigma(spec, host, start, end, sigma)
    rules = cached_sigma_rules(sigma[0], sigma[1], evidence_policy())
    return build_report(
        CachedSource(spec),
        host,
        TimeRange(start, end),
        data=data,
        result=result,
        sigma=rules,
        sigma_status=status,
    )


def hunt_findings(hunt: Hunt) -> HuntResult:
    return cached_hunt(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end, sigma_key())


def hunt_sigma_status(hunt: Hunt) -> SigmaStatus:
    return cached_hunt_sigma(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end, sigma_key())[1]


# --- Sigma rule folders ----------------------------------------------------------------------


def sigma_settings_dirs() -> tuple[str, ...]:
    """Folders from ``[sigma] dirs`` in secrets (a list, or one ``os.pathsep``-separated string);
    ``HUNTING_SIGMA_DIRS`` in the environment is read by :func:`hunting.sigma.rules.rule_dirs`."""
    dirs = _secret_section("sigma").get("dirs") or ()
    items = dirs.split(os.pathsep) if isinstance(dirs, str) else [str(d) for d in dirs]
    return tuple(d.strip() for d in items if d and d.strip())


def _typed_sigma_dirs() -> tuple[str, ...]:
    text = str(st.session_state.get(SIGMA_DIRS_KEY) or "")
    return tuple(dict.fromkeys(p.strip() for p in text.replace(os.pathsep, "\n").splitlines() if p.strip()))


def sigma_key() -> SigmaKey:
    """(settings folders, typed folders): the Sigma part of the hunt's cache key."""
    return sigma_settings_dirs(), _typed_sigma_dirs()


def sigma_sidebar() -> None:
    """Sidebar box for the analyst's own Sigma rule folders, read through the evidence policy
    (as the custom rules file box): a refused folder is named with the reason, never read."""
    policy = evidence_policy()
    with st.sidebar.expander("Sigma rule folders", expanded=bool(st.session_state.get(SIGMA_DIRS_KEY))):
        if not policy.paths_allowed:
            st.caption(f"Typed folders are off on this server ({md(policy.describe())}).")
            return
        st.text_area(
            "Folders of your own Sigma rules on this machine (one per line), besides the shipped SigmaHQ rules",
            key=SIGMA_DIRS_KEY,
            height=68,
        )
        for path in _typed_sigma_dirs():
            try:
                real = policy.admit(path)
            except EvidenceError as exc:
                st.error(f"Sigma folder not used: {md(path, 200)}: {md(exc, 300)}")
                continue
            if not real.is_dir() and not real.is_file():
                st.error(f"Sigma folder not used: {md(path, 200)}: not found")


def sigma_expander(hunt: Hunt) -> None:
    """How many Sigma rules ran, and every skipped rule with its reason (never dropped silently)."""
    status = hunt_sigma_status(hunt)
    with st.expander(f"Sigma rules: {status.evaluated} evaluated, {len(status.skipped)} skipped"):
        for note in status.notes:
            st.info(md(note, 500))
        st.caption(
            "Shipped: SigmaHQ's Linux rules (Detection Rule License 1.1, authors named in each rule); "
            "add folders in the sidebar, with --sigma DIR on the command line or HUNTING_SIGMA_DIRS."
        )
        if status.skipped:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Rule": [s.title for s in status.skipped],
                        "Rule id": [s.rule_id for s in status.skipped],
                        "File": [s.path for s in status.skipped],
                        "Why skipped": [s.reason for s in status.skipped],
                    }
                ),
                hide_index=True,
                key="sigma_skipped",
            )


@shared_cache("Working out the ATT&CK coverage…")
def cached_coverage(
    spec: SourceSpec, host: str, start: datetime, end: datetime, sigma: SigmaKey = ((), ())
) -> Coverage:
    """ATT&CK coverage of the cached hunt (the same call the report makes)."""
    result, status = cached_hunt_sigma(spec, host, start, end, sigma)
    rules = cached_sigma_rules(sigma[0], sigma[1], evidence_policy())
    return coverage(cached_collect(spec, host, start, end), result, rules, sigma_skipped=status.skipped)


def coverage_expander(hunt: Hunt) -> None:
    """ATT&CK techniques covered on this data: fired, covered (a rule can run), not covered here
    (no data for its rules, or skipped), each with its rules; a table (text cells, inert)."""
    cov = cached_coverage(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end, sigma_key())
    counts = cov.counts()
    label = ", ".join(f"{n} {s}" for s, n in counts.items())
    with st.expander(f"ATT&CK coverage: {label}"):
        st.caption(
            "Which techniques the built-in detectors and the Sigma rules cover for the data present "
            "on this host and range. Fired: a finding carries it. Covered: a rule for it can run "
            "here but found nothing. Not covered here: its rules have no data here or were skipped."
        )
        for note in cov.notes:
            st.info(md(note, 500))
        rows = coverage_rows(cov.to_dict())
        st.dataframe(
            pd.DataFrame(
                {
                    "ATT&CK": [r["technique"] for r in rows],
                    "Page": [mitre_url(r["technique"]) for r in rows],
                    "Status": [r["status"] for r in rows],
                    "Findings": [r["findings"] for r in rows],
                    "Fired": [r["fired"] for r in rows],
                    "Ran, no match": [r["ran"] for r in rows],
                    "Cannot run here (why)": [r["not_here"] for r in rows],
                },
            ),
            column_config={
                "Page": st.column_config.LinkColumn("Page", display_text=":material/open_in_new:")
            },
            hide_index=True,
            key="findings_coverage",
        )


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
    """A link to the page that shows the evidence, carrying the hunt and the scope hints.

    The one outside link a finding carries is a Sigma rule on SigmaHQ's GitHub (a constant
    prefix plus the rule's path in the shipped snapshot)."""
    if link.page.startswith(SIGMAHQ_URL) and _SAFE_URL.fullmatch(link.page):
        st.link_button(md(link.label, 120), link.page, icon=":material/open_in_new:")
        return
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


@shared_cache("Rendering the report…")
def cached_render(
    spec: SourceSpec, host: str, start: datetime, end: datetime, sigma: SigmaKey, fmt: str
) -> str:
    """One export format of the cached report, rendered once (not on every run of the page)."""
    return render(cached_report(spec, host, start, end, sigma), fmt)


def export_buttons(hunt: Hunt) -> None:
    """HTML, Markdown and JSON downloads of the report for this host and range."""
    key = (hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end, sigma_key())
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
            data=lambda fmt=fmt: cached_render(*key, fmt),  # rendered on the click, then cached
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
