"""At least one positive and one negative case for every registered detector.

Each case says where its input comes from: a real public sample in ../shared/data
(values checked with grep/aureport, written beside the case), the demo's intrusion
(ground truth in hunting/demo/intrusion.py), or, where neither has the case, a minimal
line written by hand in the real format (said so). ``test_every_detector_has_cases``
fails when a registered detector lacks a positive or a negative case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import pandas as pd

import hunting.detections  # noqa: F401  (registers every detector)
from hunting.detections.base import HuntData, collect
from hunting.detections.model import Finding
from hunting.detections.registry import DETECTIONS
from hunting.detections.runner import run_detectors
from hunting.errors import HuntingError
from hunting.schema import AUDIT, SYSLOG, conform
from hunting.timerange import TimeRange

CASES: dict[str, set[str]] = {}


def case(rule_id: str, kind: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Record that the decorated test is a ``positive`` or ``negative`` case of ``rule_id``."""
    assert kind in ("positive", "negative")

    def mark(fn: Callable[..., None]) -> Callable[..., None]:
        CASES.setdefault(rule_id, set()).add(kind)
        return fn

    return mark


def test_every_detector_has_cases() -> None:
    lacking = {
        rule_id: sorted({"positive", "negative"} - CASES.get(rule_id, set()))
        for rule_id in DETECTIONS
        if CASES.get(rule_id, set()) != {"positive", "negative"}
    }
    assert not lacking, f"detectors without a positive/negative test: {lacking}"
    assert set(CASES) <= set(DETECTIONS), set(CASES) - set(DETECTIONS)  # no case of a removed detector


# --- inputs ------------------------------------------------------------------------------------


def _folder_data(folder: Path, host: str) -> HuntData:
    from hunting.sources.local import LocalSource

    src = LocalSource.from_paths([folder])
    row = src.hosts().set_index("Computer").loc[host]
    return collect(src, host, TimeRange(row["FirstSeen"], row["LastSeen"] + pd.Timedelta("1s")))


@lru_cache(maxsize=16)
def _real(folder: str, host: str) -> HuntData:
    from tests.conftest import SHARED_DATA, missing

    path = SHARED_DATA / folder
    if not path.is_dir():
        missing(f"{path} not found")
    return _folder_data(path, host)


@lru_cache(maxsize=4)
def _demo(host: str) -> HuntData:
    """A demo host's data from all the demo's folders (its flows come from the Sentinel export)."""
    from hunting.demo.scenario import demo_log_paths
    from hunting.sources.local import LocalSource

    src = LocalSource.from_paths(demo_log_paths())
    row = src.hosts().set_index("Computer").loc[host]
    return collect(src, host, TimeRange(row["FirstSeen"], row["LastSeen"] + pd.Timedelta("1ms")))


def _run(data: HuntData, rule_id: str) -> list[Finding]:
    return [f for f in run_detectors(data, [rule_id]) if f.rule_id == rule_id or rule_id == "command.risky"]


def _lines(syslog: list[tuple[str, str, str]], *, audit: pd.DataFrame | None = None) -> HuntData:
    """A host's data from hand-written (time, program, message) syslog lines, parsed as real ones are."""
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
    return HuntData(
        host="h1",
        tr=TimeRange(times.min() - timedelta(hours=1), times.max() + timedelta(hours=1)),
        syslog=frame,
        logons=logon_events(frame),
        sudo=sudo_events(frame),
        cron=cron_events(frame),
        accounts=account_changes(frame),
        audit=AUDIT.empty() if audit is None else conform(audit, AUDIT),
    )


# --- logons ------------------------------------------------------------------------------------


@case("logon.password_guessing", "positive")
def test_password_guessing_rhel7() -> None:
    # beats-secure-rhel7 SOURCE.md: `grep -o 'Failed password for [^ ]* from [0-9.]*' | awk '{print $6}'
    # | sort | uniq -c` -> 202.109.143.106 213, 223.99.60.46 78, 116.31.116.27 61
    found = {f.source_ip: f for f in _run(_real("beats-secure-rhel7", "slave22"), "logon.password_guessing")}
    assert {ip: f.title.split(": ")[1] for ip, f in found.items()} == {
        "202.109.143.106": "213 failed logons",
        "223.99.60.46": "78 failed logons",
        "116.31.116.27": "61 failed logons",
    }
    assert {f.severity for f in found.values()} == {"high"}


@case("logon.password_guessing", "negative")
def test_password_guessing_not_on_benign_demo_host() -> None:
    # db01 has no attacker (hunting/demo: the intrusion is on web01 only)
    assert _run(_demo("db01"), "logon.password_guessing") == []


