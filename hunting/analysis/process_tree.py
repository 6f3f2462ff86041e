"""Process trees from auditd execve events, vectorised so a million events build in seconds.

A node is one successful-or-not ``execve``: a process that execs again (``exec
vim`` from a shell) is a new node, a sibling of its former image under the same
parent. A node's parent is the latest *earlier* node whose Pid is the node's Ppid
on the same Computer, so a pid reused by a later process is a different node.
"Earlier" is the event order (time, then auditd's serial number), never the time
alone: a shell and the child it forks and execs are routinely logged in the same
millisecond, and the serial says which came first.

Parents that never exec'd inside the data (started before logging began, or a
forked subshell that never exec'd) become one synthetic node per (Computer, Ppid),
labelled "unknown parent pid N". Every child that points at pid N before the
first recorded start of a pid-N process lands under that one node, even if pid N
was in fact reused between them: nothing in execve events can tell those apart.
Ppid 0 (the kernel, parent of init and kthreadd) makes a root, not a node.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa

from hunting.analysis.users import name_for, users_from_audit
from hunting.errors import QueryError
from hunting.schema import BOOL, INT, TEXT, TIME, Table, conform, to_utc

PROCESSES: Final = Table(
    "ProcessEvents",
    (
        ("TimeGenerated", TIME),
        ("Computer", TEXT),
        ("Pid", INT),
        ("Ppid", INT),
        ("Uid", INT),
        ("User", TEXT),
        ("Auid", INT),
        ("LoginUser", TEXT),  # name for the audit (login) uid; "unset" for 4294967295
        ("Euid", INT),
        ("Ses", INT),
        ("Tty", TEXT),
        ("Comm", TEXT),
        ("Exe", TEXT),
        ("Cmdline", TEXT),  # EXECVE arguments, else the PROCTITLE
        ("Cwd", TEXT),
        ("Success", TEXT),
        ("Key", TEXT),
        ("EventId", TEXT),
    ),
    "One row per execve: the start of a program.",
)

TREE: Final = Table(
    "ProcessTree",
    (
        *PROCESSES.columns,
        ("ProcKey", TEXT),  # "p" + 16 hex digits (real) or "u" + 16 hex digits (synthetic)
        ("ParentKey", TEXT),
        ("RootKey", TEXT),
        ("Depth", INT),
        ("ChildCount", INT),
        ("DescendantCount", INT),
        ("Name", TEXT),  # basename of Exe (or Comm); "[pid N]" for synthetic nodes
        ("Path", TEXT),  # names from the root down to this node, " > " separated
        ("IsSynthetic", BOOL),
    ),
    "Process events with their place in the tree, in depth-first order.",
)

DEFAULT_RENDER_LIMIT: Final = 2000
MAX_PATH_CHARS: Final = 400
_PID_LIMIT: Final = 1 << 31  # pid_max is at most 2**22; larger values are garbage
_EXEC_RECORD = r"(?:^|,)\s*EXECVE\s*(?:,|$)"
_SYSCALL_RECORD = r"(?:^|,)\s*SYSCALL\s*(?:,|$)"
_EXEC_NAMES = ("execve", "execveat")
_AGENT_EXEC_TYPES = ("AUOMS_EXECVE", "SYSMON_PROCESS_CREATE")


def process_events(audit: pd.DataFrame, *, users: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Program starts: events with an EXECVE record (any architecture), with their SYSCALL record's
    pid, ppid, ids and exe, or without them when that record was lost (see ``_exec_mask``).

    Names come from the event's own ENRICHED UidName/AuidName, else ``users``
    (e.g. ``users_from_passwd`` on the host's passwd file), else the names auditd
    wrote elsewhere in ``audit``; otherwise the number is shown. The same event
    loaded twice (same Computer and EventId) is kept once.
    """
    if audit.empty:
        return PROCESSES.empty()
    ev = audit.loc[_exec_mask(audit)].copy()
    if "EventId" in ev.columns and "Computer" in ev.columns:
        dup = ev.duplicated(["Computer", "EventId"]) & ev["EventId"].notna()
        ev = ev.loc[~dup]
    known = users_from_audit(audit)
    known.update(users or {})
    ev["User"] = _own_name(ev, "UidName").fillna(name_for(_col(ev, "Uid"), known))
    ev["LoginUser"] = _own_name(ev, "AuidName").fillna(name_for(_col(ev, "Auid"), known))
    unset = pd.to_numeric(_col(ev, "Auid"), errors="coerce").isin([4294967295, -1]).to_numpy()
    ev.loc[unset, "LoginUser"] = "unset"
    cmd = _col(ev, "Cmdline").astype("string")
    empty = cmd.isna() | (cmd.str.strip() == "")
    ev["Cmdline"] = cmd.mask(empty, _col(ev, "Proctitle").astype("string"))
    return conform(ev, PROCESSES)


