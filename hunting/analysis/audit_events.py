"""Logons, sudo commands, account changes and sessions from auditd user records alone.

A host that keeps only ``audit.log`` still tells who logged on, what they ran with
sudo and which accounts changed: PAM, sshd, sudo and shadow-utils write USER_* and
*_USER/*_GROUP records. These functions turn AuditEvents rows (one per event, see
``hunting.readers.auditd``) into the same LogonEvents, SudoEvents and AccountChanges
rows the syslog parsers produce, so every page and finding works on them.

Counting rule, the same as for syslog (``hunting.analysis.logons``): each attempt is
one Success or Failure row. sshd writes a USER_LOGIN record for every attempt and
PAM a USER_AUTH record for the same attempt in the same process, so a USER_AUTH is
kept as a ``Notice`` when the same process wrote a USER_LOGIN with the same result
(paired in order). USER_AUTH records with no such USER_LOGIN (su, sudo, login,
sshd key probes) count, except a success of a program that is no logon (sudo, chfn:
a Notice). ``aureport --login`` counts USER_LOGIN records and
``aureport --auth`` USER_AUTH records, so on a file the counted failures are
``--login --failed`` plus the ``--auth --failed`` events not paired with a USER_LOGIN
of their process.
Records whose ``res`` is neither success nor failed are kept as ``Notice``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hunting.analysis.logons import FAILURE, NOTICE, SUCCESS, _normalise_ip
from hunting.schema import ACCOUNTS, AUDIT, LOGONS, SUDO, conform

LOGON_RECORDS: Final = ("USER_LOGIN", "USER_AUTH")
SUDO_RECORDS: Final = ("USER_CMD",)
SESSION_RECORDS: Final = ("USER_START", "USER_END")
ACCOUNT_RECORDS: Final = (
    "ADD_USER", "DEL_USER", "ADD_GROUP", "DEL_GROUP", "USER_MGMT", "GRP_MGMT", "USER_CHAUTHTOK",
)  # fmt: skip
# Every record type the functions here read (sudo's PAM records name its RunAs and Sudoer).
PARSER_RECORDS: Final = (
    *LOGON_RECORDS, *SUDO_RECORDS, *SESSION_RECORDS, *ACCOUNT_RECORDS, "USER_ACCT", "CRED_ACQ", "CRED_REFR",
)  # fmt: skip
UNSET_ID: Final = 4294967295  # auid/ses of a process no login has marked

_SSH_EXES: Final = frozenset({"sshd", "sshd-session", "sshd-auth"})
_EXE_TYPE: Final = {"su": "su", "login": "login", "sudo": "sudo"}
# op= of sshd's own USER_AUTH records (OpenSSH's audit patches) -> LogonType
_OP_TYPE: Final = {"pubkey": "publickey", "pubkey_auth": "publickey", "password": "password"}
# PAM services whose sessions are a person logging on (others: cron, sudo, systemd --user ...)
_LOGON_SESSION_EXES: Final = frozenset({*_SSH_EXES, "su", "login", "gdm-session-worker", "lightdm", "sddm"})

# Account records: the record type gives the action; MGMT and CHAUTHTOK records say it in op=.
_RECORD_ACTION: Final = {
    "ADD_USER": "user_add", "DEL_USER": "user_delete", "ADD_GROUP": "group_add", "DEL_GROUP": "group_delete",
}  # fmt: skip
# (op= pattern, action), first match wins; shadow-utils wrote "adding user" before 4.2 and
# "add-user" since. Rules as data so a new wording is one line.
_OP_ACTION: Final = (
    (r"(?:add|adding)[- ](?:user[- ])?to[- ](?:shadow[- ])?group|add[- ]member|adding member", "group_member_add"),
    (r"(?:delet|remov)\w*[- ](?:user[- ])?from[- ](?:shadow[- ])?group|(?:delet|remov)\w*[- ]member",
     "group_member_remove"),
    (r"chauthtok|passw", "password_change"),
    (r"(?:add|adding)[- ](?:shadow[- ])?group", "group_add"),
    (r"(?:delet|remov)\w*[- ](?:shadow[- ])?group", "group_delete"),
    (r"(?:add|adding)[- ](?:user|home)", "user_add"),
    (r"(?:delet|remov)\w*[- ](?:user|home)", "user_delete"),
    (r"group", "group_modify"),
)  # fmt: skip
_GROUP_ACTIONS: Final = frozenset({"group_add", "group_delete", "group_modify"})
# One change is often several records of one process (useradd: ADD_USER then USER_MGMT
# add-home-dir; groupadd: one ADD_GROUP per file): folded when this close in time.
_FOLD_WINDOW: Final = pd.Timedelta("5s")

# RE2 patterns (pyarrow, linear time: these run over every user record of a busy host).
# op= runs to the next " key=" (shadow-utils wrote "op=adding user id=1004").
_OP_REST = r"(?:^|[ '(])op=(?P<v>[^']*)"
_OP_CUT = r"\s+[\w-]+=.*$"
_ID = r"(?:^|[ '(])id=(?P<v>\d+)"
_RPORT = r"(?:^|[ '(])rport=(?P<v>\d+)"


def _arrow(values: pd.Series) -> pa.Array:
    """The column as an Arrow string array (zero-copy when it is already Arrow-backed)."""
    return pa.Array.from_pandas(values.astype("string[pyarrow]"))


def _pandas(values: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(
        pd.arrays.ArrowStringArray(pc.cast(values, pa.large_string())), index=index, dtype="string"
    )


def _extract(values: pd.Series, pattern: str) -> pd.Series:
    if values.empty:
        return pd.Series(pd.NA, index=values.index, dtype="string")
    return _pandas(pc.struct_field(pc.extract_regex(_arrow(values), pattern), [0]), values.index)


def _extract_int(values: pd.Series, pattern: str) -> pd.Series:
    """First digits capture as Int64 (NA where absent; to_numeric's rules past int64's range)."""
    if values.empty:
        return pd.Series(pd.NA, index=values.index, dtype="Int64")
    digits = pc.struct_field(pc.extract_regex(_arrow(values), pattern), [0])
    try:
        ints = pd.arrays.ArrowExtensionArray(pc.cast(digits, pa.int64()))
        return pd.Series(ints, index=values.index).astype("Int64")
    except (pa.ArrowInvalid, OverflowError):
        return pd.to_numeric(_pandas(digits, values.index), errors="coerce").astype("Int64")


def _first_record(raw: pd.Series) -> pd.Series:
    """The event's first record, its ENRICHED separator shown as a space."""
    if raw.empty:
        return raw.astype("string")
    first = pc.list_element(pc.split_pattern(_arrow(raw), "\n", max_splits=1), 0)
    return _pandas(pc.replace_substring(first, "\x1d", " "), raw.index)


