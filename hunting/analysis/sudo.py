"""sudo command lines and sudo sessions from the Syslog table.

sudo writes ``%8s : %s`` (the user name right-aligned to 8 characters, so leading
spaces are normal), then ``TTY=.. ; PWD=.. ; USER=.. ; [GROUP=.. ; TSID=.. ; ENV=.. ;]
COMMAND=..``; a failure puts its reason first (``3 incorrect password attempts ;``).
Some exports (the msticpy Sentinel data) carry the older layout with runs of spaces
instead of `` ; ``. Lines longer than sudo's syslog limit are split and the rest
logged as ``%8s : (command continued) %s`` by the same process: the parts are
rejoined (with a space: sudo breaks at a space when it can) before parsing, so
a split inside PWD or ENV is handled too.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from hunting.analysis.logons import _prepare
from hunting.analysis.message_forms import extract, message_forms
from hunting.analysis.sessions import pam_sessions
from hunting.schema import SUDO, conform

SUDO_PROCESSES: Final = message_forms().programs("sudo")
SUDO_SERVICES = frozenset({"sudo", "sudo-i"})
_NO_PID = -1
# A sudo COMMAND line and its pam session are written within moments by the same process.
_COMMAND_TOLERANCE = pd.Timedelta("5s")

# The head ("%8s : body") and body forms are in hunting/rules/message_forms.yaml.
_HEAD: Final = message_forms().form("sudo_head")
_PLAIN: Final = message_forms().form("sudo_body_plain")
_REASON: Final = message_forms().form("sudo_body_reason")

SUDO_SESSION_COLUMNS = [
    "SessionId", "Computer", "ProcessID", "User", "RunAs", "Start", "End", "DurationSeconds",
    "Commands", "CommandCount",
]  # fmt: skip


def _joined_lines(df: pd.DataFrame) -> pd.DataFrame:
    """One row per sudo log entry: continuation lines appended to the line before them.

    The line before means the preceding sudo line of the same Computer + ProcessID
    (Computer alone when the export has no ProcessID).
    """
    head = extract(df["_msg"], _HEAD.pattern)
    head = head[~df.loc[head.index, "_msg"].str.startswith("pam_")]
    df = df.loc[head.index].copy()
    df["_user"] = head["user"].fillna("").str.strip()
    df["_body"] = head["body"].fillna("")
    df["_cont"] = head["cont"].notna()
    df["_pid"] = df["ProcessID"].fillna(_NO_PID)
    key = ["Computer", "_pid"]
    df["Computer"] = df["Computer"].fillna("")
    df = df.sort_values([*key, "TimeGenerated", "_seq"], kind="stable")
    df["_entry"] = (~df["_cont"]).groupby([df[k] for k in key], sort=False).cumsum()
    # A continuation with no first line (cut off by the time range) stands alone.
    orphan = df["_cont"] & (df["_entry"] == 0)
    df.loc[orphan, "_entry"] = -df.loc[orphan, "_seq"] - 1
    grp = df.groupby([*key, "_entry"], sort=False)
    joined = grp.agg(
        TimeGenerated=("TimeGenerated", "first"),
        ProcessID=("ProcessID", "first"),
        _seq=("_seq", "first"),
        _user=("_user", "first"),
        _orphan=("_cont", "all"),
        _body=("_body", lambda s: " ".join(str(x) for x in s)),
        SyslogMessage=("SyslogMessage", lambda s: "\n".join(str(x) for x in s)),
    ).reset_index()
    return joined


def _body_fields(body: pd.Series) -> pd.DataFrame:
    """The body forms' fields per row (``_hit``: a form matched): a body that starts with a
    KEY= has no reason (sudo_body_plain), any other may (sudo_body_reason)."""
    key_first = extract(body, _PLAIN.key_first or "^$").index
    plain = body.index.isin(key_first)
    parts = [extract(body[plain], _PLAIN.pattern), extract(body[~plain], _REASON.pattern)]
    names = list(dict.fromkeys([*_REASON.fields, *_PLAIN.fields]))
    hits = pd.concat([p for p in parts if len(p)] or [pd.DataFrame(columns=names)])
    out = hits.reindex(columns=names).reindex(body.index).astype("string")
    out["_hit"] = body.index.isin(hits.index)
    return out


def sudo_events(syslog: pd.DataFrame) -> pd.DataFrame:
    """sudo command and refusal lines as SUDO rows, oldest first.

    Sudoer is the user who ran sudo (the name before `` : ``), RunAs the ``USER=``
    target. Result is Failure when sudo wrote a reason (wrong password, not in
    sudoers, command not allowed, a password is required ...), Success otherwise.
    """
    if syslog.empty:
        return SUDO.empty()
    df = _prepare(syslog)
    df = df[df["_proc"].isin(SUDO_PROCESSES)]
    if df.empty:
        return SUDO.empty()
    rows = _joined_lines(df)
    if rows.empty:
        return SUDO.empty()
    f = _body_fields(rows["_body"].astype("string"))
    parsed = f["_hit"] | rows["_orphan"].to_numpy()
    rows, f = rows[parsed.to_numpy()].copy(), f[parsed]
    rows["Sudoer"] = rows["_user"].astype("string").mask(rows["_user"] == "")
    rows["RunAs"] = f["runas"].str.strip()
    command = f["command"].str.strip()
    # A continuation whose first line is missing: its whole text is the command's tail.
    command = command.mask(rows["_orphan"].to_numpy(), rows["_body"].astype("string"))
    rows["Command"] = command
    rows["CommandBinary"] = command.str.extract(r"^\s*(\S+)")[0]
    rows["TTY"] = f["tty"].str.strip()
    rows["PWD"] = f["pwd"].str.strip()
    reason = f["reason"].str.strip()
    reason = reason.mask(reason == "")
    rows["Reason"] = reason.mask(rows["_orphan"].to_numpy(), "continuation without its first line")
    result = np.where(reason.notna(), "Failure", "Success")
    rows["Result"] = pd.array(result, dtype="string")
    rows.loc[rows["_orphan"].to_numpy(), "Result"] = pd.NA
    rows = rows.sort_values(["TimeGenerated", "_seq"], kind="stable")
    return conform(rows, SUDO)


def sudo_sessions(syslog: pd.DataFrame, sudo_events: pd.DataFrame) -> pd.DataFrame:
    """pam_unix(sudo:session) opened/closed pairs with the commands run in them.

    User is who ran sudo (the session's ``by`` name, else the Sudoer of its command),
    RunAs the session's user. A command belongs to the session of the same
    Computer + ProcessID opened within 5 s of it; without ProcessID, the nearest
    session on the Computer within 5 s.
    """
    sess = pam_sessions(syslog, SUDO_SERVICES)
    if sess.empty:
        return pd.DataFrame({c: pd.Series(dtype=_SUDO_DTYPES[c]) for c in SUDO_SESSION_COLUMNS})
    sess = sess.rename(columns={"User": "RunAs"}).reset_index(drop=True)
    sess["_row"] = np.arange(len(sess))
    sess["_pid"] = sess["ProcessID"].fillna(_NO_PID).astype("int64")
    sess["Computer"] = sess["Computer"].fillna("")
    ev = conform(sudo_events, SUDO)
    ev = ev[ev["Command"].notna() & ev["TimeGenerated"].notna()].copy()
    ev["_pid"] = ev["ProcessID"].fillna(_NO_PID).astype("int64")
    ev["Computer"] = ev["Computer"].fillna("")
    commands = pd.Series([[] for _ in range(len(sess))], dtype="object")
    sudoer = pd.Series(pd.NA, index=sess.index, dtype="string")
    opened = sess[sess["Start"].notna()][["Start", "Computer", "_pid", "_row"]].sort_values(
        "Start", kind="stable"
    )
    if not ev.empty and not opened.empty:
        left = ev[["TimeGenerated", "Computer", "_pid", "Command", "Sudoer"]].sort_values(
            "TimeGenerated", kind="stable"
        )
        hit = pd.merge_asof(
            left.astype({"Computer": "string"}), opened.astype({"Computer": "string"}),
            left_on="TimeGenerated", right_on="Start", by=["Computer", "_pid"],
            direction="nearest", tolerance=_COMMAND_TOLERANCE,
        )  # fmt: skip
        hit = hit[hit["_row"].notna()]
        hit["_row"] = hit["_row"].astype("int64")
        for row, cmds in hit.groupby("_row")["Command"]:
            commands.iloc[int(row)] = [str(c) for c in cmds]
        first_sudoer = hit.dropna(subset=["Sudoer"]).groupby("_row")["Sudoer"].first()
        sudoer.iloc[first_sudoer.index.to_numpy()] = first_sudoer.to_numpy()
    sess["User"] = sess["ByUser"].fillna(sudoer)
    sess["Commands"] = commands.to_numpy()
    sess["CommandCount"] = sess["Commands"].map(len)
    return sess[SUDO_SESSION_COLUMNS].astype(_SUDO_DTYPES).reset_index(drop=True)


_SUDO_DTYPES = {
    "SessionId": "string", "Computer": "string", "ProcessID": "Int64", "User": "string", "RunAs": "string",
    "Start": "datetime64[ns, UTC]", "End": "datetime64[ns, UTC]", "DurationSeconds": "Float64",
    "Commands": "object", "CommandCount": "Int64",
}  # fmt: skip
