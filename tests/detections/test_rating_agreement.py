"""One rating everywhere: the pages' ratings of the demo's sudo commands agree with the findings.

Compares the outputs of different call sites on real demo data: User activity
(``sudo_command_counts`` + ``rate_commands``), Session detail (``flag_events`` and
``flag_sudo_sessions``, for every logon session), Process trees (``tree_risks``, every
process), Application activity (``message_risks``, every application) and the Findings
engine (``find_all``). Before the engine was
shared, ``sudo /bin/bash`` was "None" on User activity and high on Findings (issue 14 item 5).
"""

from __future__ import annotations

import pandas as pd
import pytest

from hunting.analysis import session_detail as sd
from hunting.analysis.findings import collect, find_all
from hunting.analysis.risky import SEVERITY_RANK
from hunting.demo.scenario import demo_log_paths
from hunting.detections.rating import rate_commands
from hunting.schema import SUDO, conform
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange


@pytest.fixture(scope="module")
def web01():  # type: ignore[no-untyped-def]
    source = LocalSource.from_paths(demo_log_paths())
    row = source.hosts().set_index("Computer").loc["web01"]
    tr = TimeRange(row["FirstSeen"], row["LastSeen"] + pd.Timedelta("1ms"))
    data = collect(source, "web01", tr)
    return data, find_all(data)


def _worst(values: list[str]) -> str | None:
    return max(values, key=SEVERITY_RANK.__getitem__) if values else None


def test_every_sudo_command_has_one_rating(web01) -> None:  # type: ignore[no-untyped-def]
    data, result = web01
    su = conform(data.sudo, SUDO)
    su = su[su["Command"].notna()].reset_index(drop=True)
    assert len(su) > 0
    # User activity: per (Sudoer, RunAs, Command) row.
    freq = sd.sudo_command_counts(su)
    user_page = rate_commands(freq["Command"], sudo=True, succeeded=freq["Count"] > freq["Failures"])
    user_rating = dict(zip(freq["Command"], user_page["Severity"], strict=True))
    # Session detail: flag rows of kind sudo (risky rules + the engine's sudo.shell findings).
    flags = sd.flag_events(su, data.cron.iloc[0:0], data.accounts.iloc[0:0])
    # Findings: sudo.shell and risky-command findings whose evidence is this command's sudo line.
    command_rules = {"sudo.shell"} | {f.rule_id for f in result.findings if "." not in f.rule_id}
    checked = 0
    for command in freq["Command"].unique():
        needle = f"COMMAND={command}"
        finding_sev = _worst(
            [
                f.severity
                for f in result.findings
                if f.rule_id in command_rules and any(line.endswith(needle) for line in f.evidence)
            ]
        )
        mine = flags[(flags["Kind"] == "sudo") & flags["Event"].str.contains(command, regex=False)]
        flag_sev = _worst([str(s) for s in mine["Severity"]])
        page_sev = user_rating[command]
        page_sev = None if pd.isna(page_sev) else str(page_sev)
        assert page_sev == finding_sev == flag_sev, (command, page_sev, finding_sev, flag_sev)
        checked += 1
    assert checked == freq["Command"].nunique()


def test_sudo_bin_bash_is_high_on_every_page(web01) -> None:  # type: ignore[no-untyped-def]
    # The demo's attacker ran `sudo /bin/bash` (grep 'COMMAND=/bin/bash' in the demo auth.log).
    data, result = web01
    su = conform(data.sudo, SUDO)
    assert (su["Command"] == "/bin/bash").any()
    assert rate_commands(pd.Series(["/bin/bash"]), sudo=True)["Severity"].iloc[0] == "high"
    assert any(f.rule_id == "sudo.shell" and f.severity == "high" for f in result.findings)
    sessions = sd.flag_sudo_sessions(sd_sessions(data), su)
    shell_sessions = sessions[sessions["Shell"].fillna(False).astype(bool)]
    assert len(shell_sessions) >= 1
    assert set(shell_sessions["RiskSeverity"].astype(str)) == {"high"}


def sd_sessions(data):  # type: ignore[no-untyped-def]
    from hunting.analysis.sudo import sudo_sessions

    return sudo_sessions(data.syslog, data.sudo)


# --- every page, every session and command of the demo ------------------------------------------
#
# "Command-rating" detectors rate one command line or process on its own; their findings
# are what every page's rating must agree with. Sequence detections (a download later
# run, a cron command new against the range's baseline, logon patterns) rate behaviour
# over several events and are shown on Findings only.
SEQUENCE_RULES = frozenset({"command.download_execute", "cron.new_command"})


def _same_rule(finding_rule: str, page_rule: str) -> bool:
    """A risky rule that restates a structured finding is folded into it (findings.yaml merge_into)."""
    from hunting.detections.registry import _default_specs

    merge = _default_specs()["command.risky"].params.get("merge_into") or {}
    return finding_rule in {page_rule, merge.get(page_rule)}


