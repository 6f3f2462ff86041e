"""sudo command lines and sessions from real Sentinel exports (msticpy) and wazuh lines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.sudo import SUDO_SESSION_COLUMNS, sudo_events, sudo_sessions
from hunting.schema import SUDO, SYSLOG, conform
from tests.analysis.test_logons import syslog_from_lines, wazuh_line


def _sentinel(shared_data: Path, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(
        shared_data / "msticpy" / name, encoding="utf-8-sig", keep_default_na=False, na_values=[""]
    )
    return raw, conform(raw, SYSLOG)


def test_sudo_events_sentinel_commands_match_kql_columns(shared_data: Path) -> None:
    raw, syslog = _sentinel(shared_data, "sudo_data.csv")
    events = sudo_events(syslog)
    assert list(events.columns) == SUDO.names
    kql = raw[raw["SyslogMessage"].str.contains("COMMAND=", regex=False)]
    assert len(events) == len(kql) == 11  # grep -c COMMAND= sudo_data.csv
    # Where Microsoft's query is right (Command, CommandCall), we agree with it.
    # The export is not in time order; compare as sets of (command, binary) pairs.
    assert sorted(zip(events["Command"], events["CommandBinary"], strict=True)) == sorted(
        zip(kql["Command"], kql["CommandCall"], strict=True)
    )


def test_sudo_events_sentinel_fills_what_kql_left_empty(shared_data: Path) -> None:
    raw, syslog = _sentinel(shared_data, "sudo_data.csv")
    events = sudo_events(syslog)
    kql = raw[raw["SyslogMessage"].str.contains("COMMAND=", regex=False)]
    # The KQL leaves Sudoer and SudoTo empty on every COMMAND= line; the lines say "peteb : ... USER=x".
    assert kql["Sudoer"].isna().all() and kql["SudoTo"].isna().all()
    assert set(events["Sudoer"]) == {"peteb"}
    runas = kql["SyslogMessage"].str.extract(r"USER=(\S+)")[0]
    assert sorted(zip(events["Command"], events["RunAs"], strict=True)) == sorted(
        zip(kql["Command"], runas, strict=True)
    )
    assert list(events["RunAs"]).count("omsagent") == 1
    assert set(events["Result"]) == {"Success"}
    assert sorted(events["TTY"].unique()) == ["pts/0", "pts/1"]
    assert (events["PWD"] == "/var/log/audit").sum() == 4  # grep -c "PWD=/var/log/audit"


def test_sudo_events_space_separated_layout(shared_data: Path) -> None:
    _, syslog = _sentinel(shared_data, "syslog_data.csv")
    events = sudo_events(syslog)
    assert len(events) == 34  # grep -c COMMAND= syslog_data.csv
    assert set(events["Sudoer"]) == {"omsagent"}
    odd = events[events["PWD"] != "/"]
    assert list(odd["PWD"]) == ["/opt/microsoft/omsconfig/Scripts/2.6x-2.7x"]
    assert odd.iloc[0]["Command"].startswith("/opt/microsoft/omsconfig/Scripts/OMSAuditdPlugin.sh get ")
    assert (events["CommandBinary"] == "/bin/bash").sum() == 1


@pytest.mark.parametrize(
    ("contains", "expected"),
    [
        # (Sudoer, RunAs, TTY, PWD, Command, CommandBinary, Result, Reason)
        ("alert.fast", ("dcid", "root", "pts/4", "/home/dcid", "/usr/bin/tail /var/log/snort/alert.fast",
                        "/usr/bin/tail", "Success", None)),
        ("TSID=0000UM", ("cplummer", "root", "pts/2", "/home/cplummer1", "/bin/bash", "/bin/bash", "Success", None)),
        ("1 incorrect password attempt", ("mike", "root", "pts/0", "/root", "/bin/ls", "/bin/ls", "Failure",
                                          "1 incorrect password attempt")),
        ("3 incorrect password attempts", ("mike", "root", "pts/0", "/root", "/bin/ls", "/bin/ls", "Failure",
                                           "3 incorrect password attempts")),
        ("user NOT in sudoers", ("ddp2", "root", "ttypZ", "/home/ddp2", "/bin/ls", "/bin/ls", "Failure",
                                 "user NOT in sudoers")),
        ("COMMAND=/bin/su -", ("mike", "root", "pts/0", "/home/vagrant", "/bin/su -", "/bin/su", "Success", None)),
    ],
)  # fmt: skip
def test_sudo_events_wazuh_lines(shared_data: Path, contains: str, expected: tuple[object, ...]) -> None:
    out = sudo_events(syslog_from_lines([wazuh_line(shared_data, "sudo.ini", contains)]))
    assert len(out) == 1
    cols = ["Sudoer", "RunAs", "TTY", "PWD", "Command", "CommandBinary", "Result", "Reason"]
    got = tuple(None if pd.isna(v) else v for v in out.iloc[0][cols])
    assert got == expected


def test_sudo_events_command_continued_joined(shared_data: Path) -> None:
    line = wazuh_line(shared_data, "sudo.ini", "osaudit-logaudit")
    full = line.split("COMMAND=", 1)[1]
    cut = line.index(" ../../bin/osaudit-logaudit")
    first = line[:cut]
    rest = line[cut + 1 :]
    lines = [
        first,
        "enigma sudo[77]:     dcid : TTY=pts/9 ; PWD=/ ; USER=root ; COMMAND=/bin/true",
        "enigma sudo:     dcid : (command continued) " + rest,
    ]
    df = syslog_from_lines(lines)
    df["ProcessID"] = pd.array([42, 77, 42], dtype="Int64")
    out = sudo_events(df)
    assert len(out) == 2
    joined = out[out["ProcessID"] == 42].iloc[0]
    assert joined["Command"] == full
    assert joined["CommandBinary"] == "/bin/cp"
    assert joined["SyslogMessage"].count("\n") == 1 and "(command continued)" in joined["SyslogMessage"]
    assert out[out["ProcessID"] == 77].iloc[0]["Command"] == "/bin/true"


def test_sudo_events_continuation_without_first_line_kept() -> None:
    out = sudo_events(syslog_from_lines(["h sudo[5]:     dcid : (command continued) tail of a command"]))
    assert list(out["Command"]) == ["tail of a command"]
    assert pd.isna(out.iloc[0]["Result"])


def test_sudo_events_hostile_and_malformed() -> None:
    long_cmd = "/bin/echo " + "A" * 50000
    out = sudo_events(
        syslog_from_lines(
            [
                'h sudo[1]: <img src=x onerror=alert(1)> : TTY=pts/0 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh -c "a ; b"',
                f"h sudo[2]:     eve : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND={long_cmd}",
                "h sudo[3]:     eve : unable to resolve host h: Name or service not known",
                "h sudo[4]: pam_unix(sudo:session): session opened for user root by eve(uid=0)",
                "h sudo[5]:  : ",
                "h sudo[6]: ",
            ]
        )
    )
    assert list(out["Sudoer"]) == ["<img src=x onerror=alert(1)>", "eve"]
    assert out.iloc[0]["Command"] == '/bin/sh -c "a ; b"'
    assert out.iloc[1]["Command"] == long_cmd


def test_sudo_events_empty() -> None:
    assert list(sudo_events(SYSLOG.empty()).columns) == SUDO.names


def test_sudo_sessions_sentinel_pairs(shared_data: Path) -> None:
    _, syslog = _sentinel(shared_data, "sudo_session_test.csv")
    sessions = sudo_sessions(syslog, sudo_events(syslog))
    assert list(sessions.columns) == SUDO_SESSION_COLUMNS
    # grep -c: 5 "session opened", 68 "session closed", 5 COMMAND= lines; no ProcessID in the export.
    paired = sessions[sessions["Start"].notna() & sessions["End"].notna()]
    assert len(paired) == 5
    assert len(sessions) == 68  # the 63 closes without an opened line are kept, Start unknown
    assert list(paired["Commands"]) == [
        ["/usr/sbin/squid -NCd1"], ["/usr/sbin/squid -NCd1"], ["/usr/sbin/squid"], ["/usr/bin/vim rc.local"],
        ["/bin/bash"],
    ]  # fmt: skip
    assert set(paired["User"]) == {"peteb"} and set(paired["RunAs"]) == {"root"}
    assert paired.iloc[0]["Start"] == pd.Timestamp("2019-07-15 02:44:44", tz="UTC")
    assert paired.iloc[0]["End"] == pd.Timestamp("2019-07-15 02:44:57", tz="UTC")


def test_sudo_sessions_session_lines_match_kql(shared_data: Path) -> None:
    raw, syslog = _sentinel(shared_data, "sudo_data.csv")
    sessions = sudo_sessions(syslog, sudo_events(syslog))
    opened = raw[raw["SyslogMessage"].str.contains("session opened", regex=False)]
    assert len(sessions) == len(opened) == 11
    # On "session opened for user X by Y(uid=0)" the KQL's Sudoer/SudoTo are right: compare.
    assert sorted(sessions["User"]) == sorted(opened["Sudoer"])
    assert sorted(sessions["RunAs"]) == sorted(opened["SudoTo"])


def test_sudo_sessions_by_pid() -> None:
    df = syslog_from_lines(
        [
            "h sudo[10]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
            "h sudo[11]:      bob : TTY=pts/1 ; PWD=/home/bob ; USER=www-data ; COMMAND=/bin/ls",
            "h sudo[10]: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
            "h sudo[11]: pam_unix(sudo:session): session opened for user www-data(uid=33) by bob(uid=1001)",
            "h sudo[11]: pam_unix(sudo:session): session closed for user www-data",
            "h sudo[10]: pam_unix(sudo:session): session closed for user root",
        ]
    )
    s = sudo_sessions(df, sudo_events(df)).set_index("User")
    assert s.loc["alice", "Commands"] == ["/usr/bin/id"] and s.loc["alice", "RunAs"] == "root"
    assert s.loc["bob", "Commands"] == ["/bin/ls"] and s.loc["bob", "RunAs"] == "www-data"
    assert s.loc["alice", "DurationSeconds"] == 3.0
