"""User and group changes written by shadow-utils and PAM (Debian/Ubuntu and RHEL wording).

The formats are shadow's own (``new user: name=%s, UID=%u, ...``, ``add '%s' to
group '%s'``, ``user %s added by %s to group %s%s`` ...); shadow 4.1 quoted names
as `` `name' `` and that is accepted too. One change is often logged several times
by the same process, once per file (/etc/group then /etc/gshadow, "group" then
"shadow group"): those lines are folded into one row whose SyslogMessage keeps
every line, newline separated. Lines without a ProcessID are never folded.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hunting.analysis.logons import _prepare
from hunting.schema import ACCOUNTS, conform

SHADOW_PROCESSES = frozenset(
    {
        "useradd", "usermod", "userdel", "groupadd", "groupdel", "groupmod", "gpasswd", "passwd",
        "chpasswd", "chgpasswd", "chage", "chfn", "chsh", "newusers", "groupmems",
    }
)  # fmt: skip

_Q = r"['`]"  # shadow 4.1 opened quotes with a backtick
_N = r"(?P<{}>[^'`]*)"


@dataclass(frozen=True)
class _Form:
    pattern: str
    action: str
    detail: str  # what changed, so distinct changes by one process are not folded together


def _q(name: str) -> str:
    return _Q + _N.format(name) + "'"


_FORMS = (
    # useradd
    _Form(r"^new user: name=(?P<user>[^,]*), (?i:uid)=(?P<uid>\d+), (?i:gid)=(?P<gid>\d+), home=(?P<home>[^,]*), "
          r"shell=(?P<shell>.*?)(?:, from=(?P<from>.*))?$", "user_add", "user"),
    _Form(r"^new group: name=(?P<group>[^,]*), (?i:gid)=(?P<gid>\d+)$", "group_add", "group"),
    _Form(rf"^add {_q('user')} to (?:shadow )?group {_q('group')}$", "group_member_add", "member"),
    # userdel
    _Form(rf"^delete user {_q('user')}$", "user_delete", "user"),
    _Form(rf"^delete {_q('user')} from (?:shadow )?group {_q('group')}$", "group_member_remove", "member"),
    _Form(rf"^removed (?:shadow )?group {_q('group')} owned by {_q('user')}$", "group_delete", "group"),
    # usermod
    _Form(rf"^change user name {_q('user')} to {_q('new')}$", "user_modify", "name"),
    _Form(rf"^change user {_q('user')} (?P<field>UID|GID|home|shell|inactive|expiration) from {_q('old')} to "
          + _q("new") + "$", "user_modify", "{field}"),
    _Form(rf"^(?P<field>lock|unlock) user {_q('user')} password$", "user_modify", "{field}"),
    _Form(rf"^change user {_q('user')} password$", "password_change", "password"),
    _Form(rf"^change (?:admin )?{_q('user')} to {_q('new')} in (?:shadow )?group {_q('group')}$", "user_modify", "name"),
    # groupadd, groupdel, groupmod
    _Form(r"^group added to (?P<db>\S+): name=(?P<group>[^,]*)(?:, (?i:gid)=(?P<gid>\d+))?$", "group_add", "group"),
    _Form(rf"^group {_q('group')} removed(?: from (?P<db>\S+))?$", "group_delete", "group"),
    _Form(rf"^remove group {_q('group')}$", "group_delete", "group"),
    _Form(r"^group changed in (?P<db>\S+) \(group (?P<group>[^/,\s)]+)(?P<change>.*)\)$", "group_modify", "group"),
    _Form(rf"^change group {_q('group')} to {_q('new')}$", "group_modify", "name"),
    _Form(rf"^change GID for {_q('group')} to (?P<gid>\d+)$", "group_modify", "gid"),
    # gpasswd, groupmems
    _Form(r"^user (?P<user>\S+) added by (?P<actor>\S+) to group (?P<group>\S+?)(?: in \S+)?$", "group_member_add", "member"),
    _Form(r"^user (?P<user>\S+) removed by (?P<actor>\S+) from group (?P<group>\S+?)(?: in \S+)?$",
          "group_member_remove", "member"),
    _Form(r"^(?P<field>members|administrators) of group (?P<group>\S+) set by (?P<actor>\S+) to .*$", "group_modify",
          "{field}"),
    _Form(r"^password of group (?P<group>\S+) (?:changed|removed) by (?P<actor>\S+?)(?: in \S+)?$", "group_modify",
          "password"),
    _Form(r"^add member (?P<user>\S+) to group (?P<group>\S+) by (?P<actor>\S+)$", "group_member_add", "member"),
    _Form(r"^remove member (?P<user>\S+) from group (?P<group>\S+) by (?P<actor>\S+)$", "group_member_remove",
          "member"),
    # passwd, chpasswd, chage, chfn, chsh (PAM's chauthtok line is matched for any process)
    _Form(r"^pam_unix\([^:)]+:chauthtok\): password changed for (?P<user>\S+)$", "password_change", "password"),
    _Form(rf"^password for {_q('user')} changed by {_q('actor')}$", "password_change", "password"),
    _Form(r"^changed password expiry for (?P<user>\S+)$", "user_modify", "expiry"),
    _Form(rf"^changed user {_q('user')} information$", "user_modify", "gecos"),
    _Form(rf"^changed user {_q('user')} shell to {_q('shell')}$", "user_modify", "shell"),
)  # fmt: skip


def _match_forms(df: pd.DataFrame) -> pd.DataFrame:
    parts = []
    free = pd.Series(True, index=df.index)
    for form in _FORMS:
        sub = df.loc[free, "_msg"]
        if sub.empty:
            break
        m = sub.str.extract("(?P<_hit>)" + form.pattern)
        m = m[m["_hit"].notna()]
        if m.empty:
            continue
        rows = df.loc[m.index].copy()
        rows["Action"] = form.action
        for col, grp in (("User", "user"), ("Group", "group"), ("UID", "uid"), ("GID", "gid"), ("Home", "home"),
                         ("Shell", "shell"), ("Actor", "actor")):  # fmt: skip
            rows[col] = m.get(grp, pd.NA)
        if "field" in m:
            field = m["field"]
            new = m["new"] if "new" in m else pd.Series(pd.NA, index=m.index, dtype="string")
            rows["_detail"] = field
            rows.loc[field == "shell", "Shell"] = new
            rows.loc[field == "home", "Home"] = new
            rows.loc[field == "UID", "UID"] = new
            rows.loc[field == "GID", "GID"] = new
        else:
            rows["_detail"] = form.detail
        parts.append(rows)
        free.loc[m.index] = False
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
    chauthtok = df["_msg"].str.contains(":chauthtok): password changed", regex=False)
    df = df[df["_proc"].isin(SHADOW_PROCESSES) | chauthtok]
    if df.empty:
        return ACCOUNTS.empty()
    # userdel/groupdel end some formats with "\n", which syslog daemons keep, drop or write as #012.
    df["_msg"] = df["_msg"].str.replace(r"(?:#012|\\n|\s)+$", "", regex=True)
    rows = _match_forms(df)
    if rows.empty:
        return ACCOUNTS.empty()
    return conform(_fold_echoes(rows), ACCOUNTS)
