"""Syslog reader on real files (loghub, plaso, wazuh) and on the malformed input logs really contain.

Counts on the real files were checked with grep/awk, e.g. lines with a header:
grep -cE '^(<[0-9]+>)?((1 )?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+([-+][0-9:]+|Z) |(Jan|...|Dec) +[0-9]{1,2} [0-9:]{8}(\\.[0-9]+)? )'
and continuation lines with grep -c '^[[:space:]]'.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from hunting.readers import syslog as syslog_module
from hunting.readers.base import ReadOptions, ReadResult
from hunting.readers.syslog import (
    BAD_DATE,
    BINARY,
    BLANK,
    CONTINUATION,
    NOT_SYSLOG,
    SYSLOG_READER,
    TOO_LONG,
    file_facility,
    process_facility,
)
from hunting.schema import FACILITIES, SEVERITIES, SYSLOG

UTC_2025 = ReadOptions(year=2025)
UTC_2021 = ReadOptions(year=2021)  # plaso lines have no year


def read(
    data: bytes, path: str = "syslog", mtime: float = 0.0, options: ReadOptions = UTC_2025
) -> ReadResult:
    result = SYSLOG_READER.read(data, path, mtime, options)
    acc = result.account
    assert acc.balanced and acc.format == "syslog"
    assert acc.rows["Syslog"] == acc.parsed == len(result.tables["Syslog"])
    return result


def read_file(path: Path, options: ReadOptions = UTC_2021) -> ReadResult:
    return read(path.read_bytes(), str(path), path.stat().st_mtime, options)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def wazuh_lines(path: Path) -> bytes:
    """The log lines embedded in a Wazuh ruleset test file (``log 1 pass = <line>``)."""
    lines = re.findall(r"^log \d+ (?:pass|fail) = (.*)$", path.read_text(), re.M)
    return "\n".join(lines).encode()


# --- loghub OpenSSH: 2,000 real lines from one host -------------------------------------------------


def test_read_openssh_counts_and_fields(shared_data: Path) -> None:
    result = read_file(shared_data / "loghub" / "OpenSSH_2k.log", ReadOptions(year=2015))
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed, acc.unparsed) == (2000, 2000, 0)
    assert list(df.columns) == SYSLOG.names
    assert set(df["Computer"]) == {"LabSZ"} and set(df["HostName"]) == {"LabSZ"}
    assert set(df["ProcessName"]) == {"sshd"}
    assert set(df["Facility"]) == {"authpriv"}  # inferred from sshd: the file name says nothing
    assert set(df["SeverityLevel"]) == {""}
    assert df["TimeGenerated"].iloc[0] == ts("2015-12-10 06:55:46")
    assert df["TimeGenerated"].iloc[-1] == ts("2015-12-10 11:04:45")
    assert acc.first_time == datetime(2015, 12, 10, 6, 55, 46, tzinfo=UTC)
    assert acc.last_time == datetime(2015, 12, 10, 11, 4, 45, tzinfo=UTC)
    assert df["SyslogMessage"].str.contains("Failed password").sum() == 520
    assert (df["ProcessID"].iloc[0], df["ProcessID"].iloc[-1]) == (24200, 25539)


def test_read_openssh_line_956_accepted_password(shared_data: Path) -> None:
    df = read_file(shared_data / "loghub" / "OpenSSH_2k.log", ReadOptions(year=2015)).tables["Syslog"]
    row = df.iloc[955]
    assert row["TimeGenerated"] == ts("2015-12-10 09:32:20")
    assert row["ProcessID"] == 24680
    assert row["SyslogMessage"] == "Accepted password for fztu from 119.137.62.142 port 49116 ssh2"


def test_read_openssh_message_repeated_kept_raw(shared_data: Path) -> None:
    df = read_file(shared_data / "loghub" / "OpenSSH_2k.log", ReadOptions(year=2015)).tables["Syslog"]
    repeated = df[df["SyslogMessage"].str.startswith("message repeated")]
    assert len(repeated) == 2
    assert all(
        re.fullmatch(r"message repeated \d+ times: \[ Failed password .*\]", m)
        for m in repeated["SyslogMessage"]
    )


@pytest.mark.parametrize(
    ("mtime", "year"),
    [
        (datetime(2016, 1, 20, tzinfo=UTC), 2015),  # written in January: December lines are last year's
        (datetime(2015, 12, 31, tzinfo=UTC), 2015),
        (datetime(2016, 12, 11, tzinfo=UTC), 2016),
        (datetime(2016, 6, 1, tzinfo=UTC), 2015),  # December is after June: it must be last year's
    ],
)
def test_read_openssh_year_from_mtime(shared_data: Path, mtime: datetime, year: int) -> None:
    data = (shared_data / "loghub" / "OpenSSH_2k.log").read_bytes()
    acc = read(data, "OpenSSH_2k.log", mtime.timestamp(), ReadOptions()).account
    assert acc.first_time == datetime(year, 12, 10, 6, 55, 46, tzinfo=UTC)
    assert acc.last_time == datetime(year, 12, 10, 11, 4, 45, tzinfo=UTC)


# --- plaso: one file per framing ----------------------------------------------------------------------


def test_read_plaso_traditional_variants(shared_data: Path) -> None:
    result = read_file(shared_data / "plaso" / "syslog" / "syslog")
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed, acc.unparsed) == (18, 14, 4)
    # "Feb 29 01:15:43: ---" and "Nov 18 01:15:43: ---" lack a host, "MMM 22" is no month
    assert acc.reasons == {NOT_SYSLOG: 3, CONTINUATION: 1}
    assert (14, CONTINUATION, "\tmany syslog parsers.") in acc.examples
    cron = df.iloc[2]
    assert (cron["Computer"], cron["ProcessName"], cron["ProcessID"], cron["Facility"]) == (
        "myhostname.myhost.com", "CRON", 31051, "cron",
    )  # fmt: skip
    assert cron["SyslogMessage"] == "(root) CMD (touch /var/run/crond.somecheck)"
    no_tag = df.iloc[5]
    assert (no_tag["ProcessName"], no_tag["SyslogMessage"]) == ("", "Job `cron.daily' terminated")
    assert pd.isna(no_tag["ProcessID"])
    assert df.iloc[8]["TimeGenerated"] == ts("2021-03-23 23:01:18.123")  # fractional seconds
    assert df.iloc[9]["ProcessName"] == "/sbin/anacron" and df.iloc[9]["Facility"] == "cron"
    assert (df.iloc[11]["Computer"], df.iloc[11]["TimeGenerated"]) == ("victoria", ts("2021-02-06 15:16:30"))
    no_host = df.iloc[12]  # "Nov 18 08:30:20 kernel: [997.390602] ..."
    assert (no_host["Computer"], no_host["ProcessName"], no_host["Facility"]) == ("", "kernel", "kern")
    assert no_host["SyslogMessage"] == "[997.390602] sda2: rw=0, want=65, limit=2"


def test_read_plaso_rfc5424(shared_data: Path) -> None:
    result = read_file(shared_data / "plaso" / "syslog" / "syslog_rsyslog_SyslogProtocol23Format")
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed, acc.unparsed) == (10, 9, 1)
    assert acc.examples == [(3, NOT_SYSLOG, "with another line")]
    first = df.iloc[0]  # <15>1 ... hostname log_tag - 123 -  this is debug
    assert (first["Facility"], first["SeverityLevel"], first["ProcessName"]) == ("user", "debug", "log_tag")
    assert pd.isna(first["ProcessID"]) and first["SyslogMessage"] == "this is debug"
    assert df.iloc[3]["SeverityLevel"] == "crit"  # <10>
    cron = df.iloc[-1]  # <78>1 2021-03-06T04:07:38.269077+00:00 hostname cron 18898 - -
    assert (cron["Facility"], cron["SeverityLevel"], cron["ProcessName"], cron["ProcessID"]) == (
        "cron", "info", "cron", 18898,
    )  # fmt: skip
    assert cron["Computer"] == "hostname"
    assert cron["TimeGenerated"] == ts("2021-03-06 04:07:38.269077")
    assert cron["SyslogMessage"] == "(CRON) INFO (Skipping @reboot jobs -- not system startup)"
    assert (df.iloc[4]["Facility"], df.iloc[4]["ProcessID"]) == ("daemon", 1)  # <30>


def test_read_plaso_rsyslog_iso(shared_data: Path) -> None:
    result = read_file(shared_data / "plaso" / "syslog" / "syslog_rsyslog")
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed, acc.unparsed) == (5, 5, 0)
    assert df.iloc[0]["SyslogMessage"] == "message repeated 76 times: [-- MARK --]"
    assert (df.iloc[0]["Computer"], df.iloc[0]["ProcessName"]) == ("localhost", "rsyslogd")
    assert df.iloc[0]["TimeGenerated"] == ts("2020-05-31 00:00:45.698463")
    assert (df.iloc[2]["ProcessName"], df.iloc[2]["ProcessID"]) == ("systemd", 1)
    assert df.iloc[2]["SyslogMessage"] == "Reloaded System Logging Service."


def test_read_plaso_sysklogd_format_tag_without_colon(shared_data: Path) -> None:
    result = read_file(shared_data / "plaso" / "syslog" / "syslog_rsyslog_SysklogdFileFormat")
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed, acc.unparsed) == (10, 9, 1)
    assert (df.iloc[0]["ProcessName"], df.iloc[0]["SyslogMessage"]) == ("", "log_tag this is debug")
    assert (df.iloc[7]["ProcessName"], df.iloc[7]["ProcessID"]) == ("cron", 18810)
    assert df.iloc[7]["TimeGenerated"] == ts("2021-03-06 04:07:28")


@pytest.mark.parametrize(
    ("name", "time", "facility", "severity"),
    [
        ("syslog_rsyslog_ForwardFormat", "2021-03-06 04:07:33.194677", "user", "debug"),
        ("syslog_rsyslog_TraditionalForwardFormat", "2021-03-06 04:07:23", "user", "debug"),
    ],
)
def test_read_plaso_forward_formats(
    shared_data: Path, name: str, time: str, facility: str, severity: str
) -> None:
    # Records follow each other without newlines: each physical line is framed once.
    result = read_file(shared_data / "plaso" / "syslog" / name)
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed, acc.unparsed) == (2, 1, 1)
    assert acc.reasons == {NOT_SYSLOG: 1}
    row = df.iloc[0]
    assert (row["TimeGenerated"], row["Facility"], row["SeverityLevel"]) == (ts(time), facility, severity)
    assert row["Computer"] == "hostname"
    assert row["SyslogMessage"].startswith("log_tag this is debug<14>")


def test_read_plaso_chromeos_severity_instead_of_host(shared_data: Path) -> None:
    result = read_file(shared_data / "plaso" / "syslog" / "syslog_chromeos")
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed, acc.unparsed) == (9, 8, 1)
    assert acc.reasons == {CONTINUATION: 1}
    assert set(df["Computer"]) == {""}
    assert list(df["SeverityLevel"]) == ["info", "info", "debug", "warning", "debug", "err", "err", "info"]
    assert df.iloc[0]["TimeGenerated"] == ts("2016-10-25 19:37:23.297265")  # -07:00
    assert (df.iloc[0]["ProcessName"], df.iloc[0]["ProcessID"]) == ("periodic_scheduler", 13707)
    assert df.iloc[0]["SyslogMessage"] == "cleanup_logs: job completed"


def test_read_plaso_macos(shared_data: Path) -> None:
    result = read_file(shared_data / "plaso" / "syslog" / "syslog_osx")
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed, acc.unparsed) == (2, 2, 0)
    assert (df.iloc[0]["ProcessName"], df.iloc[0]["ProcessID"], df.iloc[0]["Facility"]) == (
        "kernel",
        0,
        "kern",
    )
    mac = df.iloc[1]  # "sockerfilterfw[1985] <Info>: ..." has no colon after the pid
    assert (mac["Computer"], mac["ProcessName"], mac["ProcessID"]) == ("osx-machine", "sockerfilterfw", 1985)
    assert mac["SyslogMessage"] == "<Info>: launchd Allow TCP LISTEN (in:0 out:2)"


def test_read_plaso_rsyslog_traditional_multiline(shared_data: Path) -> None:
    acc = read_file(shared_data / "plaso" / "syslog" / "syslog_rsyslog_traditional").account
    assert (acc.lines, acc.parsed, acc.unparsed) == (11, 7, 4)
    assert acc.reasons == {CONTINUATION: 2, NOT_SYSLOG: 2}
    assert [e[0] for e in acc.examples if e[1] == CONTINUATION] == [8, 11]


def test_read_plaso_ssh_and_cron_facility_from_name(shared_data: Path) -> None:
    ssh = read_file(shared_data / "plaso" / "syslog" / "syslog_ssh.log").tables["Syslog"]
    assert len(ssh) == 9 and set(ssh["Facility"]) == {"authpriv"}
    assert ssh.iloc[1]["SyslogMessage"].startswith("Accepted publickey for plaso from 192.168.0.1 port 59229")
    cron = read_file(shared_data / "plaso" / "syslog" / "syslog_cron.log").tables["Syslog"]
    assert len(cron) == 9 and set(cron["ProcessName"]) == {"CRON"}
    assert set(cron["Computer"]) == {"ubuntu2015", "osx-machine", "myhostname.myhost.com"}


def test_read_plaso_time_zone_option(shared_data: Path) -> None:
    path = shared_data / "plaso" / "syslog" / "syslog_ssh.log"
    df = read_file(path, ReadOptions(year=2021, tz="America/New_York")).tables["Syslog"]
    assert df["TimeGenerated"].iloc[0] == ts("2021-03-11 05:00:00")  # EST: DST starts on March 14
    iso = read_file(shared_data / "plaso" / "syslog" / "syslog_chromeos", ReadOptions(tz="Asia/Tokyo"))
    assert iso.tables["Syslog"]["TimeGenerated"].iloc[0] == ts("2016-10-25 19:37:23.297265")  # offset wins


def test_sniff_plaso_and_loghub_heads(shared_data: Path) -> None:
    for path in [
        *sorted((shared_data / "plaso" / "syslog").iterdir()),
        shared_data / "loghub" / "OpenSSH_2k.log",
    ]:
        head = [line for line in path.read_text(errors="replace").split("\n") if line.strip()][:30]
        assert SYSLOG_READER.sniff(head), path.name


def test_sniff_rejects_other_formats(shared_data: Path) -> None:
    audit = (shared_data / "plaso" / "audit_enriched.log").read_text(errors="replace").splitlines()[:30]
    assert not SYSLOG_READER.sniff(audit)
    assert not SYSLOG_READER.sniff(['{"__REALTIME_TIMESTAMP":"1709634121123456","MESSAGE":"x"}'])
    assert not SYSLOG_READER.sniff([])


# --- wazuh: single real lines of many programs ---------------------------------------------------------


def test_read_wazuh_sshd_lines(shared_data: Path) -> None:
    result = read(wazuh_lines(shared_data / "wazuh" / "sshd.ini"), "sshd.ini")
    acc, df = result.account, result.tables["Syslog"]
    assert (acc.lines, acc.parsed) == (71, 71)
    assert set(df["ProcessName"]) == {"sshd"}
    # "2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: ..." (macOS, two spaces): 34 such lines
    local = df[df["Computer"] == "localhost"]
    assert len(local) == 34
    assert local.iloc[0]["TimeGenerated"] == ts("2020-03-23 13:47:42.801612")
    assert (
        local.iloc[0]["SyslogMessage"] == "error: PAM: unknown user for illegal user badguy from 192.168.33.1"
    )


def test_read_wazuh_sudo_su_pam(shared_data: Path) -> None:
    sudo = read(wazuh_lines(shared_data / "wazuh" / "sudo.ini")).tables["Syslog"]
    assert len(sudo) == 8 and set(sudo["ProcessName"]) == {"sudo"} and set(sudo["Facility"]) == {"authpriv"}
    assert sudo.iloc[0]["SyslogMessage"] == (
        "dcid : TTY=pts/4 ; PWD=/home/dcid ; USER=root ; COMMAND=/usr/bin/tail /var/log/snort/alert.fast"
    )
    su = read(wazuh_lines(shared_data / "wazuh" / "su.ini")).tables["Syslog"]
    assert list(su["ProcessName"]) == ["su", "su", "su(pam_unix)", "su(pam_unix)", "su"]
    assert list(su["ProcessID"].astype("object").fillna(-1)) == [2921936, 234, 23164, 2298, -1]
    pam = read(wazuh_lines(shared_data / "wazuh" / "pam.ini")).tables["Syslog"]
    assert list(pam["ProcessName"]) == [
        "su(pam_unix)", "vsftpd(pam_unix)", "su(pam_unix)", "su(pam_unix)", "sshd(pam_unix)",
    ]  # fmt: skip
    assert list(pam["Facility"]) == ["authpriv", "", "authpriv", "authpriv", "authpriv"]


def test_read_wazuh_syslog_year_prefix(shared_data: Path) -> None:
    df = read(wazuh_lines(shared_data / "wazuh" / "syslog.ini"), options=ReadOptions(year=2020)).tables[
        "Syslog"
    ]
    assert len(df) == 6
    syslog_ng = df.iloc[4]  # "2015 Nov 13 13:40:01 ether rsyslogd-2177: ..."
    assert (syslog_ng["TimeGenerated"], syslog_ng["Computer"]) == (ts("2015-11-13 13:40:01"), "ether")
    assert syslog_ng["ProcessName"] == "rsyslogd-2177"
    assert df.iloc[0]["Facility"] == "kern" and df.iloc[2]["ProcessID"] == 1366


# --- malformed and edge input ----------------------------------------------------------------------------


def test_read_empty_input() -> None:
    result = read(b"")
    assert (result.account.lines, result.account.parsed, result.account.unparsed) == (0, 0, 0)
    assert list(result.tables["Syslog"].columns) == SYSLOG.names and result.account.first_time is None


def test_read_blank_lines_counted() -> None:
    acc = read(b"\n\n   \nMar  5 10:22:01 h p[1]: x\n\t\n").account
    assert (acc.lines, acc.parsed, acc.unparsed) == (5, 1, 4)
    assert acc.reasons == {BLANK: 4}


def test_read_year_rollover_with_january_mtime() -> None:
    data = b"Dec 31 23:59:59 h CRON[1]: a\nJan  1 00:00:01 h CRON[2]: b\n"
    mtime = datetime(2025, 1, 2, 8, tzinfo=UTC).timestamp()
    df = read(data, mtime=mtime, options=ReadOptions()).tables["Syslog"]
    assert list(df["TimeGenerated"]) == [ts("2024-12-31 23:59:59"), ts("2025-01-01 00:00:01")]


def test_read_year_rollover_uses_mtime_in_zone() -> None:
    # 2025-01-01 02:00 UTC is still December 31 in New York: December lines are then this year's.
    mtime = datetime(2025, 1, 1, 2, tzinfo=UTC).timestamp()
    df = read(b"Dec 31 20:00:00 h p: x\n", mtime=mtime, options=ReadOptions(tz="America/New_York")).tables[
        "Syslog"
    ]
    assert df["TimeGenerated"].iloc[0] == ts("2025-01-01 01:00:00")


def test_read_pri_prefix_gives_facility_and_severity() -> None:
    data = b"<38>Mar  5 10:22:01 h sshd[1]: a\n<191>Mar  5 10:22:02 h x: b\n<999>Mar  5 10:22:03 h sshd: c\n"
    df = read(data, "/var/log/cron.log").tables["Syslog"]
    assert list(df["Facility"]) == ["auth", "local7", "cron"]  # an impossible PRI falls back to the file name
    assert list(df["SeverityLevel"]) == ["info", "debug", ""]


def test_read_facility_from_rotated_file_name() -> None:
    data = b"Mar  5 10:22:01 h sshd[1]: a\nMar  5 10:22:01 h myapp[2]: b\n"
    assert set(read(data, "/var/log/auth.log.2.gz").tables["Syslog"]["Facility"]) == {"auth"}
    assert list(read(data, "/var/log/messages").tables["Syslog"]["Facility"]) == ["authpriv", ""]


def test_read_invalid_utf8_parsed_with_replacement() -> None:
    acc_df = read(b"Mar  5 10:22:01 h p[1]: caf\xe9 ok\n")
    assert acc_df.account.parsed == 1
    assert acc_df.tables["Syslog"]["SyslogMessage"].iloc[0] == "caf\ufffd ok"


def test_read_megabyte_line_truncated() -> None:
    body = b"A" * (1 << 20)
    result = read(b"Mar  5 10:22:01 h p[1]: " + body + b"\n" + b"B" * 70_000 + b"\n")
    acc, msg = result.account, result.tables["Syslog"]["SyslogMessage"].iloc[0]
    assert (acc.lines, acc.parsed, acc.unparsed) == (2, 1, 1)
    assert acc.reasons == {TOO_LONG: 1}
    kept = 65536 - len(b"Mar  5 10:22:01 h p[1]: ")
    assert msg == "A" * kept + f"…[truncated {(1 << 20) - kept} bytes]"


def test_read_binary_junk_and_nul_runs() -> None:
    data = (
        b"\x00\x00\x00Mar  5 10:22:01 h p[1]: after crash\n\x89PNG\x1a\x02\n\x00\x01\x02\nnot syslog at all\n"
    )
    result = read(data)
    acc = result.account
    assert (acc.lines, acc.parsed, acc.unparsed) == (4, 1, 3)
    assert acc.reasons == {BINARY: 2, NOT_SYSLOG: 1}
    assert result.tables["Syslog"]["SyslogMessage"].iloc[0] == "after crash"


def test_read_invalid_date_unparsed() -> None:
    data = b"Feb 29 10:00:00 h p: leap\nFeb 30 10:00:00 h p: never\n"
    assert read(data, options=ReadOptions(year=2024)).account.reasons == {BAD_DATE: 1}
    acc = read(data, options=ReadOptions(year=2023)).account
    assert (acc.parsed, acc.reasons) == (0, {BAD_DATE: 2})


def test_read_crlf_and_mixed_framings_keep_file_order() -> None:
    data = (
        b"<13>1 2025-03-05T10:00:03Z h3 app - - - third\r\n"
        b"Mar  5 10:00:01 h1 sshd[7]: first\r\n"
        b"2025-03-05T10:00:02.5+00:00 h2 su: second\r\n"
    )
    df = read(data).tables["Syslog"]
    assert list(df["Computer"]) == ["h3", "h1", "h2"]
    assert list(df["SyslogMessage"]) == ["third", "first", "second"]
    assert df["TimeGenerated"].iloc[2] == ts("2025-03-05 10:00:02.5")


def test_read_rfc5424_structured_data_bom_and_nil() -> None:
    data = (
        b'<86>1 2025-03-05T10:22:01.5+01:00 web1 sshd - ID47 [ex@32473 iut="3" msg="a\\]b"] \xef\xbb\xbfAccepted x\n'
        b"<86>1 2025-03-05T10:22:01Z - - 42 - -\n"
    )
    df = read(data).tables["Syslog"]
    assert df.iloc[0]["SyslogMessage"] == '[ex@32473 iut="3" msg="a\\]b"] Accepted x'
    assert df.iloc[0]["TimeGenerated"] == ts("2025-03-05 09:22:01.5")
    assert (df.iloc[1]["Computer"], df.iloc[1]["ProcessName"], df.iloc[1]["ProcessID"]) == ("", "", 42)
    assert (df.iloc[1]["Facility"], df.iloc[1]["SeverityLevel"]) == ("authpriv", "info")


def test_read_tag_edge_cases() -> None:
    data = (
        b"Mar  5 10:22:01 h sudo: pam_unix(sudo:session): session opened for user root\n"
        b"Mar  5 10:22:01 h sshd-session[99]: Accepted publickey for a\n"
        b"Mar  5 10:22:01 fe80::1 systemd-logind[5]: New session\n"
        b"Mar  5 10:22:01 h p[]: empty pid\n"
    )
    df = read(data).tables["Syslog"]
    assert list(df["ProcessName"]) == ["sudo", "sshd-session", "systemd-logind", "p"]
    assert df.iloc[0]["SyslogMessage"] == "pam_unix(sudo:session): session opened for user root"
    assert df.iloc[2]["Computer"] == "fe80::1"
    assert pd.isna(df.iloc[3]["ProcessID"]) and df.iloc[3]["SyslogMessage"] == "empty pid"


def test_file_facility_names() -> None:
    assert file_facility("/var/log/auth.log.1") == "auth"
    assert file_facility("secure-20250301") == "authpriv"
    assert file_facility("maillog.3.gz") == "mail"
    assert file_facility("C:\\evidence\\cron") == "cron"
    assert file_facility("/var/log/syslog") == "" and file_facility("messages-20250301.gz") == ""


def test_process_facility_names() -> None:
    assert [process_facility(p) for p in ("sshd-session", "CRON", "kernel", "/usr/sbin/cron", "su(pam_unix)")] == [
        "authpriv", "cron", "kern", "cron", "authpriv",
    ]  # fmt: skip
    assert process_facility("nginx") == ""


def test_read_impossible_iso_dates_unparsed() -> None:
    data = (
        b"2025-13-45T10:00:00Z h p: bad month\n"
        b"2025-03-05T10:00:00.25+01:00 h p: good\n"
        b"<14>1 2025-02-30T10:00:00Z h app - - - feb 30\n"
    )
    result = read(data)
    assert (result.account.parsed, result.account.reasons) == (1, {BAD_DATE: 2})
    assert result.tables["Syslog"]["TimeGenerated"].iloc[0] == ts("2025-03-05 09:00:00.25")


def test_read_repeated_dst_hour_inferred_from_order() -> None:
    # Paris leaves summer time at 03:00 CEST on 2024-10-27: 02:10 happens at 00:10Z, then at 01:10Z.
    data = b"Oct 27 02:10:00 h p: a\nOct 27 02:50:00 h p: b\nOct 27 02:10:00 h p: c\nOct 27 02:50:00 h p: d\n"
    df = read(data, options=ReadOptions(year=2024, tz="Europe/Paris")).tables["Syslog"]
    assert list(df["TimeGenerated"]) == [ts(f"2024-10-27 {t}") for t in ("00:10", "00:50", "01:10", "01:50")]


def test_sniff_needs_half_the_head() -> None:
    line = "Mar  5 10:22:01 h sshd[1]: x"
    assert SYSLOG_READER.sniff([line, "junk"])
    assert not SYSLOG_READER.sniff([line, "junk", "more junk"])


# --- generated RFC 5424 mixed with other framings, against the generator's own fields ----------------

_BOM = "\ufeff"
_WORDS = ("sshd", "web-01", "app.service", "x", "kernel", "Ünïcødé", "a:b", "[x]", "=", "- -")


def _rfc5424_sample(seed: int) -> tuple[list[str], list[dict[str, object]]]:
    """Lines in every RFC 5424 shape rsyslog and others write, BSD, ISO and junk lines between them.

    Returns the lines and, for each line that should parse, the row it should give:
    these fields come from the generator, never from the reader.
    """
    rng = random.Random(seed)
    lines: list[str] = []
    rows: list[dict[str, object]] = []
    for i in range(600):
        kind = rng.random()
        if kind < 0.08:
            lines.append(rng.choice(["", "   continued", "\tmore", "not a header"]))
            continue
        if kind < 0.16:
            pid = rng.randrange(1, 99999)
            lines.append(f"Mar {i % 28 + 1:>2} 10:22:{i % 60:02d} bsd{i} nginx[{pid}]: plain {i}")
            rows.append({"time": pd.Timestamp(2025, 3, i % 28 + 1, 10, 22, i % 60, tz="UTC"), "host": f"bsd{i}",
                         "proc": "nginx", "pid": pid, "msg": f"plain {i}"})  # fmt: skip
            continue
        if kind < 0.22:
            lines.append(f"2025-03-05T10:00:{i % 60:02d}.5+00:00 iso{i} app: iso {i}")
            rows.append({"time": pd.Timestamp(2025, 3, 5, 10, 0, i % 60, 500_000, tz="UTC"), "host": f"iso{i}",
                         "proc": "app", "pid": None, "msg": f"iso {i}"})  # fmt: skip
            continue
        pri = rng.randrange(0, 192)
        wall = datetime(rng.randrange(2000, 2031), rng.randrange(1, 13), rng.randrange(1, 29),
                        rng.randrange(24), rng.randrange(60), rng.randrange(60))  # fmt: skip
        digits = rng.choice([0, 1, 3, 6, 9])
        frac = "".join(rng.choice("0123456789") for _ in range(digits))
        offset = rng.choice([None, 0, 330, -480, 60])  # minutes east; None writes "Z"
        zone = (
            "Z"
            if offset is None
            else f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
        )
        stamp = wall.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "") + zone
        time = pd.Timestamp(wall, tz="UTC") + pd.Timedelta(int(frac.ljust(9, "0") or 0), "ns")
        time -= pd.Timedelta(minutes=offset or 0)
        host, app = rng.choice(["-", "web01", "db-01.example.org"]), rng.choice(["-", *_WORDS[:4]])
        procid = rng.choice(["-", "1", "530", "4294967296", "abc", "12345678901234567890"])
        msgid = rng.choice(["-", "-", "-", "ID47"])
        sd = rng.choice(["-", "-", "-", '[ex@32473 iut="3" msg="a\\]b"]', '[a@1 x="1"][b@2]'])
        blanks = rng.choice(["", " ", "\t", " \t ", " " * 12, " \t" * 10])  # over 16: the slow trim
        boms = rng.choice([0, 0, 1, 2, 10])
        body = rng.choice(["", "Timed out", " spaced", "- - x", "kernel: [1.2] ok", *_WORDS]) + (
            f" {i}" if rng.random() < 0.5 else ""
        )
        head = f"<{pri}>1 {stamp} {host} {app} {procid} {msgid} {sd}"
        lines.append(head if rng.random() < 0.1 and not body else f"{head} {blanks}{_BOM * boms}{body}")
        body = body if boms else body.lstrip(" \t")  # blanks go up to the first BOM only
        msg = body if sd == "-" else (f"{sd} {body}" if body else sd)
        procid_int = int(procid) if procid.isdigit() and len(procid) <= 18 else None
        rows.append({"time": time, "host": "" if host == "-" else host, "proc": "" if app == "-" else app,
                     "pid": procid_int, "msg": msg, "facility": FACILITIES[pri >> 3], "severity": SEVERITIES[pri & 7]})  # fmt: skip
    return lines, rows


@pytest.mark.parametrize("view_limit", [None, 0])  # 0: the regex path used for buffers over 2 GiB
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_read_generated_rfc5424_matches_generator(
    monkeypatch: pytest.MonkeyPatch, view_limit: int | None, newline: str
) -> None:
    if view_limit is not None:
        monkeypatch.setattr(syslog_module, "_VIEW_LIMIT", view_limit)
    lines, rows = _rfc5424_sample(5424)
    result = read(newline.join(lines).encode())
    assert (result.account.parsed, result.account.unparsed) == (len(rows), len(lines) - len(rows))
    df = result.tables["Syslog"]
    got = [
        {"time": r.TimeGenerated, "host": r.Computer, "proc": r.ProcessName,
         "pid": None if pd.isna(r.ProcessID) else int(r.ProcessID), "msg": r.SyslogMessage,
         "facility": r.Facility, "severity": r.SeverityLevel}
        for r in df.itertuples()
    ]  # fmt: skip
    for i, (g, want) in enumerate(zip(got, rows, strict=True)):
        assert {k: g[k] for k in want} == want, i
