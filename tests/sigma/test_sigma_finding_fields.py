"""Sigma findings carry who: the login user (auid's name), the audit session and the address.

Expected values come from auditd's own ``ausearch`` over the demo's raw audit.log (numbers: auid
and ses of the event's SYSCALL record; arguments decoded from EXECVE by hand) and the demo host's
own passwd copy (split on ':'), never from the engine. ``ausearch -i`` on this machine shows
``auid=unknown(1001)`` for the nohup execve: the analyst's box has no uid 1001, the host's passwd
names it, which is why the host's passwd (HostUsers) is what names users here too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hunting.demo.scenario import demo_log_paths
from hunting.detections.base import collect
from hunting.detections.model import Finding
from hunting.sigma.engine import SigmaHunt, SigmaTables, sigma_run
from hunting.sigma.rules import SIGMAHQ_DIR, RuleSet, load_rules
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
from tests.conftest import missing

NOHUP_TMP = "457df417-8b9d-4912-85f3-9dbda39c3645"  # Suspicious Nohup Execution (process_creation)
USER_DISCOVERY = "9a0d8ca0-2385-4020-b6c6-cb6153ca56f3"  # System Owner or User Discovery (auditd)
USER_DISCOVERY_A0 = {"hostname", "id", "last", "uname", "users", "w", "who", "whoami"}  # its a0 list
SSHD_ERROR = "e76b413a-83d0-4b94-8e4c-85db4a5b8bdc"  # Suspicious OpenSSH Daemon Error (syslog)


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_rules([SIGMAHQ_DIR])


@pytest.fixture(scope="module")
def web01() -> Path:
    return next(p for p in demo_log_paths() if p.name == "web01")


def _range(src: LocalSource) -> tuple[str, TimeRange]:
    [(_, row)] = list(src.hosts().iterrows())
    return str(row.Computer), TimeRange(
        row.FirstSeen - timedelta(seconds=1), row.LastSeen + timedelta(seconds=1)
    )


def _fired(findings: list[Finding]) -> dict[str, Finding]:
    return {f.rule_id.removeprefix("sigma:"): f for f in findings}


@pytest.fixture(scope="module")
def demo_findings(web01: Path, shipped: RuleSet) -> dict[str, dict[str, Finding]]:
    """web01's Sigma findings through sigma_run and through the Findings page's hook."""
    src = LocalSource.from_paths([web01])
    host, tr = _range(src)
    page = SigmaHunt(shipped, src)(collect(src, host, tr))  # what ui/findings_view.py runs
    return {"sigma_run": _fired(sigma_run(src, host, tr, shipped).findings), "page": _fired(page)}


def _passwd(web01: Path) -> dict[int, str]:
    out: dict[int, str] = {}
    for line in (web01 / "etc" / "passwd").read_text().splitlines():
        f = line.split(":")
        if len(f) > 2 and f[2].isdigit():
            out.setdefault(int(f[2]), f[0])
    return out


def _arg(value: str) -> str:
    """An EXECVE argument as auditd wrote it: "quoted" or hex-encoded."""
    return value[1:-1] if value.startswith('"') else bytes.fromhex(value).decode(errors="replace")


def _execs(web01: Path) -> list[dict[str, Any]]:
    """Every execve event of web01 per ausearch (raw numbers): exe, auid, ses and its arguments."""
    if shutil.which("ausearch") is None:
        missing("ausearch (auditd) is not installed")
    out = subprocess.run(
        ["ausearch", "-if", str(web01 / "audit" / "audit.log"), "-m", "EXECVE"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    events: list[dict[str, Any]] = []
    for block in out.split("----"):
        sc = re.search(r"type=SYSCALL .* auid=(\d+) .* ses=(\d+) .* exe=\"([^\"]*)\"", block)
        ex = re.search(r"type=EXECVE msg=\S+ argc=\d+ (.*)", block)
        if sc and ex:
            args = [_arg(v) for v in re.findall(r"a\d+=(\"[^\"]*\"|[0-9A-F]+)", ex.group(1))]
            events.append({"auid": sc.group(1), "ses": sc.group(2), "exe": sc.group(3), "args": args})
    assert len(events) > 100  # the parse worked (web01 has thousands of execve)
    return events


def test_nohup_finding_names_the_login_user_and_session(
    web01: Path, demo_findings: dict[str, dict[str, Finding]]
) -> None:
    # The rule: Image endswith '/nohup' and CommandLine contains '/tmp/'.
    hits = [e for e in _execs(web01) if e["exe"].endswith("/nohup") and "/tmp/" in " ".join(e["args"])]
    assert len(hits) == 1  # "nohup /tmp/.x/kworkerd -c 45.95.147.236:443"; auid=1001 ses=6024
    auid, ses = int(hits[0]["auid"]), hits[0]["ses"]
    user = _passwd(web01)[auid]  # "deploy" in the host's passwd (grep ':1001:' etc/passwd)
    for how, fired in demo_findings.items():
        f = fired[NOHUP_TMP]
        assert f.occurrences == 1, how
        assert (f.user, f.session, f.source_ip) == (user, f"ses {ses}", None), how
        assert "disagree" not in f.detail, how


def test_several_users_most_frequent_shown_and_counts_told(
    web01: Path, demo_findings: dict[str, dict[str, Finding]]
) -> None:
    # The auditd rule: type EXECVE and a0 one of USER_DISCOVERY_A0 (a0 as written, no path).
    hits = [e for e in _execs(web01) if e["args"] and e["args"][0] in USER_DISCOVERY_A0]
    names = _passwd(web01)
    counts = Counter(names.get(int(e["auid"]), e["auid"]) for e in hits)
    assert len(counts) > 1  # the matched rows disagree: several login users ran these
    top = max(counts.values())
    for how, fired in demo_findings.items():
        f = fired[USER_DISCOVERY]
        assert f.occurrences == len(hits), how
        assert counts[f.user] == top, how  # one of the most frequent (ties: the first seen)
        # the session shown is one of that user's sessions per ausearch
        assert f.session in {f"ses {e['ses']}" for e in hits if names.get(int(e["auid"])) == f.user}, how
        # honest about the others: every user with its count is in the detail
        assert f"{len(counts)} users in the {len(hits)} matched rows" in f.detail, how
        for name, n in counts.items():
            assert f"{name} ({n})" in f.detail, how


def test_syslog_match_naming_nobody_stays_none(shared_data: Path, shipped: RuleSet, tmp_path: Path) -> None:
    """Wazuh's sshd test lines: the OpenSSH error rule fires on lines with no user or address."""
    lines = [
        m.group(1)
        for ln in (shared_data / "wazuh" / "sshd.ini").read_text().splitlines()
        if (m := re.match(r"log \d+ (?:pass|fail) = (.*)$", ln))
    ]
    (tmp_path / "syslog").write_text("\n".join(lines) + "\n")
    # grep: the four matching lines ("bad client public DH value" x2, "Corrupted MAC on input" x2)
    # name no user ("user", "for", "invalid") and no address ("from", a dotted quad)
    hits = [
        ln
        for ln in lines
        if re.search(r" sshd\[\d+\]: .*(bad client public DH value|Corrupted MAC on input)", ln)
    ]
    assert len(hits) == 4
    assert not [ln for ln in hits if re.search(r"\b(user|for|from|invalid)\b|\d+\.\d+\.\d+\.\d+", ln, re.I)]
    src = LocalSource.from_paths([tmp_path])
    found = []
    for _, row in src.hosts().iterrows():
        tr = TimeRange(row.FirstSeen - timedelta(seconds=1), row.LastSeen + timedelta(seconds=1))
        found += [
            f for f in sigma_run(src, str(row.Computer), tr, shipped).findings if SSHD_ERROR in f.rule_id
        ]
    assert sum(f.occurrences for f in found) == 4
    assert [(f.user, f.session, f.source_ip) for f in found] == [(None, None, None)] * len(found)