def build_tree(procs: pd.DataFrame) -> pd.DataFrame:
    """Link every process to its parent; return the TREE frame in depth-first order.

    Work is on numpy arrays in event order ("positions"); the frame itself is
    reordered once, at the end.
    """
    df = _ensure(procs, PROCESSES)
    n = len(df)
    codes, computers = pd.factorize(df["Computer"].fillna(""))
    times = df["TimeGenerated"].to_numpy(dtype="datetime64[ns]").view("int64")
    serial = pd.to_numeric(df["EventId"].str.replace(r"^.*:", "", regex=True), errors="coerce")
    serial = serial.fillna(-1).to_numpy("int64")
    order = np.lexsort((np.arange(n), serial, times, codes))
    codes, times, serial = codes[order].astype("int64"), times[order], serial[order]
    pid = _valid_pid(df["Pid"])[order]
    ppid = _valid_pid(df["Ppid"])[order]
    ppid[ppid == 0] = -1
    failed = (df["Success"].str.lower() == "no").fillna(False).to_numpy(bool)[order]
    parent = _find_parents(codes, pid, ppid, failed)

    # One synthetic node per (Computer, Ppid) that matched no earlier start.
    orphan = (parent < 0) & (ppid >= 0)
    ukeys, first, inverse = np.unique(codes[orphan] * _PID_LIMIT + ppid[orphan], True, True)
    m = len(ukeys)
    syn_codes, syn_pids = ukeys // _PID_LIMIT, ukeys % _PID_LIMIT
    parent[orphan] = n + inverse
    parent = np.concatenate([parent, np.full(m, -1, dtype="int64")])
    sort_key = np.concatenate([np.arange(n, dtype="float64"), np.flatnonzero(orphan)[first] - 0.5])
    synthetic = np.arange(n + m) >= n
    hashes = np.concatenate(
        [_keys(computers, codes, times, pid, serial), _keys(computers, syn_codes, syn_pids)]
    )
    keys = _key_text(hashes, synthetic)

    full = pd.concat([df, _synthetic_rows(computers, syn_codes, syn_pids)], ignore_index=True) if m else df
    src = np.concatenate([order, np.arange(n, n + m)])  # position -> row of ``full``
    depth, top = _depth_and_root(parent)
    levels = _levels(depth)
    descendants = _descendants(parent, levels)
    names = _names(full, src, synthetic)
    pre = _preorder(parent, sort_key, descendants, levels)

    perm = np.argsort(pre)
    out = full.iloc[src[perm]].reset_index(drop=True)
    parent_pos = pa.array(parent[perm], mask=parent[perm] < 0)
    out["ProcKey"] = _text(keys.take(perm))
    out["ParentKey"] = _text(keys.take(parent_pos))
    out["RootKey"] = _text(keys.take(top[perm]))
    out["Depth"] = pd.array(depth[perm], dtype="Int64")
    out["ChildCount"] = pd.array(np.bincount(parent[parent >= 0], minlength=n + m)[perm], dtype="Int64")
    out["DescendantCount"] = pd.array(descendants[perm], dtype="Int64")
    out["Name"] = _text(pa.array(names, type=pa.large_string()).take(perm))
    out["Path"] = pd.array(_paths(names, parent, levels)[perm], dtype="string")
    out["IsSynthetic"] = pd.array(synthetic[perm], dtype="boolean")
    return out[TREE.names]


