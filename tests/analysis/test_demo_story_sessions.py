"""The demo intrusion seen through the session detail functions, checked against demo_manifest() truth."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from hunting.analysis import session_detail as sd
from hunting.analysis.cron import new_cron_commands
from hunting.analysis.sessions import logon_sessions
from hunting.analysis.sudo import sudo_sessions
from hunting.demo.scenario import demo_log_paths, demo_manifest
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange


def _second(iso: str) -> pd.Timestamp:
    """Truth times carry microseconds; BSD syslog lines keep whole seconds."""
    return pd.Timestamp(iso).tz_convert("UTC").floor("s")


@pytest.fixture(scope="module")
def story() -> dict[str, Any]:
    src = LocalSource.from_paths(demo_log_paths())
    truth = demo_manifest().truth
    host = truth["host"]
    last = src.hosts(host).iloc[0]["LastSeen"]
    tr = TimeRange(last - pd.Timedelta(days=7), last)
    frames = {m: getattr(src, m)(host, tr) for m in ("syslog", "logon_events", "sudo_events", "cron_events",
                                                      "account_changes")}  # fmt: skip
    sessions = logon_sessions(frames["syslog"], frames["logon_events"])
    intruder = sessions[
        (sessions["User"] == truth["compromised_user"])
        & (sessions["SourceIP"] == truth["attacker_ips"]["brute_force"])
        & (sessions["SessionType"] == "sshd")
    ]
    assert len(intruder) == 1
    db_last = src.hosts("db01").iloc[0]["LastSeen"]
    db_tr = TimeRange(db_last - pd.Timedelta(days=7), db_last)
    db = {m: getattr(src, m)("db01", db_tr) for m in ("sudo_events", "cron_events", "account_changes")}
    return {"truth": truth, "tr": tr, "session": intruder.iloc[0].to_dict(), "db": db, **frames}


def _scoped(story: dict[str, Any], window: sd.Window) -> dict[str, pd.DataFrame]:
    cron_all = story["cron_events"]
    new = new_cron_commands(cron_all, baseline_end=sd.cron_baseline_end(cron_all, window))
    return {
        "sudo": sd.in_window(story["sudo_events"], window),
        "cron": sd.in_window(cron_all, window),
        "accounts": sd.in_window(story["account_changes"], window),
        "new_cron": sd.in_window(new, window, "FirstSeen"),
    }


def _flags(story: dict[str, Any], window: sd.Window) -> pd.DataFrame:
    f = _scoped(story, window)
    return sd.flag_events(f["sudo"], f["cron"], f["accounts"], new_cron=f["new_cron"])


def _one(flags: pd.DataFrame, rule_id: str) -> pd.Series:
    rows = flags[flags["RuleId"] == rule_id]
    assert len(rows) == 1, (rule_id, rows)
    return rows.iloc[0]


def _techniques(row: pd.Series) -> set[str]:
    return set(sd.techniques_of(row["Techniques"]))


@pytest.fixture(scope="module")
def session_flags(story: dict[str, Any]) -> pd.DataFrame:
    window = sd.session_window(story["session"], story["tr"].start, story["tr"].end)
    return _flags(story, window)


def test_session_window_covers_the_intrusion_steps(story: dict[str, Any]) -> None:
    steps = story["truth"]["steps"]
    w = sd.session_window(story["session"], story["tr"].start, story["tr"].end)
    assert w.start == _second(steps["logon"]) and w.end == _second(steps["logoff"])
    for step in (
        "sudo_root_shell",
        "user_created",
        "added_to_sudo",
        "crontab_replaced",
        "malicious_cron_first",
    ):
        assert w.start <= pd.Timestamp(steps[step]) <= w.end, step


def test_session_flags_sudo_root_shell(story: dict[str, Any], session_flags: pd.DataFrame) -> None:
    truth = story["truth"]
    row = _one(session_flags, "sudo.shell")
    assert row["User"] == truth["compromised_user"]
    # The engine's sudo.shell title (findings.yaml) names who, as whom and the shell run.
    assert row["Event"] == f"{truth['compromised_user']} used sudo to get a root shell (/bin/bash)"
    assert row["Matched"].endswith("USER=root ; COMMAND=/bin/bash")  # the sudo line itself
    assert row["TimeGenerated"] == _second(truth["steps"]["sudo_root_shell"])
    assert _techniques(row) == {"T1548.003", "T1059.004"}  # Sudo and Sudo Caching; Unix Shell
    assert row["Severity"] == "high"


def test_session_flags_new_account_and_sudo_group(story: dict[str, Any], session_flags: pd.DataFrame) -> None:
    truth = story["truth"]
    new = _one(session_flags, "account.new_user")
    assert new["User"] == truth["new_account"]
    assert new["Event"] == f"New account {truth['new_account']} created"
    # the useradd line is the evidence, with the uid the story gave the backdoor
    assert f"name={truth['new_account']}, UID={truth['new_uid']}," in new["Matched"]
    assert new["Severity"] == "medium"  # not uid 0
    assert new["Count"] == 1  # one useradd, not one per log that recorded it
    assert new["TimeGenerated"] == _second(truth["steps"]["user_created"])
    assert _techniques(new) == {"T1136.001"}  # Create Account: Local Account
    group = _one(session_flags, "account.privileged_group")
    assert group["Event"] == f"{truth['new_account']} added to privileged group sudo"
    assert group["TimeGenerated"] == _second(truth["steps"]["added_to_sudo"])
    assert _techniques(group) == {"T1098"}  # Account Manipulation


def test_session_flags_crontab_edit(story: dict[str, Any], session_flags: pd.DataFrame) -> None:
    row = _one(session_flags, "cron.crontab_edit")
    assert row["Event"] == "Crontab of root changed by root"  # owner, then who ran crontab
    assert row["Count"] == 1  # BEGIN EDIT/REPLACE/END EDIT of one crontab -e are one flag
    assert row["TimeGenerated"].floor("s") == _second(story["truth"]["steps"]["crontab_replaced"])
    assert _techniques(row) == {"T1053.003"}  # Scheduled Task/Job: Cron


def test_session_flags_downloading_cron_job(story: dict[str, Any], session_flags: pd.DataFrame) -> None:
    truth = story["truth"]
    risky = _one(session_flags, "lnx.download_pipe_shell")
    assert risky["Kind"] == "Cron runs" and risky["User"] == "root"
    assert risky["Event"] == f"root: {truth['cron_command']}"
    assert truth["cron_url"] in risky["Matched"]
    assert risky["TimeGenerated"].floor("s") == _second(truth["steps"]["malicious_cron_first"])
    assert _techniques(risky) == {"T1105", "T1059.004"}  # Ingress Tool Transfer; Unix Shell
    new = _one(session_flags, "cron.new_command")
    assert new["Event"] == f"New cron job of root: {truth['cron_command']}"
    assert new["Severity"] == "high"  # risky and after a crontab change
    assert _techniques(new) == {"T1053.003"}


def test_session_flags_nothing_else(session_flags: pd.DataFrame) -> None:
    assert sorted(session_flags["RuleId"]) == sorted([
        "sudo.shell", "account.new_user", "account.privileged_group", "cron.crontab_edit",
        "lnx.download_pipe_shell", "cron.new_command",
    ])  # fmt: skip


def test_whole_range_counts_every_malicious_cron_run(story: dict[str, Any]) -> None:
    truth = story["truth"]
    flags = _flags(story, sd.session_window(None, story["tr"].start, story["tr"].end))
    risky = _one(flags, "lnx.download_pipe_shell")
    assert risky["Count"] == truth["malicious_cron_runs"]
    # the administrator's everyday sudo (alice) is never flagged
    assert truth["compromised_user"] in set(flags["User"])
    assert "alice" not in set(flags["User"])


def test_sudo_sessions_only_the_intruders_root_shell_flagged(story: dict[str, Any]) -> None:
    truth = story["truth"]
    sessions = sudo_sessions(story["syslog"], story["sudo_events"])
    flagged = sd.flag_sudo_sessions(sessions, story["sudo_events"], n=10, seconds=5)
    hit = flagged[flagged["Flagged"]]
    assert hit[["User", "RunAs", "Shell"]].values.tolist() == [[truth["compromised_user"], "root", True]]
    assert hit["Start"].iloc[0] == _second(truth["steps"]["sudo_root_shell"])


def test_session_timeline_has_each_step(story: dict[str, Any]) -> None:
    truth = story["truth"]
    w = sd.session_window(story["session"], story["tr"].start, story["tr"].end)
    f = _scoped(story, w)
    tl = sd.session_timeline(sd.in_window(story["logon_events"], w), f["sudo"], f["cron"], f["accounts"])
    at = {(k, t.floor("s")) for k, t in zip(tl["Kind"], tl["TimeGenerated"], strict=True)}
    steps = truth["steps"]
    for kind, step in (("Logons", "logon"), ("sudo", "sudo_root_shell"), ("Account changes", "user_created"),
                       ("Account changes", "added_to_sudo"), ("Cron edits", "crontab_replaced"),
                       ("Cron runs", "malicious_cron_first")):  # fmt: skip
        assert (kind, _second(steps[step])) in at, (kind, step)


def test_users_seen_names_intruder_and_backdoor(story: dict[str, Any]) -> None:
    truth = story["truth"]
    users = sd.users_seen(story["logon_events"], story["sudo_events"]).set_index("User")
    assert users.at[truth["compromised_user"], "Successes"] >= 1
    assert users.at[truth["compromised_user"], "SudoCommands"] == 1
    assert users.at[truth["new_account"], "Successes"] >= 1  # the backdoor logon
    assert users.at[truth["new_account"], "SudoCommands"] == 0


def test_benign_host_has_no_flags(story: dict[str, Any]) -> None:
    db = story["db"]
    assert len(db["sudo_events"]) > 0 and len(db["cron_events"]) > 0
    flags = sd.flag_events(db["sudo_events"], db["cron_events"], db["account_changes"])
    assert flags.empty


def test_sudo_sessions_do_not_inherit_ssh_failures(story: dict[str, Any]) -> None:
    """Issue 14 item 9: root's SSH password guessing is not the failure ratio of every sudo session.

    Checked by hand on the generated web01 auth logs: ``grep -h 'Failed password for root '
    auth.log*`` gives 115 lines (more with "message repeated N times"), and ``grep -h
    'pam_unix(sudo:session): session opened for user root'`` gives 15 sudo sessions.
    """
    sessions = logon_sessions(story["syslog"], story["logon_events"], include_system=True)
    sudo = sessions[sessions["SessionType"] == "sudo"]
    assert len(sudo) == 15
    assert (sudo["User"] == "root").all()
    lg = story["logon_events"]
    root_ssh = lg[(lg["User"] == "root") & (lg["ProcessName"] == "sshd") & (lg["Result"] == "Failure")]
    assert root_ssh["Count"].fillna(1).sum() >= 115  # the failures exist ...
    assert (sudo["UserFailures"] == 0).all()  # ... but are sshd's, not sudo's
    assert sudo["FailureRatio"].isna().all()
    # A logon session still carries its user's failures: the intruder's sshd session.
    intruder = sessions[
        (sessions["SessionType"] == "sshd") & (sessions["User"] == story["truth"]["compromised_user"])
    ]
    assert (intruder["UserFailures"] > 0).any()