def _command_findings(result):  # type: ignore[no-untyped-def]
    return [
        f for f in result.findings if f.rule_id not in SEQUENCE_RULES and not f.rule_id.startswith("logon.")
    ]


@pytest.fixture(scope="module")
def web01_tree(web01):  # type: ignore[no-untyped-def]
    from hunting.analysis.process_scope import host_tree

    data, _ = web01
    return host_tree(data.audit, host_users=LocalSource.from_paths(demo_log_paths()).host_users("web01"))


def test_every_process_of_the_tree_has_the_findings_rating(web01, web01_tree) -> None:  # type: ignore[no-untyped-def]
    """Process trees (tree_risks) against the findings whose evidence holds that process's audit line.

    Compared per distinct command line: all runs of one command are one finding, whose
    evidence keeps the first 25 lines (MAX_EVIDENCE), so at least one run is found there.
    """
    from hunting.analysis.process_scope import tree_risks
    from hunting.detections.rating import worst_by_row

    data, result = web01
    tree = web01_tree
    real = tree[~tree["IsSynthetic"].fillna(False).astype(bool)]
    page = worst_by_row(tree_risks(tree), tree.index)["Severity"]
    raw = data.audit.drop_duplicates("EventId").set_index("EventId")["RawMessage"]
    by_line: dict[str, list] = {}
    for f in _command_findings(result):
        for line in f.evidence:
            by_line.setdefault(line, []).append(f)
    real = real.assign(_raw=real["EventId"].map(raw).astype(str), _page=page.loc[real.index])
    rated = 0
    for command, g in real.groupby("Cmdline"):
        found = {f.id: f for line in g["_raw"] for f in by_line.get(line, [])}
        finding_sev = _worst([f.severity for f in found.values()])
        page_sev = _worst([str(s) for s in g["_page"].dropna()])
        assert page_sev == finding_sev, (
            command,
            page_sev,
            finding_sev,
            sorted(f.rule_id for f in found.values()),
        )
        rated += page_sev is not None
    # The demo's intrusion runs: sudo bash, useradd, usermod, chpasswd, the dropper, the
    # reverse shell, the stager, history wipes ... (hunting/demo/intrusion.py): many rated.
    assert rated >= 10
    assert real["Cmdline"].nunique() > 1000  # every routine command was walked too


def test_every_logon_session_flags_agree_with_findings(web01) -> None:  # type: ignore[no-untyped-def]
    """Session detail's flags of every logon session of web01 are findings with the same rule and severity."""
    from hunting.analysis.sessions import logon_sessions

    data, result = web01
    sessions = logon_sessions(data.syslog, data.logons)
    assert len(sessions) >= 10
    findings = _command_findings(result)
    flagged_sessions = 0
    for s in sessions.to_dict("records"):
        w = sd.session_window(s, result.tr.start, result.tr.end)
        flags = sd.flag_events(
            sd.in_window(data.sudo, w), sd.in_window(data.cron, w), sd.in_window(data.accounts, w)
        )
        flagged_sessions += bool(len(flags))
        for flag in flags.to_dict("records"):
            t = pd.Timestamp(flag["TimeGenerated"])
            same = [
                f
                for f in findings
                if _same_rule(f.rule_id, flag["RuleId"])
                and pd.Timestamp(f.time) - pd.Timedelta("1s")
                <= t
                <= pd.Timestamp(f.end or f.time) + pd.Timedelta("1s")
            ]
            assert same, (s["User"], flag["RuleId"], flag["Event"])
            assert flag["Severity"] in {f.severity for f in same}, (flag["RuleId"], flag["Severity"])
    # the intruder's session (sudo shell, backdoor account, crontab) and the backdoor's own
    assert flagged_sessions >= 1


def test_application_activity_rates_as_findings(web01) -> None:  # type: ignore[no-untyped-def]
    """Application activity's risky messages of every application of web01 (system daemons such as CRON
    included) match a finding's rule and severity."""
    from hunting.analysis.applications import app_messages, applications, message_risks

    data, result = web01
    findings = _command_findings(result)
    apps = applications(data.syslog, daemons=())["Application"].dropna().astype(str).tolist()
    assert len(apps) >= 5
    seen: set[str] = set()
    for app in apps:
        risks = message_risks(app_messages(data.syslog, app))
        for r in risks.to_dict("records"):
            t = pd.Timestamp(r["TimeGenerated"])
            same = [
                f
                for f in findings
                if _same_rule(f.rule_id, r["RuleId"])
                and pd.Timestamp(f.time) - pd.Timedelta("1s")
                <= t
                <= pd.Timestamp(f.end or f.time) + pd.Timedelta("1s")
            ]
            assert same, (app, r["RuleId"], r["SyslogMessage"])
            assert r["Severity"] in {f.severity for f in same}, (app, r["RuleId"], r["Severity"])
            seen.add(str(r["RuleId"]))
    # sudo's `COMMAND=/bin/bash` line and cron's downloader (demo auth.log / syslog, grep)
    assert {"sudo.shell", "lnx.download_pipe_shell"} <= seen