def tree_for_session(
    tree: pd.DataFrame,
    *,
    ses: int | None = None,
    auid: int | None = None,
    start: datetime | pd.Timestamp | None = None,
    end: datetime | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Processes of one login session / login user / time range, with their ancestors for context."""
    if ses is None and auid is None and start is None and end is None:
        return tree
    return _with_ancestors(tree, session_mask(tree, ses=ses, auid=auid, start=start, end=end))


def session_mask(
    tree: pd.DataFrame,
    *,
    ses: int | None = None,
    auid: int | None = None,
    start: datetime | pd.Timestamp | None = None,
    end: datetime | pd.Timestamp | None = None,
) -> np.ndarray:
    """Rows that are the scope's own processes (real starts, ancestors not included).

    The one definition of "processes of a session": what ``tree_for_session`` draws
    (before adding ancestors), what the Processes metric counts and what the audit
    session list (``process_scope.audit_sessions``) counts per session.
    """
    mask = ~tree["IsSynthetic"].fillna(False).astype(bool)
    if ses is not None:
        mask &= (tree["Ses"] == ses).fillna(False)
    if auid is not None:
        mask &= (tree["Auid"] == auid).fillna(False)
    if start is not None:
        mask &= (tree["TimeGenerated"] >= _utc(start)).fillna(False)
    if end is not None:
        mask &= (tree["TimeGenerated"] <= _utc(end)).fillna(False)
    return mask.to_numpy(bool)


def trees_for_executable(tree: pd.DataFrame, exe: str) -> pd.DataFrame:
    """Whole trees (from their roots) holding a process whose Exe contains ``exe`` or is named ``exe``."""
    needle = exe.strip()
    if not needle:
        raise QueryError("give part of an executable's path or its name, e.g. 'wget' or '/tmp/'")
    hit = tree["Exe"].str.contains(needle, regex=False, case=False).fillna(False)
    hit |= (tree["Name"] == needle).fillna(False)
    roots = tree.loc[hit, "RootKey"].unique()
    return tree.loc[tree["RootKey"].isin(roots)]


def tree_in_window(
    tree: pd.DataFrame, center: datetime | pd.Timestamp, before: timedelta, after: timedelta
) -> pd.DataFrame:
    """Processes started within [center - before, center + after], with their ancestors."""
    mid = _utc(center)
    t = tree["TimeGenerated"]
    mask = ((t >= mid - pd.Timedelta(before)) & (t <= mid + pd.Timedelta(after))).fillna(False)
    return _with_ancestors(tree, mask.to_numpy(bool))


def guard_size(n_rows: int, limit: int = DEFAULT_RENDER_LIMIT) -> str | None:
    """A message asking to narrow the scope when a tree is too large to draw, else None."""
    if n_rows <= limit:
        return None
    return (
        f"{n_rows:,} processes are too many to draw (limit {limit:,}). Narrow the time window, "
        "or pick one session, login user or executable; the table below still lists them all."
    )


# --- helpers ---------------------------------------------------------------------------------


def _ensure(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """``df`` as ``table``; frames that already conform (the usual case) are not copied."""
    if list(df.columns) == table.names and all(str(df[c].dtype) == table.dtype(c) for c in table.names):
        return df.reset_index(drop=True)
    return conform(df, table)


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(pd.NA, index=df.index, dtype="object")


def _exec_mask(audit: pd.DataFrame) -> pd.Series:
    """Events holding an EXECVE record (arch-independent), with or without their SYSCALL record.

    RecordTypes is in log order, which is not always SYSCALL first (aarch64
    kernels write PATH/CWD/EXECVE before SYSCALL), so EventType is not relied on.
    An EXECVE whose SYSCALL record was lost (backlog overflow, a rotated or cut file)
    still started a program: it is kept with what it tells (command line, cwd), its
    pid, user and exe unknown. Without RecordTypes, a SYSCALL event whose enriched
    syscall name is execve counts.
    """
    records = _col(audit, "RecordTypes").astype("string").str.upper()
    has_exec = records.str.contains(_EXEC_RECORD, regex=True)
    etype = _col(audit, "EventType").astype("string").str.upper()
    by_name = (etype == "SYSCALL") & _col(audit, "Syscall").astype("string").str.lower().isin(_EXEC_NAMES)
    # One-record events of Microsoft's agents (AUOMS_EXECVE, Sysmon process create): see hunting.readers.agents
    agent = etype.isin(_AGENT_EXEC_TYPES).fillna(False).astype(bool)
    return has_exec.fillna(by_name).fillna(False).astype(bool) | agent


def _own_name(ev: pd.DataFrame, col: str) -> pd.Series:
    names = _col(ev, col).astype("string").str.strip()
    bad = names.str.lower().isin(["", "unset", "?", "(null)", "(none)", "(unknown)"])
    return names.mask(bad.fillna(True) | names.str.fullmatch(r"\d+").fillna(False).astype(bool))


def _valid_pid(s: pd.Series) -> np.ndarray:
    a: np.ndarray = np.array(s.fillna(-1).to_numpy("int64"), dtype="int64")
    a[(a < 0) | (a >= _PID_LIMIT)] = -1
    return a


def _find_parents(comp: np.ndarray, pid: np.ndarray, ppid: np.ndarray, failed: np.ndarray) -> np.ndarray:
    """Position of each row's parent (latest earlier row with pid == ppid on its host), else -1.

    Rows are already in event order, so position is the order. A failed execve
    starts nothing and is not a candidate parent.
    """
    n = len(pid)
    seq = np.arange(n, dtype="int64")
    left = pd.DataFrame({"seq": seq, "k": np.where(ppid >= 0, comp * _PID_LIMIT + ppid, -1)})
    ok = (pid >= 0) & ~failed
    right = pd.DataFrame({"seq": seq[ok], "k": comp[ok] * _PID_LIMIT + pid[ok], "pos": seq[ok]})
    found = pd.merge_asof(left, right, on="seq", by="k", allow_exact_matches=False, direction="backward")
    parent = np.array(found["pos"].fillna(-1).to_numpy("int64"), copy=True)
    parent[left["k"].to_numpy() < 0] = -1
    return parent


def _text(values: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(values), dtype="string")


def _synthetic_rows(computers: pd.Index, codes: np.ndarray, pids: np.ndarray) -> pd.DataFrame:
    comp = computers.take(codes.astype("int64")) if len(codes) else pd.Index([], dtype="string")
    rows = pd.DataFrame(
        {
            "Computer": pd.array(comp, dtype="string"),
            "Pid": pd.array(pids, dtype="Int64"),
            "Cmdline": pd.array([f"unknown parent pid {p}" for p in pids], dtype="string"),
        }
    )
    rows["Computer"] = rows["Computer"].mask(rows["Computer"] == "")
    return conform(rows, PROCESSES)


def _keys(computers: pd.Index, codes: np.ndarray, *numbers: np.ndarray) -> np.ndarray:
    """Stable 64-bit hashes of what identifies an event, so the same data gives the same keys.

    Host names are hashed once each (there are few); the numbers are int64 arrays.
    """
    names = pd.Series(computers, dtype="object").fillna("").astype(str).to_numpy(object)
    h = pd.util.hash_array(names)[codes] if len(names) else np.zeros(len(codes), "uint64")
    for arr in numbers:
        h = h * np.uint64(1000003) ^ pd.util.hash_array(np.asarray(arr, dtype="int64"))
    return h


def _key_text(hashes: np.ndarray, synthetic: np.ndarray) -> pa.Array:
    """ "p"/"u" + 16 hex digits; repeats (the same event twice) get "-1", "-2" ... suffixes."""
    hexed = hashes.astype(">u8").tobytes().hex()
    keys = [("u" if syn else "p") + hexed[i * 16 : i * 16 + 16] for i, syn in enumerate(synthetic.tolist())]
    srt = np.sort(hashes)
    if (srt[1:] == srt[:-1]).any():
        s = pd.Series(keys)
        rank = s.groupby(s, sort=False).cumcount()
        keys = s.where(rank == 0, s + "-" + rank.astype(str)).tolist()
    return pa.array(keys, type=pa.large_string())


def _depth_and_root(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pointer jumping: each round doubles how far up every node can see (log2(depth) rounds)."""
    idx = np.arange(len(parent))
    top = np.where(parent >= 0, parent, idx)
    dist = (parent >= 0).astype("int64")
    while True:
        up = top[top]
        moving = up != top
        if not moving.any():
            return dist, top
        dist = dist + np.where(moving, dist[top], 0)
        top = up


def _levels(depth: np.ndarray) -> list[np.ndarray]:
    order = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[order], np.arange(int(depth.max(initial=0)) + 2))
    return [order[bounds[d] : bounds[d + 1]] for d in range(len(bounds) - 1)]


