"""The report dict as JSON, Markdown or a self-contained printable HTML page.

Every value in the report may come from an attacker's log line, so HTML output
escapes each one (``html.escape`` with quotes) and loads nothing from outside
(inline CSS, no scripts, no images); Markdown output escapes its special
characters in tables and puts evidence in fences longer than any backtick run
inside it. Long tables are cut in HTML and Markdown (the JSON keeps every row).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from hunting.analysis.findings import mitre_url
from hunting.defang import defang
from hunting.detections.coverage import coverage_rows
from hunting.report import FORMATS

MAX_TABLE_ROWS: Final = 200
MAX_CELL: Final = 300
_MD_SPECIAL: Final = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=\"'])")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

# (report key, title, [(field, column title)])
_TABLES: Final = (
    ("logon_sessions", "Logon sessions", [("start", "Start"), ("end", "End"), ("user", "User"), ("type", "Type"),
                                          ("source_ip", "Source IP"), ("process", "Process")]),
    ("sudo", "sudo commands", [("time", "Time"), ("user", "User"), ("run_as", "Run as"), ("command", "Command"),
                               ("result", "Result")]),
    ("account_changes", "Account changes", [("time", "Time"), ("action", "Action"), ("user", "User"),
                                            ("group", "Group")]),
    ("cron.edits", "Crontab edits", [("time", "Time"), ("user", "User"), ("action", "Action")]),
    ("iocs", "Indicators (most frequent first)", [("type", "Type"), ("value", "Value"), ("count", "Count"),
                                                   ("scope", "Scope")]),
    ("sources", "Sources read", [("path", "Path"), ("format", "Format"), ("lines", "Lines"), ("parsed", "Parsed"),
                                 ("unparsed", "Unparsed"), ("error", "Problem")]),
)  # fmt: skip


def _visible(value: object, limit: int = MAX_CELL) -> str:
    """Text with control and bidi characters shown as escapes, cut to ``limit``."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def _get(report: dict[str, Any], dotted: str) -> list[dict[str, Any]]:
    value: Any = report
    for part in dotted.split("."):
        value = value.get(part, []) if isinstance(value, dict) else []
    return value if isinstance(value, list) else []


# --- JSON --------------------------------------------------------------------------------------


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"


# --- Markdown ----------------------------------------------------------------------------------


