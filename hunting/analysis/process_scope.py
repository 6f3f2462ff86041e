"""Process trees for a host as the pages scope them: named users, forked parents, audit sessions.

``build_tree`` sees only execve events. A process that forked but never exec'd
(sshd's per-user child, cron's per-job child) then shows as "unknown parent pid
N", which hides the very link an analyst looks for (sshd -> shell). auditd
usually logged that process doing something else (PAM records: CRED_ACQ,
USER_START ...), with its program and session; ``forked_processes`` turns that
evidence into a process row, and links it to the session's login process when
both run the same program (the privilege-separation pattern of sshd).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from hunting.analysis.process_tree import (
    PROCESSES,
    _parent_positions,
    _with_ancestors,
    build_tree,
    process_events,
    tree_for_session,
    trees_for_executable,
)
from hunting.analysis.risky import RiskRule
from hunting.analysis.users import UNSET_IDS, name_for, users_from_audit
from hunting.detections.rating import command_hits
from hunting.schema import conform

FORKED_NOTE: Final = "[forked, no execve]"
SESSION_COLUMNS: Final = (
    "Ses", "Auid", "LoginUser", "Start", "End", "Processes", "Tty", "FirstCommand",
)  # fmt: skip
# A Logons-page session (syslog, whole seconds) and the audit session it opened.
LOGON_TOLERANCE: Final = pd.Timedelta(seconds=5)
_SES_HINT: Final = re.compile(r"(?i)(?:ses\s*)?(\d+)")


def host_users_map(host_users: pd.DataFrame | None) -> dict[int, str]:
    """uid -> name from the host's own passwd rows (HostUsers); the first name of a uid wins."""
    if host_users is None or host_users.empty or not {"Uid", "User"} <= set(host_users.columns):
        return {}
    ids = pd.to_numeric(host_users["Uid"], errors="coerce")
    names = host_users["User"].astype("string").str.strip()
    keep = ids.notna() & names.notna() & (names != "")
    users: dict[int, str] = {}
    for uid, name in zip(ids[keep].astype("int64"), names[keep], strict=True):
        users.setdefault(int(uid), str(name))
    return users


def forked_processes(
    audit: pd.DataFrame, procs: pd.DataFrame, *, users: Mapping[int, str] | None = None
) -> pd.DataFrame:
    """PROCESSES rows for parents that never exec'd but left other audit records.

    For each parent pid the execve events do not explain, the latest record of
    that pid on that host, in its first child's session (a fork keeps it), at or
    before that child's start gives program and uids. Its parent is the record's own ppid when it has one (a
    SYSCALL), else the login process of its session when that process runs the
    same program; otherwise it stays a root. Rows carry no EventId, so they sort
    before a child started in the same instant.
    """
    if audit.empty or procs.empty:
        return PROCESSES.empty()
    tree = build_tree(procs)
    syn = tree.loc[tree["IsSynthetic"].fillna(False).astype(bool), ["ProcKey", "Computer", "Pid"]]
    if syn.empty:
        return PROCESSES.empty()
    kids = tree.loc[tree["ParentKey"].isin(syn["ProcKey"]), ["ParentKey", "TimeGenerated", "Ses"]]
    first = kids.sort_values("TimeGenerated", kind="stable").drop_duplicates("ParentKey")
    wanted = syn.merge(first, left_on="ProcKey", right_on="ParentKey")
    wanted = wanted[["Computer", "Pid", "Ses", "TimeGenerated"]].dropna(subset=["TimeGenerated", "Pid"])

    ev = audit.loc[audit["Pid"].notna() & audit["TimeGenerated"].notna()].copy()
    ev = ev.loc[ev["Exe"].notna() | ev["Comm"].notna()]
    if ev.empty or wanted.empty:
        return PROCESSES.empty()
    for df in (ev, wanted):
        df["Computer"] = df["Computer"].fillna("")
        df["Ses"] = df["Ses"].fillna(-1).astype("int64")  # a fork keeps its parent's session
    found = pd.merge_asof(
        _time_sorted(wanted).rename(columns={"TimeGenerated": "ChildTime"}),
        _time_sorted(ev),
        left_on="ChildTime",
        right_on="TimeGenerated",
        by=["Computer", "Pid", "Ses"],
        direction="backward",
    ).dropna(subset=["TimeGenerated"])
    if found.empty:
        return PROCESSES.empty()
    found["Ppid"] = found["Ppid"].astype("Int64").fillna(_login_parent(audit, found))
    evidence = found["EventType"].fillna("audit").astype("string")
    found["Cmdline"] = (
        FORKED_NOTE
        + " "
        + found["Exe"].fillna(found["Comm"]).astype("string")
        + (" (seen in " + evidence + " " + found["EventId"].fillna("").astype("string") + ")")
    )
    found["EventId"] = pd.NA
    found["Success"] = pd.NA
    found["Key"] = pd.NA
    found["Computer"] = found["Computer"].mask(found["Computer"] == "")
    found["Ses"] = found["Ses"].astype("Int64").mask(found["Ses"] == -1)
    known = users_from_audit(audit)
    known.update(users or {})
    found["User"] = name_for(found["Uid"], known)
    found["LoginUser"] = name_for(found["Auid"], known)
    return conform(found, PROCESSES)