@case("logon.password_spraying", "positive")
def test_password_spraying_loghub() -> None:
    # loghub OpenSSH_2k.log: `grep -o "Failed password for \(invalid user \)\?[^ ]* from 103.99.0.122"
    # | awk '{print $(NF-2)}' | sort -u | wc -l` -> 19 accounts
    found = {f.source_ip: f for f in _run(_real("loghub", "LabSZ"), "logon.password_spraying")}
    assert found["103.99.0.122"].title == "Password spraying from 103.99.0.122: 19 accounts tried"


@case("logon.password_spraying", "negative")
def test_password_spraying_not_when_one_account() -> None:
    # beats-secure-rhel7 SOURCE.md: the 352 "Failed password" lines are all `for root`: guessing, not spraying
    assert _run(_real("beats-secure-rhel7", "slave22"), "logon.password_spraying") == []


@case("logon.success_after_failures", "positive")
def test_success_after_failures_demo() -> None:
    from hunting.demo.intrusion import BRUTE_IP, COMPROMISED_USER

    found = _run(_demo("web01"), "logon.success_after_failures")
    assert [(f.user, f.source_ip) for f in found] == [(COMPROMISED_USER, BRUTE_IP)]


@case("logon.success_after_failures", "negative")
def test_success_after_failures_not_from_clean_addresses() -> None:
    # beats-secure-rhel7 SOURCE.md: the 3 successes come from 69.245.39.97 and 78.52.112.222, which never
    # failed (`grep 'Failed password' | grep -c -e 69.245.39.97 -e 78.52.112.222` -> 0)
    assert _run(_real("beats-secure-rhel7", "slave22"), "logon.success_after_failures") == []


@case("logon.new_source", "positive")
def test_new_source_rhel7() -> None:
    # SOURCE.md: Accepted publickey for drewr from 69.245.39.97 (twice) and tsg from 78.52.112.222
    found = _run(_real("beats-secure-rhel7", "slave22"), "logon.new_source")
    assert sorted((f.source_ip, f.user) for f in found) == [
        ("69.245.39.97", "drewr"),
        ("78.52.112.222", "tsg"),
    ]


@case("logon.new_source", "negative")
def test_new_source_not_for_failures_only() -> None:
    # the guessing addresses never logged on: no "first logon" for them
    found = _run(_real("beats-secure-rhel7", "slave22"), "logon.new_source")
    assert not {f.source_ip for f in found} & {"202.109.143.106", "223.99.60.46", "116.31.116.27"}


@case("logon.root_ssh", "positive")
def test_root_ssh_hand_written() -> None:
    # No public sample here has an accepted root logon: an sshd line written by hand in OpenSSH's format.
    data = _lines(
        [("2024-05-01T10:00:00Z", "sshd", "Accepted password for root from 8.8.8.8 port 4000 ssh2")]
    )
    assert [(f.user, f.source_ip, f.severity) for f in _run(data, "logon.root_ssh")] == [
        ("root", "8.8.8.8", "high")
    ]


@case("logon.root_ssh", "negative")
def test_root_ssh_not_for_failed_root_guesses() -> None:
    # beats-secure-rhel7: 352 failures for root, `grep -c 'Accepted [a-z]* for root'` -> 0
    assert _run(_real("beats-secure-rhel7", "slave22"), "logon.root_ssh") == []


# --- privilege and accounts ----------------------------------------------------------------------


@case("sudo.shell", "positive")
def test_sudo_shell_msticpy() -> None:
    # msticpy syslog_data.csv: `grep -c 'COMMAND=/bin/bash'` -> 1 (peteb on UbuntuDevEnv, USER=root)
    found = _run(_real("msticpy", "UbuntuDevEnv"), "sudo.shell")
    assert found and {f.user for f in found} == {"peteb"} and {f.severity for f in found} == {"high"}


@case("sudo.shell", "negative")
def test_sudo_shell_not_for_plain_commands() -> None:
    # beats-secure-rhel7 SOURCE.md: tsg's 2 sudo commands are /bin/cat and /bin/cp, not shells
    data = _real("beats-secure-rhel7", "slave22")
    assert len(data.sudo) == 2
    assert _run(data, "sudo.shell") == []


@case("account.new_user", "positive")
def test_new_user_beats_auditd() -> None:
    # beats-auditd useradd.log, `aureport -m --input useradd.log`: useradd x1 (event 591, uid 1004)
    found = _run(_real("beats-auditd", "beats-auditd"), "account.new_user")
    assert len(found) == 1 and "1004" in found[0].title and found[0].severity == "medium"


