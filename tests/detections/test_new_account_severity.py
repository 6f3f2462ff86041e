"""account.new_user severity (issue 13 "less noise"): a package's system account is low.

A new account whose uid is below ``system_uid_below`` (findings.yaml, 1000) AND whose shell
cannot log in (nologin, false, sync ...) is low and says "system account (no login shell)";
uid 0 stays high whatever its shell; an account with a login shell stays medium; where the
uid or the shell is not logged (audit ADD_USER), the severity stays medium.
"""

from __future__ import annotations

from pathlib import Path

from hunting.detections.base import HuntData
from tests.detections.test_each_detector import _demo, _folder_data, _lines, _run

EXPORT = Path(__file__).resolve().parents[1] / "data" / "sentinel-portal-authpriv"


def _export() -> HuntData:
    # the real Log Analytics portal export, read as an analyst gives it (the folder)
    return _folder_data(EXPORT, "Zabbix")


def test_real_export_system_accounts_low_interactive_medium() -> None:
    # grep -o "new user:[^\"]*" Linux_Authpriv_UserManagement_IngestedLogs.csv ->
    #   name=ntp, UID=117, ..., home=/nonexistent, shell=/usr/sbin/nologin
    #   name=sssd, UID=118, ..., home=/var/lib/sss, shell=/usr/sbin/nologin
    #   name=testuser, UID=1001, ..., home=/home/testuser, shell=/bin/bash
    #   name=BadUser, UID=1002, ..., home=/home/BadUser, shell=/bin/bash
    found = {f.user: f for f in _run(_export(), "account.new_user")}
    assert {u: f.severity for u, f in found.items()} == {
        "ntp": "low",
        "sssd": "low",
        "testuser": "medium",
        "BadUser": "medium",
    }
    assert found["ntp"].title == "New system account ntp created (no login shell)"
    assert found["sssd"].detail.endswith("; a system account (no login shell).")
    assert "/var/lib/sss" in found["sssd"].detail and "uid 118" in found["sssd"].detail
    assert found["testuser"].title == "New account testuser created"
    assert "system account" not in found["BadUser"].detail


def test_demo_new_sudo_account_keeps_medium() -> None:
    # the demo's web01 auth log (grep "new user:"): name=backup2, UID=1002, shell=/bin/bash;
    # medium before this change too (uid not 0: the rule's own severity)
    from hunting.demo.intrusion import NEW_USER

    found = _run(_demo("web01"), "account.new_user")
    assert [(f.user, f.severity, f.title) for f in found] == [
        (NEW_USER, "medium", f"New account {NEW_USER} created")
    ]


def test_uid0_stays_high_even_without_login_shell() -> None:
    # hand-written lines in shadow-utils' format (the export's "new user:" lines above):
    # uid 0 is high whether its shell is nologin or bash; never lowered to "system account"
    data = _lines(
        [
            ("2024-05-01T10:00:00Z", "useradd", "new user: name=toor, UID=0, GID=0, home=/root, shell=/usr/sbin/nologin, from=/dev/pts/1"),
            ("2024-05-01T10:01:00Z", "useradd", "new user: name=root2, UID=0, GID=0, home=/root, shell=/bin/bash, from=/dev/pts/1"),
        ]
    )  # fmt: skip
    found = {f.user: f for f in _run(data, "account.new_user")}
    assert {u: f.severity for u, f in found.items()} == {"toor": "high", "root2": "high"}
    assert all("system account" not in f.title + f.detail for f in found.values())


def test_only_both_conditions_make_it_low() -> None:
    # hand-written (same format): a system uid with a login shell, a user uid with nologin,
    # and the other non-login shells (false, sync) under the threshold
    data = _lines(
        [
            ("2024-05-01T10:00:00Z", "useradd", "new user: name=svcbash, UID=120, GID=120, home=/var/lib/svc, shell=/bin/bash, from=/dev/pts/1"),
            ("2024-05-01T10:01:00Z", "useradd", "new user: name=hidden, UID=1500, GID=1500, home=/home/hidden, shell=/usr/sbin/nologin, from=/dev/pts/1"),
            ("2024-05-01T10:02:00Z", "useradd", "new user: name=svcfalse, UID=999, GID=999, home=/nonexistent, shell=/bin/false, from=/dev/pts/1"),
            ("2024-05-01T10:03:00Z", "useradd", "new user: name=sync2, UID=4, GID=65534, home=/bin, shell=/bin/sync, from=/dev/pts/1"),
            ("2024-05-01T10:04:00Z", "useradd", "new user: name=edge, UID=1000, GID=1000, home=/nonexistent, shell=/usr/sbin/nologin, from=/dev/pts/1"),
        ]
    )  # fmt: skip
    found = {f.user: f.severity for f in _run(data, "account.new_user")}
    assert found == {
        "svcbash": "medium",
        "hidden": "medium",
        "svcfalse": "low",
        "sync2": "low",
        "edge": "medium",
    }


def test_unknown_shell_keeps_medium() -> None:
    # beats-auditd useradd.log: the ADD_USER record (aureport -m: event 591) gives id=1004 but
    # no shell -> stays medium (also asserted in test_each_detector.test_new_user_beats_auditd)
    from tests.detections.test_each_detector import _real

    found = _run(_real("beats-auditd", "beats-auditd"), "account.new_user")
    assert [(f.severity, f.title) for f in found] == [("medium", "New account uid=1004 created")]
