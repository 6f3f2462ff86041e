"""Account and group changes in shadow-utils' own wording (shadow 4.x source formats)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hunting.analysis.accounts import account_changes
from hunting.schema import ACCOUNTS, SYSLOG
from tests.analysis.test_logons import syslog_from_lines


def _changes(lines: list[str]) -> pd.DataFrame:
    return account_changes(syslog_from_lines(lines))


def test_account_changes_useradd_debian() -> None:
    out = _changes(
        [
            "h useradd[1001]: new group: name=eve, GID=1002",
            "h useradd[1001]: new user: name=eve, UID=1002, GID=1002, home=/home/eve, shell=/bin/bash, from=/dev/pts/1",
            "h useradd[1001]: add 'eve' to group 'sudo'",
            "h useradd[1001]: add 'eve' to shadow group 'sudo'",
        ]
    )
    assert list(out.columns) == ACCOUNTS.names
    assert list(out["Action"]) == ["group_add", "user_add", "group_member_add"]
    user = out.iloc[1]
    assert (user["User"], int(user["UID"]), int(user["GID"]), user["Home"], user["Shell"]) == (
        "eve", 1002, 1002, "/home/eve", "/bin/bash",
    )  # fmt: skip
    assert (out.iloc[0]["Group"], int(out.iloc[0]["GID"])) == ("eve", 1002)
    member = out.iloc[2]
    assert (member["User"], member["Group"]) == ("eve", "sudo")
    assert member["SyslogMessage"] == "add 'eve' to group 'sudo'\nadd 'eve' to shadow group 'sudo'"


def test_account_changes_rhel_groupadd_and_old_useradd() -> None:
    out = _changes(
        [
            "h groupadd[20]: group added to /etc/group: name=ops, GID=1003",
            "h groupadd[20]: group added to /etc/gshadow: name=ops",
            "h groupadd[20]: new group: name=ops, GID=1003",
            "h useradd[21]: new user: name=svc, uid=998, gid=998, home=/var/lib/svc, shell=/sbin/nologin",
        ]
    )
    assert list(out["Action"]) == ["group_add", "user_add"]
    assert (out.iloc[0]["Group"], int(out.iloc[0]["GID"])) == ("ops", 1003)
    assert out.iloc[0]["SyslogMessage"].count("\n") == 2
    assert (out.iloc[1]["Shell"], int(out.iloc[1]["UID"])) == ("/sbin/nologin", 998)


def test_account_changes_usermod_userdel_groupdel() -> None:
    out = _changes(
        [
            "h usermod[30]: change user 'eve' shell from '/bin/sh' to '/bin/bash'",
            "h usermod[30]: change user 'eve' home from '/home/eve' to '/srv/eve'",
            "h usermod[31]: lock user 'eve' password",
            "h usermod[32]: delete 'eve' from group 'adm'",
            "h usermod[32]: delete 'eve' from shadow group 'adm'",
            "h userdel[33]: delete user 'eve'",
            "h userdel[33]: removed group 'eve' owned by 'eve'",
            "h userdel[33]: removed shadow group 'eve' owned by 'eve'",
            "h groupdel[34]: group 'ops' removed from /etc/group",
            "h groupdel[34]: group 'ops' removed from /etc/gshadow",
            "h groupdel[35]: group 'old' removed#012",
            "h userdel[36]: delete user `legacy'",
            "h groupmod[37]: group changed in /etc/group (group ops/1003, new name: ops2)",
        ]
    )
    assert list(out["Action"]) == [
        "user_modify", "user_modify", "user_modify", "group_member_remove", "user_delete", "group_delete",
        "group_delete", "group_delete", "user_delete", "group_modify",
    ]  # fmt: skip
    assert (out.iloc[0]["Shell"], out.iloc[1]["Home"]) == ("/bin/bash", "/srv/eve")
    assert out.iloc[5]["Group"] == "eve" and out.iloc[5]["User"] == "eve"
    assert list(out.iloc[6:8]["Group"]) == ["ops", "old"]
    assert out.iloc[8]["User"] == "legacy"
    assert out.iloc[9]["Group"] == "ops"


def test_account_changes_gpasswd_and_passwords() -> None:
    out = _changes(
        [
            "h gpasswd[40]: user eve added by root to group sudo",
            "h gpasswd[41]: user eve removed by root from group adm",
            "h passwd[42]: pam_unix(passwd:chauthtok): password changed for eve",
            "h passwd[42]: password for 'eve' changed by 'root'",
            "h chpasswd[43]: pam_unix(chpasswd:chauthtok): password changed for bob",
            "h chage[44]: changed password expiry for bob",
        ]
    )
    assert list(out["Action"]) == [
        "group_member_add", "group_member_remove", "password_change", "password_change", "user_modify",
    ]  # fmt: skip
    assert list(out["Actor"].fillna("-")) == ["root", "root", "root", "-", "-"]
    assert list(out["User"]) == ["eve", "eve", "eve", "bob", "bob"]


def test_account_changes_wazuh_failed_useradd_is_not_a_change(shared_data: Path) -> None:
    text = (shared_data / "wazuh" / "syslog.ini").read_text(encoding="utf-8")
    line = next(ln.split(" = ", 1)[1] for ln in text.splitlines() if "failed adding user" in ln)
    assert _changes([line]).empty


def test_account_changes_hostile_and_empty() -> None:
    out = _changes(
        [
            "h useradd[1]: new user: name=<b>x</b>, UID=abc, GID=1, home=/h, shell=/bin/sh",
            "h useradd[2]: new user: name=" + "z" * 10000 + ", UID=5, GID=5, home=/h, shell=/bin/sh",
            "h useradd[3]: new user:",
            "h usermod[4]: ",
        ]
    )
    assert list(out["User"]) == ["z" * 10000]  # UID=abc is not shadow's format: not guessed at
    assert list(account_changes(SYSLOG.empty()).columns) == ACCOUNTS.names
