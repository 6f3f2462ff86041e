"""AppTest of the Findings page: what it shows is what hunting.analysis.findings finds on the same data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hunting.analysis.findings import collect, find_all
from hunting.demo.scenario import demo_log_paths
from hunting.sigma.engine import SigmaHunt
from hunting.sigma.rules import load_rules
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
from tests.app.conftest import no_exception, run_page

PAGE = "pages/8_Findings.py"


@pytest.fixture(scope="module")
def demo_source() -> LocalSource:
    return LocalSource.from_paths(demo_log_paths())


def _expected(source: LocalSource, host: str):
    row = source.hosts().set_index("Computer").loc[host]
    last = row["LastSeen"].to_pydatetime()
    # the page adds the shipped Sigma rules' matches through the engine's extra hook
    sigma = SigmaHunt(load_rules(), source)
    return find_all(collect(source, host, TimeRange(last - timedelta(days=7), last)), extra=[sigma])


def _metrics(at) -> dict[str, str]:
    """Metric values by severity word; the label's icon is a Material icon, never an emoji
    (issue 14 item 11: emoji show as empty boxes without an emoji font)."""
    out = {}
    for m in at.metric:
        icon, _, word = m.label.rpartition(" ")
        if word in ("High", "Medium", "Low"):
            assert ":material/" in icon and icon.isascii(), m.label
        out[word] = m.value
    return out


def test_findings_page_web01_matches_engine(demo_source: LocalSource) -> None:
    at = run_page(PAGE, params={"host": "web01", "range": "7d"})
    no_exception(at)
    expected = _expected(demo_source, "web01")
    tables = [d.value for d in at.dataframe if "Id" in d.value.columns]
    assert len(tables) == 1
    table = tables[0]
    assert table["Id"].tolist() == [f.id for f in expected.findings]
    assert table["Severity"].tolist() == [f.severity for f in expected.findings]
    assert table["Title"].tolist() == [f.title for f in expected.findings]
    metrics = _metrics(at)
    assert metrics["High"] == str(expected.counts()["high"])
    assert metrics["Medium"] == str(expected.counts()["medium"])
    # and with the rows of the page's own table, counted here rather than by the engine
    for word in ("High", "Medium", "Low"):
        assert metrics[word] == str((table["Severity"] == word.lower()).sum())
    assert expected.counts()["high"] > 0
    # one expander per finding, labelled with its severity
    labels = [e.label for e in at.expander if "·" in e.label]
    assert len(labels) == len(expected.findings)
    # ATT&CK links point at the technique pages
    text = " ".join(m.value for m in at.markdown)
    assert "https://attack.mitre.org/techniques/T1548/003/" in text
    # evidence is shown as code, never as markdown
    codes = "\n".join(c.value for c in at.code)
    deploy_logon = next(f for f in expected.findings if f.rule_id == "logon.success_after_failures")
    assert deploy_logon.evidence[0] in codes


def test_findings_page_db01_has_no_medium_or_high() -> None:
    at = run_page(PAGE, params={"host": "db01", "range": "7d"})
    no_exception(at)
    metrics = _metrics(at)
    assert metrics["High"] == "0"
    assert metrics["Medium"] == "0"
    assert metrics["Low"] == str(_expected(LocalSource.from_paths(demo_log_paths()), "db01").counts()["low"])
    tables = [d.value for d in at.dataframe if "Severity" in d.value.columns]
    for t in tables:
        assert set(t["Severity"]) <= {"low"}
    searched = next(d.value for d in at.dataframe if "Searched" in d.value.columns)
    counts = dict(zip(searched["Searched"], searched["Count"], strict=True))
    assert counts["process starts"] > 0 and counts["logon attempts"] > 0


def test_findings_page_coverage_table(demo_source: LocalSource) -> None:
    """The ATT&CK coverage table: the rows hunting.detections.coverage gives for the same hunt;
    web01's brute force is fired; on app02 (no audit log in the demo) auditd Sigma rules lack data."""
    import re

    from hunting.detections.coverage import coverage

    # grep-style check of the input: web01's auth.log holds failed password lines (the brute force)
    auth = (demo_log_paths()[-1] / "auth.log").read_text(encoding="utf-8")
    assert demo_log_paths()[-1].name == "web01"
    assert len(re.findall(r"sshd\[\d+\]: Failed password for ", auth)) > 100
    for host in ("web01", "app02"):
        hosts = demo_source.hosts()
        name = str(hosts.loc[hosts["Computer"].str.lower() == host, "Computer"].iloc[0])  # app02 is APP02
        at = run_page(PAGE, params={"host": name, "range": "7d"})
        no_exception(at)
        [label] = [e.label for e in at.expander if e.label.startswith("ATT&CK coverage")]
        tables = [d.value for d in at.dataframe if "Cannot run here (why)" in d.value.columns]
        assert len(tables) == 1
        table = tables[0]
        last = hosts.set_index("Computer").loc[name, "LastSeen"].to_pydatetime()
        data = collect(demo_source, name, TimeRange(last - timedelta(days=7), last))
        expected = coverage(data, _expected(demo_source, name), load_rules())
        assert table["ATT&CK"].tolist() == [t.technique for t in expected.techniques]
        assert table["Status"].tolist() == [t.status for t in expected.techniques]
        assert label == "ATT&CK coverage: " + ", ".join(f"{n} {s}" for s, n in expected.counts().items())
        by_id = table.set_index("ATT&CK")
        if host == "web01":
            assert by_id.loc["T1110.001", "Status"] == "fired"
            assert "logon.password_guessing ×" in by_id.loc["T1110.001", "Fired"]
        else:
            assert not (demo_log_paths()[0] / "audit").exists() and demo_log_paths()[0].name == "app02"
            assert "no data: no auditd events" in " ".join(table["Cannot run here (why)"])
            assert "no auditd events" not in " ".join(table["Ran, no match"])
