"""Issue 14 item 12: the demo command does not spoil the hunt; its TI feed is named as a feed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hunting.readers import TI_FEED_REASON, read_paths

ROOT = Path(__file__).resolve().parent.parent


def _demo(out: Path, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hunting", "demo", str(out), *extra],
        check=True, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def test_demo_prints_a_summary_not_the_answer_key(tmp_path: Path) -> None:
    text = _demo(tmp_path / "d")
    key = json.loads(_demo(tmp_path / "e", "--answers"))["truth"]
    assert len(key["base64_payload"]) > 1000  # the payload the old output printed in full
    assert key["base64_payload"][:40] not in text
    assert key["compromised_user"] not in text and key["attacker_ips"]["brute_force"] not in text
    assert len(text) < 2_000, len(text)
    assert "ti/demo_feed.csv" in text and "--answers" in text


def test_demo_folder_ti_feed_is_named_not_unrecognised(tmp_path: Path) -> None:
    _demo(tmp_path / "d")
    feed = tmp_path / "d" / "ti" / "demo_feed.csv"
    n_lines = len(feed.read_text().splitlines())  # like wc -l
    _, accounts = read_paths([tmp_path / "d"])
    acc = next(a for a in accounts if a.path.endswith("demo_feed.csv"))
    assert acc.format == "threat-intel feed" and not acc.error
    assert acc.lines == n_lines and acc.reasons[TI_FEED_REASON] == n_lines  # no line silently dropped
    assert not any(a.error for a in accounts), [(a.path, a.error) for a in accounts if a.error]