def test_syslog_rows_user_and_address_from_the_logon_parser(web01: Path, shipped: RuleSet) -> None:
    """sshd password lines of web01 given as a syslog rule's matched rows: user and address are
    the ones the lines name (counted here with a regular expression over the messages)."""
    src = LocalSource.from_paths([web01])
    host, tr = _range(src)
    syslog = src.syslog(host, tr)
    form = re.compile(r"^(?:Accepted|Failed) password for (?:invalid user )?(\S+) from (\S+) port \d+ ssh2$")
    pos = [i for i, m in enumerate(syslog["SyslogMessage"]) if form.match(str(m))]
    users = Counter(form.match(str(syslog["SyslogMessage"].iloc[i])).group(1) for i in pos)  # type: ignore[union-attr]
    ips = Counter(form.match(str(syslog["SyslogMessage"].iloc[i])).group(2) for i in pos)  # type: ignore[union-attr]
    assert len(pos) > 100 and len(users) > 1 and len(ips) > 1  # the demo's password guessing
    rule = next(r for r in shipped.rules if r.table == "sigma_syslog")
    who = SigmaTables(syslog, src.audit_events(host, tr).iloc[:0], shipped).who(rule, pos)
    (top_user, n_user), (top_ip, n_ip) = users.most_common(1)[0], ips.most_common(1)[0]
    assert (who.user, who.source_ip, who.session) == (top_user, top_ip, None)
    assert f"{top_user} ({n_user})" in who.note and f"{top_ip} ({n_ip})" in who.note
    assert f"{len(users)} users in the {len(pos)} matched rows" in who.note


def test_log_analytics_findings_name_user_and_address_too(web01: Path, shipped: RuleSet) -> None:
    """On Log Analytics the Syslog rules run as KQL and the workspace answers the matching rows;
    the finding built from that answer names user and address as the local engine does. The
    workspace is a stand-in that answers web01's real sshd password lines (counted here with a
    regular expression, independently of the logon parser)."""
    from hunting.sigma.kql import KqlRule, kusto_available, run_kql_rules

    if not kusto_available():
        missing("pySigma-backend-kusto is not installed (make install-dev)")
    src = LocalSource.from_paths([web01])
    host, tr = _range(src)
    syslog = src.syslog(host, tr)
    form = re.compile(r"^(?:Accepted|Failed) password for (?:invalid user )?(\S+) from (\S+) port \d+ ssh2$")
    rows = syslog[[bool(form.match(str(m))) for m in syslog["SyslogMessage"]]]
    users = Counter(form.match(str(m)).group(1) for m in rows["SyslogMessage"])  # type: ignore[union-attr]
    ips = Counter(form.match(str(m)).group(2) for m in rows["SyslogMessage"])  # type: ignore[union-attr]
    assert len(rows) > 100 and len(users) > 1
    rule = next(r for r in shipped.rules if r.table == "sigma_syslog")
    asked: list[str] = []

    def workspace(query: str, _tr: TimeRange) -> Any:
        asked.append(query)
        return rows

    run = run_kql_rules([KqlRule(rule, "Syslog", "true")], host, tr, workspace)
    assert asked, "the rule's query was not sent"
    (finding,) = run.findings
    assert finding.occurrences == len(rows)
    assert (finding.user, finding.source_ip, finding.session) == (
        users.most_common(1)[0][0],
        ips.most_common(1)[0][0],
        None,
    )