@case("account.new_user", "negative")
def test_new_user_not_on_logon_only_host() -> None:
    # beats-secure-rhel7 holds sshd and sudo lines only (`grep -c useradd` -> 0)
    assert _run(_real("beats-secure-rhel7", "slave22"), "account.new_user") == []


@case("account.privileged_group", "positive")
def test_privileged_group_demo() -> None:
    from hunting.demo.intrusion import NEW_USER

    found = _run(_demo("web01"), "account.privileged_group")
    assert [f.title for f in found] == [f"{NEW_USER} added to privileged group sudo"]


@case("account.privileged_group", "negative")
def test_privileged_group_not_for_ordinary_groups() -> None:
    # beats-auditd useradd.log: groupadd x3 (aureport -m: events 584, 586, 587, gid 1004), no sudo/wheel/adm
    assert _run(_real("beats-auditd", "beats-auditd"), "account.privileged_group") == []


@case("account.password_other", "positive")
def test_password_other_beats_auditd() -> None:
    # beats-auditd useradd.log: `aureport -m`: passwd for charlie (event 594) by auid 1000, not charlie (uid 1004)
    found = _run(_real("beats-auditd", "beats-auditd"), "account.password_other")
    assert [(f.user, f.severity) for f in found] == [("charlie", "medium")]
    assert "auid=1000" in found[0].title


@case("account.password_other", "negative")
def test_password_other_not_for_own_password() -> None:
    # Hand-written, in the format of the demo's chpasswd line: a user's own `passwd` (the actor is the
    # user, from shadow-utils' "by" field) is not someone else changing it.
    data = _lines(
        [("2024-05-01T10:00:00Z", "passwd", "pam_unix(passwd:chauthtok): password changed for alice")]
    )
    assert len(data.accounts) == 1  # the line is read as a password change ...
    assert _run(data, "account.password_other") == []  # ... by an unknown actor through passwd: not flagged


# --- persistence ---------------------------------------------------------------------------------


@case("cron.crontab_edit", "positive")
def test_crontab_edit_demo() -> None:
    found = _run(_demo("web01"), "cron.crontab_edit")
    assert [f.title for f in found] == ["Crontab of root changed by root"]


@case("cron.crontab_edit", "negative")
def test_crontab_edit_not_for_cron_runs() -> None:
    # plaso syslog_cron.log: CRON CMD lines only (`grep -c 'REPLACE\|BEGIN EDIT\|DELETE'` -> 0)
    assert _run(_real("plaso", "ubuntu2015"), "cron.crontab_edit") == []


@case("cron.new_command", "positive")
def test_new_cron_command_demo() -> None:
    from hunting.demo.intrusion import CRON_COMMAND

    found = {f.title: f for f in _run(_demo("web01"), "cron.new_command")}
    assert found[f"New cron job of root: {CRON_COMMAND}"].severity == "high"  # risky, after a crontab edit


@case("cron.new_command", "negative")
def test_new_cron_command_not_on_benign_host() -> None:
    # db01 runs the same cron jobs every day (hunting/demo/world.py): none is new after the baseline
    assert _run(_demo("db01"), "cron.new_command") == []


@case("file.ssh_authorized_keys", "positive")
def test_authorized_keys_demo() -> None:
    found = _run(_demo("web01"), "file.ssh_authorized_keys")
    assert [f.title for f in found] == ["SSH authorized_keys written: /root/.ssh/authorized_keys"]
    assert found[0].severity == "high"


@case("file.ssh_authorized_keys", "negative")
def test_authorized_keys_not_in_other_audit_logs() -> None:
    # go-libaudit testdata: `grep -rc authorized_keys go-libaudit` -> 0 in every file
    assert _run(_real("go-libaudit", "testdata"), "file.ssh_authorized_keys") == []


@case("file.ssh_authorized_keys", "negative")
def test_authorized_keys_not_for_a_command_line_mentioning_it() -> None:
    # The demo's stager echoes the key `>> /root/.ssh/authorized_keys` inside base64: only the file
    # write (PATH record) counts, so dropping the PATH/SYSCALL events leaves the EXECVE alone -> nothing.
    data = _demo("web01")
    records = data.audit["RecordTypes"].fillna("").astype(str)
    only_exec = HuntData(host=data.host, tr=data.tr, audit=data.audit[records.str.contains("EXECVE")])
    assert _run(only_exec, "file.ssh_authorized_keys") == []


# --- execution -----------------------------------------------------------------------------------


