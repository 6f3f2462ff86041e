"""A REAL Log Analytics portal CSV export (issue 13): Microsoft's Azure-Sentinel sample of
Syslog authpriv rows from shadow-utils (tests/data/sentinel-portal-authpriv/SOURCE.md).

Every expected value below was counted by hand on the file, independently of the app:
Python's csv module + datetime.strptime for rows, columns and times, and grep -o on the
raw file for the shadow-utils messages (the commands are in SOURCE.md).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from hunting.cli import main
from hunting.readers.base import FileAccount, ReadOptions
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange

FOLDER = Path(__file__).resolve().parents[1] / "data" / "sentinel-portal-authpriv"
FILE = FOLDER / "Linux_Authpriv_UserManagement_IngestedLogs.csv"
# The whole export: 2023-07-28 20:07:14.552 .. 2023-07-30 18:33:39.874 UTC (SOURCE.md).
RANGE = TimeRange(datetime(2023, 7, 28, tzinfo=UTC), datetime(2023, 7, 31, tzinfo=UTC))


@pytest.fixture(scope="module")
def source() -> LocalSource:
    # the folder, as an analyst would give it (SOURCE.md and LICENSE lie beside the export)
    return LocalSource.from_paths([FOLDER])


def _export_account(src: LocalSource) -> FileAccount:
    by_name = {Path(a.path).name: a for a in src.ingest_report()}
    # the two documentation files are text, not logs: said so, not silently skipped
    assert {n: a.error for n, a in by_name.items() if n != FILE.name} == {
        "LICENSE": "format not recognised",
        "SOURCE.md": "format not recognised",
    }
    return by_name[FILE.name]


@pytest.fixture(scope="module")
def changes(source: LocalSource) -> pd.DataFrame:
    return source.account_changes("zabbix", RANGE)


def test_the_file_is_the_published_export_unchanged() -> None:
    # 18,145 characters at Azure/Azure-Sentinel@0c00c3a8 (the read_file answer's total_chars);
    # csv module: 49 records, 16 columns, the time headers with the portal's " [UTC]" suffix.
    text = FILE.read_text(encoding="utf-8")
    assert len(text) == 18_145 and "\r" not in text
    with FILE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 50 and {len(r) for r in rows} == {16}
    assert rows[0][2:5] == ["TimeGenerated [UTC]", "Computer", "EventTime [UTC]"]


def test_portal_export_is_recognised_and_every_row_parsed(source: LocalSource) -> None:
    acc = _export_account(source)
    assert acc.format == "sentinel-export-csv:Syslog"  # not "format not recognised"
    assert (acc.lines, acc.parsed, acc.unparsed, acc.error) == (49, 49, 0, "")
    assert acc.rows == {"Syslog": 49}
    # Days 28/29/30 are above 12, so the file itself settles month/day order: nothing assumed.
    assert acc.notes == []


def test_portal_times_are_read_as_utc_from_the_header(source: LocalSource) -> None:
    # The header says "TimeGenerated [UTC]"; "7/28/2023, 8:07:14.552 PM" is 20:07:14.552 UTC.
    # First/last by datetime.strptime(t, "%m/%d/%Y, %I:%M:%S.%f %p") over the column: the file is
    # not in time order (its last rows, 7/30 6:21-6:27 PM, are earlier than rows above them).
    acc = _export_account(source)
    assert acc.first_time == datetime(2023, 7, 28, 20, 7, 14, 552000, tzinfo=UTC)
    assert acc.last_time == datetime(2023, 7, 30, 18, 33, 39, 874000, tzinfo=UTC)
    df = source.syslog("Zabbix", RANGE)
    first = df[df["SyslogMessage"] == "group added to /etc/group: name=ntp, GID=127"]
    assert [t.isoformat() for t in first["TimeGenerated"]] == ["2023-07-28T20:07:14.552000+00:00"]
    # A zone given for naive times (--tz) does not move a column whose header names UTC.
    other = LocalSource.from_paths([FOLDER], ReadOptions(tz="America/New_York"))
    acc_ny = _export_account(other)
    assert (acc_ny.first_time, acc_ny.last_time) == (acc.first_time, acc.last_time)


def test_zabbix_and_Zabbix_are_one_host(source: LocalSource) -> None:
    # csv: Computer "Zabbix" 29 rows (7/28-7/29), "zabbix" 20 rows (7/30); host names are
    # case-insensitive, so one host, shown in its most frequent spelling.
    hosts = source.hosts()
    assert hosts["Computer"].tolist() == ["Zabbix"]
    assert int(hosts["SyslogRows"].iloc[0]) == 49
    for name in ("Zabbix", "zabbix", "ZABBIX"):
        df = source.syslog(name, RANGE)
        assert Counter(df["Computer"]) == {"Zabbix": 29, "zabbix": 20}
    # rows per program (csv Counter of ProcessName)
    assert Counter(source.syslog("zabbix", RANGE)["ProcessName"]) == {
        "groupadd": 21,
        "usermod": 9,
        "userdel": 8,
        "useradd": 4,
        "groupdel": 3,
        "groupmod": 2,
        "gpasswd": 2,
    }


def _pairs(changes: pd.DataFrame, action: str) -> list[tuple[object, object]]:
    rows = changes[changes["Action"] == action]
    return sorted(zip(rows["User"].fillna(""), rows["Group"].fillna(""), strict=True))


def test_account_changes_equal_the_grep_counts(changes: pd.DataFrame) -> None:
    # One change per process and object: groupadd writes 3 lines per group (/etc/group,
    # /etc/gshadow, "new group"), usermod/userdel 2 per sudo membership (group, shadow group),
    # groupdel 3, userdel 2 per removed private group, groupmod 2 for the rename.
    assert Counter(changes["Action"]) == {
        "group_add": 7,  # grep -o '"new group: name=[^,]*' -> 7
        "user_add": 4,  # grep -o '"new user: name=[^,]*' -> 4
        "user_modify": 5,  # 1 rename, 2 home, 2 expiration ("change user ..." lines)
        "password_change": 2,  # change user 'ntp'/'sssd' password
        "group_modify": 1,  # group changed in /etc/group and /etc/gshadow: BadUser -> baduser2
        "group_member_add": 2,
        "group_member_remove": 2,
        "user_delete": 2,
        "group_delete": 3,
    }
    assert _pairs(changes, "user_add") == [("BadUser", ""), ("ntp", ""), ("sssd", ""), ("testuser", "")]
    assert _pairs(changes, "user_delete") == [("baduser2", ""), ("testuser", "")]
    assert sorted(changes.loc[changes["Action"] == "group_add", "Group"]) == [
        "BadUser",
        "ntp",
        "rdma",
        "sambashare",
        "sssd",
        "testgroup",
        "testuser",
    ]
    # userdel removes the private groups baduser2 and testuser; groupdel removes testgroup
    assert sorted(changes.loc[changes["Action"] == "group_delete", "Group"]) == [
        "baduser2",
        "testgroup",
        "testuser",
    ]
    # add 'baduser2' to group 'sudo' (usermod) / user LocalAdmin added by root to group testgroup
    assert _pairs(changes, "group_member_add") == [("LocalAdmin", "testgroup"), ("baduser2", "sudo")]
    # delete 'baduser2' from group 'sudo' (userdel) / user LocalAdmin removed by root from group testgroup
    assert _pairs(changes, "group_member_remove") == [("LocalAdmin", "testgroup"), ("baduser2", "sudo")]
    gp = changes[changes["ProcessName"] == "gpasswd"]
    assert set(gp["Actor"]) == {"root"}
    # new user: name=BadUser, UID=1002, GID=1002, home=/home/BadUser, shell=/bin/bash
    bad = changes[(changes["Action"] == "user_add") & (changes["User"] == "BadUser")].iloc[0]
    assert (bad["UID"], bad["GID"], bad["Home"], bad["Shell"]) == (1002, 1002, "/home/BadUser", "/bin/bash")


def test_user_rename_and_home_moves(changes: pd.DataFrame) -> None:
    # usermod[152237]: change user name 'BadUser' to 'baduser2' (7/29/2023, 9:16:40.158 PM)
    renames = changes[changes["SyslogMessage"] == "change user name 'BadUser' to 'baduser2'"]
    assert len(renames) == 1
    r = renames.iloc[0]
    assert (r["Action"], r["User"], r["ProcessID"]) == ("user_modify", "BadUser", 152237)
    assert r["TimeGenerated"] == pd.Timestamp("2023-07-29T21:16:40.158Z")
    # change user 'baduser2' home from '/home/BadUser' to '/tmp/baduser2', then to '/home/baduser2'
    homes = changes[(changes["User"] == "baduser2") & changes["Home"].notna()]
    assert homes["Home"].tolist() == ["/tmp/baduser2", "/home/baduser2"]
    # groupmod[152263]: the private group follows the rename (2 lines, one change)
    gm = changes[changes["Action"] == "group_modify"].iloc[0]
    assert (gm["Group"], gm["ProcessID"]) == ("BadUser", 152263)
    assert gm["SyslogMessage"].count("new name: baduser2") == 2


def test_report_findings_new_users_and_sudo_membership(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "zabbix.json"
    rc = main(["report", "--source", str(FOLDER), "--host", "ZABBIX", "--no-sigma", "--output", str(out)])
    assert rc == 0, capsys.readouterr().err
    report = json.loads(out.read_text())
    assert report["host"] == "Zabbix"
    assert report["searched"]["syslog_lines"] == 49
    assert report["searched"]["account_changes"] == 28  # the sum of the Action counts above
    formats = {Path(s["path"]).name: s["format"] for s in report["sources"]}
    assert formats[FILE.name] == "sentinel-export-csv:Syslog"
    found = sorted((f["severity"], f["title"], f["time"]) for f in report["findings"])
    # 4 "new user:" lines (useradd); 1 "add 'baduser2' to group 'sudo'" at 7/30/2023, 6:27:22.015 PM.
    # baduser2's removal from sudo at 6:29:52 PM is part of its deletion (userdel), not a finding.
    # grep -o "new user:[^\"]*": ntp UID=117 and sssd UID=118 with shell=/usr/sbin/nologin are
    # package system accounts (low); testuser UID=1001 and BadUser UID=1002 with /bin/bash (medium).
    assert found == [
        ("high", "baduser2 added to privileged group sudo", "2023-07-30T18:27:22.015Z"),
        ("low", "New system account ntp created (no login shell)", "2023-07-28T20:07:14.751Z"),
        ("low", "New system account sssd created (no login shell)", "2023-07-28T20:07:19.998Z"),
        ("medium", "New account BadUser created", "2023-07-29T21:15:17.180Z"),
        ("medium", "New account testuser created", "2023-07-29T21:14:28.562Z"),
    ]
    # "Unknown IP" (HostIP) and the _ResourceId path are not indicators
    assert not [i for i in report["iocs"] if i["type"] != "path"]
