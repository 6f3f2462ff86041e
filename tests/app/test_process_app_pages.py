"""AppTests for the Process trees and Application activity pages on the built-in demo."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from hunting.analysis.applications import applications, message_risks
from hunting.analysis.process_scope import host_tree, scope_tree, tree_risks
from hunting.analysis.process_tree import guard_size
from hunting.analysis.sessions import logon_sessions
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
from tests.app.conftest import no_exception, run_page
from ui.process_views import csv_bytes, filter_table, neutralise_formulas

TREES = "pages/4_Process_trees.py"
APPS = "pages/5_Application_activity.py"
WEB = {"host": "web01", "range": "7d"}


@pytest.fixture(scope="module")
def demo() -> tuple[LocalSource, TimeRange, dict]:
    from hunting.demo.scenario import demo_log_paths, demo_manifest

    m = demo_manifest()
    tr = TimeRange(pd.Timestamp(m.start), pd.Timestamp(m.end) + pd.Timedelta(hours=1))
    return LocalSource.from_paths(demo_log_paths()), tr, dict(m.truth)


@pytest.fixture(scope="module")
def attacker_logon(demo: tuple) -> dict:
    src, tr, truth = demo
    s = logon_sessions(src.syslog("web01", tr), src.logon_events("web01", tr))
    row = s[
        (s["User"] == truth["compromised_user"]) & (s["SourceIP"] == truth["attacker_ips"]["brute_force"])
    ]
    return row.iloc[0].to_dict()


def infos(at: object) -> list[str]:
    return [i.value for i in at.info]  # type: ignore[attr-defined]


def test_process_trees_whole_range_draws_the_interesting_part(demo: tuple) -> None:
    # Issue 14 item 7: the whole range used to say "6,111 processes are too many to draw".
    src, tr, truth = demo
    at = run_page(TREES, params=WEB)
    no_exception(at)
    full = host_tree(src.audit_events("web01", tr), host_users=src.host_users("web01"))
    assert len(full) > 2000 and guard_size(len(full))  # too many to draw whole
    assert not at.warning, [w.value for w in at.warning]
    assert at.radio(key="pt_draw").value == "interesting"
    page = at.get("iframe")[0].proto.srcdoc
    # the intruder's dropped tool and the cron job, whose runs the generator counted, folded into one box
    assert html.escape(truth["tool_path"].rsplit("/", 1)[-1]) in page
    assert f"\u00d7{truth['malicious_cron_runs']}" in page  # "×86": labels carry real characters
    assert "Colour = executable" in page and "risky command" in page  # the legend
    assert "curl -fsSL" in page  # labels carry the command, not just the pid
    # the table shows its first MAX_TABLE_ROWS rows, says so, and offers all of them as CSV
    from ui.process_views import MAX_TABLE_ROWS

    assert len(at.dataframe[-1].value) == min(len(full), MAX_TABLE_ROWS)
    if len(full) > MAX_TABLE_ROWS:
        assert any(f"first {MAX_TABLE_ROWS:,} of {len(full):,} rows" in c.value for c in at.caption)
    assert any(f"Download all {len(full):,} rows" in b.proto.label for b in at.get("download_button"))


def test_process_trees_link_pid_is_highlighted(demo: tuple) -> None:
    truth = demo[2]
    pid = truth["pids"]["root_shell"]
    at = run_page(TREES, params={**WEB, "pid": str(pid)})
    no_exception(at)
    page = at.get("iframe")[0].proto.srcdoc
    assert "#1f6feb" in page and "linked process" in page


def test_process_trees_logon_session_draws_escaped_tree(demo: tuple, attacker_logon: dict) -> None:
    src, tr, truth = demo
    at = run_page(TREES, params=WEB, state={"hunt_session": attacker_logon})
    no_exception(at)
    assert at.radio(key="pt_scope").value == "session"
    srcdoc = at.get("iframe")[0].proto.srcdoc
    tool = truth["tool_path"].rsplit("/", 1)[1]
    command = truth["reverse_shell"]["command"]
    # node label: name, newline, start of its command; the pid is in the tooltip
    assert f"{tool}\\n-c " in srcdoc and f"{tool}  pid {truth['pids']['dropped_tool']} " in srcdoc
    assert command not in srcdoc  # only its escaped form reaches the page
    # canvas text carries the real characters, inside the script as \uXXXX escapes (hunting.render.jsenc)
    escaped = command.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    assert escaped.replace("'", "\\u0027") in srcdoc
    assert "<script>alert" not in srcdoc
    assert "cdn.jsdelivr" not in srcdoc and 'src="http' not in srcdoc  # nothing fetched: works offline
    scoped = scope_tree(
        host_tree(src.audit_events("web01", tr), host_users=src.host_users("web01")),
        ses=truth["logon_session"],
        auid=truth["compromised_uid"],
    )
    table = at.dataframe[-1].value
    assert len(table) == len(scoped)
    assert set(table["Pid"].dropna()) == set(scoped["Pid"].dropna())
    metrics = {m.label: m.value for m in at.metric}
    # the session's own processes (its ses), not the sshd ancestor drawn for context (issue 14 item 12)
    own = (~scoped["IsSynthetic"]) & (scoped["Ses"] == truth["logon_session"]).fillna(False)
    assert metrics["Processes"] == f"{int(own.sum()):,}"
    assert int(own.sum()) < int((~scoped["IsSynthetic"]).sum())  # an ancestor is drawn, counted apart
    risky = at.dataframe[-2].value  # the risky-process table above the table view
    assert set(risky["RuleId"]) == set(tree_risks(scoped)["RuleId"])
    assert {"lnx.reverse_shell_dev_tcp", "lnx.download_chmod_exec", "lnx.download_pipe_shell"} <= set(
        risky["RuleId"]
    )


def test_process_trees_guard_when_limit_low(attacker_logon: dict) -> None:
    at = run_page(TREES, params=WEB, state={"hunt_session": attacker_logon, "pt_limit": 10})
    no_exception(at)
    n = len(at.dataframe[-1].value)
    assert n > 10
    assert at.warning[0].value == guard_size(n, 10)
    assert not at.get("iframe")
    assert at.slider(key="pt_narrow")  # the analyst can narrow instead of waiting


def test_process_trees_unmatched_logon_says_so(attacker_logon: dict) -> None:
    quiet = dict(attacker_logon, User="nobody-here", SessionId="x", Start=pd.Timestamp("2026-03-06T01:00Z"))
    quiet["End"] = quiet["Start"] + pd.Timedelta(minutes=5)
    at = run_page(TREES, params=WEB, state={"hunt_session": quiet})
    no_exception(at)
    assert any("No audit session of this user started in its window" in t for t in infos(at))


def test_process_trees_empty_scope_explains() -> None:
    at = run_page(TREES, params=WEB, state={"pt_scope": "exe", "pt_exe": "no-such-binary"})
    no_exception(at)
    assert any(t.startswith("No process starts in trees holding an executable") for t in infos(at))
    assert not at.get("iframe")


def test_process_trees_benign_host_without_audit() -> None:
    at = run_page(TREES, params={"host": "APP02", "range": "7d"})
    no_exception(at)
    assert len(infos(at)) == 1
    assert infos(at)[0].startswith("No process starts (auditd execve events) for APP02 in ")
    assert not at.get("iframe")


def test_process_trees_db01_benign_executable_scope(demo: tuple) -> None:
    src, tr, _ = demo
    state = {"pt_scope": "exe", "pt_exe": "/usr/bin/sudo"}
    at = run_page(TREES, params={"host": "db01", "range": "7d"}, state=state)
    no_exception(at)
    full = host_tree(src.audit_events("db01", tr), host_users=src.host_users("db01"))
    scoped = scope_tree(full, exe="/usr/bin/sudo", branches=True)  # the toggle is on by default
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Processes"] == f"{int((~scoped['IsSynthetic']).sum()):,}" != "0"
    assert metrics["Risky processes"] == "0"
    assert "/usr/bin/sudo" in at.get("iframe")[0].proto.srcdoc


def test_application_page_sudo(demo: tuple) -> None:
    src, tr, truth = demo
    at = run_page(APPS, params=WEB, state={"app": "sudo"})
    no_exception(at)
    assert at.selectbox(key="app").value == "sudo"
    apps = applications(src.syslog("web01", tr))
    shown = at.dataframe[0].value
    assert shown["Application"].tolist() == apps["Application"].tolist()
    assert {m.label: m.value for m in at.metric}["Messages"] == "45"
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert '"vconcat"' in spec and '"interval"' in spec and '"clip": true' in spec
    srcdoc = at.get("iframe")[0].proto.srcdoc
    assert f"sudo  pid {truth['pids']['sudo']} " in srcdoc
    assert "No emerg, alert, crit, err or warning messages from sudo." in [s.value for s in at.success]


def test_application_page_php_fpm_no_trees_but_high_severity(demo: tuple) -> None:
    at = run_page(APPS, params=WEB, state={"app": "php-fpm8.1"})
    no_exception(at)
    assert len(at.get("vega_lite_chart")) == 2  # volume and high-severity volume
    assert any(t.startswith("No process starts in trees holding") for t in infos(at))
    assert len(at.dataframe[-1].value) == 867


def test_application_page_all_daemons_explains() -> None:
    at = run_page(APPS, params=WEB, state={"app_daemons": "*"})
    no_exception(at)
    assert any("system-daemon list" in t for t in infos(at))


def test_application_page_cron_risks_when_not_a_daemon(demo: tuple) -> None:
    src, tr, truth = demo
    at = run_page(APPS, params=WEB, state={"app": "CRON", "app_daemons": "kernel\nsystemd*"})
    no_exception(at)
    risks = message_risks(src.syslog("web01", tr).pipe(lambda d: d[d["ProcessName"] == "CRON"]))
    table = next(
        d.value for d in at.dataframe if "RuleId" in d.value.columns and "SyslogMessage" in d.value.columns
    )
    assert (
        len(table) == len(risks)
        and (table["RuleId"] == "lnx.download_pipe_shell").sum() == truth["malicious_cron_runs"]
    )


def test_neutralise_formulas_and_csv() -> None:
    df = pd.DataFrame(
        {
            "Command": ["=cmd|' /C calc'!A0", "+1", "-bash", "@SUM(1)", "ls -la", None],
            "Pid": [1, -2, 3, 4, 5, 6],
        }
    )
    out = neutralise_formulas(df)
    assert out["Command"].tolist()[:5] == ["'=cmd|' /C calc'!A0", "'+1", "'-bash", "'@SUM(1)", "ls -la"]
    assert out["Pid"].tolist() == [1, -2, 3, 4, 5, 6]  # numbers stay numbers
    text = csv_bytes(df).decode()
    assert "\n'=cmd" in text.replace('"', "") and "\n=cmd" not in text.replace('"', "")


def test_filter_table_literal_case_insensitive() -> None:
    df = pd.DataFrame(
        {
            "Process": ["bash", "wget", "curl"],
            "Command": ["bash -i", "wget http://x/.*", None],
            "Pid": [1, 22, 3],
        }
    )
    assert filter_table(df, "WGET")["Process"].tolist() == ["wget"]
    assert filter_table(df, ".*")["Process"].tolist() == ["wget"]  # literal, not a regex
    assert filter_table(df, "22")["Process"].tolist() == ["wget"]
    assert len(filter_table(df, "  ")) == 3
