"""A copy of the host's /etc/passwd: uid -> name from the host itself, never the analyst's machine."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pandas as pd

from hunting.readers.base import FileAccount, ReadOptions, ReadResult
from hunting.schema import HOST_USERS, conform

_LINE = re.compile(r"^([^:\s]+):[^:]*:(\d+):(\d+):([^:]*):([^:]*):([^:]*)$")


class PasswdReader:
    format = "passwd"

    def sniff(self, head: list[str]) -> bool:
        lines = [h for h in head if not h.startswith("#")]
        return len(lines) >= 2 and sum(bool(_LINE.match(h.rstrip("\r"))) for h in lines) >= 0.8 * len(lines)

    def read(self, data: bytes, path: str, mtime: float, options: ReadOptions) -> ReadResult:
        account = FileAccount(path=path, format=self.format)
        rows = []
        text = data.decode("utf-8", "replace")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        account.lines = len(lines)
        for n, line in enumerate(lines, start=1):
            m = _LINE.match(line.rstrip("\r"))
            if m:
                rows.append(m.groups())
                account.parsed += 1
            elif not line.strip():
                account.reject(n, "blank line", line)
            elif line.startswith("#"):
                account.reject(n, "comment", line)
            else:
                account.reject(n, "not a passwd entry", line)
        when = datetime.fromtimestamp(mtime, UTC)
        df = pd.DataFrame(rows, columns=["User", "Uid", "Gid", "Gecos", "Home", "Shell"])
        df.insert(0, "TimeGenerated", pd.Timestamp(when))
        df.insert(1, "Computer", "")
        out = conform(df, HOST_USERS)
        account.rows[HOST_USERS.name] = len(out)
        return ReadResult(tables={HOST_USERS.name: out} if len(out) else {}, account=account)


PASSWD_READER = PasswdReader()