def host_tree(
    audit: pd.DataFrame, *, host_users: pd.DataFrame | None = None, with_forks: bool = True
) -> pd.DataFrame:
    """The host's process tree: execve starts named from its own users, plus forked parents."""
    users = host_users_map(host_users)
    procs = process_events(audit, users=users)
    if with_forks and not procs.empty:
        forks = forked_processes(audit, procs, users=users)
        if not forks.empty:
            procs = pd.concat([procs, forks], ignore_index=True)
    return build_tree(procs)


def audit_sessions(tree: pd.DataFrame) -> pd.DataFrame:
    """Login sessions seen in process starts (audit Ses with its Auid), earliest first."""
    real = tree.loc[~tree["IsSynthetic"].fillna(False).astype(bool)]
    ses = pd.to_numeric(real["Ses"], errors="coerce")
    real = real.loc[ses.notna() & ~ses.isin(UNSET_IDS)]
    if real.empty:
        return pd.DataFrame({c: pd.Series(dtype=_SESSION_DTYPES[c]) for c in SESSION_COLUMNS})
    real = real.sort_values("TimeGenerated", kind="stable")
    g = real.groupby(["Ses", "Auid"], dropna=False, sort=False)
    out = g.agg(
        LoginUser=("LoginUser", "first"),
        Start=("TimeGenerated", "min"),
        End=("TimeGenerated", "max"),
        Processes=("ProcKey", "size"),
        Tty=("Tty", _first_tty),
        FirstCommand=("Cmdline", "first"),
    ).reset_index()
    out = out.sort_values(["Start", "Ses"], kind="stable").reset_index(drop=True)
    return out.astype(_SESSION_DTYPES)[list(SESSION_COLUMNS)]


def match_logon(sessions: pd.DataFrame, logon: Mapping[str, Any]) -> int | None:
    """Position in ``sessions`` of the audit session a Logons-page session opened, else None.

    Same login user, and the audit session's first process between the logon's
    start (less a few seconds: syslog keeps whole seconds) and its end; the
    nearest start wins.
    """
    if sessions.empty:
        return None
    user = logon.get("User")
    start = _ts(logon.get("Start"))
    end = _ts(logon.get("End"))
    if user is None or pd.isna(user) or start is None:
        return None
    ok = (sessions["LoginUser"] == str(user)).fillna(False)
    ok &= sessions["Start"] >= start - LOGON_TOLERANCE
    if end is not None:
        ok &= sessions["Start"] <= end + LOGON_TOLERANCE
    if not ok.any():
        return None
    gap = (sessions.loc[ok, "Start"] - start).abs()
    return int(sessions.index.get_loc(gap.idxmin()))


