"""Scope hints of Findings links: ``ses N`` parsing, the logon a hint names, a pid's executable."""

from __future__ import annotations

import pandas as pd

from hunting.analysis.process_scope import logon_for_hint, parse_ses, pid_exe

T0 = pd.Timestamp("2026-03-12 03:28:16", tz="UTC")


def _logons() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "User": ["root", "deploy", "root", "alice"],
            "Start": [T0 - pd.Timedelta("1h"), T0, T0 + pd.Timedelta("1min"), T0 + pd.Timedelta("2h")],
            "End": [
                T0 - pd.Timedelta("59min"),
                T0 + pd.Timedelta("15min"),
                T0 + pd.Timedelta("2min"),
                pd.NaT,
            ],
        }
    )


def _sessions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Ses": [6000, 6024, 6025, 6100],
            "Auid": [0, 1001, 0, 1000],
            "LoginUser": ["root", "deploy", "root", "alice"],
            "Start": [
                T0 - pd.Timedelta("1h") + pd.Timedelta("1s"),
                T0 + pd.Timedelta("0.7s"),
                T0 + pd.Timedelta("61s"),
                T0 + pd.Timedelta("2h1s"),
            ],
        }
    )


def test_parse_ses_forms() -> None:
    assert parse_ses("ses 6024") == 6024
    assert parse_ses("6024") == 6024
    assert parse_ses(" SES6024 ") == 6024
    assert parse_ses("ses 60x") is None
    assert parse_ses("") is None
    assert parse_ses(None) is None


def test_logon_for_hint_by_audit_session() -> None:
    assert logon_for_hint(_logons(), _sessions(), ses=6024) == 1
    assert logon_for_hint(_logons(), _sessions(), ses=6025) == 2
    assert logon_for_hint(_logons(), _sessions(), ses=6024, user="deploy") == 1


def test_logon_for_hint_session_of_another_user_or_unknown() -> None:
    assert logon_for_hint(_logons(), _sessions(), ses=6024, user="root") is None
    assert logon_for_hint(_logons(), _sessions(), ses=9999) is None


def test_logon_for_hint_user_alone_only_when_unique() -> None:
    assert logon_for_hint(_logons(), _sessions(), user="alice") == 3
    assert logon_for_hint(_logons(), _sessions(), user="root") is None  # two sessions: no guess
    assert logon_for_hint(_logons(), _sessions(), user="nobody") is None
    assert logon_for_hint(_logons(), _sessions()) is None
    assert logon_for_hint(_logons().iloc[0:0], _sessions(), ses=6024) is None


def test_pid_exe_is_the_last_exec_of_the_pid() -> None:
    tree = pd.DataFrame(
        {
            "Pid": [7, 7, 8],
            "Exe": ["/usr/bin/nohup", "/tmp/.x/kworkerd", None],
            "TimeGenerated": [T0, T0 + pd.Timedelta("2ms"), T0],
        }
    )
    assert pid_exe(tree, 7) == "/tmp/.x/kworkerd"
    assert pid_exe(tree, 8) is None
    assert pid_exe(tree, 9) is None
    assert pid_exe(tree, None) is None