def _per_value(values: pd.Series, clean: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``clean`` run once per distinct value (exe, addr: few distinct values over many records)."""
    codes, uniques = pd.factorize(values.astype("string"))
    done = clean(pd.Series(uniques, dtype="string")).astype("string")
    out = done.reindex(codes)  # code -1 (NA) → NA
    return pd.Series(out.to_numpy(), index=values.index, dtype="string")


def _absent(values: pd.Series) -> pd.Series:
    """auditd's ``?`` and empty values as NA."""
    s = values.astype("string").str.strip()
    return s.mask(s.isin(["?", "", "(none)"]))


def _basename(exe: pd.Series) -> pd.Series:
    path = _absent(exe)
    if path.empty:
        return path
    return _pandas(pc.replace_substring_regex(_arrow(path), r"^.*/", ""), path.index).mask(path.isna())


def _user_rows(audit: pd.DataFrame, types: tuple[str, ...], fields: tuple[str, ...] = ()) -> pd.DataFrame:
    """AUDIT rows of these record types, with the fields the USER_* records share, cleaned.

    ``fields`` names the costly extras to pull from the record text, so a caller pays only for
    what it reads: ``op`` (the whole op= text, else the reader's first word of it), ``id`` and
    ``rport`` (else NA). Per-value cleaning (exe, addr) runs once per distinct value.
    """
    df = conform(audit, AUDIT)
    df = df[df["EventType"].isin(types)].copy()
    first = _first_record(df["RawMessage"])
    # the reader's Op (first word of op=) is enough to tell a logon type; account records need it all
    op = _extract(first, _OP_REST) if "op" in fields else _absent(df["Op"])
    if len(op) and "op" in fields:
        op = _pandas(pc.replace_substring_regex(_arrow(op), _OP_CUT, ""), op.index).mask(op.isna())
    df["_op"] = op.str.strip()
    no_int = pd.Series(pd.NA, index=df.index, dtype="Int64")
    df["_id"] = _extract_int(first, _ID) if "id" in fields else no_int
    df["_rport"] = _extract_int(first, _RPORT) if "rport" in fields else no_int
    df["_acct"] = _absent(df["Acct"])
    df["_exe"] = _per_value(df["Exe"], _basename)
    addr = _absent(df["Addr"]).fillna(_absent(df["Hostname"]))
    df["_addr"] = _per_value(addr, _normalise_ip)
    df["_term"] = _absent(df["Terminal"])
    res = df["Res"].astype("string").str.lower()
    df["_result"] = res.map({"success": SUCCESS, "failed": FAILURE, "fail": FAILURE}).fillna(NOTICE)
    df["_actor"] = _actor(df)
    df["_first"] = first
    return df.sort_values(["TimeGenerated", "EventId"], kind="stable")


def _actor(df: pd.DataFrame) -> pd.Series:
    """Who did it: the login user (auid) by name where the log gives one, else ``auid=N``."""
    auid = df["Auid"].astype("Int64")
    named = _absent(df["AuidName"])
    numbered = ("auid=" + auid.astype("string")).mask(auid.isna() | (auid == UNSET_ID))
    return named.mask(named == "unset").fillna(numbered)


def _user_name(df: pd.DataFrame) -> pd.Series:
    """``acct``, else the login uid's name (USER_LOGIN from sshd gives ``id=UID`` only), else ``uid=N``."""
    named = _absent(df["AuidName"])
    named = named.mask(named == "unset")
    by_id = ("uid=" + df["_id"].astype("string")).mask(df["_id"].isna())
    user = df["_acct"].fillna(named.where(df["_id"].notna() & (df["_id"] == df["Auid"]))).fillna(by_id)
    return user.mask(user == "(invalid user)")


def audit_logons(audit: pd.DataFrame) -> pd.DataFrame:
    """USER_LOGIN and USER_AUTH records as LOGONS rows (see the module's counting rule)."""
    df = _user_rows(audit, LOGON_RECORDS, ("rport",))
    if df.empty:
        return LOGONS.empty()
    # id= names the user only where acct= is absent (sshd's USER_LOGIN): read it there alone
    unnamed = df["_acct"].isna()
    if unnamed.any():
        df.loc[unnamed, "_id"] = _extract_int(df.loc[unnamed, "_first"], _ID)
    out = pd.DataFrame(index=df.index)
    out["TimeGenerated"] = df["TimeGenerated"]
    out["Computer"] = df["Computer"]
    out["User"] = _user_name(df)
    out["Result"] = df["_result"]
    out["LogonType"] = _logon_type(df)
    out["ProcessName"] = df["_exe"]
    out["ProcessID"] = df["Pid"]
    out["SourceIP"] = df["_addr"]
    out["SourcePort"] = df["_rport"]
    out["InvalidUser"] = df["_acct"].eq("(invalid user)").fillna(False)
    out["Count"] = 1
    out["SyslogMessage"] = df["_first"]
    out["_type"] = df["EventType"]
    out = _pair_auth_with_login(out)
    # sudo, chfn, passwd ... authenticate a user for one command, not a logon (the command is in
    # SudoEvents): their successes are notices, their failures count as the syslog parsers do
    not_logon = (out["_type"] == "USER_AUTH") & ~out["ProcessName"].isin(_LOGON_SESSION_EXES).fillna(False)
    out.loc[not_logon & (out["Result"] == SUCCESS), "Result"] = NOTICE
    out["User"] = _name_numbered_users(out, audit)
    return conform(out, LOGONS)


def _name_numbered_users(rows: pd.DataFrame, audit: pd.DataFrame) -> pd.Series:
    """``uid=N`` users (sshd's USER_LOGIN names only the id) named by ``acct`` of the same process's PAM records."""
    numbered = rows["User"].str.startswith("uid=").fillna(False)
    if not numbered.any():
        return rows["User"]
    pam = _user_rows(audit, ("USER_AUTH", "USER_ACCT", "CRED_ACQ", "USER_START"))
    pam = pam[pam["_acct"].notna() & pam["Pid"].notna()]
    names = (
        pam.assign(_c=pam["Computer"].fillna(""))
        .drop_duplicates(["_c", "Pid"])
        .set_index(["_c", "Pid"])["_acct"]
    )
    key = pd.MultiIndex.from_arrays([rows["Computer"].fillna(""), rows["ProcessID"]])
    found = pd.Series(names.reindex(key).to_numpy(), index=rows.index, dtype="string")
    return rows["User"].mask(numbered & found.notna(), found)


def _logon_type(df: pd.DataFrame) -> pd.Series:
    exe = df["_exe"].fillna("")
    op = df["_op"].fillna("").str.lower()
    by_exe = exe.map(_EXE_TYPE).fillna(exe.mask(exe == "", "pam")).mask(exe.isin(_SSH_EXES), "ssh")
    by_op = op.map(_OP_TYPE)
    pam_auth = (df["EventType"] == "USER_AUTH") & exe.isin(_SSH_EXES) & op.str.startswith("pam:")
    return by_op.fillna(by_exe.where(~pam_auth, "pam")).astype("string")


def _pair_auth_with_login(rows: pd.DataFrame) -> pd.DataFrame:
    """USER_AUTH → Notice when its process wrote a USER_LOGIN with the same result (k-th with k-th)."""
    counted = rows["Result"].isin([SUCCESS, FAILURE]) & rows["ProcessID"].notna()
    keyed = rows[counted].assign(_c=rows["Computer"].fillna(""))
    key = ["_c", "ProcessID", "Result"]
    logins = keyed[keyed["_type"] == "USER_LOGIN"].groupby(key).size().rename("_logins")
    auths = keyed[keyed["_type"] == "USER_AUTH"]
    if auths.empty or logins.empty:
        return rows
    rank = auths.groupby(key).cumcount()
    have = auths[key].merge(logins, left_on=key, right_index=True, how="left")["_logins"].fillna(0)
    echo = rank.to_numpy() < have.to_numpy()
    rows.loc[auths.index[echo], "Result"] = NOTICE
    return rows


def audit_sudo(audit: pd.DataFrame) -> pd.DataFrame:
    """USER_CMD records (sudo's command, hex ``cmd`` decoded by the reader) as SUDO rows.

    RunAs is the ``acct`` of sudo's session record (USER_START) in the same process,
    Sudoer the ``acct`` of its USER_ACCT/USER_AUTH record, else the uid's name or ``uid=N``.
    """
    cmds = _user_rows(audit, SUDO_RECORDS)
    if cmds.empty:
        return SUDO.empty()
    # only sudo's own PAM records matter: drop sshd's (the bulk on a brute-forced host) before parsing
    by_sudo = audit[audit["Exe"].astype("string").str.contains("sudo", regex=False).fillna(False)]
    pam = _user_rows(by_sudo, ("USER_START", "USER_ACCT", "USER_AUTH", "CRED_ACQ", "CRED_REFR"))
    pam = pam[pam["_exe"].eq("sudo").fillna(False) & pam["_acct"].notna()]
    pam = pam.assign(_c=pam["Computer"].fillna(""))
    runas = (
        pam[pam["EventType"] == "USER_START"].drop_duplicates(["_c", "Pid"]).set_index(["_c", "Pid"])["_acct"]
    )
    who = pam[pam["EventType"].isin(["USER_ACCT", "USER_AUTH"])].drop_duplicates(["_c", "Pid"])
    who = who.set_index(["_c", "Pid"])["_acct"]
    key = pd.MultiIndex.from_arrays([cmds["Computer"].fillna(""), cmds["Pid"]])
    uid_name = _absent(cmds["UidName"])
    by_uid = ("uid=" + cmds["Uid"].astype("string")).mask(cmds["Uid"].isna())
    out = pd.DataFrame(index=cmds.index)
    out["TimeGenerated"] = cmds["TimeGenerated"]
    out["Computer"] = cmds["Computer"]
    out["ProcessID"] = cmds["Pid"]
    out["Sudoer"] = pd.Series(who.reindex(key).to_numpy(), index=cmds.index, dtype="string")
    out["Sudoer"] = out["Sudoer"].fillna(uid_name).fillna(by_uid)
    out["RunAs"] = pd.Series(runas.reindex(key).to_numpy(), index=cmds.index, dtype="string")
    command = cmds["Cmdline"].astype("string")
    out["Command"] = command
    out["CommandBinary"] = command.str.strip().str.split(n=1).str[0]
    out["TTY"] = cmds["_term"]
    out["PWD"] = _absent(cmds["Cwd"])
    out["Result"] = cmds["_result"].where(cmds["_result"] != NOTICE, pd.NA)
    out["Reason"] = pd.NA
    out["SyslogMessage"] = cmds["_first"]
    return conform(out, SUDO)


def _account_action(df: pd.DataFrame) -> pd.Series:
    by_type = df["EventType"].map(_RECORD_ACTION)
    op = df["_op"].fillna("").str.lower()
    by_op = pd.Series(pd.NA, index=df.index, dtype="string")
    for pattern, action in _OP_ACTION:
        hit = by_op.isna() & op.str.contains(pattern, regex=True)
        by_op = by_op.mask(hit, action)
    default = df["EventType"].map({"GRP_MGMT": "group_modify", "USER_CHAUTHTOK": "password_change"})
    return by_type.fillna(by_op).fillna(default).fillna("user_modify").astype("string")


def audit_account_changes(audit: pd.DataFrame) -> pd.DataFrame:
    """Account records (shadow-utils and PAM chauthtok) as ACCOUNTS rows; failed attempts left out.

    ``acct`` names the user (or, on group records, the group); ``id`` is its UID/GID.
    Records of one process for one change (useradd's ADD_USER and add-home-dir, groupadd's
    one record per file) fold into one row whose SyslogMessage keeps every record.
    """
    df = _user_rows(audit, ACCOUNT_RECORDS, ("op", "id"))
    if df.empty:
        return ACCOUNTS.empty()
    df = df[df["_result"] == SUCCESS].copy()
    if df.empty:
        return ACCOUNTS.empty()
    df["Action"] = _account_action(df)
    group = df["Action"].isin(_GROUP_ACTIONS)
    member = df["Action"].isin(["group_member_add", "group_member_remove"])
    out = pd.DataFrame(index=df.index)
    out["TimeGenerated"] = df["TimeGenerated"]
    out["Computer"] = df["Computer"]
    out["ProcessName"] = df["_exe"]
    out["ProcessID"] = df["Pid"]
    out["Action"] = df["Action"]
    by_id = df["_id"].astype("string")
    # shadow-utils records often give only the new id (``op=adding user id=1004``)
    out["User"] = df["_acct"].fillna(("uid=" + by_id).where(~member)).where(~group)
    out["Group"] = df["_acct"].fillna("gid=" + by_id).where(group)
    out["UID"] = df["_id"].where(~group & ~member)
    out["GID"] = df["_id"].where(group)
    out["Actor"] = df["_actor"]
    out["SyslogMessage"] = df["_first"]
    return conform(_fold(out), ACCOUNTS)


def _fold(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per process and change: consecutive records of one pid and action within seconds.

    A user_modify (useradd's ``add-home-dir``) of a process that added a user is part of that add.
    """
    rows = rows.sort_values("TimeGenerated", kind="stable").reset_index(drop=True)
    host = rows["Computer"].fillna("")
    pid = rows["ProcessID"].astype("Int64")
    adders = set(zip(host[rows["Action"] == "user_add"], pid[rows["Action"] == "user_add"], strict=True))
    in_add = pd.Series(
        [(c, p) in adders for c, p in zip(host, pid, strict=True)], index=rows.index, dtype=bool
    )
    rows.loc[in_add & (rows["Action"] == "user_modify"), "Action"] = "user_add"
    keys = pd.DataFrame({"c": host, "p": pid.fillna(-1), "a": rows["Action"].fillna("")})
    new = (keys != keys.shift()).any(axis=1) | pid.isna()
    new |= rows["TimeGenerated"].diff().fillna(pd.Timedelta(0)) > _FOLD_WINDOW
    block = new.cumsum()
    folded = rows.groupby(block, sort=False).first()  # first non-null value of each column
    folded["SyslogMessage"] = rows.groupby(block, sort=False)["SyslogMessage"].agg(
        lambda s: "\n".join(str(v) for v in s.dropna())
    )
    return folded.reset_index(drop=True)


SESSION_COLUMNS: Final = (
    "SessionId", "Computer", "Ses", "User", "SessionType", "ProcessName", "ProcessID", "Start", "End",
    "DurationSeconds", "SourceIP", "Terminal",
)  # fmt: skip


def audit_sessions(audit: pd.DataFrame) -> pd.DataFrame:
    """PAM sessions from USER_START/USER_END records, paired by audit session (``ses``) and process.

    A sudo or cron session inside a logon shares the logon's ``ses``, so the process
    (``pid``) is part of the key. SessionType is ``logon`` for sshd/login/su/display
    managers and ``system`` for the rest (cron, sudo, systemd --user), which the
    logon-session lists keep apart. End is NaT when the close is not in the log.
    """
    df = _user_rows(audit, SESSION_RECORDS)
    dtypes = {
        "SessionId": "string", "Computer": "string", "Ses": "Int64", "User": "string", "SessionType": "string",
        "ProcessName": "string", "ProcessID": "Int64", "Start": "datetime64[ns, UTC]", "End": "datetime64[ns, UTC]",
        "DurationSeconds": "Float64", "SourceIP": "string", "Terminal": "string",
    }  # fmt: skip
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=dtypes[c]) for c in SESSION_COLUMNS})
    df["_c"] = df["Computer"].fillna("")
    df["_ses"] = df["Ses"].astype("Int64").fillna(-1)
    df["_pid"] = df["Pid"].astype("Int64").fillna(-1)
    df["_start"] = df["TimeGenerated"].where(df["EventType"] == "USER_START")
    df["_end"] = df["TimeGenerated"].where(df["EventType"] == "USER_END")
    df["_acct_start"] = df["_acct"].where(df["EventType"] == "USER_START")
    g = df.groupby(["_c", "_ses", "_pid"], sort=False)
    out = g.agg(
        Computer=("Computer", "first"),
        User=("_acct_start", "first"),
        _user_any=("_acct", "first"),
        ProcessName=("_exe", "first"),
        Start=("_start", "min"),
        End=("_end", "max"),
        SourceIP=("_addr", "first"),
        Terminal=("_term", "first"),
    ).reset_index()
    out["User"] = out["User"].fillna(out["_user_any"])
    out["Ses"] = out["_ses"].where(out["_ses"] >= 0).astype("Int64")
    out.loc[out["Ses"] == UNSET_ID, "Ses"] = pd.NA
    out["ProcessID"] = out["_pid"].where(out["_pid"] >= 0).astype("Int64")
    out["SessionType"] = out["ProcessName"].isin(_LOGON_SESSION_EXES).map({True: "logon", False: "system"})
    out["DurationSeconds"] = (out["End"] - out["Start"]).dt.total_seconds()
    out["SessionId"] = (
        "audit:" + out["_c"] + ":" + out["_ses"].astype("string") + ":" + out["_pid"].astype("string")
    )
    out = out.sort_values("Start", kind="stable", na_position="first").reset_index(drop=True)
    return pd.DataFrame({c: out[c].astype(dtypes[c]) for c in SESSION_COLUMNS})


__all__ = [
    "ACCOUNT_RECORDS", "LOGON_RECORDS", "PARSER_RECORDS", "SESSION_COLUMNS", "audit_account_changes", "audit_logons",
    "audit_sessions", "audit_sudo",
]  # fmt: skip