@case("command.risky", "positive")
def test_risky_command_laurel_perl_reverse_shell() -> None:
    # laurel testdata/record-perl-reverse-shell.txt: `perl -e 'use Socket;$i="10.0.0.1";$p=1234;...'`
    found = _run(_real("laurel", "testdata"), "command.risky")
    assert [(f.rule_id, f.severity) for f in found] == [("lnx.reverse_shell_perl", "high")]


@case("command.risky", "negative")
def test_risky_command_not_for_touch_in_tmp() -> None:
    # plaso syslog_cron.log: `CMD (touch /tmp/afile.txt)` (grep) is routine, not risky
    data = _real("plaso", "ubuntu2015")
    assert data.cron["Command"].astype(str).str.contains("touch /tmp/afile.txt", regex=False).any()
    assert _run(data, "command.risky") == []


@case("command.encoded_payload", "positive")
def test_encoded_payload_demo() -> None:
    found = _run(_demo("web01"), "command.encoded_payload")
    assert found and {f.severity for f in found} == {"high"}
    assert "T1140" in found[0].mitre


@case("command.encoded_payload", "negative")
def test_encoded_payload_not_for_harmless_base64() -> None:
    # Hand-written cron line: base64 text that decodes to "echo hello" is decoded and found harmless.
    data = _lines([("2024-05-01T10:00:00Z", "CRON", "(root) CMD (echo ZWNobyBoZWxsbw== | base64 -d)")])
    assert len(data.cron) == 1
    assert _run(data, "command.encoded_payload") == []


@case("command.download_execute", "positive")
def test_download_execute_demo() -> None:
    from hunting.demo.intrusion import TOOL_PATH

    found = _run(_demo("web01"), "command.download_execute")
    assert [f.title for f in found] == [f"Downloaded file run: {TOOL_PATH}"]


@case("command.download_execute", "negative")
def test_download_execute_not_when_never_run() -> None:
    # The demo's processes without the runs of the dropped file: a download alone is not this detection.
    from hunting.demo.intrusion import TOOL_PATH

    src = _demo("web01")
    procs = src.processes
    ran = (procs["Exe"] == TOOL_PATH).fillna(False) | procs["Cmdline"].fillna("").str.contains(
        f"{TOOL_PATH} -c", regex=False
    )
    data = HuntData(host=src.host, tr=src.tr, audit=src.audit)
    data._procs = procs[~ran.to_numpy()]
    assert (
        procs["Cmdline"].fillna("").str.contains(f"-O {TOOL_PATH}", regex=False).any()
    )  # the download stays
    assert _run(data, "command.download_execute") == []


# --- defence evasion -----------------------------------------------------------------------------


@case("process.suspicious_path", "positive")
def test_suspicious_path_demo() -> None:
    from hunting.demo.intrusion import TOOL_PATH

    found = _run(_demo("web01"), "process.suspicious_path")
    assert [f.title for f in found] == [
        f"Program ran from a temporary directory and a hidden directory: {TOOL_PATH}"
    ]
    assert set(found[0].mitre) == {"T1059", "T1564.001"}


@case("process.suspicious_path", "negative")
def test_suspicious_path_not_for_tmp_in_arguments() -> None:
    # audit-userspace test4.log: `ld` run with `-plugin-opt=-fresolution=/usr/src/tmp/...` (grep): the
    # executable itself (/bin/sh, /usr/bin/ld) is not in a temporary directory.
    data = _real("audit-userspace", "audit-userspace")
    assert data.processes["Cmdline"].fillna("").str.contains("/tmp/", regex=False).any()
    assert _run(data, "process.suspicious_path") == []


@case("logging.stopped", "positive")
def test_logging_stopped_go_libaudit() -> None:
    # go-libaudit auparse/testdata/audit-rhel7.log: `grep -c 'DAEMON_END\|DAEMON_ABORT'` -> 1
    found = _run(_real("go-libaudit", "testdata"), "logging.stopped")
    assert [(f.title, f.severity) for f in found] == [("Audit daemon stopped on testdata", "high")]


@case("logging.stopped", "negative")
def test_logging_stopped_not_on_auth_log() -> None:
    # beats-secure-rhel7: sshd and sudo only (`grep -c 'exiting\|DAEMON_END'` -> 0)
    assert _run(_real("beats-secure-rhel7", "slave22"), "logging.stopped") == []