def tree_risks(tree: pd.DataFrame, rules: list[RiskRule] | None = None) -> pd.DataFrame:
    """The Findings engine's hits on the tree's processes (risky-command rules, encoded payloads,
    programs run from temporary or hidden directories), with the process each belongs to."""
    keep = ~tree["IsSynthetic"].fillna(False).astype(bool)
    real = tree.loc[keep]
    # One pid that exec'd several programs (nohup -> /tmp/x) is one process for the engine.
    process = real["Computer"].astype("string").str.lower() + "/" + real["Pid"].astype("string")
    hits = command_hits(real["Cmdline"], exe=real["Exe"], process=process, rules=rules)
    if hits.empty:
        return hits.assign(ProcKey=pd.Series(dtype="string"))
    return hits.assign(ProcKey=tree.loc[hits["Row"], "ProcKey"].to_numpy())


def risk_labels(tree: pd.DataFrame, hits: pd.DataFrame) -> pd.Series:
    """Per tree row, the rules that matched ("id (severity): title; ..."), NA where none."""
    if hits.empty:
        return pd.Series(pd.NA, index=tree.index, dtype="string")
    text = hits["RuleId"] + " (" + hits["Severity"] + "): " + hits["Title"]
    joined = text.groupby(hits["Row"].to_numpy(), sort=False).agg(lambda s: "; ".join(dict.fromkeys(s)))
    return joined.reindex(tree.index).astype("string")


# --- helpers ---------------------------------------------------------------------------------

_SESSION_DTYPES: Final = {
    "Ses": "Int64", "Auid": "Int64", "LoginUser": "string", "Start": "datetime64[ns, UTC]",
    "End": "datetime64[ns, UTC]", "Processes": "Int64", "Tty": "string", "FirstCommand": "string",
}  # fmt: skip


def _first_tty(s: pd.Series) -> object:
    real = s.dropna()
    real = real[~real.isin(["(none)", "?", ""])]
    return real.iloc[0] if len(real) else pd.NA


def _time_sorted(df: pd.DataFrame) -> pd.DataFrame:
    col = "TimeGenerated"
    out = df.copy()
    out[col] = out[col].astype("datetime64[ns, UTC]")
    out["Pid"] = out["Pid"].astype("int64")
    return out.sort_values(col, kind="stable").reset_index(drop=True)


def _login_parent(audit: pd.DataFrame, found: pd.DataFrame) -> pd.Series:
    """Pid of the session's login process (LOGIN record) when it runs the same program, else NA."""
    login = audit.loc[audit["EventType"] == "LOGIN", ["Computer", "Ses", "Pid", "TimeGenerated"]]
    login = login.dropna(subset=["Ses", "Pid"]).drop_duplicates(["Computer", "Ses"], keep="last")
    if login.empty:
        return pd.Series(pd.NA, index=found.index, dtype="Int64")
    # The login process's program: its own records in that session name it (LOGIN has no exe=).
    progs = audit.loc[audit["Exe"].notna(), ["Computer", "Pid", "Ses", "Exe"]]
    progs = progs.drop_duplicates(["Computer", "Pid", "Ses"], keep="first")
    login = login.merge(progs, on=["Computer", "Pid", "Ses"], how="left").rename(
        columns={"Pid": "LoginPid", "Exe": "LoginExe", "TimeGenerated": "LoginTime"}
    )
    login["Computer"] = login["Computer"].fillna("")
    m = (
        found[["Computer", "Ses", "Pid", "Exe", "TimeGenerated"]]
        .reset_index()
        .merge(login, on=["Computer", "Ses"], how="left")
    )
    same = (
        (m["LoginExe"] == m["Exe"]).fillna(False)
        & (m["LoginPid"] != m["Pid"]).fillna(False)
        & (m["LoginTime"] <= m["TimeGenerated"]).fillna(False)
    )
    parent = m["LoginPid"].where(same).astype("Int64")
    return pd.Series(parent.to_numpy(), index=m["index"].to_numpy(), dtype="Int64").reindex(found.index)


