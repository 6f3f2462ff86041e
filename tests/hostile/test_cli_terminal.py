"""CLI output to a terminal: log text cannot send escape sequences or forge rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hunting.cli import main, term

FORGED_HOST = "web01\nFORGED-HOST\t2099-01-01\rOVERWRITE\x1b]0;pwned\x07\x9b2J\u2028x"


def test_term_escapes_c0_c1_and_separators() -> None:
    assert term("a\x1b[31mb\x9b2Jc\u2028d\u2029e\x7f") == "a\\u001b[31mb\\u009b2Jc\\u2028d\\u2029e\\u007f"
    assert term("line\nnext\tcol", keep="\n\t") == "line\nnext\tcol"
    # the escapes are JSON escapes: a JSON report keeps its meaning
    assert json.loads(term(json.dumps({"k": "a\u2028\x9b"}, ensure_ascii=False))) == {"k": "a\u2028\x9b"}


def test_host_name_with_newline_is_one_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """journald lets a host name carry CR/LF/ESC; `hosts` and `ingest` print one row per host/file."""
    entry = {
        "__REALTIME_TIMESTAMP": "1709978400000000",
        "_HOSTNAME": FORGED_HOST,
        "SYSLOG_IDENTIFIER": "sshd",
        "_PID": "1",
        "PRIORITY": "6",
        "MESSAGE": "Accepted password for root from 203.0.113.7 port 22 ssh2",
    }
    log = tmp_path / "evil\n.log\x1b[2J"  # file names can hold controls too
    log.write_text(json.dumps(entry) + "\n")
    for cmd in (["hosts", "--source", str(tmp_path)], ["ingest", "--source", str(tmp_path)]):
        assert main(cmd) == 0
        out = capsys.readouterr().out
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]", out), out
        rows = out.rstrip("\n").split("\n")
        if cmd[0] == "hosts":
            assert len(rows) == 1 and rows[0].startswith("web01\\u000aFORGED-HOST\\u0009")
        else:
            assert rows[0].startswith(str(tmp_path)) and "\\u000a.log\\u001b[2J" in rows[0]