def _descendants(parent: np.ndarray, levels: list[np.ndarray]) -> np.ndarray:
    desc = np.zeros(len(parent), dtype="int64")
    for nodes in reversed(levels[1:]):
        np.add.at(desc, parent[nodes], desc[nodes] + 1)
    return desc


def _names(full: pd.DataFrame, src: np.ndarray, synthetic: np.ndarray) -> np.ndarray:
    """Short names by position: basename of Exe, else Comm, else of the command's first word
    (an EXECVE without its SYSCALL record); "[pid N]" for synthetic nodes."""
    full = full[["Exe", "Comm", "Pid", "Cmdline"]].iloc[src].reset_index(drop=True)
    exe = full["Exe"].astype("string").str.strip()
    exe = exe.mask(exe.isin(["", "(null)", "?"]))
    base = exe.str.replace(r"^.*/", "", regex=True)
    argv0 = full["Cmdline"].astype("string").str.extract(r"^\s*(\S+)", expand=False)
    argv0 = argv0.str.replace(r"^.*/", "", regex=True)
    name = base.mask(base == "").fillna(full["Comm"].astype("string"))
    name = name.fillna(argv0.mask(argv0 == "")).fillna("?")
    name = name.mask(synthetic, "[pid " + full["Pid"].astype("string") + "]")
    return np.asarray(name.to_numpy(dtype=object, na_value="?"), dtype=object)


