"""Findings engine: every step of the demo intrusion found with its ATT&CK ids, the benign background quiet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hunting.analysis.findings import (
    DETECTIONS,
    Finding,
    HuntData,
    HuntResult,
    attack_timeline,
    find_all,
    hunt,
    load_specs,
    mitre_url,
    sort_findings,
)
from hunting.demo.scenario import Manifest, demo_log_paths, demo_manifest
from hunting.errors import HuntingError
from hunting.schema import AUDIT, SYSLOG, conform
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange

TOLERANCE = pd.Timedelta("5s")  # auth.log has whole seconds; the manifest has the exact instant


@pytest.fixture(scope="module")
def demo() -> tuple[LocalSource, Manifest]:
    return LocalSource.from_paths(demo_log_paths()), demo_manifest()


def _span(source: LocalSource, host: str) -> TimeRange:
    row = source.hosts().set_index("Computer").loc[host]
    return TimeRange(row["FirstSeen"], row["LastSeen"] + pd.Timedelta("1ms"))


@pytest.fixture(scope="module")
def results(demo: tuple[LocalSource, Manifest]) -> dict[str, HuntResult]:
    source, _ = demo
    return {h: hunt(source, h, _span(source, h)) for h in source.hosts()["Computer"]}


def _at(truth: dict[str, Any], step: str) -> pd.Timestamp:
    return pd.Timestamp(truth["steps"][step])


# (truth step, finding rule id, techniques it must carry, extra check on the finding)
Check = Callable[[Finding, dict[str, Any]], bool]
STEPS: list[tuple[str, str, set[str], Check]] = [
    ("brute_force_start", "logon.password_guessing", {"T1110.001"},
     lambda f, t: f.source_ip == t["attacker_ips"]["brute_force"] and f.occurrences == t["brute_force_attempts"]),
    ("brute_force_start", "logon.password_spraying", {"T1110.003"},
     lambda f, t: f.source_ip == t["attacker_ips"]["brute_force"]),
    ("logon", "logon.success_after_failures", {"T1078", "T1110"},
     lambda f, t: f.user == t["compromised_user"] and f.source_ip == t["attacker_ips"]["brute_force"]
     and f.session == f"ses {t['logon_session']}"),
    ("logon", "logon.new_source", {"T1078"},
     lambda f, t: f.source_ip == t["attacker_ips"]["brute_force"] and f.severity == "medium"),
    ("sudo_root_shell", "sudo.shell", {"T1548.003", "T1059.004"},
     lambda f, t: f.user == t["compromised_user"] and f.session == f"ses {t['logon_session']}"),
    ("user_created", "account.new_user", {"T1136.001"}, lambda f, t: f.user == t["new_account"]),
    ("added_to_sudo", "account.privileged_group", {"T1098"},
     lambda f, t: f.user == t["new_account"] and "sudo" in f.title),
    ("password_set", "account.password_other", {"T1098"},
     lambda f, t: f.user == t["new_account"] and t["compromised_user"] in f.title),
    ("crontab_replaced", "cron.crontab_edit", {"T1053.003"}, lambda f, t: f.session == f"ses {t['logon_session']}"),
    ("malicious_cron_first", "cron.new_command", {"T1053.003"},
     lambda f, t: f.severity == "high" and f.occurrences == t["malicious_cron_runs"] and t["cron_command"] in f.title),
    ("download", "command.download_execute", {"T1105"}, lambda f, t: t["tool_path"] in f.title),
    ("chmod", "lnx.chmod_exec_tmp", {"T1222.002"}, lambda f, t: t["tool_path"] in f.title),
    ("tool_executed", "process.suspicious_path", {"T1564.001"}, lambda f, t: t["tool_path"] in f.title),
    ("reverse_shell", "network.shell_outbound", {"T1059.004"},
     lambda f, t: f.source_ip == t["reverse_shell"]["ip"] and str(t["reverse_shell"]["port"]) in f.title),
    ("ssh_key_added", "file.ssh_authorized_keys", {"T1098.004"}, lambda f, t: f.session == f"ses {t['logon_session']}"),
    ("base64_stager", "command.encoded_payload", {"T1140", "T1098.004", "T1070.003"}, lambda f, t: f.severity == "high"),
    ("history_cleared", "lnx.history_clear", {"T1070.003"}, lambda f, t: f.session == f"ses {t['logon_session']}"),
    ("backdoor_logon", "logon.new_source", {"T1078"},
     lambda f, t: f.source_ip == t["attacker_ips"]["c2"] and f.user == t["new_account"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("step", "rule", "techniques", "check"), STEPS, ids=[f"{s[0]}-{s[1]}" for s in STEPS]
)
def test_find_all_demo_step_is_a_finding(
    results: dict[str, HuntResult], demo: tuple[LocalSource, Manifest], step: str, rule: str,
    techniques: set[str], check: Check,
) -> None:  # fmt: skip
    truth = dict(demo[1].truth)
    when = _at(truth, step)
    found = [
        f for f in results[truth["host"]].findings
        if f.rule_id == rule and abs(pd.Timestamp(f.time) - when) <= TOLERANCE and check(f, truth)
    ]  # fmt: skip
    assert len(found) == 1, [(f.rule_id, f.time, f.title) for f in results[truth["host"]].findings]
    assert techniques <= set(found[0].mitre)
    assert found[0].severity in ("medium", "high")
    assert found[0].evidence


def test_find_all_demo_every_medium_or_high_finding_is_the_intrusion(
    results: dict[str, HuntResult], demo: tuple[LocalSource, Manifest]
) -> None:
    truth = dict(demo[1].truth)
    start = _at(truth, "brute_force_start") - TOLERANCE
    serious = [f for f in results[truth["host"]].findings if f.severity != "low"]
    assert serious
    # nothing before the first guess (the admin's logons and sudo, system cron), nothing about the admin
    assert [f.title for f in serious if pd.Timestamp(f.time) < start] == []
    assert [f.title for f in serious if f.user == "alice"] == []
    attackers = {truth["compromised_user"], truth["new_account"], "root"}
    assert {f.user for f in serious} <= attackers


@pytest.mark.parametrize("host", ["db01", "APP02"])
def test_find_all_benign_hosts_have_no_medium_or_high(results: dict[str, HuntResult], host: str) -> None:
    result = results[host]
    assert [f.title for f in result.findings if f.severity != "low"] == []
    assert result.searched["syslog_lines"] > 0 and result.searched["detections"] == len(DETECTIONS)
    assert result.errors == ()


def test_find_all_db01_searched_counts_match_source(
    demo: tuple[LocalSource, Manifest], results: dict[str, HuntResult]
) -> None:
    source, _ = demo
    tr = _span(source, "db01")
    searched = results["db01"].searched
    assert searched["sudo_commands"] == len(source.sudo_events("db01", tr))
    assert searched["audit_events"] == len(source.audit_events("db01", tr))
    assert searched["network_flows"] == len(source.network_flows("db01", tr))


def test_attack_timeline_demo_links_the_intrusion(
    results: dict[str, HuntResult], demo: tuple[LocalSource, Manifest]
) -> None:
    truth = dict(demo[1].truth)
    result = results[truth["host"]]
    serious = {f.id for f in result.findings if f.severity != "low"}
    groups = [g for g in result.timeline if serious & set(g.finding_ids)]
    assert (
        len(groups) == 1
    )  # one linked story: both attacker addresses, the user it took, the account it made
    g = groups[0]
    assert serious <= set(g.finding_ids)
    assert {truth["attacker_ips"]["brute_force"], truth["attacker_ips"]["c2"]} <= set(g.ips)
    assert {truth["compromised_user"], truth["new_account"]} <= set(g.users)
    times = [result.by_id(i).time for i in g.finding_ids]
    assert times == sorted(times)
    assert len(set(g.finding_ids)) == len(g.finding_ids)


def test_sort_findings_severity_then_time(results: dict[str, HuntResult]) -> None:
    findings = list(results["web01"].findings)
    assert findings == sort_findings(reversed(findings))
    ranks = [f.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)


def _data(syslog: list[tuple[str, str, str]], *, audit: pd.DataFrame | None = None) -> HuntData:
    """A host's data from (time, process, message) syslog lines."""
    from hunting.analysis.accounts import account_changes
    from hunting.analysis.cron import cron_events
    from hunting.analysis.logons import logon_events
    from hunting.analysis.sudo import sudo_events

    frame = conform(
        pd.DataFrame(
            {
                "TimeGenerated": [t for t, _, _ in syslog],
                "Computer": "h1",
                "ProcessName": [p for _, p, _ in syslog],
                "ProcessID": range(100, 100 + len(syslog)),
                "SyslogMessage": [m for _, _, m in syslog],
            }
        ),
        SYSLOG,
    )
    times = frame["TimeGenerated"]
    tr = TimeRange(times.min() - timedelta(hours=1), times.max() + timedelta(hours=1))
    return HuntData(
        host="h1", tr=tr, syslog=frame, logons=logon_events(frame), sudo=sudo_events(frame),
        cron=cron_events(frame), accounts=account_changes(frame),
        audit=AUDIT.empty() if audit is None else conform(audit, AUDIT),
    )  # fmt: skip


