"""One CSV rule for every download (hunting.csvsafe): formulas neutralised, a bare CR
inside a cell never starts a spreadsheet row."""

from __future__ import annotations

import csv
import io

import pandas as pd

from hunting.analysis.network import csv_text
from hunting.csvsafe import safe_csv
from ui.process_views import csv_bytes

CELLS = [
    "=1+1",
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "/bin/sh -c \r=1+1",
    "a\nb",
    "a\r\nb",
    "plain",
    None,
]


def _rows(text: str) -> list[list[str]]:
    # csv.reader with newline="" splits rows exactly as a spreadsheet importing RFC 4180
    return list(csv.reader(io.StringIO(text, newline="")))


def test_every_download_helper_uses_the_rule() -> None:
    frame = pd.DataFrame({"Cmd": CELLS, "N": range(len(CELLS))})
    for text in (safe_csv(frame), csv_text(frame), csv_bytes(frame).decode()):
        rows = _rows(text)
        assert len(rows) == 1 + len(CELLS)  # no forged or split rows
        assert [r[1] for r in rows[1:]] == [str(i) for i in range(len(CELLS))]  # aligned
        cells = [r[0] for r in rows[1:]]
        assert cells[:6] == ["'=1+1", "'+1", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1"]
        assert cells[6:10] == ["/bin/sh -c \r=1+1", "a\nb", "a\r\nb", "plain"]
        # no cell a spreadsheet would evaluate
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