def _paths(names: np.ndarray, parent: np.ndarray, levels: list[np.ndarray]) -> np.ndarray:
    paths = names.copy()
    for nodes in levels[1:]:
        joined = paths[parent[nodes]] + " > " + names[nodes]
        long = np.fromiter((len(p) > MAX_PATH_CHARS for p in joined), bool, len(joined))
        for i in np.flatnonzero(long):
            joined[i] = "… " + joined[i][-MAX_PATH_CHARS:]
        paths[nodes] = joined
    return paths


def _preorder(
    parent: np.ndarray, sort_key: np.ndarray, desc: np.ndarray, levels: list[np.ndarray]
) -> np.ndarray:
    """Depth-first rank: siblings in event order, each followed by its whole subtree."""
    size = desc + 1
    sib = np.lexsort((sort_key, parent))
    grouped = parent[sib]
    csum = np.cumsum(size[sib])
    starts = np.r_[True, grouped[1:] != grouped[:-1]]
    base = np.maximum.accumulate(np.where(starts, csum - size[sib], 0))
    offset = np.empty(len(parent), dtype="int64")
    offset[sib] = csum - size[sib] - base
    pre = offset.copy()
    for nodes in levels[1:]:
        pre[nodes] = pre[parent[nodes]] + 1 + offset[nodes]
    return pre


def _parent_positions(tree: pd.DataFrame) -> np.ndarray:
    keys = pd.Index(tree["ProcKey"].astype("string"))
    return np.asarray(keys.get_indexer(tree["ParentKey"].astype("string").fillna("")), dtype="int64")


def _with_ancestors(tree: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    parent = _parent_positions(tree)
    keep = mask.copy()
    frontier = np.flatnonzero(keep)
    while frontier.size:
        up = parent[frontier]
        up = np.unique(up[up >= 0])
        up = up[~keep[up]]
        keep[up] = True
        frontier = up
    return tree.loc[keep]


def _utc(value: datetime | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(to_utc(pd.Series([value])).iloc[0])