def test_find_all_root_ssh_logon_public_is_high() -> None:
    data = _data([("2024-05-01T10:00:00Z", "sshd", "Accepted password for root from 203.0.113.9 port 4000 ssh2"),
                  ("2024-05-01T11:00:00Z", "sshd", "Accepted publickey for root from 8.8.8.8 port 4001 ssh2: RSA SHA256:x")])  # fmt: skip
    found = {f.source_ip: f for f in find_all(data).findings if f.rule_id == "logon.root_ssh"}
    assert found["8.8.8.8"].severity == "high"  # public
    assert found["203.0.113.9"].severity == "medium"  # documentation range: not public
    assert set(found["8.8.8.8"].mitre) == {"T1078.003", "T1021.004"}


def test_find_all_logging_stopped_and_gap() -> None:
    lines = [
        (f"2024-05-01T{h:02d}:{m:02d}:00Z", "CRON", "(root) CMD (true)")
        for h in range(0, 6)
        for m in range(0, 60, 5)
    ]
    lines += [("2024-05-01T06:00:00Z", "rsyslogd", "[origin software=\"rsyslogd\"] exiting on signal 15."),
              ("2024-05-01T06:00:01Z", "auditd", "The audit daemon is exiting.")]  # fmt: skip
    lines += [
        (f"2024-05-01T{h:02d}:{m:02d}:00Z", "CRON", "(root) CMD (true)")
        for h in range(9, 12)
        for m in range(0, 60, 5)
    ]
    result = find_all(_data(lines))
    stopped = {f.title: f for f in result.findings if f.rule_id == "logging.stopped"}
    assert {"Audit daemon stopped on h1", "System logging stopped on h1"} == set(stopped)
    assert stopped["Audit daemon stopped on h1"].mitre == ("T1562.012",)
    assert stopped["Audit daemon stopped on h1"].severity == "high"
    gaps = [f for f in result.findings if f.rule_id == "logging.gap"]
    assert len(gaps) == 1
    assert gaps[0].time == pd.Timestamp("2024-05-01T06:00:01Z") and gaps[0].end == pd.Timestamp(
        "2024-05-01T09:00:00Z"
    )
    assert gaps[0].severity == "medium"  # this host logs every 5 minutes


