"""User and group changes written by shadow-utils and PAM (Debian/Ubuntu and RHEL wording).

The formats are shadow's own (``new user: name=%s, UID=%u, ...``, ``add '%s' to
group '%s'``, ``user %s added by %s to group %s%s`` ...); shadow 4.1 quoted names
as `` `name' `` and that is accepted too. One change is often logged several times
by the same process, once per file (/etc/group then /etc/gshadow, "group" then
"shadow group"): those lines are folded into one row whose SyslogMessage keeps
every line, newline separated. Lines without a ProcessID are never folded.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from hunting.analysis.logons import _prepare
from hunting.analysis.message_forms import first_match, message_forms, replace
from hunting.schema import ACCOUNTS, conform

# The forms (28, tried in order) are in hunting/rules/message_forms.yaml: result is the
# Action, kind the detail that tells two changes of one process apart ("{field}": from the match).
_SHADOW: Final = message_forms().group("accounts", "shadow")
SHADOW_PROCESSES: Final = _SHADOW.programs or frozenset()


def _match_forms(df: pd.DataFrame) -> pd.DataFrame:
    hits = first_match(df["_msg"], _SHADOW.forms)
    parts = []
    for form in _SHADOW.forms:
        m = hits[hits["_form"] == form.name]
        if m.empty:
            continue
        rows = df.loc[m.index].copy()
        rows["Action"] = form.result
        for col, grp in (("User", "user"), ("Group", "group"), ("UID", "uid"), ("GID", "gid"), ("Home", "home"),
                         ("Shell", "shell"), ("Actor", "actor")):  # fmt: skip
            rows[col] = m[grp] if grp in form.fields else pd.NA
        if "field" in form.fields:
            field = m["field"]
            new = m["new"] if "new" in form.fields else pd.Series(pd.NA, index=m.index, dtype="string")
            rows["_detail"] = field
            rows.loc[field == "shell", "Shell"] = new
            rows.loc[field == "home", "Home"] = new
            rows.loc[field == "UID", "UID"] = new
            rows.loc[field == "GID", "GID"] = new
        else:
            rows["_detail"] = form.kind
        parts.append(rows)
    return pd.concat(parts) if parts else pd.DataFrame()


def _fold_echoes(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per change: lines of one process naming the same change are merged."""
    rows = rows.copy()
    rows["_pidkey"] = rows["ProcessID"].astype("Float64").fillna(-1.0 - rows["_seq"].astype("float64"))
    key = ["Computer", "_proc", "_pidkey", "Action", "User", "Group", "_detail"]
    for k in ("Computer", "User", "Group", "_detail"):
        rows[k] = rows[k].astype("string").fillna("\x00")
    rows = rows.sort_values(["TimeGenerated", "_seq"], kind="stable")
    agg = {c: "first" for c in ("TimeGenerated", "ProcessName", "ProcessID", "UID", "GID", "Home", "Shell", "Actor",
                                "_seq")}  # fmt: skip
    folded = rows.groupby(key, sort=False, dropna=False).agg(
        **{c: (c, how) for c, how in agg.items()},
        SyslogMessage=("SyslogMessage", lambda s: "\n".join(str(x) for x in s)),
    )
    folded = folded.reset_index()
    for k in ("Computer", "User", "Group"):
        folded[k] = folded[k].mask(folded[k] == "\x00")
    return folded.sort_values(["TimeGenerated", "_seq"], kind="stable")


def account_changes(syslog: pd.DataFrame) -> pd.DataFrame:
    """User/group creations, deletions, changes, memberships and password changes as ACCOUNTS rows."""
    if syslog.empty:
        return ACCOUNTS.empty()
    df = _prepare(syslog)
    marked = pd.Series(False, index=df.index)
    for mark in _SHADOW.marks:  # PAM's chauthtok line, whatever the program
        marked |= df["_msg"].str.contains(mark, regex=False)
    df = df[df["_proc"].isin(SHADOW_PROCESSES) | marked]
    if df.empty:
        return ACCOUNTS.empty()
    # userdel/groupdel end some formats with "\n", which syslog daemons keep, drop or write as #012.
    df["_msg"] = replace(df["_msg"], message_forms().framing["trailing_newline"])
    rows = _match_forms(df)
    if rows.empty:
        return ACCOUNTS.empty()
    return conform(_fold_echoes(rows), ACCOUNTS)
