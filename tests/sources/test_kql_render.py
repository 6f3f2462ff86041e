"""KQL literals and templates: escaping, validation, and Microsoft's Kusto parser on every template."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from hunting.errors import QueryError
from hunting.queries import QUERY_DIR
from hunting.queries.kql_render import (
    declared_params,
    kql_bool,
    kql_datetime,
    kql_long,
    kql_string,
    kql_strings,
    kql_timespan,
    render_kql,
    template_name,
    validate_host,
    validate_table,
)

KUSTO_DIR = Path(__file__).resolve().parents[1] / "kusto"
TEMPLATES = sorted(p.stem for p in (QUERY_DIR / "kql").glob("*.kql"))
EVIL = 'x" or 1==1 | take 1000 //'

# Realistic values for every parameter name a template declares.
VALUES: dict[str, object] = {
    "syslog_table": "Syslog",
    "audit_table": "AuditLog_CL",
    "alert_table": "SecurityAlert",
    "heartbeat_table": "Heartbeat",
    "flow_table": "AzureNetworkAnalytics_CL",
    "host": "squid-uk-02",
    "start": datetime(2019, 7, 1, tzinfo=UTC),
    "end": datetime(2019, 7, 20, 12, 30, tzinfo=UTC),
    "since": datetime(2019, 7, 13, tzinfo=UTC),
    "row_cap": 50_001,
    "bucket": timedelta(minutes=5),
    "volume_key": "SeverityLevel",
    "name_contains": "squid",
    "record_types": ["USER_LOGIN", "USER_AUTH", "USER_CMD"],
}


def render(name: str, **overrides: object) -> str:
    return render_kql(name, **{p: overrides.get(p, VALUES[p]) for p in declared_params(name)})


# --- literal helpers ------------------------------------------------------------------------


def test_kql_string_escapes_backslash_before_quote() -> None:
    assert kql_string('a\\"b') == '"a\\\\\\"b"'


def test_kql_string_escapes_line_breaks_and_tabs() -> None:
    assert kql_string("a\nb\rc\td") == '"a\\nb\\rc\\td"'


def test_kql_string_keeps_unicode() -> None:
    assert kql_string("hôte-東京") == '"hôte-東京"'


@pytest.mark.parametrize("bad", ["a\x00b", "\x1b[31m", "x\x7f", "bell\x07"])
def test_kql_string_rejects_control_characters(bad: str) -> None:
    with pytest.raises(QueryError, match="control character"):
        kql_string(bad)


def test_kql_string_rejects_non_text() -> None:
    with pytest.raises(TypeError):
        kql_string(5)  # type: ignore[arg-type]


def test_kql_datetime_utc_with_seven_fraction_digits() -> None:
    assert kql_datetime(datetime(2026, 3, 12, 18, 0, tzinfo=UTC)) == "datetime(2026-03-12T18:00:00.0000000Z)"
    assert kql_datetime(datetime(2026, 3, 12, 18, 0, 0, 123456, tzinfo=UTC)).endswith(".1234560Z)")


def test_kql_datetime_converts_other_zones_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert (
        kql_datetime(datetime(2026, 3, 12, 19, 0, tzinfo=paris)) == "datetime(2026-03-12T18:00:00.0000000Z)"
    )


def test_kql_datetime_rejects_naive() -> None:
    with pytest.raises(QueryError, match="no time zone"):
        kql_datetime(datetime(2026, 3, 12, 18, 0))


def test_kql_long_rejects_bool_and_overflow() -> None:
    assert kql_long(-5) == "-5"
    with pytest.raises(TypeError):
        kql_long(True)
    with pytest.raises(QueryError):
        kql_long(2**63)


def test_kql_timespan_seconds_and_ticks() -> None:
    assert kql_timespan(timedelta(hours=1)) == "3600s"
    assert kql_timespan(timedelta(seconds=1, microseconds=5)) == "10000050tick"
    with pytest.raises(QueryError):
        kql_timespan(timedelta(seconds=-1))


def test_kql_bool_and_strings() -> None:
    assert kql_bool(False) == "false"
    assert kql_strings(["sshd", 'a"b']) == 'dynamic(["sshd", "a\\"b"])'
    with pytest.raises(TypeError):
        kql_strings("sshd")


@pytest.mark.parametrize("host", ["squid-uk-02", "MSTICAlertsLxVM2", "db01.corp.example.com", "WIN_10", "a"])
def test_validate_host_accepts_dns_and_netbios_names(host: str) -> None:
    assert validate_host(host) == host


@pytest.mark.parametrize("host", [EVIL, "", "a b", "host;drop", "-x", "h\u00f4te", "x" * 256, 'a"', "a\\b"])
def test_validate_host_rejects_anything_else(host: str) -> None:
    with pytest.raises(QueryError, match="not a valid host name"):
        validate_host(host)


def test_validate_table_rejects_expressions() -> None:
    assert validate_table("AuditLog_CL") == "AuditLog_CL"
    with pytest.raises(QueryError):
        validate_table("Syslog | take 1")


# --- rendering --------------------------------------------------------------------------------


def test_render_kql_prelude_binds_every_value() -> None:
    text = render("syslog")
    head = text.splitlines()[:6]
    assert head == [
        "// hunting:syslog",
        'let syslog_table = "Syslog";',
        'let host = "squid-uk-02";',
        "let start = datetime(2019-07-01T00:00:00.0000000Z);",
        "let end = datetime(2019-07-20T12:30:00.0000000Z);",
        "let row_cap = 50001;",
    ]
    assert template_name(text) == "syslog"


def test_render_kql_missing_or_extra_parameters() -> None:
    with pytest.raises(KeyError, match="missing"):
        render_kql("syslog", host="a")
    with pytest.raises(KeyError, match="unexpected"):
        render("syslog") and render_kql("syslog", **{**dict.fromkeys(declared_params("syslog")), "x": 1})


def test_render_kql_rejects_host_injection_before_any_text() -> None:
    with pytest.raises(QueryError, match="not a valid host name"):
        render("syslog", host=EVIL)


def test_template_bodies_contain_no_python_formatting() -> None:
    # Values only ever arrive through the prelude: no {placeholders} in the files.
    for name in TEMPLATES:
        body = (QUERY_DIR / "kql" / f"{name}.kql").read_text()
        assert not re.search(r"\{[a-z_]+\}", body), name


def test_template_regexes_compile_without_lookaround() -> None:
    # Kusto's RE2 has no look-around or back-references; Python's re catches typos.
    for name in TEMPLATES:
        body = (QUERY_DIR / "kql" / f"{name}.kql").read_text()
        for lit in re.findall(r'@"((?:[^"]|"")*)"', body):
            pattern = lit.replace('""', '"')
            if re.fullmatch(r"%?\\1", pattern):
                continue  # a replace_regex rewrite, not a pattern
            assert "(?=" not in pattern and "(?!" not in pattern and "(?<" not in pattern, (name, pattern)
            re.compile(pattern)


# --- Microsoft's Kusto parser ---------------------------------------------------------------

ROUND_TRIP = [
    "",
    "\\",
    '"',
    '\\"',
    "a\\nb",
    "line1\nline2\r\n\ttab",
    "' single ' quotes",
    "// not a comment",
    "; let x = 1;",
    '@"verbatim"',
    "東京 ünïcödé 🙂",
    '"); Syslog | take 1 //',
]


def _all_queries() -> dict[str, str]:
    """Everything the tests below ask the parser, in one node run (it takes a second to start)."""
    queries = {f"template:{name}": render(name) for name in TEMPLATES}
    queries["broken"] = render("syslog").replace("SyslogMessage", "SyslogMesage")
    queries["evil"] = render("hosts", name_contains=EVIL)
    queries["plain"] = render("hosts", name_contains="squid")
    for i, s in enumerate(ROUND_TRIP):
        queries[f"literal:{i}"] = f"let v = {kql_string(s)};\nprint v"
    return queries


@pytest.fixture(scope="module")
def kusto() -> dict[str, dict]:
    """tests/kusto/check.js results; skips visibly without node or node_modules (fails in CI)."""
    node = shutil.which("node")
    modules = KUSTO_DIR / "node_modules" / "@kusto" / "language-service-next"
    reason = None
    if node is None:
        reason = "node is not installed"
    elif not modules.is_dir():
        reason = f"run `npm ci --prefix {KUSTO_DIR}` to install the Kusto parser"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"KQL check cannot run in CI: {reason}")
        pytest.skip(reason)
    assert node is not None
    schema = json.loads((KUSTO_DIR / "schema.json").read_text())
    proc = subprocess.run(
        [node, str(KUSTO_DIR / "check.js")],
        input=json.dumps({"schema": schema, "queries": _all_queries()}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_templates_analyse_without_diagnostics(kusto) -> None:
    results = {k.split(":", 1)[1]: v for k, v in kusto.items() if k.startswith("template:")}
    assert sorted(results) == TEMPLATES and len(TEMPLATES) == 15
    problems = {n: r["diagnostics"] for n, r in results.items() if r["diagnostics"]}
    assert problems == {}


def test_checker_reports_unknown_column(kusto) -> None:
    # The check is not vacuous: a misspelt column in a real template is an error.
    diags = kusto["broken"]["diagnostics"]
    assert [(d["code"], d["text"]) for d in diags] == [("KS142", "SyslogMesage")]


def test_injection_text_stays_one_string_literal(kusto) -> None:
    lets = {x["name"]: x for x in kusto["evil"]["lets"]}
    assert lets["name_contains"] == {
        "name": "name_contains",
        "kind": "StringLiteralExpression",
        "value": EVIL,
    }
    # Same syntax tree whatever the text: the value cannot add operators or statements.
    assert kusto["evil"]["shape"] == kusto["plain"]["shape"]
    assert kusto["evil"]["diagnostics"] == []


def test_string_literals_round_trip_through_the_parser(kusto) -> None:
    for i, s in enumerate(ROUND_TRIP):
        r = kusto[f"literal:{i}"]
        assert r["diagnostics"] == [], s
        assert r["lets"] == [{"name": "v", "kind": "StringLiteralExpression", "value": s}]