def _md(value: object, limit: int = MAX_CELL) -> str:
    """A Markdown cell or title: indicators defanged (GFM viewers auto-link URLs, www. and
    e-mail addresses even when escaped), special characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", defang(_visible(value, limit))).replace("\n", " ")


def _fence(lines: Sequence[str]) -> list[str]:
    body = [_visible(line, 2000) for line in lines]
    longest = max((len(m) for line in body for m in re.findall(r"`+|~+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *body, fence]


def _md_table(rows: list[dict[str, Any]], cols: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return ["_none_", ""]
    out = ["| " + " | ".join(t for _, t in cols) + " |", "|" + "---|" * len(cols)]
    for row in rows[:MAX_TABLE_ROWS]:
        out.append("| " + " | ".join(_md(row.get(k)) for k, _ in cols) + " |")
    if len(rows) > MAX_TABLE_ROWS:
        out.append(f"\n_{len(rows) - MAX_TABLE_ROWS} more rows in the JSON report._")
    return [*out, ""]


def to_markdown(report: dict[str, Any]) -> str:
    f = report
    lines = [
        f"# Hunting report: {_md(f['host'])}",
        "",
        f"Window: {f['start']} – {f['end']} (UTC). Generated {f['generated']}. Schema `{f['schema']}`.",
        "",
        "## Summary",
        "",
        "| Severity | Findings |",
        "|---|---|",
        *(f"| {s} | {n} |" for s, n in f["summary"].items()),
        "",
        "What was searched: "
        + ", ".join(f"{_md(k.replace('_', ' '))} {v:,}" for k, v in f["searched"].items())
        + ".",
        "",
        f"Logons: {f['logons']['success']:,} successful, {f['logons']['failure']:,} failed.",
        "",
        "## Host record",
        "",
    ]
    rec = f["host_record"]
    for key in ("os", "environment", "country", "first_seen", "last_seen"):
        lines.append(f"- {key.replace('_', ' ')}: {_md(rec.get(key) or '–')}")
    lines.append(
        "- addresses: " + (", ".join(f"{_md(i['ip'])} ({_md(i['scope'])})" for i in rec["ips"]) or "–")
    )
    lines += ["", "## Attack timeline", ""]
    by_id = {x["id"]: x for x in f["findings"]}
    if not f["timeline"]:
        lines += ["_No findings._", ""]
    for n, group in enumerate(f["timeline"], 1):
        who = ", ".join(_md(x) for x in [*group["users"], *group["ips"], *group["sessions"]])
        lines += [
            f"### {n}. {group['start']} – {group['end']} ({group['severity']}): {who or 'unlinked'}",
            "",
        ]
        for fid in group["finding_ids"]:
            x = by_id.get(fid)
            if x:
                lines.append(f"- {x['time']} **{x['severity']}** {_md(x['title'])} ({', '.join(x['mitre'])})")
        lines.append("")
    lines += ["## Findings", ""]
    for x in f["findings"]:
        techniques = ", ".join(f"[{t}]({mitre_url(t)})" for t in x["mitre"])
        lines += [
            f"### [{x['severity']}] {_md(x['title'])}",
            "",
            f"- time: {x['time']}" + (f" – {x['end']}" if x.get("end") else ""),
            f"- ATT&CK: {techniques or '–'}",
            f"- user: {_md(x.get('user') or '–')}; address: {_md(x.get('source_ip') or '–')}; "
            f"session: {_md(x.get('session') or '–')}; occurrences: {x['occurrences']}",
            f"- rule: `{x['rule_id']}`" + "".join(f" ([Sigma rule]({u}))" for u in _rule_urls(x)),
            "",
            _md(x.get("detail") or "", 2000),
            "",
            *_fence(x["evidence"]),
            "",
        ]
    lines += _md_coverage(f)
    lines += _md_sigma(f)
    for key, title, cols in _TABLES:
        lines += [f"## {title}", "", *_md_table(_get(f, key), cols)]
    return "\n".join(lines) + "\n"


# --- HTML --------------------------------------------------------------------------------------

_CSS: Final = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#1d1d1f}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}th,td{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top;font-size:12.5px;word-break:break-word}th{background:#f3f3f3}
pre{background:#f7f7f7;border:1px solid #e2e2e2;padding:6px;white-space:pre-wrap;word-break:break-all;
font-size:11.5px}.sev{font-weight:600;padding:1px 6px;border-radius:3px;color:#fff;white-space:nowrap}
.high{background:#c62828}.medium{background:#ef6c00}.low{background:#607d8b}
.finding{border:1px solid #ddd;border-radius:4px;padding:.4em .8em;margin:.8em 0;page-break-inside:avoid}
.muted{color:#666}@media print{body{margin:1cm}a{color:inherit}.finding{break-inside:avoid}}
"""


def _e(value: object, limit: int = MAX_CELL) -> str:
    return html.escape(_visible(value, limit), quote=True)