def _every(start: str, hours: range, days: int, step_min: int = 5) -> list[tuple[str, str, str]]:
    """A CRON line every ``step_min`` minutes in ``hours`` (UTC) of ``days`` days from ``start``."""
    t0 = pd.Timestamp(start)
    return [
        (
            (t0 + pd.Timedelta(days=d, hours=h, minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "CRON",
            "(root) CMD (true)",
        )
        for d in range(days)
        for h in hours
        for m in range(0, 60, step_min)
    ]


@case("logging.gap", "positive")
def test_logging_gap_real_squid_excerpt() -> None:
    # msticpy syslog_data.csv, host squid-uk-02: 198 lines, median interval 18 s, with silences of
    # 2.9 days (07-05 18:10 -> 07-08 14:41), 46.9 h and 4.5 days (sort the TimeGenerated column).
    found = _run(_real("msticpy", "squid-uk-02"), "logging.gap")
    assert sorted(f.title for f in found) == [
        "No logs from squid-uk-02 for 2.9 days",
        "No logs from squid-uk-02 for 4.5 days",
        "No logs from squid-uk-02 for 46.9 h",
    ]
    assert {f.severity for f in found} == {"high"}  # over a day, on a host with a daily rhythm


@case("logging.gap", "positive")
def test_logging_gap_merged_and_rated_by_length() -> None:
    # Hand-written: a host logging every 5 min, all day, for 4 days; on day 3 it goes silent from
    # 08:00 to 14:00 but for 2 stray lines at 10:00 and 12:00. One finding, 6 h long: medium.
    lines = [
        x for x in _every("2024-05-01", range(24), 4) if not ("2024-05-03T08:" <= x[0] < "2024-05-03T14:")
    ]
    lines += [
        ("2024-05-03T10:00:00Z", "CRON", "(root) CMD (true)"),
        ("2024-05-03T12:00:00Z", "CRON", "(root) CMD (x)"),
    ]
    lines.sort()
    found = _run(_lines(lines), "logging.gap")
    assert len(found) == 1
    assert (found[0].time, found[0].end) == (
        pd.Timestamp("2024-05-03T07:55:00Z"),
        pd.Timestamp("2024-05-03T14:00:00Z"),
    )
    assert found[0].severity == "medium" and "2 stray line(s)" in found[0].detail
    # severity by length: cut a whole day instead -> high
    day = [x for x in _every("2024-05-01", range(24), 5) if not x[0].startswith("2024-05-03")]
    long = _run(_lines(day), "logging.gap")
    assert [f.severity for f in long] == ["high"]


@case("logging.gap", "negative")
def test_logging_gap_not_for_the_hosts_nights() -> None:
    # Hand-written: a host that logs 08:00-18:00 only, every day for 5 days: its nights are its rhythm.
    lines = _every("2024-05-01", range(8, 18), 5)
    assert _run(_lines(lines), "logging.gap") == []
    # a busy day missing in the middle (day 3) is not its rhythm
    broken = [x for x in lines if not x[0].startswith("2024-05-03")]
    assert len(_run(_lines(broken), "logging.gap")) == 1


# --- network -------------------------------------------------------------------------------------


@case("network.shell_outbound", "positive")
def test_shell_outbound_demo() -> None:
    from hunting.demo.intrusion import C2_IP, REVERSE_PORT

    found = _run(_demo("web01"), "network.shell_outbound")
    assert [f.title for f in found] == [f"Shell connected out to {C2_IP}:{REVERSE_PORT}"]


@case("network.shell_outbound", "negative")
def test_shell_outbound_not_on_benign_host() -> None:
    assert _run(_demo("db01"), "network.shell_outbound") == []


def test_gap_counts_on_shared_data_fall(shared_data: Path) -> None:
    """Issue 13 "less noise": logging.gap over every host of ../shared/data.

    Before rhythm and merging (commit fb973eb), the same run gave 64 findings, all medium
    (go-libaudit 23, laurel 18, beats-auditd 11, plaso 4+1, msticpy squid-uk-02 3, ubuntu2015 3,
    audit-userspace 1); these are excerpts and test fixtures, not hosts' continuous logs.
    """
    from hunting.sources.local import LocalSource

    total: dict[str, int] = {}
    for folder in sorted(p for p in shared_data.iterdir() if p.is_dir()):
        try:
            src = LocalSource.from_paths([folder])
            hosts = src.hosts()
        except HuntingError:  # a folder this reader does not take is not this test's subject
            continue
        for h in hosts["Computer"]:
            for f in _run(_folder_data(folder, str(h)), "logging.gap"):
                total[f.severity] = total.get(f.severity, 0) + 1
    assert sum(total.values()) <= 6, total
    assert total.get("medium", 0) == 0, total