def test_find_all_shell_connect_from_audit() -> None:
    # saddr 02000FA0 2D5F93EC ...: AF_INET, port 4000, 45.95.147.236
    raw = ('type=SYSCALL msg=audit(1714557600.000:1): arch=c000003e syscall=42 success=no exit=-115 ppid=1 pid=4242 '
           'auid=1000 uid=0 ses=7 comm="bash" exe="/usr/bin/bash" key=(null)\n'
           'type=SOCKADDR msg=audit(1714557600.000:1): saddr=02000FA02D5F93EC0000000000000000')  # fmt: skip
    audit = pd.DataFrame({"TimeGenerated": ["2024-05-01T10:00:00Z"], "Computer": ["h1"], "EventId": ["1714557600.000:1"],
                          "EventType": ["SYSCALL"], "RecordTypes": ["SYSCALL,SOCKADDR"], "Syscall": ["42"], "Pid": [4242],
                          "Auid": [1000], "Ses": [7], "Exe": ["/usr/bin/bash"], "Comm": ["bash"], "RawMessage": [raw]})  # fmt: skip
    data = _data([("2024-05-01T09:00:00Z", "CRON", "(root) CMD (true)")], audit=audit)
    data.users = {1000: "mallory"}
    found = [f for f in find_all(data).findings if f.rule_id == "network.shell_outbound"]
    assert [(f.source_ip, f.user, f.session) for f in found] == [("45.95.147.236", "mallory", "ses 7")]
    assert "45.95.147.236:4000" in found[0].title


