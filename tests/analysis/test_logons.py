"""Logon parsing and brute-force bursts, checked against real sshd/su/PAM lines.

Expected numbers come from grep on the files (see each test), not from this code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.logons import BRUTE_FORCE_PRESETS, brute_force, logon_events
from hunting.schema import LOGONS, SYSLOG, conform

_TRADITIONAL = re.compile(
    r"^(?P<ts>\w{3} +\d+ [\d:]+) (?P<host>\S+) (?P<proc>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)$"
)
# Any framing (wazuh mixes traditional, ISO and Solaris): the first "prog[pid]: " starts the message.
_ANY = re.compile(r" (?P<proc>[A-Za-z/][\w./-]*(?:\(pam_unix\))?)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)$")


def syslog_from_traditional(path: Path, year: int = 2017) -> pd.DataFrame:
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _TRADITIONAL.match(line)
        when = (
            pd.to_datetime(f"{year} {m['ts']}", format="%Y %b %d %H:%M:%S", errors="coerce", utc=True)
            if m
            else None
        )
        if m and not pd.isna(when):
            rows.append(
                {
                    "TimeGenerated": when,
                    "Computer": m["host"],
                    "HostName": m["host"],
                    "Facility": "auth",
                    "ProcessName": m["proc"],
                    "ProcessID": m["pid"],
                    "SyslogMessage": m["msg"],
                }
            )
    return conform(pd.DataFrame(rows), SYSLOG)


def syslog_from_lines(lines: list[str]) -> pd.DataFrame:
    rows = []
    for i, line in enumerate(lines):
        m = _ANY.search(line)
        assert m, line
        rows.append(
            {
                "TimeGenerated": pd.Timestamp("2020-03-24 08:00:00", tz="UTC") + pd.Timedelta(seconds=i),
                "Computer": "host",
                "ProcessName": m["proc"],
                "ProcessID": m["pid"],
                "SyslogMessage": m["msg"],
            }
        )
    return conform(pd.DataFrame(rows), SYSLOG)


def wazuh_line(shared_data: Path, ini: str, contains: str) -> str:
    for raw in (shared_data / "wazuh" / ini).read_text(encoding="utf-8").splitlines():
        m = re.match(r"^log \d+ (?:pass|fail) = (.*)$", raw)
        if m and contains in m[1]:
            return m[1]
    raise AssertionError(f"no line with {contains!r} in {ini}")


@pytest.fixture(scope="module")
def loghub(shared_data: Path) -> pd.DataFrame:
    return syslog_from_traditional(shared_data / "loghub" / "OpenSSH_2k.log")


@pytest.fixture(scope="module")
def loghub_logons(loghub: pd.DataFrame) -> pd.DataFrame:
    return logon_events(loghub)


def test_logon_events_loghub_schema(loghub_logons: pd.DataFrame) -> None:
    assert list(loghub_logons.columns) == LOGONS.names
    assert loghub_logons["TimeGenerated"].is_monotonic_increasing


def test_logon_events_loghub_failures_weighted_by_repeats(loghub_logons: pd.DataFrame) -> None:
    # grep -c "Failed password" = 520 lines, 2 of them "message repeated 5 times" -> 518 + 5 + 5.
    fails = loghub_logons[loghub_logons["Result"] == "Failure"]
    assert len(fails) == 520
    assert int(fails["Count"].sum()) == 528
    assert set(fails["LogonType"]) == {"password"}
    repeated = fails[fails["Count"] > 1]
    assert sorted(repeated["SourceIP"]) == ["106.5.5.195", "5.36.59.76"]
    assert set(repeated["User"]) == {"root"}


def test_logon_events_loghub_invalid_users_kept(loghub_logons: pd.DataFrame) -> None:
    # grep -c "Failed password for invalid user" = 135; grep -c "Invalid user" = 113.
    fails = loghub_logons[loghub_logons["Result"] == "Failure"]
    assert int(fails["InvalidUser"].sum()) == 135
    assert fails.iloc[0]["User"] == "webmaster" and bool(fails.iloc[0]["InvalidUser"])
    notices = loghub_logons[loghub_logons["LogonType"] == "invalid_user"]
    assert len(notices) == 113
    assert set(notices["Result"]) == {"Notice"}
    # awk '{print $8}' on the "Invalid user" lines: 57 distinct names.
    assert notices["User"].nunique() == 57


def test_logon_events_loghub_failed_none_not_counted(loghub_logons: pd.DataFrame) -> None:
    # grep -c "Failed none" = 4: the client's method probe, kept as Notice.
    none = loghub_logons[loghub_logons["LogonType"] == "none"]
    assert len(none) == 4
    assert set(none["Result"]) == {"Notice"}
    assert set(none["User"]) == {"0", "admin"}


def test_logon_events_loghub_single_success(loghub_logons: pd.DataFrame) -> None:
    ok = loghub_logons[loghub_logons["Result"] == "Success"]
    assert len(ok) == 1
    row = ok.iloc[0]
    assert (row["User"], row["SourceIP"], int(row["SourcePort"]), row["LogonType"]) == (
        "fztu", "119.137.62.142", 49116, "password",
    )  # fmt: skip
    assert row["TimeGenerated"] == pd.Timestamp("2017-12-10 09:32:20", tz="UTC")


def test_logon_events_loghub_failing_sources(loghub_logons: pd.DataFrame) -> None:
    fails = loghub_logons[loghub_logons["Result"] == "Failure"]
    assert fails["SourceIP"].nunique() == 23
    top = fails.groupby("SourceIP")["Count"].sum().sort_values(ascending=False)
    assert top.index[0] == "183.62.140.253"
    assert int(top.iloc[0]) == 286  # grep "Failed password" | grep -c 183.62.140.253


def test_logon_events_user_is_word_after_for() -> None:
    df = syslog_from_lines(
        [
            "x sshd[1]: Accepted password for bob from 10.0.0.5 port 5000 ssh2",
            "x sshd[2]: Accepted publickey for alice from ::ffff:192.0.2.7 port 22 ssh2: RSA SHA256:abc",
            "x sshd-session[3]: Failed password for invalid user first last from 2001:db8::1 port 4 ssh2",
        ]
    )
    out = logon_events(df)
    assert list(out["User"]) == ["bob", "alice", "first last"]
    assert list(out["SourceIP"]) == ["10.0.0.5", "192.0.2.7", "2001:db8::1"]
    assert list(out["LogonType"]) == ["password", "publickey", "password"]
    assert list(out["InvalidUser"]) == [False, False, True]


def test_logon_events_plaso_ssh_ipv6_and_no_ssh2(shared_data: Path) -> None:
    out = logon_events(syslog_from_traditional(shared_data / "plaso" / "syslog" / "syslog_ssh.log"))
    # 5 "Accepted" lines and 2 "Failed" lines in the file.
    assert (out["Result"] == "Success").sum() == 5
    ipv6 = out[out["User"] == "plaso"]
    assert list(ipv6["SourceIP"]) == [
        "192.168.0.1",
        "2001:0db8:0a0b:12f0:0000:0000:0000:0001",
        "001:db8:a0b:12f0::1",
    ]
    assert list(ipv6["Result"]) == ["Success", "Success", "Failure"]
    assert list(ipv6["LogonType"]) == ["publickey", "password", "publickey"]


@pytest.mark.parametrize(
    ("ini", "contains", "expected"),
    [
        # (Result, LogonType, User, SourceIP, InvalidUser)
        ("sshd.ini", "Invalid user opcione", ("Notice", "invalid_user", "opcione", "192.241.237.101", True)),
        ("sshd.ini", "unknown user for illegal user badguy", ("Notice", "pam", "badguy", "192.168.33.1", True)),
        ("sshd.ini", "Failed keyboard-interactive/pam for invalid user user from 172.18.1.1",
         ("Failure", "keyboard-interactive/pam", "user", "172.18.1.1", True)),
        ("sshd.ini", "Failed password for invalid user sammy", ("Failure", "password", "sammy", "82.202.219.155", True)),
        ("sshd.ini", "Failed none for root", ("Notice", "none", "root", "192.168.1.1", False)),
        ("sshd.ini", "exceeded for root", ("Notice", "max_attempts", "root", "183.106.179.x", False)),
        ("sshd.ini", "exceeded for invalid user badguy", ("Notice", "max_attempts", "badguy", "192.168.33.1", True)),
        ("sshd.ini", "Failed password for user from", ("Failure", "password", "user", "172.18.1.100", False)),
        ("sshd.ini", "Disconnected from invalid user root", ("Notice", "preauth_close", "root", "172.18.1.100", True)),
        ("sshd.ini", "Connection reset by authenticating user", ("Notice", "preauth_close", "user", "192.168.33.1", False)),
        ("sshd.ini", "not listed in AllowUsers", ("Notice", "denied_user", "root", "192.168.33.1", False)),
        ("su.ini", "changing from ldap to root", ("Failure", "su", "root", None, False)),
        ("su.ini", "BAD SU ger to fwmaster", ("Failure", "su", "fwmaster", None, False)),
        ("su.ini", "user=osaudit", ("Failure", "su", "osaudit", None, False)),
        ("su.ini", "dcid to root on /dev/ttyp1", ("Success", "su", "root", None, False)),
        ("pam.ini", "session opened for user news", ("Success", "su", "news", None, False)),
        # Old RHEL form; this sshd wrote no Failed line for pid 15794, so the PAM summary counts.
        ("pam.ini", "2 more authentication failures", ("Failure", "pam", "root", "10.0.3.1", False)),
    ],
)  # fmt: skip
def test_logon_events_wazuh_lines(
    shared_data: Path, ini: str, contains: str, expected: tuple[str, str, str, str | None, bool]
) -> None:
    out = logon_events(syslog_from_lines([wazuh_line(shared_data, ini, contains)]))
    assert len(out) == 1
    row = out.iloc[0]
    ip = None if pd.isna(row["SourceIP"]) else row["SourceIP"]
    assert (row["Result"], row["LogonType"], row["User"], ip, bool(row["InvalidUser"])) == expected


@pytest.mark.parametrize(
    "contains",
    [
        "Postponed keyboard-interactive",  # not a result yet
        "Disconnected from user user",  # logout after a success
        "Connection closed by 10.0.2.2 port 55462",  # no user named
        "pam_systemd(sshd:session)",
        "Did not receive identification string",
    ],
)
def test_logon_events_wazuh_lines_without_logon(shared_data: Path, contains: str) -> None:
    assert logon_events(syslog_from_lines([wazuh_line(shared_data, "sshd.ini", contains)])).empty


def test_logon_events_pam_count_in_more_failures(shared_data: Path) -> None:
    out = logon_events(
        syslog_from_lines([wazuh_line(shared_data, "pam.ini", "2 more authentication failures")])
    )
    assert int(out.iloc[0]["Count"]) == 2


def test_logon_events_su_pam_echo_not_double_counted() -> None:
    df = syslog_from_lines(
        [
            "h su[900]: pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root",
            "h su[900]: FAILED SU (to root) alice on pts/0",
            "h su[901]: (to root) alice on pts/0",
            "h su[901]: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)",
            "h sudo[902]: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice",
            "h CRON[903]: pam_unix(cron:session): session opened for user root by (uid=0)",
        ]
    )  # fmt: skip
    out = logon_events(df)
    counted = out[out["Result"].isin(["Success", "Failure"])]
    assert list(zip(counted["Result"], counted["LogonType"], counted["User"], strict=True)) == [
        ("Failure", "su", "root"),
        ("Success", "su", "root"),
        ("Failure", "sudo", "alice"),
    ]
    assert (out["Result"] == "Notice").sum() == 2  # the two PAM echoes are kept, not counted
    assert "cron" not in set(out["LogonType"])


def test_logon_events_login_lines() -> None:
    df = syslog_from_lines(
        [
            "h login[50]: FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure",
            "h login[51]: ROOT LOGIN  on '/dev/tty1'",
            "h login[52]: pam_unix(login:session): session opened for user alice by LOGIN(uid=0)",
        ]
    )
    out = logon_events(df)
    assert list(zip(out["Result"], out["LogonType"], out["User"], strict=True)) == [
        ("Failure", "login", "root"),
        ("Success", "login", "root"),
        ("Success", "login", "alice"),
    ]


def test_logon_events_hostile_and_malformed_messages() -> None:
    long_name = "a" * 20000
    df = syslog_from_lines(
        [
            'h sshd[1]: Invalid user <script>alert("x")</script> from 198.51.100.9 port 22',
            f"h sshd[2]: Failed password for invalid user {long_name} from 198.51.100.9 port 23 ssh2",
            "h sshd[3]: Failed password for invalid user x from 6.6.6.6 port 1 from 198.51.100.9 port 24 ssh2",
            "h sshd[4]: Failed password for",
            "h sshd[5]: Accepted password for",
            "h sshd[6]: message repeated 3 times: [",
        ]
    )
    df.loc[len(df)] = df.loc[0]
    df.loc[len(df) - 1, "SyslogMessage"] = pd.NA
    out = logon_events(df)
    assert list(out["User"]) == ['<script>alert("x")</script>', long_name, "x from 6.6.6.6 port 1"]
    assert set(out["SourceIP"]) == {"198.51.100.9"}
    assert (
        out.iloc[0]["SyslogMessage"] == 'Invalid user <script>alert("x")</script> from 198.51.100.9 port 22'
    )


def test_logon_events_empty_and_unrelated() -> None:
    assert list(logon_events(SYSLOG.empty()).columns) == LOGONS.names
    df = syslog_from_lines(["h kernel: something", "h systemd[1]: Started x."])
    assert logon_events(df).empty


@pytest.mark.parametrize("preset", sorted(BRUTE_FORCE_PRESETS))
def test_brute_force_loghub_presets_flag_top_ip(loghub_logons: pd.DataFrame, preset: str) -> None:
    threshold, window = BRUTE_FORCE_PRESETS[preset]
    bursts = brute_force(loghub_logons, threshold=threshold, window=window)
    top = bursts[bursts["SourceIP"] == "183.62.140.253"]
    assert len(top) == 1
    row = top.iloc[0]
    # Its 286 "Failed password" lines run from 10:54:29 to 11:04:43 with no gap over 2 minutes.
    assert int(row["Attempts"]) == 286
    assert row["FirstAttempt"] == pd.Timestamp("2017-12-10 10:54:29", tz="UTC")
    assert row["LastAttempt"] == pd.Timestamp("2017-12-10 11:04:43", tz="UTC")
    assert "root" in row["Users"]
    assert not bool(row["SuccessFollowed"])


def test_brute_force_presets_values() -> None:
    assert BRUTE_FORCE_PRESETS == {"wazuh": (8, "120s"), "timesketch": (20, "1h"), "sentinel": (16, "4h")}


def test_brute_force_success_followed_and_threshold_edge() -> None:
    lines = [f"h sshd[{i}]: Failed password for root from 203.0.113.5 port {i} ssh2" for i in range(7)]
    lines += [
        "h sshd[20]: Failed password for invalid user oracle from 203.0.113.5 port 20 ssh2",
        "h sshd[21]: Accepted password for root from 203.0.113.5 port 21 ssh2",
        "h sshd[22]: Failed password for root from 198.51.100.1 port 22 ssh2",
    ]
    logons = logon_events(syslog_from_lines(lines))
    bursts = brute_force(logons, threshold=8, window="120s")
    assert list(bursts["SourceIP"]) == ["203.0.113.5"]
    row = bursts.iloc[0]
    assert int(row["Attempts"]) == 8 and row["Users"] == ["oracle", "root"]
    assert bool(row["SuccessFollowed"]) and row["SuccessUser"] == "root"
    assert row["SuccessTime"] == pd.Timestamp("2020-03-24 08:00:08", tz="UTC")
    assert brute_force(logons, threshold=9, window="120s").empty
    # Lines are one second apart: a 5 s window never holds 8 of them.
    assert brute_force(logons, threshold=8, window="5s").empty


def test_brute_force_rejects_bad_arguments(loghub_logons: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="threshold"):
        brute_force(loghub_logons, threshold=0, window="1h")
    with pytest.raises(ValueError):
        brute_force(loghub_logons, threshold=5, window="soon")


# --- PAM-only failures (issue 13) ---------------------------------------------------------


@pytest.fixture(scope="module")
def rhel7(shared_data: Path) -> pd.DataFrame:
    return syslog_from_traditional(shared_data / "beats-secure-rhel7" / "secure-rhel7.log")


def test_pam_failures_echo_sshd_failed_lines_rhel7(rhel7: pd.DataFrame) -> None:
    # RHEL 7 writes both: `grep -c 'Failed password' secure-rhel7.log` → 352, and every pid with a
    # pam_unix(sshd:auth) failure or a "PAM N more" summary also has Failed lines (awk per sshd[pid]:
    # no pid with PAM lines and no Failed line). So the PAM lines are all echoes: 352 failures.
    out = logon_events(rhel7)
    fails = out[out["Result"] == "Failure"]
    assert int(fails["Count"].sum()) == 352
    assert set(fails["LogonType"]) == {"password"}
    pam = out[out["SyslogMessage"].str.contains("authentication failure", regex=False)]
    assert len(pam) == 76 + 76 and set(pam["Result"]) == {"Notice"}


def test_pam_only_failures_count_with_rhost_and_user(rhel7: pd.DataFrame) -> None:
    # The same log as an sshd that writes no Failed line (RHEL 4/5): drop the 352 Failed lines.
    # Then the PAM lines count: 76 first failures + 277 in the summaries (`grep -o 'PAM [0-9]* more'
    # | awk '{s+=$2} END{print s}'` → 277) = 353; by rhost: first failures 42/21/13 (SOURCE.md) and
    # summaries (`grep 'PAM [0-9]* more' | awk '{for(i=1;i<=NF;i++){if($i=="PAM")n=$(i+1);
    # if($i ~ /^rhost=/){split($i,a,"=");ip=a[2]}} s[ip]+=n} END{for(k in s) print k, s[k]}'`) 172/40/65.
    pam_only = rhel7[~rhel7["SyslogMessage"].str.startswith("Failed password")]
    assert len(rhel7) - len(pam_only) == 352
    out = logon_events(pam_only)
    fails = out[out["Result"] == "Failure"]
    assert int(fails["Count"].sum()) == 353
    assert set(fails["User"]) == {"root"} and set(fails["LogonType"]) == {"pam"}
    by_ip = fails.groupby("SourceIP")["Count"].sum().to_dict()
    assert by_ip == {"202.109.143.106": 42 + 172, "116.31.116.27": 21 + 40, "223.99.60.46": 13 + 65}


def test_pam_only_failures_old_sshd_pam_unix_form(shared_data: Path) -> None:
    # fail2ban's pam-generic: `sshd[16004]: (pam_unix) authentication failure; ... rhost=71-13-...
    # user=root` and sshd[16021] (no user=), both annotated "match": true with that host; no Failed
    # line exists for either pid (`grep -c 'sshd\[160' pam-generic` → 2).
    df = syslog_from_traditional(shared_data / "fail2ban-auth-corpus" / "pam-generic", year=2005)
    out = logon_events(df)
    ssh = out[out["ProcessName"] == "sshd"]
    assert list(ssh["Result"]) == ["Failure", "Failure"]
    assert set(ssh["SourceIP"]) == {"71-13-115-12.static.mdsn.wi.charter.com"}
    assert ssh["User"].iloc[0] == "root" and pd.isna(ssh["User"].iloc[1])


def test_pam_failure_echo_pairs_by_pid_and_attempt() -> None:
    # Lines as Ubuntu's sshd writes them (loghub OpenSSH_2k.log, pid 24206, addresses kept): the
    # PAM line of an attempt comes ~2 s before sshd's own Failed line.
    lines = [
        "LabSZ sshd[24206]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=52.80.34.196  user=root",
        "LabSZ sshd[24206]: Failed password for root from 52.80.34.196 port 36060 ssh2",
        "LabSZ sshd[24207]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=52.80.34.196  user=root",
        "LabSZ sshd[24207]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=52.80.34.196  user=root",
        "LabSZ sshd[24207]: Failed password for root from 52.80.34.196 port 36061 ssh2",
        "LabSZ sshd[24208]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.9  user=bob",
        "LabSZ sshd[24208]: Accepted password for bob from 10.0.0.9 port 4000 ssh2",  # gh-2070: pam_ldap let bob in
        "LabSZ sshd[24209]: PAM 3 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.8  user=eve",
        "LabSZ sshd[24210]: Failed password for root from 52.80.34.196 port 36062 ssh2",
        "LabSZ sshd[24210]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=52.80.34.196  user=root",
        "LabSZ sshd[1]: Server listening on 0.0.0.0 port 22.",
    ]  # fmt: skip
    df = syslog_from_lines(lines)
    df["TimeGenerated"] = df["TimeGenerated"] + pd.to_timedelta([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 60], "s")
    out = logon_events(df)
    pam = out[out["SyslogMessage"].str.contains("authentication failure")]
    assert list(zip(pam["ProcessID"], pam["Result"], pam["Count"], strict=True)) == [
        (24206, "Notice", 1),  # its Failed line follows
        (24207, "Notice", 1),  # first attempt: echoed by the one Failed line
        (24207, "Failure", 1),  # second attempt: no second Failed line
        (24208, "Notice", 1),  # an Accepted line: another PAM module succeeded
        (24209, "Failure", 3),  # summary of a pid with no Failed line
        (24210, "Notice", 2),  # summary of a pid with a Failed line
    ]
    late = syslog_from_lines(lines[:2] + lines[2:3])  # a PAM line at the very end of the log
    last = logon_events(late).iloc[-1]
    assert (last["ProcessID"], last["Result"]) == (24207, "Notice")


def test_pam_echo_without_pid_judged_per_host() -> None:
    # Sentinel CSVs may have no ProcessID: a host whose sshd writes Failed lines echoes; one that
    # never does counts.
    lines = [
        "a sshd: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.7  user=root",
        "a sshd: Failed password for root from 198.51.100.7 port 1 ssh2",
        "a sshd: Server listening on 0.0.0.0 port 22.",
    ]  # fmt: skip
    df = syslog_from_lines(lines)
    df["TimeGenerated"] = df["TimeGenerated"] + pd.to_timedelta([0, 2, 60], "s")
    out = logon_events(df)
    assert list(out["Result"]) == ["Notice", "Failure"]
    out = logon_events(df.iloc[[0, 2]])
    assert list(out["Result"]) == ["Failure"]


# --- one logon per su -------------------------------------------------------------------------

# Real lines (shadow-utils su on Debian/Ubuntu), posted on a Linux forum thread "Is somebody in my
# server?" (2009-09-15), as stored in the code index: three su processes, each writing
# "Successful su", "+ tty from:to" and the PAM session lines.
_FORUM_SU = [
    "my-server su[2940]: Successful su for root by root",
    "my-server su[2940]: + ??? root:root",
    "my-server su[2940]: pam_unix(su:session): session opened for user root by (uid=0)",
    "my-server su[2940]: pam_unix(su:session): session closed for user root",
    "my-server su[4832]: Successful su for clamav by root",
    "my-server su[4832]: + console root:clamav",
    "my-server su[4832]: pam_unix(su:session): session opened for user clamav by (uid=0)",
    "my-server su[4832]: pam_unix(su:session): session closed for user clamav",
    "my-server su[5022]: Successful su for clamav by root",
    "my-server su[5022]: + console root:clamav",
    "my-server su[5022]: pam_unix(su:session): session opened for user clamav by (uid=0)",
    "my-server su[5022]: pam_unix(su:session): session closed for user clamav",
]


def test_one_logon_per_su() -> None:
    out = logon_events(syslog_from_lines(_FORUM_SU))
    ok = out[out["Result"] == "Success"]
    assert list(zip(ok["ProcessID"], ok["User"], ok["LogonType"], strict=True)) == [
        (2940, "root", "su"),
        (4832, "clamav", "su"),
        (5022, "clamav", "su"),
    ]
    assert list(ok["SyslogMessage"].str.split(" for ").str[0]) == ["Successful su"] * 3
    assert (out["Result"] == "Notice").sum() == 6  # "+ tty" and PAM session lines, kept


def test_one_logon_per_su_without_pid() -> None:
    df = syslog_from_lines(_FORUM_SU)
    df["ProcessID"] = pd.NA
    # Each su's lines in the same second (as in the forum log); the three su are seconds apart.
    df["TimeGenerated"] = pd.Timestamp("2009-09-07 13:54:35", tz="UTC") + pd.to_timedelta(
        [0, 0, 0, 2, 139, 139, 139, 145, 145, 145, 145, 145], "s"
    )
    out = logon_events(df)
    ok = out[out["Result"] == "Success"]
    assert list(ok["User"]) == ["root", "clamav", "clamav"]
