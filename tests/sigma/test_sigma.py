"""SigmaHQ's Linux rules on the demo intrusion and on real public logs.

Every expected match is checked independently of the engine: the matching line is found in
the raw file with a plain regular expression (the "grep" below), and the rule's own condition
is quoted in a comment.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest

from hunting.demo.scenario import generate
from hunting.sigma.engine import SigmaRun, sigma_findings, sigma_run
from hunting.sigma.rules import SIGMAHQ_DIR, SIGMAHQ_URL, load_rules, rule_dirs
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange


def _run(paths: list[Path], host: str | None = None) -> dict[str, SigmaRun]:
    src = LocalSource.from_paths(paths)
    hosts = src.hosts()
    out = {}
    for _, row in hosts.iterrows():
        if host and row.Computer != host:
            continue
        tr = TimeRange(row.FirstSeen - timedelta(seconds=1), row.LastSeen + timedelta(seconds=1))
        out[row.Computer] = sigma_run(src, row.Computer, tr)
    return out


def _titles(run: SigmaRun, severity: str | None = None) -> set[str]:
    return {f.title.removeprefix("Sigma: ") for f in run.findings if severity in (None, f.severity)}


def _grep(path: Path, pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [ln for ln in path.read_text(errors="replace").splitlines() if rx.search(ln)]


def _execve_commands(path: Path) -> list[str]:
    """Every EXECVE event's arguments, decoded by hand (quoted, hex, or a<N>[i] hex chunks)."""
    args: dict[str, dict[int, list[tuple[int, str]]]] = {}
    token = re.compile(r'\ba(\d+)(?:\[(\d+)\])?=("[^"]*"|[0-9A-F]+)(?=\s|$)')
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith("type=EXECVE "):
            continue
        event = re.search(r"msg=audit\(([\d.:]+)\)", line)
        assert event is not None
        for n, chunk, value in token.findall(line):
            text = value[1:-1] if value.startswith('"') else bytes.fromhex(value).decode(errors="replace")
            args.setdefault(event.group(1), {}).setdefault(int(n), []).append((int(chunk or 0), text))
    return [
        " ".join("".join(t for _, t in sorted(parts[n])) for n in sorted(parts)) for parts in args.values()
    ]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sigma-demo")
    generate(out)
    return out


@pytest.fixture(scope="module")
def demo_runs(demo: Path) -> dict[str, SigmaRun]:
    return _run([demo / "web01", demo / "db01", demo / "app02"])


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


# --- the demo intrusion ----------------------------------------------------------------------


def test_demo_intrusion_fires_sigmahq_rules(demo: Path, demo_runs: dict[str, SigmaRun]) -> None:
    titles = _titles(demo_runs["web01"])
    audit, syslog = demo / "web01" / "audit" / "audit.log", demo / "web01" / "syslog"
    # History File Deletion (high): Image|endswith /rm, CommandLine|contains /.bash_history
    assert _grep(audit, r'type=EXECVE .*a0="rm" a1="-f" a2="/root/\.bash_history"')
    # Suspicious Nohup Execution (high): Image|endswith /nohup, CommandLine|contains /tmp/
    assert _grep(audit, r'type=EXECVE .*a0="nohup" a1="/tmp/\.x/kworkerd"')
    # Download File To Potentially Suspicious Directory Via Wget: wget ... -O /tmp/
    assert _grep(audit, r'type=EXECVE .*a0="wget" .*a2="-O" a3="/tmp/')
    # Modifying Crontab (builtin cron): keyword REPLACE from the crontab program
    # (the demo's syslog is RFC 5424: "<78>1 TIME web01 crontab PID - -  (root) REPLACE (root)")
    assert _grep(syslog, r" web01 crontab \d+ - - +\(root\) REPLACE \(root\)")
    # Linux Base64 Encoded Pipe to Shell: "echo <base64> | base64 -d | bash"
    assert [
        c
        for c in _execve_commands(audit)
        if c.startswith("nohup bash -c echo IyEv") and c.endswith("|base64 -d|bash")
    ]
    expected = {
        "History File Deletion",
        "Suspicious Nohup Execution",
        "Download File To Potentially Suspicious Directory Via Wget",
        "Modifying Crontab",
        "Linux Base64 Encoded Pipe to Shell",
        "Potentially Suspicious Execution From Tmp Folder",
    }
    assert expected <= titles
    assert {"History File Deletion", "Suspicious Nohup Execution"} <= _titles(demo_runs["web01"], "high")
    f = next(x for x in demo_runs["web01"].findings if x.title == "Sigma: History File Deletion")
    assert f.rule_id == "sigma:1182f3b3-e716-4efa-99ab-d2685d04360f" and f.mitre == (
        "T1565.001",
    )  # rule tags: attack.impact, attack.t1565.001
    assert f.occurrences == len(f.evidence) == 2 and all(".bash_history" in e for e in f.evidence)
    assert f.links[0].page.startswith(SIGMAHQ_URL)


