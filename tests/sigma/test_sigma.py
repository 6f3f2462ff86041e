"""Loading the SigmaHQ snapshot and analysts' folders, skipped rules, and RE2 safety.

Which rules fire on the demo's intrusion and on real samples, with independent checks of why,
is tests/sigma/test_sigma_fires.py; local versus KQL matches, tests/sigma/test_sigma_kql.py.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from hunting.demo.scenario import demo_log_paths
from hunting.sigma.engine import sigma_findings, sigma_run
from hunting.sigma.rules import SIGMAHQ_DIR, SIGMAHQ_URL, load_rules, rule_dirs
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange

# --- the snapshot and the pipeline ---------------------------------------------------------


def test_every_shipped_rule_is_evaluated_or_skipped_with_a_reason() -> None:
    files = sorted(SIGMAHQ_DIR.rglob("*.yml"))
    rs = load_rules([SIGMAHQ_DIR])
    assert len(files) == 210  # the snapshot's rules/linux (SOURCE.md)
    assert len(rs.rules) + len(rs.skipped) == len(files)
    by_table = {
        t: sum(r.table == t for r in rs.rules) for t in ("sigma_syslog", "sigma_auditd", "sigma_process")
    }
    # folder counts from `git ls-tree` of the snapshot: builtin 22, auditd 53, process_creation 122
    assert by_table == {"sigma_syslog": 22, "sigma_auditd": 53, "sigma_process": 122}
    reasons = {Path(s.path).parent.name: s.reason for s in rs.skipped}
    assert set(reasons) == {"file_event", "network_connection"}
    assert all(s.reason for s in rs.skipped)
    shipped = next(r for r in rs.rules if r.rule_id == "e76b413a-83d0-4b94-8e4c-85db4a5b8bdc")
    assert shipped.url == SIGMAHQ_URL + "builtin/sshd/lnx_sshd_susp_ssh.yml"
    assert "ProcessName='sshd'" in shipped.sql  # the pipeline's service -> program condition


def test_unmappable_and_broken_rules_are_listed_not_dropped(tmp_path: Path) -> None:
    (tmp_path / "win.yml").write_text(
        "title: Windows thing\nid: 11111111-1111-1111-1111-111111111111\nlogsource: {product: windows, category: process_creation}\n"
        "detection: {sel: {Image|endswith: '\\\\cmd.exe'}, condition: sel}\nlevel: high\n"
    )
    (tmp_path / "apache.yml").write_text(
        "title: Apache thing\nid: 22222222-2222-2222-2222-222222222222\nlogsource: {product: linux, service: apache}\n"
        "detection: {keywords: [evil], condition: keywords}\nlevel: high\n"
    )
    (tmp_path / "broken.yml").write_text("title: [unclosed\n")
    (tmp_path / "local.yml").write_text(
        "title: Local curl rule\nid: 33333333-3333-3333-3333-333333333333\nlogsource: {product: linux, category: process_creation}\n"
        "detection: {sel: {Image|endswith: '/curl'}, condition: sel}\nlevel: medium\ntags: [attack.t1105]\n"
    )
    rs = load_rules([tmp_path])
    skipped = {Path(s.path).name: s.reason for s in rs.skipped}
    assert "only product: linux" in skipped["win.yml"]
    assert "not mapped" in skipped["apache.yml"]
    assert "not a Sigma rule" in skipped["broken.yml"]
    [local] = rs.rules
    assert local.url == str(tmp_path / "local.yml") and local.techniques == ("T1105",)
    assert load_rules([tmp_path / "nope"]).skipped[0].reason == "rule folder not found"


def test_rule_dirs_from_env_and_cli(tmp_path: Path) -> None:
    dirs = rule_dirs([tmp_path / "cli"], environ={"HUNTING_SIGMA_DIRS": str(tmp_path / "env")})
    assert dirs == [SIGMAHQ_DIR, tmp_path / "env", tmp_path / "cli"]


# --- the demo (which rules fire and why: test_sigma_fires.py) ---------------------------------


def test_sigma_findings_function() -> None:
    web01 = next(p for p in demo_log_paths() if p.name == "web01")
    src = LocalSource.from_paths([web01])
    row = src.hosts().iloc[0]
    tr = TimeRange(row.FirstSeen, row.LastSeen + timedelta(seconds=1))
    findings, skipped = sigma_findings(src, "web01", tr, load_rules())
    assert findings and all(f.host == "web01" and f.rule_id.startswith("sigma:") for f in findings)
    assert len(skipped) == 13  # file_event (8) + network_connection (5)


# --- safety: attacker-controlled text ----------------------------------------------------------


def test_regex_rules_are_linear_on_hostile_text(tmp_path: Path) -> None:
    rule = tmp_path / "r.yml"
    rule.write_text(
        "title: Backtracking regex\nid: 44444444-4444-4444-4444-444444444444\nlogsource: {product: linux, service: syslog}\n"
        "detection: {sel: {SyslogMessage|re: '^(a+)+$'}, condition: sel}\nlevel: low\n"
    )
    log = tmp_path / "syslog"
    evil = "a" * 20000 + "!"  # exponential for a backtracking engine, linear for RE2
    log.write_text(
        f"Mar 10 10:00:00 h1 app[1]: {evil}\nMar 10 10:00:01 h1 app[1]: ' OR 1=1; DROP TABLE x; --\n"
    )
    src = LocalSource.from_paths([log])
    row = src.hosts().iloc[0]
    tr = TimeRange(row.FirstSeen, row.LastSeen + timedelta(seconds=1))
    start = time.perf_counter()
    run = sigma_run(src, row.Computer, tr, load_rules([tmp_path]))
    assert time.perf_counter() - start < 30  # a backtracking engine would not finish
    assert run.matched_rows == {"44444444-4444-4444-4444-444444444444": 0}


def test_ilike_on_lowered_columns_matches_like_ilike() -> None:
    """The engine's speed-up (ILIKE -> LIKE on a column lowered once) gives DuckDB's ILIKE
    answer on mixed-case, non-ASCII and LIKE-metacharacter text, and leaves string literals and
    ``ILIKE '...' || column`` alone."""
    import duckdb

    from hunting.sigma.engine import _lowered

    texts = ["İSTANBUL Straße", "istanbul STRASSE", "a_b", "aXb", "100%", "c:\\tmp\\_x", "ÀÉÎ õü", "", None]
    conditions = [
        "_text ILIKE '%straße%'",
        "_text ILIKE '%İstanbul%'",
        "_text ILIKE 'a\\_b' ESCAPE '\\'",
        "_text ILIKE 'a_b'",
        "_text ILIKE '%\\%' ESCAPE '\\'",
        "_text ILIKE '%\\\\\\_x' ESCAPE '\\'",
        "_text ILIKE '%àéî%' AND NOT COALESCE((_text ILIKE '%Õ%'), false)",
        "_text = 'x ILIKE ''y''' OR _text ILIKE '%' || 'B'",
    ]
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS _text", [texts])
    con.execute('CREATE TABLE l AS SELECT *, lower("_text") AS "_lower__text" FROM t')
    for cond in conditions:
        fast, cols = _lowered(cond)
        want = con.execute(f"SELECT _text FROM t WHERE {cond} ORDER BY 1").fetchall()
        got = con.execute(f"SELECT _text FROM l WHERE {fast} ORDER BY 1").fetchall()
        assert got == want, (cond, fast)
        assert ("ILIKE" in fast) == ("||" in cond) and cols <= {"_text"}
    # the literal's own text is never rewritten, and the concatenated pattern keeps ILIKE
    assert _lowered(conditions[-1])[0] == conditions[-1]
