"""The report: schema-valid JSON of the demo host, logon counts checked on loghub's OpenSSH sample, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hunting.demo.scenario import demo_log_paths, demo_manifest
from hunting.errors import HuntingError
from hunting.readers.base import ReadOptions
from hunting.report import SCHEMA_FILE, SCHEMA_ID
from hunting.report.build import build_report
from hunting.report.render import render, to_html, to_markdown
from hunting.sources.local import LocalSource

HOSTILE_USER = "<script>alert(1)</script>"
HOSTILE_CMD = "<img src=x onerror=alert(1)>"


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def demo_report() -> dict[str, Any]:
    source = LocalSource.from_paths(demo_log_paths())
    return build_report(source, demo_manifest().truth["host"])


@pytest.fixture(scope="module")
def openssh(shared_data: Path) -> tuple[Path, dict[str, Any]]:
    path = shared_data / "loghub" / "OpenSSH_2k.log"
    source = LocalSource.from_paths([path], ReadOptions(year=2015))
    return path, build_report(source, "LabSZ")


def test_build_report_demo_validates_against_schema(demo_report: dict[str, Any]) -> None:
    errors = [f"{e.json_path}: {e.message}" for e in _validator().iter_errors(demo_report)]
    assert errors == []
    assert demo_report["schema"] == SCHEMA_ID
    # the JSON survives a round trip through the text renderer unchanged
    assert json.loads(render(demo_report, "json")) == demo_report


def test_build_report_demo_tables_hold_the_story(demo_report: dict[str, Any]) -> None:
    truth = demo_manifest().truth
    added = [a["user"] for a in demo_report["account_changes"] if a["action"] == "user_add"]
    assert added == [truth["new_account"]]
    assert truth["tool_path"] in {p["exe"] for p in demo_report["processes"]}
    cron_runs = [c for c in demo_report["cron"]["executions"] if c["command"] == truth["cron_command"]]
    assert len(cron_runs) == truth["malicious_cron_runs"]
    domains = {i["value"]: i["type"] for i in demo_report["iocs"]}
    assert domains.get(truth["domain"]) == "dns"
    assert truth["pids"]["dropped_tool"] in {e["child_pid"] for e in demo_report["process_tree"]}
    high = [f for f in demo_report["findings"] if f["severity"] == "high"]
    assert demo_report["summary"]["high"] == len(high) > 0


def _weighted_failures(path: Path) -> tuple[int, int, int]:
    """(Failed password lines, failures weighted by 'message repeated N times', Accepted lines), by regex."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    failed = [ln for ln in lines if "Failed password" in ln]
    weighted = 0
    for ln in failed:
        m = re.search(r"message repeated (\d+) times", ln)
        weighted += int(m.group(1)) if m else 1
    accepted = [ln for ln in lines if re.search(r"sshd\[\d+\]: Accepted ", ln)]
    return len(failed), weighted, len(accepted)


def test_build_report_openssh_logon_counts(openssh: tuple[Path, dict[str, Any]]) -> None:
    path, report = openssh
    lines, weighted, accepted = _weighted_failures(path)
    assert (lines, weighted, accepted) == (520, 528, 1)  # grep -c "Failed password"; 2 lines repeat 5 times
    assert report["logons"]["failure"] == weighted
    assert report["logons"]["success"] == accepted
    events = report["logons"]["events"]
    assert sum(e["count"] for e in events if e["result"] == "Failure") == weighted
    ok = [e for e in events if e["result"] == "Success"]
    assert [(e["user"], e["source_ip"], e["time"]) for e in ok] == [
        ("fztu", "119.137.62.142", "2015-12-10T09:32:20Z")
    ]
    assert report["start"] == "2015-12-10T06:55:46Z"
    assert [e for e in _validator().iter_errors(report)] == []


def test_build_report_openssh_new_source_finding(openssh: tuple[Path, dict[str, Any]]) -> None:
    _, report = openssh
    new = [f for f in report["findings"] if f["rule_id"] == "logon.new_source"]
    assert [(f["source_ip"], f["user"], f["severity"]) for f in new] == [("119.137.62.142", "fztu", "medium")]


def test_build_report_unknown_host(demo_report: dict[str, Any]) -> None:
    source = LocalSource.from_paths(demo_log_paths())
    with pytest.raises(HuntingError, match=r"unknown host 'nope'.*web01"):
        build_report(source, "nope")


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """auth.log lines whose user name and sudo command are HTML/JS, enough to raise findings."""
    folder = tmp_path_factory.mktemp("hostile")
    lines = [
        f"Mar  1 10:{i:02d}:00 evil sshd[{100 + i}]: Failed password for invalid user {HOSTILE_USER} "
        f"from 203.0.113.7 port {4000 + i} ssh2"
        for i in range(20)
    ]
    lines.append(
        f"Mar  1 10:30:00 evil sshd[200]: Accepted password for {HOSTILE_USER} from 8.8.8.8 port 5000 ssh2"
    )
    lines.append(
        f"Mar  1 10:31:00 evil sudo:   bob : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash -c {HOSTILE_CMD}"
    )
    lines.append("Mar  1 10:32:00 evil sudo:   bob : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh")
    (folder / "auth.log").write_text("\n".join(lines) + "\n")
    source = LocalSource.from_paths([folder], ReadOptions(year=2024))
    return build_report(source, "evil")


