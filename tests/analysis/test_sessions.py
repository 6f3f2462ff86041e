"""pam_unix session pairing, Accepted-line context and alert overlap."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.logons import logon_events
from hunting.analysis.sessions import (
    SESSION_COLUMNS,
    flag_alerts,
    is_system_session,
    logon_sessions,
    pam_sessions,
    system_sessions,
)
from hunting.schema import ALERTS, SYSLOG, conform
from tests.analysis.test_logons import syslog_from_lines, syslog_from_traditional


@pytest.fixture(scope="module")
def loghub(shared_data: Path) -> pd.DataFrame:
    return syslog_from_traditional(shared_data / "loghub" / "OpenSSH_2k.log")


def test_logon_sessions_loghub_fztu(loghub: pd.DataFrame) -> None:
    sessions = logon_sessions(loghub, logon_events(loghub))
    assert list(sessions.columns) == SESSION_COLUMNS
    # grep "session opened\|session closed": one pair, sshd[24680], 09:32:20 and 09:45:06.
    assert len(sessions) == 1
    s = sessions.iloc[0]
    assert (s["User"], s["SessionType"], int(s["ProcessID"])) == ("fztu", "sshd", 24680)
    assert s["Start"] == pd.Timestamp("2017-12-10 09:32:20", tz="UTC")
    assert s["End"] == pd.Timestamp("2017-12-10 09:45:06", tz="UTC")
    assert s["DurationSeconds"] == 766.0
    assert (s["SourceIP"], int(s["SourcePort"]), s["LogonType"]) == ("119.137.62.142", 49116, "password")
    assert bool(s["FirstLogonFromIP"]) and not bool(s["IsRoot"])
    assert (int(s["UserFailures"]), int(s["UserSuccesses"]), s["FailureRatio"]) == (0, 1, 0.0)


def test_logon_sessions_pairs_by_pid_not_order() -> None:
    df = syslog_from_lines(
        [
            "h sshd[100]: Accepted publickey for alice from 192.0.2.1 port 4000 ssh2: ED25519 SHA256:x",
            "h sshd[100]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
            "h sshd[200]: Failed password for root from 198.51.100.7 port 5000 ssh2",
            "h sshd[200]: Accepted password for root from 198.51.100.7 port 5000 ssh2",
            "h sshd[200]: pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)",
            "h sshd[200]: pam_unix(sshd:session): session closed for user root",
            "h su[300]: pam_unix(su:session): session opened for user root by alice(uid=1000)",
            "h sshd[100]: pam_unix(sshd:session): session closed for user alice",
            "h CRON[400]: pam_unix(cron:session): session closed for user root",
        ]
    )
    s = logon_sessions(df, logon_events(df)).set_index("User", drop=False)
    assert len(s) == 3  # the cron session is a system session, left out by default
    assert len(logon_sessions(df, logon_events(df), include_system=True)) == 4
    alice, root = s.loc["alice"], s[s["SessionType"] == "sshd"].loc["root"]
    assert alice["Start"] == pd.Timestamp("2020-03-24 08:00:01", tz="UTC")
    assert alice["End"] == pd.Timestamp("2020-03-24 08:00:07", tz="UTC")
    assert (alice["LogonType"], alice["SourceIP"]) == ("publickey", "192.0.2.1")
    assert root["End"] == pd.Timestamp("2020-03-24 08:00:05", tz="UTC")
    assert bool(root["IsRoot"])
    # root: 1 failed password, 2 successes (the sshd Accepted line and alice's su to root).
    assert (int(root["UserFailures"]), int(root["UserSuccesses"])) == (1, 2)
    assert root["FailureRatio"] == pytest.approx(1 / 3)
    su = s[s["SessionType"] == "su"].iloc[0]
    assert pd.isna(su["End"]) and su["ByUser"] == "alice" and su["LogonType"] == "su"
    every = logon_sessions(df, logon_events(df), include_system=True)
    cron = every[every["SessionType"] == "cron"].iloc[0]
    assert pd.isna(cron["Start"]) and cron["End"] == pd.Timestamp("2020-03-24 08:00:08", tz="UTC")
    assert s["SessionId"].is_unique


def test_logon_sessions_session_id_is_stable() -> None:
    df = syslog_from_lines(["h su[3]: pam_unix(su:session): session opened for user root by bob(uid=1)"])
    a = logon_sessions(df, logon_events(df))["SessionId"].iloc[0]
    b = logon_sessions(df.copy(), logon_events(df))["SessionId"].iloc[0]
    assert a == b and len(a) == 16


def test_pam_sessions_sentinel_export_without_pids(shared_data: Path) -> None:
    raw = pd.read_csv(shared_data / "msticpy" / "sudo_session_test.csv", encoding="utf-8-sig")
    s = pam_sessions(conform(raw, SYSLOG))
    # grep -c: 5 "session opened", 68 "session closed"; each open is followed by a close.
    assert len(s) == 68
    assert s["Start"].notna().sum() == 5
    assert (s["Start"].notna() & s["End"].notna()).sum() == 5
    assert set(s.loc[s["Start"].notna(), "ByUser"]) == {"peteb"}


def test_logon_sessions_old_pam_process_name(shared_data: Path) -> None:
    text = (shared_data / "wazuh" / "pam.ini").read_text(encoding="utf-8")
    lines = [ln.split(" = ", 1)[1] for ln in text.splitlines() if "su(pam_unix)[14592]" in ln]
    s = logon_sessions(syslog_from_lines(lines), logon_events(syslog_from_lines(lines)))
    assert len(s) == 1
    assert (s.iloc[0]["User"], s.iloc[0]["SessionType"], s.iloc[0]["DurationSeconds"]) == ("news", "su", 1.0)


def test_logon_sessions_empty() -> None:
    assert list(logon_sessions(SYSLOG.empty(), SYSLOG.empty()).columns) == SESSION_COLUMNS


def _alerts(rows: list[dict[str, object]]) -> pd.DataFrame:
    return conform(pd.DataFrame(rows), ALERTS)


def test_flag_alerts_within_session_and_open_end() -> None:
    df = syslog_from_lines(
        [
            "h sshd[1]: pam_unix(sshd:session): session opened for user a by (uid=0)",
            "h sshd[1]: pam_unix(sshd:session): session closed for user a",
            "h sshd[2]: pam_unix(sshd:session): session opened for user b by (uid=0)",
        ]
    )
    sessions = logon_sessions(df, logon_events(df))
    alerts = _alerts(
        [
            {"TimeGenerated": "2020-03-24 08:00:00.5", "Computer": "HOST.example.com", "AlertDisplayName": "<b>x</b>"},
            {"TimeGenerated": "2020-03-24 09:00:00", "Computer": "host", "AlertName": "Later"},
            {"TimeGenerated": "2020-03-24 08:00:00.5", "Computer": "other", "AlertName": "Elsewhere"},
            {"StartTimeUtc": "2020-03-24 07:00:00", "TimeGenerated": "2020-03-24 10:00", "Computer": "host",
             "AlertName": "Before"},
        ]
    )  # fmt: skip
    out = flag_alerts(sessions, alerts).set_index("User")
    assert bool(out.loc["a", "AlertDuringSession"]) and out.loc["a", "AlertNames"] == "<b>x</b>"
    assert bool(out.loc["b", "AlertDuringSession"]) and out.loc["b", "AlertNames"] == "Later"


def test_flag_alerts_no_alerts() -> None:
    df = syslog_from_lines(["h sshd[1]: pam_unix(sshd:session): session opened for user a by (uid=0)"])
    out = flag_alerts(logon_sessions(df, logon_events(df)), ALERTS.empty())
    assert list(out["AlertDuringSession"]) == [False]
    assert out["AlertNames"].isna().all()


# --- system sessions kept apart (issue 13) ---------------------------------------------------


def test_system_sessions_kept_apart_on_real_sentinel_rows(shared_data: Path) -> None:
    # msticpy's syslog_data.csv (Sentinel Syslog of squid-uk-02): every PAM session is sudo's:
    # `grep -o 'pam_unix([a-z-]*:session): session opened' syslog_data.csv | sort | uniq -c`
    # → 33 sudo, and `grep -c 'pam_unix(sudo:session): session closed'` → 33.
    raw = pd.read_csv(shared_data / "msticpy" / "syslog_data.csv", encoding="utf-8-sig", keep_default_na=False,
                      na_values=[""])  # fmt: skip
    syslog = conform(raw, SYSLOG)
    logons = logon_events(syslog)
    assert logon_sessions(syslog, logons).empty
    every = logon_sessions(syslog, logons, include_system=True)
    system = system_sessions(syslog)
    assert len(every) == len(system) == len(pam_sessions(syslog))
    assert set(system["SessionType"]) == {"sudo"}
    assert int(system["Start"].notna().sum()) == 33  # one per opened line
    assert bool(is_system_session(system).all())


def test_is_system_session_by_service() -> None:
    lines = [
        "h sshd[1]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
        "h su[2]: pam_unix(su:session): session opened for user root by alice(uid=1000)",
        "h CRON[3]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
        "h sudo[4]: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
        "h systemd[5]: pam_unix(systemd-user:session): session opened for user alice(uid=1000) by (uid=0)",
        "h login[6]: pam_unix(login:session): session opened for user bob(uid=1001) by LOGIN(uid=0)",
    ]
    df = syslog_from_lines(lines)
    s = pam_sessions(df)
    flags = dict(zip(s["SessionType"], is_system_session(s), strict=True))
    assert flags == {
        "sshd": False,
        "su": False,
        "cron": True,
        "sudo": True,
        "systemd-user": True,
        "login": False,
    }
    assert list(logon_sessions(df, logon_events(df))["SessionType"]) == ["sshd", "su", "login"]
    assert list(system_sessions(df)["SessionType"]) == ["cron", "sudo", "systemd-user"]