def test_benign_demo_hosts_have_no_high_sigma_findings(demo_runs: dict[str, SigmaRun]) -> None:
    assert set(demo_runs) == {"web01", "db01", "APP02"}
    for host in ("db01", "APP02"):
        assert _titles(demo_runs[host], "high") == set(), host


def test_sigma_findings_function(demo: Path) -> None:
    src = LocalSource.from_paths([demo / "web01"])
    row = src.hosts().iloc[0]
    tr = TimeRange(row.FirstSeen, row.LastSeen + timedelta(seconds=1))
    findings, skipped = sigma_findings(src, "web01", tr, load_rules())
    assert findings and all(f.host == "web01" and f.rule_id.startswith("sigma:") for f in findings)
    assert len(skipped) == 13  # file_event (8) + network_connection (5)


# --- real samples ------------------------------------------------------------------------------


def test_otrf_atomic_binary_padding(shared_data: Path) -> None:
    d = shared_data / "otrf-linux-atomic-auditd"
    titles = _titles(_run([d])["otrf-linux-atomic-auditd"])
    # Binary Padding - Linux (high): EXECVE with keywords "dd" and "if=" and no "of=".
    line = _grep(d / "sh_binary_padding_dd_2020-11-10081941.log", r'type=EXECVE .*a0="dd" a1="if=/dev/zero"')
    assert line and "of=" not in line[0]
    # Linux Remote System Discovery: Image|endswith /arp, CommandLine|contains -a
    assert _grep(d / "sh_arp_cache_2020-11-10074812.log", r'type=EXECVE .*a0="arp" a1="-a"')
    assert {
        "Binary Padding - Linux",
        "Overwriting the File with Dev Zero or Null",
        "Linux Remote System Discovery",
    } == titles


def test_laurel_perl_reverse_shell(shared_data: Path) -> None:
    d = shared_data / "laurel" / "testdata"
    runs = _run([d / "record-perl-reverse-shell.txt"])
    [run] = runs.values()
    # Potential Perl Reverse Shell Execution (high): /perl with " -e " and Socket/connect/open/exec
    [cmd] = [c for c in _execve_commands(d / "record-perl-reverse-shell.txt") if c.startswith("perl -e ")]
    assert all(w in cmd for w in ("Socket", "connect", "open", "exec"))
    assert _titles(run, "high") == {"Potential Perl Reverse Shell Execution"}


def test_beats_useradd_and_tty(shared_data: Path) -> None:
    d = shared_data / "beats-auditd"
    runs = _run([d / "useradd.log", d / "test.log"])
    titles = set().union(*(_titles(r) for r in runs.values()))
    # Creation Of An User Account: type ADD_USER (one record in useradd.log)
    assert len(_grep(d / "useradd.log", r"^type=ADD_USER ")) == 1
    # Linux Keylogging with Pam.d: any type TTY record (one in test.log)
    assert len(_grep(d / "test.log", r"^type=TTY ")) == 1
    assert {"Creation Of An User Account", "Linux Keylogging with Pam.d"} <= titles


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