def test_to_html_escapes_log_text(hostile_report: dict[str, Any]) -> None:
    text = to_html(hostile_report)
    assert HOSTILE_USER in json.dumps(hostile_report)  # the data holds it raw ...
    assert any(HOSTILE_USER in " ".join(f["evidence"]) for f in hostile_report["findings"])
    assert any(HOSTILE_CMD in s["command"] for s in hostile_report["sudo"])
    assert "<script" not in text.lower()  # ... the page never does
    assert "<img" not in text.lower()
    assert "onerror=alert(1)>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "http://" not in text.replace("https://attack.mitre.org/", "")  # no outside resources
    assert "<link" not in text and "src=" not in text.replace("&lt;img src=x", "")


def test_to_markdown_escapes_log_text(hostile_report: dict[str, Any]) -> None:
    text = to_markdown(hostile_report)
    outside_fences = re.sub(r"(`{3,})text\n.*?\n\1", "", text, flags=re.S)
    # every < outside the fences is escaped, so no Markdown viewer renders it as HTML
    assert re.findall(r"(?<!\\)<", outside_fences) == []
    assert "\\<img src\\=x onerror\\=alert\\(1\\)\\>" in outside_fences
    assert HOSTILE_USER in text  # inside an evidence fence, as the raw line


def test_render_unknown_format(hostile_report: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        render(hostile_report, "pdf")


def test_report_coverage_section(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The ATT&CK coverage section: schema-valid, one row per technique with what fired and what
    cannot run for lack of data, and a rule title that is HTML rendered inertly in HTML and Markdown.

    The input is written here: 20 sshd "Failed password" lines from one address (the built-in
    guessing threshold is 16 in 4 h; a Sigma keyword rule matches them too) and no audit log, so
    the auditd rule beside it has no data."""
    folder = tmp_path_factory.mktemp("coverage")
    lines = [
        f"Mar  1 10:{i:02d}:00 evil sshd[{100 + i}]: Failed password for root from 203.0.113.7 port {4000 + i} ssh2"
        for i in range(20)
    ]
    (folder / "auth.log").write_text("\n".join(lines) + "\n")
    rules_dir = folder / "rules"
    rules_dir.mkdir()
    (rules_dir / "guess.yml").write_text(
        "title: " + json.dumps(HOSTILE_USER) + "\n"
        "id: 5b0c1a52-0000-4000-8000-000000000001\n"
        "status: test\nlevel: medium\ntags: [attack.t1110.001]\n"
        "logsource: {product: linux, service: sshd}\n"
        "detection: {keywords: ['Failed password'], condition: keywords}\n"
    )
    (rules_dir / "auditd.yml").write_text(
        "title: Auditd shell\nid: 5b0c1a52-0000-4000-8000-000000000002\n"
        "status: test\nlevel: low\ntags: [attack.t1059.004]\n"
        "logsource: {product: linux, service: auditd}\n"
        "detection: {sel: {type: EXECVE, a0: bash}, condition: sel}\n"
    )
    from hunting.sigma.rules import load_rules

    rules = load_rules([rules_dir])
    assert len(rules.rules) == 2, rules.skipped
    report = build_report(LocalSource.from_paths([folder], ReadOptions(year=2024)), "evil", sigma=rules)
    errors = [f"{e.json_path}: {e.message}" for e in _validator().iter_errors(report)]
    assert errors == []
    rows = {t["technique"]: t for t in report["coverage"]["techniques"]}
    guess = {r["rule_id"]: r for r in rows["T1110.001"]["rules"]}
    assert rows["T1110.001"]["status"] == "fired"
    assert guess["logon.password_guessing"]["findings"] == 1
    assert guess["sigma:5b0c1a52-0000-4000-8000-000000000001"]["findings"] == 1
    shell = {r["rule_id"]: r for r in rows["T1059.004"]["rules"]}[
        "sigma:5b0c1a52-0000-4000-8000-000000000002"
    ]
    assert shell["runs"] is False and shell["reason"].startswith("no data: no auditd events")
    assert report["coverage"]["techniques"][0]["status"] == "fired"  # fired rows first
    html_text = to_html(report)
    section = html_text[html_text.index("<h2>ATT&amp;CK coverage</h2>") :]
    assert "<script" not in section.lower() and "Sigma: &lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert '<a href="https://attack.mitre.org/techniques/T1110/001/">T1110.001</a>' in section
    md_text = to_markdown(report)
    md_section = md_text[md_text.index("## ATT&CK coverage") :]
    assert re.findall(r"(?<!\\)<", md_section) == []
    assert "Auditd shell \\(no data\\: no auditd events" in md_section