def _ts(value: object) -> pd.Timestamp | None:
    if value is None or value is pd.NaT:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(ts):
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def scope_tree(
    tree: pd.DataFrame,
    *,
    ses: int | None = None,
    auid: int | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    exe: str | None = None,
    branches: bool = False,
) -> pd.DataFrame:
    """The rows of one scope: trees holding ``exe`` (whole, or only its ``branches``), then
    session/user/time, with ancestors."""
    out = tree
    if exe is not None and exe.strip():
        out = branches_for_executable(out, exe) if branches else trees_for_executable(out, exe)
    if ses is not None or auid is not None or start is not None or end is not None:
        out = tree_for_session(out, ses=ses, auid=auid, start=start, end=end)
    return out


def logon_scope(tree: pd.DataFrame, logon: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Scope arguments for a Logons-page session and a sentence saying how it was matched.

    The audit session it opened when one matches (user and time), else the
    logon's own time window.
    """
    sessions = audit_sessions(tree)
    pos = match_logon(sessions, logon)
    if pos is not None:
        row = sessions.iloc[pos]
        ses, auid = int(row["Ses"]), row["Auid"]
        return (
            {"ses": ses, "auid": None if pd.isna(auid) else int(auid)},
            f"audit session {ses} of {row['LoginUser']} (auid {auid}), matched by user and time",
        )
    start, end = _ts(logon.get("Start")), _ts(logon.get("End"))
    return (
        {"start": start, "end": end},
        "the logon's time window (no audit session of this user started in it)",
    )


def branches_for_executable(tree: pd.DataFrame, exe: str) -> pd.DataFrame:
    """Processes whose Exe contains ``exe`` (or are named ``exe``), their descendants and ancestors.

    The branches of ``trees_for_executable``: a daemon's root can hold hundreds of
    unrelated siblings (every ssh connection under the sshd listener).
    """
    whole = trees_for_executable(tree, exe)
    needle = exe.strip()
    hit = whole["Exe"].str.contains(needle, regex=False, case=False).fillna(False)
    hit |= (whole["Name"] == needle).fillna(False)
    keys = whole["ProcKey"].astype("string")
    parents = whole["ParentKey"].astype("string")
    keep = set(keys[hit])
    frontier = set(keep)
    while frontier:  # down: children of anything kept
        frontier = set(keys[parents.isin(frontier).fillna(False)]) - keep
        keep |= frontier
    up = dict(zip(keys, parents, strict=True))
    for key in list(keys[hit]):  # up: the ancestors of every match
        parent = up.get(key)
        while parent is not None and not pd.isna(parent) and parent not in keep:
            keep.add(parent)
            parent = up.get(parent)
    return whole.loc[keys.isin(keep).to_numpy()]


def parse_ses(text: object) -> int | None:
    """Audit session number from a scope hint: ``ses 6024`` (as findings write it) or ``6024``."""
    if text is None:
        return None
    m = _SES_HINT.fullmatch(str(text).strip())
    return int(m.group(1)) if m else None


def logon_for_hint(
    logons: pd.DataFrame, sessions: pd.DataFrame, *, ses: int | None = None, user: str | None = None
) -> int | None:
    """Position in ``logons`` (logon_sessions rows) of the logon a link's scope hint names, else None.

    With ``ses``: the logon that opened that audit session (``match_logon``),
    of ``user`` when given too. With ``user`` alone: that user's only logon
    session; None when there are several, since picking one would be a guess.
    """
    if logons.empty or "User" not in logons.columns:
        return None
    users = logons["User"].astype("string")
    if ses is not None:
        rows = sessions.loc[pd.to_numeric(sessions["Ses"], errors="coerce") == ses]
        if rows.empty:
            return None
        names = set(rows["LoginUser"].dropna().astype(str))
        if user:
            names &= {user}
        for pos in np.flatnonzero(users.isin(names).fillna(False).to_numpy()):
            found = match_logon(sessions, logons.iloc[pos].to_dict())
            if found is not None and int(sessions.iloc[found]["Ses"]) == ses:
                return int(pos)
        return None
    if user:
        hits = np.flatnonzero((users == user).fillna(False).to_numpy())
        return int(hits[0]) if len(hits) == 1 else None
    return None


def pid_exe(tree: pd.DataFrame, pid: int | None) -> str | None:
    """Executable ``pid`` last exec'd in ``tree`` (what a ``nohup``/``sh -c`` wrapper became), else None."""
    if pid is None or tree.empty:
        return None
    rows = tree.loc[(pd.to_numeric(tree["Pid"], errors="coerce") == pid) & tree["Exe"].notna()]
    if rows.empty:
        return None
    return str(rows.sort_values("TimeGenerated", kind="stable")["Exe"].iloc[-1])


# --- the part worth drawing ------------------------------------------------------------------

_SEEN_IN: Final = r"\s*\(seen in [^)]*\)"
REPEAT_COLUMN: Final = "Repeats"  # how many identical sibling processes a drawn row stands for


def interesting_tree(tree: pd.DataFrame, rows: pd.Index | list[Any]) -> pd.DataFrame:
    """The processes at ``rows`` (risky ones, a linked pid) with their ancestors and every
    descendant, in the tree's depth-first order: what an analyst looks at first, instead of
    thousands of cron and sshd runs. Empty when ``rows`` is empty."""
    if tree.empty or len(rows) == 0:
        return tree.iloc[0:0]
    pos = tree.index.get_indexer(pd.Index(rows))
    seed = np.zeros(len(tree), dtype=bool)
    seed[pos[pos >= 0]] = True
    parent = _parent_positions(tree)
    down = seed.copy()
    frontier = np.flatnonzero(seed)
    while frontier.size:  # descendants, level by level
        kids = np.flatnonzero(np.isin(parent, frontier) & ~down)
        down[kids] = True
        frontier = kids
    return _with_ancestors(tree, down)


def collapse_repeats(tree: pd.DataFrame, keep: pd.Index | list[Any] = ()) -> pd.DataFrame:
    """Runs of identical sibling subtrees (same parent; same program, command line and children,
    all the way down: 86 cron runs of one job) drawn once, the first of them, with ``Repeats`` =
    how many the row stands for (1 elsewhere; rows inside a folded subtree count once). Rows
    in ``keep`` (a linked pid) are never folded away."""
    out = tree.copy()
    out[REPEAT_COLUMN] = pd.array(np.ones(len(out), dtype=np.int64), dtype="Int64")
    if out.empty:
        return out
    parent = _parent_positions(out)
    names = out["Name"].astype("string").fillna("").tolist()
    # "[forked, no execve] … (seen in USER_START <audit id>)": the audit id differs per run
    cmds = out["Cmdline"].astype("string").fillna("").str.replace(_SEEN_IN, "", regex=True).tolist()
    synthetic = out["IsSynthetic"].fillna(False).to_numpy(bool)
    depth = out["Depth"].fillna(0).to_numpy(np.int64)
    children: dict[int, list[int]] = {}
    for i, p in enumerate(parent):  # roots (parent not in the data) are siblings under -1
        children.setdefault(int(p) if p >= 0 else -1, []).append(i)
    sig: list[int] = [0] * len(out)
    pinned = np.zeros(len(out), dtype=bool)
    pos = out.index.get_indexer(pd.Index(keep))
    pinned[pos[pos >= 0]] = True
    holds_pin = pinned.copy()
    for i in sorted(range(len(out)), key=lambda k: -depth[k]):  # children before parents
        kids = children.get(i, []) if i >= 0 else []
        sig[i] = hash((names[i], cmds[i], bool(synthetic[i]), tuple(sorted(sig[k] for k in kids))))
        holds_pin[i] = holds_pin[i] or any(holds_pin[k] for k in kids)
    drop = np.zeros(len(out), dtype=bool)
    repeats = np.ones(len(out), dtype=np.int64)
    for kids in children.values():
        first: dict[int, int] = {}
        for k in kids:
            if synthetic[k] or holds_pin[k]:
                continue
            if sig[k] in first:
                repeats[first[sig[k]]] += 1
                drop[k] = True
            else:
                first[sig[k]] = k
    for top in np.flatnonzero(drop).tolist():  # a dropped subtree goes whole
        stack = [int(top)]
        while stack:
            j = stack.pop()
            drop[j] = True
            stack.extend(children.get(j, []))
    out[REPEAT_COLUMN] = pd.array(repeats, dtype="Int64")
    return out[~drop]