def test_find_all_password_guessing_threshold_from_rules() -> None:
    fails = [(f"2024-05-01T10:{i:02d}:00Z", "sshd", f"Failed password for root from 198.51.100.{i % 2 + 1} port {1000 + i} ssh2")
             for i in range(40)]  # fmt: skip
    result = find_all(_data(fails))
    guessing = sorted(
        (f.source_ip, f.occurrences) for f in result.findings if f.rule_id == "logon.password_guessing"
    )
    assert guessing == [("198.51.100.1", 20), ("198.51.100.2", 20)]  # 20 each >= 16 in 4 h
    assert not [f for f in result.findings if f.rule_id == "logon.password_spraying"]  # one account only


def test_finding_rejects_bad_values() -> None:
    t = pd.Timestamp("2024-05-01T00:00:00Z").to_pydatetime()
    with pytest.raises(ValueError, match="severity"):
        Finding("x", "r", "t", "critical", (), t)
    with pytest.raises(ValueError, match="ATT&CK"):
        Finding("x", "r", "t", "low", ("1059",), t)
    with pytest.raises(ValueError, match="timezone"):
        Finding("x", "r", "t", "low", (), t.replace(tzinfo=None))


def test_mitre_url_subtechnique() -> None:
    assert mitre_url("T1548.003") == "https://attack.mitre.org/techniques/T1548/003/"
    assert mitre_url("T1078") == "https://attack.mitre.org/techniques/T1078/"
    with pytest.raises(ValueError):
        mitre_url("javascript:alert(1)")


def test_load_specs_builtin_covers_every_detection() -> None:
    specs = load_specs()
    assert set(DETECTIONS) <= set(specs)
    assert specs["sudo.shell"].mitre == ("T1548.003", "T1059.004")


def test_load_specs_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "f.yaml"
    bad.write_text("logon.root_ssh: {title: x, severity: critical, mitre: []}\n")
    with pytest.raises(HuntingError, match="critical"):
        load_specs(bad)


def test_attack_timeline_unlinked_findings_stay_apart() -> None:
    t = pd.Timestamp("2024-05-01T00:00:00Z").to_pydatetime()
    a = Finding("a", "r", "A", "low", (), t, user="u1")
    b = Finding("b", "r", "B", "high", (), t + timedelta(minutes=1), user="u2")
    c = Finding("c", "r", "C", "medium", (), t + timedelta(minutes=2), user="u1", source_ip="1.2.3.4")
    groups = attack_timeline([c, b, a])
    assert [g.finding_ids for g in groups] == [("a", "c"), ("b",)]
    assert groups[0].severity == "medium"
