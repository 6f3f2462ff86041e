"""The hostile corpus through ingestion, every analysis function and every renderer.

What an attacker wrote must reach the analyst as text: kept verbatim in the
frames, escaped in every piece of HTML we build (pyvis, folium), shown through
``plain()`` in Altair tooltips and ``md()`` in Markdown, and never turned into
markup on a page (checked here with AppTest; the browser test checks the DOM).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import pytest

from hunting.analysis.alerts import alert_counts, alert_entities, alert_properties
from hunting.analysis.cron import new_cron_commands
from hunting.analysis.geo import geolocate
from hunting.analysis.host import host_record
from hunting.analysis.iocs import extract_iocs, summarise_iocs
from hunting.analysis.logons import brute_force, by_source_ip, counted, logon_totals
from hunting.analysis.process_tree import build_tree, process_events
from hunting.analysis.risky import match_commands
from hunting.analysis.sessions import flag_alerts, logon_sessions
from hunting.analysis.sudo import sudo_sessions
from hunting.analysis.users import users_from_passwd
from hunting.render.jsenc import js_literal
from hunting.render.proc_tree_html import tree_html, tree_table
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
from tests.hostile import corpus
from tests.hostile.corpus import (
    HOST,
    HTML_MARKERS,
    LOCATED_IP,
    PAYLOAD_HOST,
    PAYLOAD_HOST_MD,
    PAYLOADS,
    TOKEN_PAYLOADS,
    all_payloads,
    html_payloads,
    write_hostile_logs,
)
from ui.charts import bar_counts, event_timeline, volume_chart
from ui.maps import folium_map, world_map
from ui.safe import md, plain

ROOT = Path(__file__).resolve().parents[2]
TR = TimeRange(pd.Timestamp("2024-03-01", tz="UTC"), pd.Timestamp("2024-03-20", tz="UTC"))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return write_hostile_logs(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def source(hostile: dict[str, Any]) -> LocalSource:
    return LocalSource.from_paths([hostile["folder"]])


@pytest.fixture(scope="module")
def frames(source: LocalSource) -> dict[str, pd.DataFrame]:
    methods = (
        "syslog",
        "logon_events",
        "sudo_events",
        "cron_events",
        "account_changes",
        "audit_events",
        "alerts",
    )
    out = {m: getattr(source, m)(HOST, TR) for m in methods}
    out["host_users"] = source.host_users(HOST)
    return out


def _no_markup(text: str) -> None:
    """No payload markup survives raw in ``text`` (generated HTML)."""
    for marker in HTML_MARKERS:
        assert marker not in text, f"raw markup {marker!r} in generated HTML"
    for name, p in html_payloads().items():
        assert p not in text, f"payload {name} survived unescaped"


def _strings(spec: Any) -> Iterator[str]:
    if isinstance(spec, str):
        yield spec
    elif isinstance(spec, dict):
        for v in spec.values():
            yield from _strings(v)
    elif isinstance(spec, list):
        for v in spec:
            yield from _strings(v)


# --- ingestion: counted, and kept verbatim --------------------------------------------------


def test_corpus_every_line_read_and_accounted(hostile: dict[str, Any], source: LocalSource) -> None:
    accounts = {Path(a.path).name: a for a in source.ingest_report()}
    assert all(a.balanced for a in accounts.values())
    assert accounts["auth.log"].lines == len(corpus.auth_log_lines())
    assert accounts["auth.log"].unparsed == 0
    assert accounts["auth.log.1.gz"].parsed == 3
    assert accounts["audit.log"].lines == len(corpus.audit_log_lines())
    assert accounts["SecurityAlert.csv"].parsed == len(all_payloads())
    assert accounts["journal.json"].parsed == len(PAYLOADS)
    hosts = set(source.hosts()["Computer"])
    assert hosts == {HOST, PAYLOAD_HOST, PAYLOAD_HOST_MD}


def test_corpus_payloads_kept_verbatim(frames: dict[str, pd.DataFrame]) -> None:
    """The analyst must see what the attacker typed, byte for byte (escaping is the renderer's job)."""
    users = set(frames["logon_events"]["User"].dropna())
    for name, p in all_payloads().items():
        assert p in users, f"user name {name} altered or lost"
    commands = set(frames["sudo_events"]["Command"].dropna())
    cron = set(frames["cron_events"]["Command"].dropna())
    for name, p in PAYLOADS.items():
        assert f"/bin/sh -c {p}" in commands, name
        assert p in cron, name
    cmdlines = set(frames["audit_events"]["Cmdline"].dropna())
    for name, p in all_payloads().items():
        assert f"/bin/bash -c {p}" in cmdlines, name
    assert frames["account_changes"].loc[0, "User"] == TOKEN_PAYLOADS["img_token"]


# --- every hunting function takes the corpus --------------------------------------------------


def test_analysis_functions_take_hostile_frames(frames: dict[str, pd.DataFrame]) -> None:
    logons = frames["logon_events"]
    totals = logon_totals(logons)
    # two per payload in auth.log, the long token and the template-injection user, and one per
    # payload in the Sentinel Syslog export (grep -c "Failed password" Syslog_export.csv -> 34)
    assert totals["failure"] == 3 * len(all_payloads()) + 2
    assert len(counted(logons)) > 0
    assert set(by_source_ip(logons)["SourceIP"]) == {corpus.ATTACKER_IP, LOCATED_IP, corpus.SSTI_IP}
    bursts = brute_force(logons, threshold=8, window="120s")
    assert set(bursts["SourceIP"]) == {corpus.ATTACKER_IP, LOCATED_IP}
    sessions = flag_alerts(logon_sessions(frames["syslog"], logons), frames["alerts"])
    assert "root" in set(sessions["User"])
    assert sudo_sessions(frames["syslog"], frames["sudo_events"]) is not None
    new = new_cron_commands(frames["cron_events"], baseline_end="2024-03-01")
    assert set(new["Command"]) == set(PAYLOADS.values())
    risky = match_commands(frames["audit_events"]["Cmdline"])
    assert isinstance(risky, pd.DataFrame)
    iocs = summarise_iocs(extract_iocs(frames["syslog"], ["SyslogMessage"]))
    assert LOCATED_IP in set(iocs["Value"])
    counts = alert_counts(frames["alerts"])
    assert len(counts) == len(all_payloads())
    for _, alert in frames["alerts"].iterrows():
        ents = alert_entities(alert)
        assert list(ents["Type"]) == ["host", "account", "ip", "process"]
        assert "Command" in alert_properties(alert)
    rec = host_record(
        HOST,
        heartbeat=pd.DataFrame(columns=["TimeGenerated"]),
        process_volume=pd.DataFrame(columns=["Key", "Count"]),
    )
    assert rec.name == HOST


# --- HTML we build: pyvis and folium --------------------------------------------------------


def _tree(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    users = users_from_passwd(corpus.passwd_text())
    return build_tree(process_events(frames["audit_events"], users=users))


def test_tree_html_escapes_every_payload(frames: dict[str, pd.DataFrame]) -> None:
    tree = _tree(frames)
    page = tree_html(tree, risk=lambda cmd: cmd.map(lambda c: "R " + c if isinstance(c, str) else ""))
    _no_markup(page)
    start = page.find("nodes = new vis.DataSet(")
    assert start >= 0, "node data not found"
    nodes, _ = json.JSONDecoder().raw_decode(page, start + len("nodes = new vis.DataSet("))
    titles = "\n".join(str(n["title"]) for n in nodes)
    for name, p in all_payloads().items():
        # titles are text (vis-network shows them with innerText; tests/browser/test_hostile.py):
        # the payload itself once decoded from the page's JSON, up to its first control character
        # (shown as \xNN), with "href" broken by a zero-width space (pyvis's innerHTML switch word)
        text = re.split(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", p[:600])[0]
        text = re.sub(r"h(?=ref)", "h\u200b", text, flags=re.IGNORECASE)
        assert text in titles, f"command of {name} missing from tooltips"
    assert len(tree_table(tree)) == len(tree)


def _located_points(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    ips = by_source_ip(frames["logon_events"])
    geo = geolocate(ips["SourceIP"].unique().tolist())
    points = ips.merge(geo, left_on="SourceIP", right_on="Ip", how="left").rename(columns={"SourceIP": "IP"})
    points = points.rename(columns={"IP": "Ip"}).loc[:, lambda d: ~d.columns.duplicated()]
    located = points.dropna(subset=["Latitude", "Longitude"])
    assert LOCATED_IP in set(located["Ip"]), "the located attacker address lost its coordinates"
    return located


def _popup_payload_points(payloads: list[str] | None = None) -> pd.DataFrame:
    """Map points whose text fields are payloads (as user names tried from an address would be)."""
    rows = [
        {"Ip": LOCATED_IP, "Result": "Failure", "Count": 3, "Users": p, "Latitude": 52.0, "Longitude": 4.0}
        for p in (payloads if payloads is not None else list(all_payloads().values()))
    ]
    return pd.DataFrame(rows)


_TEMPLATE_SYNTAX = ("template", "js_template", "js_template_token")


def test_folium_popups_escape_markup(frames: dict[str, pd.DataFrame]) -> None:
    page = folium_map(_located_points(frames)).get_root().render()
    _no_markup(page)
    markup = [p for k, p in all_payloads().items() if k not in _TEMPLATE_SYNTAX]
    page = folium_map(_popup_payload_points(markup)).get_root().render()
    _no_markup(page)
    # values travel as JSON string literals (hunting.render.jsenc) and are shown via textContent
    assert js_literal(PAYLOADS["img_onerror"]) in page


def test_folium_popups_are_not_jinja_templates() -> None:
    """branca renders popup HTML as a Jinja2 template: ``{{ }}`` in a user name is evaluated on the server.

    Quotes are escaped by html.escape, but Jinja builds strings without them
    (``dict(id=1)|first``), so a user name tried over SSH reaches ``os`` (remote
    code execution on the analyst's machine); ``{% raw %}`` crashes the render.
    """
    os.environ.pop(corpus.SSTI_ENV, None)
    page = ""
    try:
        page = folium_map(_popup_payload_points(["{{7*7}}", corpus.SSTI])).get_root().render()
    finally:
        executed = os.environ.pop(corpus.SSTI_ENV, None)
    assert executed is None, "a user name was executed as a Jinja2 template (os.environ was changed)"
    # shown literally (as a JSON literal with braces \u-escaped), never evaluated
    # (the shipped country outlines carry feature ids such as "id": "49": look at the popup rows)
    assert js_literal("{{7*7}}") in page and '["Users","49"]' not in page
    assert '["Users",' + js_literal("{{7*7}}") + "]" in page
    folium_map(_popup_payload_points([PAYLOADS["template"]])).get_root().render()  # must not raise


def test_folium_popups_do_not_interpolate_js_templates() -> None:
    """folium puts popup HTML inside a JavaScript template literal (``$(`...`)``): ``${...}`` runs.

    html.escape leaves ``$``, ``{`` and ``}`` alone, and folium escapes backticks only,
    so a user name ``${alert(1)}`` tried over SSH from a located address executes in
    the analyst's browser when the interactive map loads (online).
    """
    js = [PAYLOADS["js_template"], TOKEN_PAYLOADS["js_template_token"], PAYLOADS["backtick"]]
    page = folium_map(_popup_payload_points(js)).get_root().render()
    # no template literal carries log text any more: popups are JSON literals + textContent
    assert not re.findall(r"\$\(`(.*?)`\)\[0\]", page, re.DOTALL)
    assert "var rows = " in page and "${" not in page


# --- Altair: every text value through plain() ---------------------------------------------


def _chart_values(chart: alt.TopLevelMixin) -> list[str]:
    spec = chart.to_dict()
    values: list[str] = []
    for ds in (spec.get("datasets") or {}).values():
        for row in ds:
            values += [v for v in row.values() if isinstance(v, str)]
    return values


def _assert_plain(values: list[str], limit: int) -> None:
    assert values, "chart holds no text"
    for v in values:
        assert not _CONTROL.search(v), f"raw control/bidi character in chart data: {v[:80]!r}"
        assert len(v) <= limit + len(f"… [{10**6} more characters]"), "text not capped"


def test_event_timeline_tooltips_plain(frames: dict[str, pd.DataFrame]) -> None:
    rows = counted(frames["logon_events"])
    chart = event_timeline(rows, y="Result", color="Result", tooltip=["User", "SourceIP", "SyslogMessage"])
    values = _chart_values(chart)
    _assert_plain(values, 200)
    assert plain(PAYLOADS["ansi"], 200) in values
    assert plain(PAYLOADS["rtl"], 200) in values


def test_bar_counts_and_volume_plain(frames: dict[str, pd.DataFrame], source: LocalSource) -> None:
    by_user = (
        frames["logon_events"].assign(Count=1).groupby(["User", "Result"], as_index=False)["Count"].sum()
    )
    values = _chart_values(bar_counts(by_user, category="User", color="Result"))
    _assert_plain(values, 200)
    assert plain(PAYLOADS["control"], 200) in values
    volume = source.syslog_volume(HOST, TR, bucket_seconds=3600, by="ProcessName")
    assert corpus.PAYLOAD_PROC in set(volume["Key"])
    _assert_plain(_chart_values(volume_chart(volume, key_title="Process", brush_detail=True)), 200)


def test_world_map_tooltips_plain() -> None:
    values = _chart_values(world_map(_popup_payload_points()))
    _assert_plain([v for v in values if v not in ("Failure",)], 120)
    assert plain(PAYLOADS["control"], 120) in values


# --- Markdown: md() leaves nothing for the renderer to interpret --------------------------


def _unescaped(text: str) -> str:
    """``text`` with every backslash escape removed: what Markdown would still interpret."""
    return re.sub(r"\\.", "", text)


@pytest.mark.parametrize("name", sorted(all_payloads()))
def test_md_escapes_payload(name: str) -> None:
    out = md(all_payloads()[name])
    bare = _unescaped(out)
    for ch in "<>[]()`*_{}$!|~:#&\"'":
        assert ch not in bare, f"unescaped {ch!r} in md({name})"
    assert not _CONTROL.search(out)


def test_md_long_token_capped() -> None:
    assert len(md(corpus.LONG_TOKEN)) < 1200


# --- the HTML report ------------------------------------------------------------------------


def _report(source: LocalSource, host: str) -> dict[str, Any]:
    from hunting.report.build import build_report

    return build_report(source, host, TR)


@pytest.mark.parametrize("host", [HOST, PAYLOAD_HOST, PAYLOAD_HOST_MD])
def test_html_report_escapes_payloads(source: LocalSource, host: str) -> None:
    from hunting.report.render import render

    page = render(_report(source, host), "html")
    _no_markup(page)
    assert html.escape(host) in page
    if host == PAYLOAD_HOST:
        assert host not in page


def test_markdown_report_escapes_payloads(source: LocalSource) -> None:
    """Outside code blocks and spans, no payload's Markdown or HTML syntax is left unescaped."""
    from hunting.report.render import render

    text = render(_report(source, HOST), "md")
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    for name, p in all_payloads().items():
        if re.search(r"[<\[\]()!`$]", p):
            assert p not in prose, f"payload {name} is in the Markdown report unescaped"


# --- pages: nothing from the logs reaches Markdown unescaped ------------------------------


def _pages() -> list[str]:
    return ["streamlit_app.py", *(f"pages/{p.name}" for p in sorted((ROOT / "pages").glob("*.py")))]


def _markdown_texts(at: Any) -> list[tuple[str, str]]:
    """Every Markdown-rendered string on the page (bodies and labels), with its element type."""
    out: list[tuple[str, str]] = []
    for kind in (
        "markdown",
        "title",
        "header",
        "subheader",
        "caption",
        "info",
        "warning",
        "success",
        "error",
    ):
        for el in at.get(kind):
            out.append((kind, str(getattr(el, "value", "") or getattr(el.proto, "body", ""))))
    for el in at.get("expander"):
        out.append(("expander", str(el.label)))
    for el in at.get("tab"):
        out.append(("tab", str(el.label)))
    for el in at.get("metric"):
        out.append(("metric", f"{el.label} {el.value}"))
    return out


# Unescaped syntax a payload would bring (the app's own Markdown links, e.g. to ATT&CK, are fine).
_RAW = re.compile(r"<[A-Za-z/!]|!\[|javascript:|\$\{", re.IGNORECASE)


_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.*?)(?<!`)\1(?!`)", re.S)


def _raw_payloads(text: str) -> list[str]:
    """Payloads (their first 16 characters) present unescaped in Markdown ``text``."""
    return [n for n, p in all_payloads().items() if re.search(r"[<\[\]()!`$]", p[:16]) and p[:16] in text]


@pytest.fixture(autouse=True)
def _evidence_roots_restored() -> Iterator[None]:
    """``_run`` declares the corpus folder an evidence root in the environment; put it back after each
    test, or later AppTests in the same worker would find typed paths allowed on a shared server."""
    before = os.environ.get("HUNTING_EVIDENCE_ROOTS")
    yield
    if before is None:
        os.environ.pop("HUNTING_EVIDENCE_ROOTS", None)
    else:
        os.environ["HUNTING_EVIDENCE_ROOTS"] = before


def _run(page: str, hostile: dict[str, Any], host: str) -> Any:
    from tests.app.conftest import run_page

    # AppTest is not bound to loopback: typed paths need the folder declared an evidence root
    os.environ["HUNTING_EVIDENCE_ROOTS"] = str(hostile["folder"])
    return run_page(
        page,
        params={"source": "files", "host": host, "range": "7d"},
        state={"hunt_paths": str(hostile["folder"]), "source": "files"},
    )


@pytest.mark.slow
@pytest.mark.parametrize("page", _pages())
def test_page_markdown_has_no_raw_payload(page: str, hostile: dict[str, Any]) -> None:
    at = _run(page, hostile, HOST)
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["host"] == HOST
    for kind, text in _markdown_texts(at):
        # a well-formed code span (fence longer than any backtick run inside) is shown literally
        text = _CODE_SPAN.sub("", text)
        bare = _unescaped(text)
        assert not _RAW.search(bare), f"{page}: {kind} renders log text as Markdown/HTML: {text[:200]!r}"
        assert not _raw_payloads(text), f"{page}: {kind} shows payloads unescaped: {text[:200]!r}"


@pytest.mark.slow
def test_logons_page_does_not_run_user_names_as_templates(hostile: dict[str, Any]) -> None:
    """End to end: a failed SSH logon whose user name is a Jinja2 expression, then the Logons page."""
    os.environ.pop(corpus.SSTI_ENV, None)
    try:
        at = _run("pages/1_Logons.py", hostile, HOST)
    finally:
        executed = os.environ.pop(corpus.SSTI_ENV, None)
    assert not at.exception, [e.value for e in at.exception]
    assert executed is None, "opening the Logons page executed an SSH user name as a Jinja2 template"


@pytest.mark.slow
@pytest.mark.parametrize("host", [PAYLOAD_HOST, PAYLOAD_HOST_MD])
def test_payload_host_name_is_not_markdown(host: str, hostile: dict[str, Any]) -> None:
    at = _run("streamlit_app.py", hostile, host)
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["host"] == host
    for kind, text in _markdown_texts(at):
        bare = _unescaped(text)
        assert not _RAW.search(bare), f"{kind} renders the host name as Markdown/HTML: {text[:200]!r}"
