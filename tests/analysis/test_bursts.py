"""Command bursts: windows of n commands within a number of seconds, per group."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hunting.analysis.bursts import command_bursts, flag_rows_in_bursts

T0 = pd.Timestamp("2024-03-01 12:00:00", tz="UTC")


def _events(
    offsets: list[float], users: list[str] | None = None, index: list[object] | None = None
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "TimeGenerated": [T0 + pd.Timedelta(seconds=s) for s in offsets],
            "Computer": "web01",
            "User": users or ["alice"] * len(offsets),
        },
        index=index,
    )


def test_command_bursts_unsorted_input() -> None:
    events = _events([4, 0, 3, 1, 2], index=["e", "a", "d", "b", "c"])
    bursts = command_bursts(events, n=5, seconds=4)
    assert len(bursts) == 1
    row = bursts.iloc[0]
    assert (row["Computer"], row["User"]) == ("web01", "alice")
    assert row["Start"] == T0
    assert row["End"] == T0 + pd.Timedelta(seconds=4)
    assert row["Commands"] == 5
    assert row["Rows"] == ["a", "b", "c", "d", "e"]


def test_command_bursts_window_is_inclusive() -> None:
    exactly = _events([0, 2.5, 5])
    assert len(command_bursts(exactly, n=3, seconds=5)) == 1
    just_over = _events([0, 2.5, 5.000001])
    assert command_bursts(just_over, n=3, seconds=5).empty


def test_command_bursts_fewer_than_n() -> None:
    assert command_bursts(_events([0, 0, 0]), n=4, seconds=10).empty


def test_command_bursts_merges_overlapping_windows() -> None:
    # 0..6 one per second: every 3 consecutive fit in 2 s, so all windows overlap.
    bursts = command_bursts(_events([0, 1, 2, 3, 4, 5, 6]), n=3, seconds=2)
    assert len(bursts) == 1
    assert bursts.loc[0, "Commands"] == 7
    assert bursts.loc[0, "End"] - bursts.loc[0, "Start"] == pd.Timedelta(seconds=6)


def test_command_bursts_separate_when_windows_share_no_command() -> None:
    # Two tight triples; any window spanning both is 100 s wide.
    bursts = command_bursts(_events([0, 1, 2, 102, 101, 100]), n=3, seconds=2)
    assert bursts["Commands"].tolist() == [3, 3]
    assert bursts["Start"].tolist() == [T0, T0 + pd.Timedelta(seconds=100)]
    assert bursts["Rows"].tolist() == [[0, 1, 2], [5, 4, 3]]


def test_command_bursts_groups_do_not_mix() -> None:
    # alice and bob interleave: 6 commands in 5 s together, only 3 each.
    events = _events([0, 1, 2, 3, 4, 5], users=["alice", "bob"] * 3)
    assert command_bursts(events, n=4, seconds=5).empty
    whole = command_bursts(events, n=4, seconds=5, group_cols=())
    assert whole["Commands"].tolist() == [6]
    per_user = command_bursts(events, n=3, seconds=5)
    assert per_user["User"].tolist() == ["alice", "bob"]
    assert per_user["Rows"].tolist() == [[0, 2, 4], [1, 3, 5]]


def test_command_bursts_ignores_rows_without_time() -> None:
    events = _events([0, 1, 2])
    events.loc[1, "TimeGenerated"] = pd.NaT
    assert command_bursts(events, n=3, seconds=10).empty
    assert command_bursts(events, n=2, seconds=10)["Rows"].tolist() == [[0, 2]]


def test_command_bursts_naive_and_text_times_are_utc() -> None:
    events = pd.DataFrame(
        {"TimeGenerated": ["2024-03-01 12:00:00", "2024-03-01 12:00:01"], "Computer": "h", "User": "u"}
    )
    bursts = command_bursts(events, n=2, seconds=1)
    assert bursts.loc[0, "Start"] == T0
    assert str(bursts["Start"].dtype) == "datetime64[ns, UTC]"


def test_command_bursts_bad_arguments() -> None:
    with pytest.raises(ValueError, match="lack column"):
        command_bursts(_events([0]).drop(columns="User"))
    with pytest.raises(ValueError, match="n must be"):
        command_bursts(_events([0]), n=0)
    with pytest.raises(ValueError, match="seconds"):
        command_bursts(_events([0]), seconds=-1)


def test_command_bursts_empty_frame() -> None:
    out = command_bursts(_events([]))
    assert out.empty
    assert list(out.columns) == ["Computer", "User", "Start", "End", "Commands", "Rows"]


def test_flag_rows_in_bursts_aligned_with_duplicate_labels() -> None:
    events = _events([50, 0, 1, 2, 200], index=[7, 7, 8, 8, 9])
    flags = flag_rows_in_bursts(events, n=3, seconds=2)
    assert flags.index.tolist() == [7, 7, 8, 8, 9]
    assert flags.tolist() == [False, True, True, True, False]


def test_flag_rows_in_bursts_counts_match_bursts() -> None:
    rng = np.random.default_rng(7)
    offsets = rng.integers(0, 600, 400).astype(float).tolist()
    events = _events(offsets, users=rng.choice(["a", "b", "c"], 400).tolist())
    bursts = command_bursts(events, n=4, seconds=3)
    flags = flag_rows_in_bursts(events, n=4, seconds=3)
    flagged = sorted(events.index[flags])
    assert flagged == sorted(i for rows in bursts["Rows"] for i in rows)


def _openssh(shared: Path) -> pd.DataFrame:
    rows = []
    for line in (shared / "loghub" / "OpenSSH_2k.log").read_text().splitlines():
        month, day, clock, _host, process = line.split()[:5]
        rows.append({"TimeGenerated": f"2024 {month} {day} {clock}", "Pid": process})
    events = pd.DataFrame(rows)
    events["TimeGenerated"] = pd.to_datetime(events["TimeGenerated"], format="%Y %b %d %H:%M:%S", utc=True)
    return events.sample(frac=1, random_state=3)  # unsorted on purpose


def test_command_bursts_same_second_runs_in_openssh_log(shared_data: Path) -> None:
    # awk '{print $1,$2,$3}' OpenSSH_2k.log | sort | uniq -c | awk '$1>1{s+=$1;b++} END{print s,b}'
    # -> 1771 583
    events = _openssh(shared_data)
    bursts = command_bursts(events, n=2, seconds=0, group_cols=())
    assert len(bursts) == 583
    assert bursts["Commands"].sum() == 1771
    assert flag_rows_in_bursts(events, n=2, seconds=0, group_cols=()).sum() == 1771


def test_command_bursts_same_second_per_process_in_openssh_log(shared_data: Path) -> None:
    # awk '{print $5,$1,$2,$3}' OpenSSH_2k.log | sort | uniq -c | awk '$1>1{s+=$1;b++} END{print s,b}'
    # -> 1479 608
    events = _openssh(shared_data)
    bursts = command_bursts(events, n=2, seconds=0, group_cols=("Pid",))
    assert len(bursts) == 608
    assert bursts["Commands"].sum() == 1479
