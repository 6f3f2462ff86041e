"""Time ranges, query rendering, the DuckDB store and the local source's host filtering."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from hunting.queries import sql
from hunting.sources.local import LocalSource
from hunting.store import Store
from hunting.timerange import TimeRange

ROOT = Path(__file__).resolve().parent.parent


def test_hunting_package_never_imports_streamlit() -> None:
    offenders = []
    for path in (ROOT / "hunting").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "streamlit" or n.startswith(("streamlit.", "streamlit_")) for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_timerange_naive_is_utc_and_order_checked() -> None:
    tr = TimeRange(datetime(2026, 3, 1, 10), datetime(2026, 3, 1, 12))
    assert tr.start.tzinfo is not None and tr.start.utcoffset() == timedelta(0)
    assert tr.start.hour == 10
    with pytest.raises(ValueError, match="not after start"):
        TimeRange(datetime(2026, 3, 2), datetime(2026, 3, 1))


def test_timerange_clamp_keeps_notebook_bounds() -> None:
    ref = datetime(2026, 3, 12, tzinfo=UTC)
    tr = TimeRange(ref - timedelta(days=60), ref + timedelta(days=5)).clamp(ref)
    assert tr.start == ref - timedelta(days=20)
    assert tr.end == ref + timedelta(days=1)


def test_sql_rejects_unknown_identifier_and_parameter() -> None:
    with pytest.raises(ValueError, match="not a schema table"):
        sql("table_rows", identifiers={"table": 'Syslog"; DROP TABLE Syslog; --'})
    with pytest.raises(KeyError):
        sql("hosts", nosuch="x")
    with pytest.raises(TypeError):
        sql("hosts", contains=object())


def _store() -> Store:
    s = Store()
    s.add_frame(
        "Syslog",
        pd.DataFrame(
            {
                "TimeGenerated": [
                    "2026-03-01T10:00:00Z",
                    "2026-03-01T11:00:00+01:00",
                    "2026-03-02T09:00:00Z",
                ],
                "Computer": ["Web01", "web01", "db01"],
                "Facility": ["auth", "cron", "auth"],
                "ProcessName": ["sshd", "CRON", "sshd"],
                "SyslogMessage": ["a", "b", "c"],
            }
        ),
    )
    return s


def test_local_hosts_case_insensitive_contains_and_grouping() -> None:
    src = LocalSource(_store())
    hosts = src.hosts("WEB")
    assert hosts["Computer"].str.lower().tolist() == ["web01"]
    assert int(hosts.iloc[0]["SyslogRows"]) == 2
    assert src.hosts("nothing-like-this").empty
    # a quote in the search text is a value, not SQL
    assert src.hosts("x' OR '1'='1").empty


def test_local_syslog_filters_by_host_and_utc_range() -> None:
    src = LocalSource(_store())
    tr = TimeRange(datetime(2026, 3, 1, 9, 30, tzinfo=UTC), datetime(2026, 3, 1, 10, 30, tzinfo=UTC))
    rows = src.syslog("WEB01", tr)
    # 11:00+01:00 is 10:00 UTC: both web01 rows fall in the range, db01 does not
    assert rows["SyslogMessage"].tolist() == ["a", "b"]
    assert str(rows["TimeGenerated"].dtype) == "datetime64[ns, UTC]"


def test_local_syslog_volume_by_allowed_keys_only() -> None:
    src = LocalSource(_store())
    tr = TimeRange(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    vol = src.syslog_volume("web01", tr, bucket_seconds=86400, by="Facility")
    assert dict(zip(vol["Key"], vol["Count"], strict=True)) == {"auth": 1, "cron": 1}
    from hunting.errors import QueryError

    with pytest.raises(QueryError):
        src.syslog_volume("web01", tr, bucket_seconds=3600, by="SyslogMessage")  # type: ignore[arg-type]
