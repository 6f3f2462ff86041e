"""hunting.evidence and the readers: only regular files inside the evidence roots are read."""

from __future__ import annotations

import bz2
import os
from pathlib import Path

import pytest

from hunting.evidence import EvidenceError, EvidencePolicy, parse_roots, policy_for
from hunting.readers import decompress, read_cached, read_file
from hunting.readers.base import ReadOptions

SECRET = "super-secret-token-do-not-leak"
LINE = "Mar  9 10:00:00 web01 sshd[1]: Failed password for root from 203.0.113.7 port 22 ssh2\n"


@pytest.fixture()
def layout(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "evidence"
    (root / "var" / "log").mkdir(parents=True)
    outside = tmp_path / "secrets.toml"
    outside.write_text(f'token = "{SECRET}"\n')
    log = root / "var" / "log" / "auth.log"
    log.write_text(LINE * 3)
    (root / "var" / "log" / "auth.log.3").symlink_to(outside)
    return {"root": root, "outside": outside, "log": log}


def test_policy_choice() -> None:
    assert policy_for((), "127.0.0.1").roots is None  # own machine: unrestricted
    assert policy_for((), None).paths_allowed is False  # default bind = all interfaces
    assert policy_for((), "0.0.0.0").paths_allowed is False
    assert policy_for(("/srv/evidence",), "0.0.0.0").roots == ("/srv/evidence",)
    assert parse_roots(f"/a{os.pathsep}/b/../c") == ("/a", "/c")
    assert parse_roots(["/x", " "]) == ("/x",)


def test_roots_resolve_symlinks_and_dotdot(layout: dict[str, Path]) -> None:
    policy = EvidencePolicy(parse_roots([str(layout["root"])]))
    assert policy.admit(layout["log"]) == layout["log"].resolve()
    for bad in (
        layout["root"] / "var/log/auth.log.3",
        layout["root"] / "../secrets.toml",
        Path("/etc/passwd"),
    ):
        with pytest.raises(EvidenceError, match="outside the evidence roots"):
            policy.admit(bad)
    with pytest.raises(EvidenceError, match="disabled"):
        EvidencePolicy(()).admit(layout["log"])
    with pytest.raises(EvidenceError, match="too long"):
        policy.admit("/a" * 5000)


def test_symlink_in_folder_is_reported_not_read(layout: dict[str, Path], tmp_path: Path) -> None:
    """The walk finds auth.log.3 -> secrets.toml: refused, counted, content never shown or cached."""
    from hunting.store import Store

    opts = ReadOptions(roots=parse_roots([str(layout["root"])]))
    store = Store()
    (tmp_path / "cache").mkdir()
    accounts = store.load([layout["root"]], opts, cache=tmp_path / "cache")
    by_name = {Path(a.path).name: a for a in accounts}
    assert by_name["auth.log"].parsed == 3
    refused = by_name["auth.log.3"]
    assert refused.format == "refused" and "outside the evidence roots" in refused.error
    assert SECRET not in repr(refused.to_dict())
    cached = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert SECRET.encode() not in cached


def test_fifo_and_devices_are_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        account = read_file(path, ReadOptions()).account  # would hang / never end if opened blindly
        assert account.format == "unreadable" and "not a regular file" in account.error


def test_cache_keyed_by_real_file(layout: dict[str, Path], tmp_path: Path) -> None:
    """Two names for one file share one parse; the account shows the name the analyst gave."""
    alias = layout["root"] / "alias.log"
    alias.symlink_to(layout["log"])
    opts = ReadOptions(roots=parse_roots([str(layout["root"])]))
    (tmp_path / "c").mkdir()
    a = read_cached(layout["log"], opts, tmp_path / "c")
    b = read_cached(alias, opts, tmp_path / "c")
    assert a.parquet == b.parquet and a.account.parsed == 3
    assert len(list((tmp_path / "c" / "parsed").iterdir())) == 1


def test_decompression_bomb_is_cut_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNTING_MAX_DECOMPRESSED_BYTES", str(8 * 1024**2))
    bomb = bz2.compress(b"A" * (64 * 1024**2))  # ~60 bytes expanding to 64 MiB
    out, note = decompress(bomb)
    assert len(out) == 8 * 1024**2
    assert "limit" in note
    plain = LINE.encode() * 10
    assert decompress(bz2.compress(plain)) == (plain, "")


def test_single_file_boxes_refuse_fifos_devices_and_outside(layout: dict[str, Path], tmp_path: Path) -> None:
    """Rules and threat-feed boxes: admit_file refuses FIFOs (the session hung), /dev/zero and
    files outside the roots, without opening them."""
    fifo = layout["root"] / "rules.yaml"
    os.mkfifo(fifo)
    policy = EvidencePolicy(parse_roots([str(layout["root"])]))
    assert policy.admit_file(layout["log"]) == layout["log"].resolve()
    with pytest.raises(EvidenceError, match="not a regular file"):
        policy.admit_file(fifo)
    with pytest.raises(EvidenceError, match="not a regular file"):
        EvidencePolicy(None).admit_file("/dev/zero")
    with pytest.raises(EvidenceError, match="outside"):
        policy.admit_file(layout["outside"])


def test_rule_yaml_error_does_not_quote_the_file(tmp_path: Path) -> None:
    from hunting.analysis.risky import RuleError, load_rules

    bad = tmp_path / "rules.yaml"
    bad.write_text(f"- id: x\n  title: [{SECRET}\n")
    with pytest.raises(RuleError) as err:
        load_rules(bad)
    assert "not valid YAML at line" in str(err.value) and SECRET not in str(err.value)


def test_long_values_are_cut_and_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any reader's oversized text (here a journald MESSAGE) is cut to HUNTING_MAX_FIELD_CHARS,
    says how much was cut, and the file's notes count it."""
    import json

    monkeypatch.setenv("HUNTING_MAX_FIELD_CHARS", "1000")
    entry = {"__REALTIME_TIMESTAMP": "1709978400000000", "_HOSTNAME": "web01", "SYSLOG_IDENTIFIER": "app",
             "_PID": "1", "PRIORITY": "6", "MESSAGE": "x" * 5000}  # fmt: skip
    log = tmp_path / "journal.json"
    log.write_text(json.dumps(entry) + "\n")
    result = read_file(log, ReadOptions())
    msgs = result.tables["Syslog"]["SyslogMessage"].tolist()
    assert msgs == ["x" * 1000 + "…[truncated 4000 characters]"]
    assert any("1 value(s) longer than 1,000 characters truncated" in n for n in result.account.notes)
