"""fail2ban's own lines in a syslog file add no logon, no finding and no IoC value: one mention each.

No public log in ../shared/data holds fail2ban's own lines (its fail2ban-auth-corpus holds the sshd/PAM
lines fail2ban reads, not what it writes). The lines below are therefore BUILT here from fail2ban's
documented forms, and appended to loghub's real OpenSSH_2k.log (a copy in a temporary folder):
- ``NAME[PID]: LEVEL MESSAGE``: fail2ban's SYSLOG log format (``"%(name)s[%(process)d]: %(levelname)s
  %(message)s"`` in fail2ban/server/server.py setLogTarget); messages ``[jail] Found IP - TIME``
  (filter.py), ``[jail] Ban IP``, ``[jail] Restore Ban IP``, ``[jail] Unban IP`` (actions.py);
- ``fail2ban.server.actions: NOTICE [jail] Ban IP``: the syslog example of fail2ban's own test corpus
  fail2ban/tests/files/logs/recidive (``Sep 16 00:44:55 spaceman fail2ban.server.actions: NOTICE [jail]
  Ban 10.0.0.7``), with loghub's host and an address that attacks it;
- ``fail2ban.actions: WARNING [ssh] Ban IP``: fail2ban 0.8's syslog form (``%(name)-16s: %(levelname)-6s``).
The addresses are loghub's attackers (grep -c: 183.62.140.253 867 lines, 187.141.143.180 349,
112.95.230.3 80).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from hunting.cli import main

FAIL2BAN_LINES = [
    "Dec 10 07:27:55 LabSZ fail2ban.filter[1500]: INFO [sshd] Found 112.95.230.3 - 2016-12-10 07:27:52",
    "Dec 10 07:28:40 LabSZ fail2ban.actions[1500]: NOTICE [sshd] Ban 112.95.230.3",
    "Dec 10 07:38:40 LabSZ fail2ban.actions[1500]: NOTICE [sshd] Unban 112.95.230.3",
    "Dec 10 10:59:31 LabSZ fail2ban.filter[1500]: INFO [sshd] Found 183.62.140.253 - 2016-12-10 10:59:30",
    "Dec 10 10:59:35 LabSZ fail2ban.filter[1500]: INFO [sshd] Found 183.62.140.253 - 2016-12-10 10:59:34",
    "Dec 10 10:59:36 LabSZ fail2ban.actions[1500]: NOTICE [sshd] Ban 183.62.140.253",
    "Dec 10 11:00:10 LabSZ fail2ban.actions[1500]: NOTICE [sshd] Restore Ban 183.62.140.253",
    "Dec 10 11:00:20 LabSZ fail2ban.server.actions: NOTICE [jail] Ban 187.141.143.180",
    "Dec 10 11:00:30 LabSZ fail2ban.actions: WARNING [ssh] Ban 187.141.143.180",
]
ADDED = Counter({"112.95.230.3": 3, "183.62.140.253": 4, "187.141.143.180": 2})  # lines naming each


def _report(folder: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    args = ["report", "--source", str(folder), "--host", "LabSZ", "--year", "2016", "--no-sigma"]
    assert main([*args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_fail2ban_lines_change_nothing_but_mention_counts(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain, with_f2b = tmp_path / "plain", tmp_path / "f2b"
    for folder in (plain, with_f2b):
        folder.mkdir()
        shutil.copyfile(shared_data / "loghub" / "OpenSSH_2k.log", folder / "auth.log")
    assert not (plain / "auth.log").read_bytes().endswith(b"\n")  # loghub's last line has no newline
    with (with_f2b / "auth.log").open("a") as fh:
        fh.write("\n" + "\n".join(FAIL2BAN_LINES) + "\n")
    before, after = _report(plain, capsys), _report(with_f2b, capsys)

    # no logon, failure or address from fail2ban's lines (loghub alone: 520 Failed password lines, 528
    # weighted, as hunting.analysis.logons says)
    for key in ("success", "failure", "events"):
        assert after["logons"][key] == before["logons"][key], key
    assert before["logons"]["failure"] == 528
    # the same findings
    assert sorted((f["rule_id"], f["title"]) for f in after["findings"]) == sorted(
        (f["rule_id"], f["title"]) for f in before["findings"]
    )
    # the same IoC values; each fail2ban line adds one mention of its address, not two, and its
    # "Found IP - 2016-12-10 07:27:52" time is no IoC
    counts_before = {(i["type"], i["value"]): i["count"] for i in before["iocs"]}
    counts_after = {(i["type"], i["value"]): i["count"] for i in after["iocs"]}
    assert counts_after.keys() == counts_before.keys()
    for key, n in counts_after.items():
        assert n - counts_before[key] == ADDED.get(key[1], 0), key