def _html_table(rows: list[dict[str, Any]], cols: list[tuple[str, str]]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{_e(t)}</th>" for _, t in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(r.get(k))}</td>" for k, _ in cols) + "</tr>" for r in rows[:MAX_TABLE_ROWS]
    )
    more = (
        f'<p class="muted">{len(rows) - MAX_TABLE_ROWS} more rows in the JSON report.</p>'
        if len(rows) > MAX_TABLE_ROWS
        else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _sev(s: str) -> str:
    cls = s if s in ("high", "medium", "low") else "low"
    return f'<span class="sev {cls}">{_e(s)}</span>'


def to_html(report: dict[str, Any]) -> str:
    f = report
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No scripts, no outside resources: the report opens the same offline and prints as shown.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>Hunting report: {_e(f['host'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>Hunting report: {_e(f['host'])}</h1>",
        f'<p class="muted">Window {_e(f["start"])} – {_e(f["end"])} (UTC) · generated {_e(f["generated"])} · '
        f"schema {_e(f['schema'])} · source {_e(f.get('source'))}</p>",
        "<h2>Summary</h2><p>"
        + " ".join(f"{_sev(s)} {int(n)}" for s, n in f["summary"].items())
        + f" · logons: {int(f['logons']['success']):,} successful, {int(f['logons']['failure']):,} failed</p>",
        "<p>What was searched: "
        + ", ".join(f"{_e(k.replace('_', ' '))} {int(v):,}" for k, v in f["searched"].items())
        + ".</p>",
    ]
    rec = f["host_record"]
    items = [
        (k.replace("_", " "), rec.get(k) or "–")
        for k in ("os", "environment", "country", "first_seen", "last_seen")
    ]
    items.append(("addresses", ", ".join(f"{i['ip']} ({i['scope']})" for i in rec["ips"]) or "–"))
    parts.append(
        "<h2>Host record</h2><table><tbody>"
        + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in items)
        + "</tbody></table>"
    )
    parts.append("<h2>Attack timeline</h2>")
    by_id = {x["id"]: x for x in f["findings"]}
    if not f["timeline"]:
        parts.append('<p class="muted">No findings.</p>')
    for n, g in enumerate(f["timeline"], 1):
        who = ", ".join(str(x) for x in [*g["users"], *g["ips"], *g["sessions"]]) or "unlinked"
        rows = "".join(
            f"<tr><td>{_e(x['time'])}</td><td>{_sev(x['severity'])}</td><td>{_e(defang(x['title']))}</td>"
            f"<td>{_e(', '.join(x['mitre']))}</td></tr>"
            for x in (by_id[i] for i in g["finding_ids"] if i in by_id)
        )
        parts.append(
            f"<h3>{n}. {_e(g['start'])} – {_e(g['end'])} {_sev(g['severity'])} {_e(who)}</h3>"
            f"<table><thead><tr><th>Time</th><th>Severity</th><th>Finding</th><th>ATT&amp;CK</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    parts.append("<h2>Findings</h2>")
    if not f["findings"]:
        parts.append('<p class="muted">No findings: see what was searched above.</p>')
    for x in f["findings"]:
        links = ", ".join(
            f'<a href="{html.escape(mitre_url(t), quote=True)}">{_e(t)}</a>' for t in x["mitre"]
        )
        when = _e(x["time"]) + (f" – {_e(x['end'])}" if x.get("end") else "")
        evidence = html.escape("\n".join(_visible(line, 2000) for line in x["evidence"]), quote=True)
        parts.append(
            f'<div class="finding"><h3>{_sev(x["severity"])} {_e(defang(x["title"]))}</h3>'
            f"<p>{when} · ATT&amp;CK {links or '–'} · user {_e(x.get('user') or '–')} · address "
            f"{_e(x.get('source_ip') or '–')} · session {_e(x.get('session') or '–')} · "
            f"{int(x['occurrences'])} occurrence(s) · rule {_e(x['rule_id'])}"
            + "".join(f' (<a href="{html.escape(u, quote=True)}">Sigma rule</a>)' for u in _rule_urls(x))
            + "</p>"
            f"<p>{_e(defang(x.get('detail') or ''), 2000)}</p><pre>{evidence}</pre></div>"
        )
    parts.append(_html_coverage(f))
    parts.append(_html_sigma(f))
    for key, title, cols in _TABLES:
        parts.append(f"<h2>{_e(title)}</h2>{_html_table(_get(f, key), cols)}")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


_SIGMAHQ: Final = "https://github.com/SigmaHQ/sigma/blob/"
_SAFE_URL: Final = re.compile(r"[A-Za-z0-9_./:-]+")
_SIGMA_COLS: Final = [("title", "Rule"), ("rule_id", "Id"), ("path", "File"), ("reason", "Why skipped")]


def _rule_urls(finding: dict[str, Any]) -> list[str]:
    """Links to a Sigma rule on SigmaHQ's GitHub (the only outside links a finding carries; the
    URL is the pinned snapshot's prefix plus the rule's path in it, see hunting.sigma.rules)."""
    pages = (str(lk.get("page", "")) for lk in finding.get("links", []))
    return [u for u in pages if u.startswith(_SIGMAHQ) and _SAFE_URL.fullmatch(u)]


def _md_sigma(f: dict[str, Any]) -> list[str]:
    sigma = f.get("sigma")
    if not sigma:
        return []
    lines = [
        "## Sigma rules",
        "",
        f"{int(sigma['evaluated'])} evaluated, {len(sigma['skipped'])} skipped.",
        "",
    ]
    lines += [f"- {_md(n, 500)}" for n in sigma["notes"]]
    return [*lines, "", "Skipped rules:", "", *_md_table(sigma["skipped"], _SIGMA_COLS)]


def _html_sigma(f: dict[str, Any]) -> str:
    sigma = f.get("sigma")
    if not sigma:
        return ""
    notes = "".join(f"<li>{_e(n, 500)}</li>" for n in sigma["notes"])
    return (
        f"<h2>Sigma rules</h2><p>{int(sigma['evaluated'])} evaluated, {len(sigma['skipped'])} skipped.</p>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + f"<h3>Skipped rules</h3>{_html_table(sigma['skipped'], _SIGMA_COLS)}"
    )


_COVERAGE_COLS: Final = [
    ("status", "Status"),
    ("findings", "Findings"),
    ("fired", "Fired"),
    ("ran", "Ran, no match"),
    ("not_here", "Cannot run here (why)"),
]
_COVERAGE_CELL: Final = 1500
_COVERAGE_INTRO: Final = (
    "ATT&CK techniques the built-in detectors and the Sigma rules cover, for the data present on "
    "this host and range: fired (a finding carries it), covered (a rule for it can run here), "
    "not covered here (no data for its rules, or the rule was skipped)."
)


def _valid_technique(t: object) -> str | None:
    try:
        return mitre_url(str(t))
    except ValueError:
        return None


def _md_coverage(f: dict[str, Any]) -> list[str]:
    cov = f.get("coverage")
    if not cov:
        return []
    counts = ", ".join(f"{int(n)} {_md(s)}" for s, n in cov["counts"].items())
    lines = ["## ATT&CK coverage", "", _md(_COVERAGE_INTRO, 1000), "", f"Techniques: {counts}.", ""]
    lines += [f"- {_md(n, 500)}" for n in cov["notes"]]
    rows = coverage_rows(cov)
    if not rows:
        return [*lines, "_none_", ""]
    lines += ["", "| ATT&CK | " + " | ".join(t for _, t in _COVERAGE_COLS) + " |"]
    lines.append("|" + "---|" * (len(_COVERAGE_COLS) + 1))
    for row in rows[:MAX_TABLE_ROWS]:
        url = _valid_technique(row["technique"])
        tech = f"[{row['technique']}]({url})" if url else _md(row["technique"])
        lines.append(
            f"| {tech} | " + " | ".join(_md(row[k], _COVERAGE_CELL) for k, _ in _COVERAGE_COLS) + " |"
        )
    if len(rows) > MAX_TABLE_ROWS:
        lines.append(f"\n_{len(rows) - MAX_TABLE_ROWS} more rows in the JSON report._")
    return [*lines, ""]


def _html_coverage(f: dict[str, Any]) -> str:
    cov = f.get("coverage")
    if not cov:
        return ""
    counts = ", ".join(f"{int(n)} {_e(s)}" for s, n in cov["counts"].items())
    notes = "".join(f"<li>{_e(n, 500)}</li>" for n in cov["notes"])
    rows = coverage_rows(cov)
    body = []
    for row in rows[:MAX_TABLE_ROWS]:
        url = _valid_technique(row["technique"])
        tech = (
            f'<a href="{html.escape(url, quote=True)}">{_e(row["technique"])}</a>'
            if url
            else _e(row["technique"])
        )
        cells = "".join(f"<td>{_e(row[k], _COVERAGE_CELL)}</td>" for k, _ in _COVERAGE_COLS)
        body.append(f"<tr><td>{tech}</td>{cells}</tr>")
    head = "<th>ATT&amp;CK</th>" + "".join(f"<th>{_e(t)}</th>" for _, t in _COVERAGE_COLS)
    table = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        if rows
        else '<p class="muted">none</p>'
    )
    more = (
        f'<p class="muted">{len(rows) - MAX_TABLE_ROWS} more rows in the JSON report.</p>'
        if len(rows) > MAX_TABLE_ROWS
        else ""
    )
    return (
        f"<h2>ATT&amp;CK coverage</h2><p>{_e(_COVERAGE_INTRO, 1000)}</p><p>Techniques: {counts}.</p>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + table
        + more
    )


RENDERERS: Final[dict[str, Callable[[dict[str, Any]], str]]] = {
    "json": to_json,
    "md": to_markdown,
    "html": to_html,
}


def render(report: dict[str, Any], fmt: str) -> str:
    """The report as ``fmt`` (json, md or html)."""
    if fmt not in RENDERERS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return RENDERERS[fmt](report)
