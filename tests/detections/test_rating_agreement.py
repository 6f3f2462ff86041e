"""One rating everywhere: the pages' ratings of the demo's sudo commands agree with the findings.

Compares the outputs of different call sites on real demo data: User activity
(``sudo_command_counts`` + ``rate_commands``), Session detail (``flag_events`` and
``flag_sudo_sessions``) and the Findings engine (``find_all``). Before the engine was
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
