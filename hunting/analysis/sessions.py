"""Sessions from ``pam_unix(<service>:session)`` opened/closed lines, with logon context.

Opened and closed lines are paired per Computer + ProcessName + ProcessID + service +
user, in time order: a pam_unix session lives in one process, so an ``opened``
followed by a ``closed`` of the same process is one session, and a second
``opened`` means the first never logged its close (End is NaT). When the export
has no ProcessID (some Sentinel CSVs), pairing falls back to time order within
Computer + ProcessName + service + user. A ``closed`` with no ``opened`` before
it is kept as a session with an unknown Start.

System sessions (cron, at, sudo, systemd --user: hundreds a day, opened by no one
logging in) are kept apart: :func:`logon_sessions` leaves them out unless asked
(``include_system=True``) and :func:`is_system_session` tells them apart.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from hunting.analysis.logons import FAILURE, SSH_PROCESSES, SUCCESS, _prepare
from hunting.analysis.message_forms import message_forms
from hunting.schema import ALERTS, LOGONS, conform

SESSION_COLUMNS = [
    "SessionId", "Computer", "User", "SessionType", "ProcessName", "ProcessID", "Start", "End",
    "DurationSeconds", "SourceIP", "SourcePort", "LogonType", "ByUser", "IsRoot", "FirstLogonFromIP",
    "UserFailures", "UserSuccesses", "FailureRatio",
]  # fmt: skip

_DTYPES = {
    "SessionId": "string", "Computer": "string", "User": "string", "SessionType": "string",
    "ProcessName": "string", "ProcessID": "Int64", "Start": "datetime64[ns, UTC]",
    "End": "datetime64[ns, UTC]", "DurationSeconds": "Float64", "SourceIP": "string",
    "SourcePort": "Int64", "LogonType": "string", "ByUser": "string", "IsRoot": "boolean",
    "FirstLogonFromIP": "boolean", "UserFailures": "Int64", "UserSuccesses": "Int64",
    "FailureRatio": "Float64",
}  # fmt: skip

# PAM services of sessions nobody logged in to open: schedulers, sudo, the user's systemd.
SYSTEM_SESSION_SERVICES = frozenset(
    {"cron", "crond", "atd", "systemd-user", "systemd", "sudo", "sudo-i", "run0", "polkit-1", "pkexec"}
)

_SESSION_RE = message_forms().form("pam_session_event").pattern  # hunting/rules/message_forms.yaml
# An Accepted line is written just before its session opens; a stale one must not attach.
_ACCEPT_TOLERANCE = pd.Timedelta("2min")
_NO_PID = -1


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_DTYPES[c]) for c in SESSION_COLUMNS})


def _session_id(row: tuple[object, ...]) -> str:
    text = "\x1f".join("" if pd.isna(v) else str(v) for v in row)
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def pam_sessions(syslog: pd.DataFrame, services: frozenset[str] | None = None) -> pd.DataFrame:
    """Paired pam_unix sessions (all services, or only ``services``) without logon context."""
    if syslog.empty:
        return _empty()
    df = _prepare(syslog)
    cand = df["_msg"].str.contains("session opened for user", regex=False) | df["_msg"].str.contains(
        "session closed for user", regex=False
    )
    df = df[cand]
    m = df["_msg"].str.extract(_SESSION_RE)
    ok = m["what"].notna()
    df, m = df[ok].copy(), m[ok]
    service = m["service"].fillna(df["_old_pam_service"])
    ok = service.notna()
    if services is not None:
        ok &= service.isin(services)
    df, m, service = df[ok], m[ok], service[ok]
    if df.empty:
        return _empty()
    ev = pd.DataFrame(
        {
            "Computer": df["Computer"].fillna(""),
            "ProcessName": df["ProcessName"],
            "_proc": df["_proc"],
            "ProcessID": df["ProcessID"],
            "_pid": df["ProcessID"].fillna(_NO_PID),
            "SessionType": service.astype("string"),
            "User": m["user"],
            "ByUser": m["by"].mask(m["by"] == ""),
            "_open": (m["what"] == "opened").to_numpy(),
            "Time": df["TimeGenerated"],
            "_seq": df["_seq"],
        },
        index=df.index,
    )
    key = ["Computer", "_proc", "_pid", "SessionType", "User"]
    ev = ev.sort_values([*key, "Time", "_seq"], kind="stable").reset_index(drop=True)
    grp = ev.groupby(key, sort=False, dropna=False)
    next_open = grp["_open"].shift(-1)
    prev_open = grp["_open"].shift(1)
    next_time = grp["Time"].shift(-1)
    is_open = ev["_open"]
    paired_open = is_open & next_open.eq(False).fillna(False).astype(bool)
    consumed_close = ~is_open & prev_open.eq(True).fillna(False).astype(bool)
    ev["Start"] = ev["Time"].where(is_open)
    ev["End"] = next_time.where(paired_open)
    ev.loc[~is_open, "End"] = ev.loc[~is_open, "Time"]
    sessions = ev[is_open | ~consumed_close].copy()
    sessions["Start"] = sessions["Start"].astype("datetime64[ns, UTC]")
    sessions["End"] = sessions["End"].astype("datetime64[ns, UTC]")
    sessions["DurationSeconds"] = (sessions["End"] - sessions["Start"]).dt.total_seconds().astype("Float64")
    # Identical sessions (no pid, minute-precision times) are told apart by their rank.
    id_cols = ["Computer", "_proc", "ProcessID", "SessionType", "User", "Start", "End"]
    sessions["_dup"] = sessions.groupby(id_cols, sort=False, dropna=False).cumcount()
    sessions["SessionId"] = [_session_id(r) for r in sessions[[*id_cols, "_dup"]].itertuples(index=False)]
    sessions["LogonType"] = sessions["SessionType"]
    sessions["IsRoot"] = sessions["User"] == "root"
    out = sessions.sort_values(["Start", "End"], kind="stable", na_position="first")
    for col in SESSION_COLUMNS:
        if col not in out:
            out[col] = pd.NA
    return out[SESSION_COLUMNS].astype(_DTYPES).reset_index(drop=True)


def _attach_accepted(sessions: pd.DataFrame, logons: pd.DataFrame) -> pd.DataFrame:
    """Source IP/port and method of the sshd Accepted line of the same pid just before Start."""
    acc = logons[
        (logons["Result"] == SUCCESS)
        & logons["ProcessName"].str.lower().isin(SSH_PROCESSES)
        & logons["ProcessID"].notna()
        & logons["TimeGenerated"].notna()
    ]
    ssh = (
        sessions["SessionType"].eq("sshd").fillna(False)
        & sessions["Start"].notna()
        & sessions["ProcessID"].notna()
    )
    if acc.empty or not ssh.any():
        return sessions
    left = sessions[ssh][["Start", "Computer", "ProcessID"]].reset_index()
    left = left.astype({"Computer": "string", "ProcessID": "int64"}).sort_values("Start", kind="stable")
    right = acc[["TimeGenerated", "Computer", "ProcessID", "SourceIP", "SourcePort", "LogonType"]]
    right = right.astype({"Computer": "string", "ProcessID": "int64"}).sort_values(
        "TimeGenerated", kind="stable"
    )
    hit = pd.merge_asof(
        left, right, left_on="Start", right_on="TimeGenerated", by=["Computer", "ProcessID"],
        direction="backward", tolerance=_ACCEPT_TOLERANCE,
    ).set_index("index")  # fmt: skip
    hit = hit[hit["TimeGenerated"].notna()]
    sessions = sessions.copy()
    sessions["_accepted"] = pd.Series(pd.NaT, index=sessions.index, dtype="datetime64[ns, UTC]")
    sessions.loc[hit.index, "SourceIP"] = hit["SourceIP"]
    sessions.loc[hit.index, "SourcePort"] = hit["SourcePort"]
    sessions.loc[hit.index, "LogonType"] = hit["LogonType"]
    sessions.loc[hit.index, "_accepted"] = hit["TimeGenerated"]
    return sessions


def is_system_session(sessions: pd.DataFrame) -> pd.Series:
    """True for sessions of a system service (:data:`SYSTEM_SESSION_SERVICES`), by SessionType or ProcessName."""
    kind = sessions["SessionType"].astype("string").str.lower().fillna("")
    proc = sessions["ProcessName"].astype("string").str.lower().fillna("")
    return (kind.isin(SYSTEM_SESSION_SERVICES) | proc.isin(SYSTEM_SESSION_SERVICES)).astype(bool)


def system_sessions(syslog: pd.DataFrame) -> pd.DataFrame:
    """Only the system sessions (cron, sudo, systemd-user ...), paired, without logon context."""
    sessions = pam_sessions(syslog)
    return sessions[is_system_session(sessions)].reset_index(drop=True)


def logon_sessions(
    syslog: pd.DataFrame, logons: pd.DataFrame, *, include_system: bool = False
) -> pd.DataFrame:
    """Logon pam_unix sessions (sshd, su, login, gdm ...) with the logon facts around them.

    System sessions (cron, sudo, systemd-user ...) are left out unless ``include_system``.

    UserFailures/UserSuccesses count the user's logons (weighted by Count) on that
    Computer over the whole frame; FirstLogonFromIP is true for the session whose
    Accepted line is the first success from that IP on that Computer.
    """
    sessions = pam_sessions(syslog)
    if not include_system and len(sessions):
        sessions = sessions[~is_system_session(sessions)].reset_index(drop=True)
    if sessions.empty:
        return sessions
    lg = conform(logons, LOGONS)
    sessions = _attach_accepted(sessions, lg)
    ok = lg[(lg["Result"] == SUCCESS) & lg["SourceIP"].notna()]
    first = ok.groupby(["Computer", "SourceIP"])["TimeGenerated"].min().rename("_first").reset_index()
    if "_accepted" in sessions:
        merged = sessions[["Computer", "SourceIP", "_accepted"]].merge(
            first, on=["Computer", "SourceIP"], how="left"
        )
        flag = (merged["_accepted"] == merged["_first"]).fillna(False).to_numpy(dtype=bool)
        sessions["FirstLogonFromIP"] = flag
    else:
        sessions["FirstLogonFromIP"] = False
    weighted = lg.assign(_n=lg["Count"].fillna(1))
    per_user = (
        weighted[weighted["Result"].isin([SUCCESS, FAILURE])]
        .pivot_table(index=["Computer", "User"], columns="Result", values="_n", aggfunc="sum", fill_value=0)
        .reindex(columns=[FAILURE, SUCCESS], fill_value=0)
        .reset_index()
    )
    counts = sessions[["Computer", "User"]].merge(per_user, on=["Computer", "User"], how="left")
    fails = counts[FAILURE].fillna(0).to_numpy(dtype=np.int64)
    succ = counts[SUCCESS].fillna(0).to_numpy(dtype=np.int64)
    # A system session (sudo, cron ...) counts only its own program's logons: root's SSH
    # failures say nothing about an administrator's routine `sudo` (issue 14 item 9).
    system = is_system_session(sessions).to_numpy(dtype=bool)
    if system.any():
        own = (
            weighted[weighted["Result"].isin([SUCCESS, FAILURE])]
            .assign(_prog=lambda d: d["ProcessName"].astype("string").str.lower())
            .pivot_table(
                index=["Computer", "User", "_prog"],
                columns="Result",
                values="_n",
                aggfunc="sum",
                fill_value=0,
            )
            .reindex(columns=[FAILURE, SUCCESS], fill_value=0)
            .reset_index()
        )
        keys = sessions[["Computer", "User"]].assign(
            _prog=sessions["ProcessName"].astype("string").str.lower()
        )
        own_counts = keys.merge(own, on=["Computer", "User", "_prog"], how="left")
        fails = np.where(system, own_counts[FAILURE].fillna(0).to_numpy(dtype=np.int64), fails)
        succ = np.where(system, own_counts[SUCCESS].fillna(0).to_numpy(dtype=np.int64), succ)
    sessions["UserFailures"] = fails
    sessions["UserSuccesses"] = succ
    total = fails + succ
    sessions["FailureRatio"] = pd.array(
        np.where(total > 0, fails / np.maximum(total, 1), np.nan), dtype="Float64"
    )
    sessions["FailureRatio"] = sessions["FailureRatio"].mask(total == 0)
    return sessions[SESSION_COLUMNS].astype(_DTYPES).reset_index(drop=True)


def _host_key(names: pd.Series) -> pd.Series:
    """Lower-case short host name, so ``web01`` and ``web01.contoso.com`` compare equal."""
    low = names.astype("string").str.strip().str.lower()
    is_ip = low.str.fullmatch(r"[\d.]+|[0-9a-f:]+").fillna(False)
    return low.where(is_ip, low.str.split(".", n=1).str[0])


def flag_alerts(sessions: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    """Add AlertDuringSession and AlertNames: alerts on the same host within [Start, End or +inf).

    The alert's StartTimeUtc is used when present, else TimeGenerated. A session with
    an unknown Start (its opened line is outside the frame) begins at -inf.
    """
    out = sessions.copy()
    out["AlertDuringSession"] = pd.array([False] * len(out), dtype="boolean")
    out["AlertNames"] = pd.array([pd.NA] * len(out), dtype="string")
    if out.empty or alerts.empty:
        return out
    al = conform(alerts, ALERTS)
    when = al["StartTimeUtc"].fillna(al["TimeGenerated"])
    name = al["AlertDisplayName"].fillna(al["AlertName"]).fillna("(unnamed alert)")
    right = pd.DataFrame({"_host": _host_key(al["Computer"]), "_when": when, "_name": name}).dropna(
        subset=["_host", "_when"]
    )
    left = pd.DataFrame(
        {
            "_row": np.arange(len(out)),
            "_host": _host_key(out["Computer"]).to_numpy(),
            # .array keeps the UTC dtype: to_numpy() of an all-NaT column becomes naive
            # datetime64, and comparing that with tz-aware alert times raised TypeError (issue 16)
            "_start": out["Start"].astype("datetime64[ns, UTC]").array,
            "_end": out["End"].astype("datetime64[ns, UTC]").array,
        }
    )
    pairs = left.merge(right, on="_host", how="inner")
    after_start = pairs["_start"].isna() | (pairs["_when"] >= pairs["_start"])
    before_end = pairs["_end"].isna() | (pairs["_when"] < pairs["_end"])
    pairs = pairs[after_start & before_end]
    if pairs.empty:
        return out
    names = pairs.groupby("_row")["_name"].agg(lambda s: "; ".join(sorted({str(x) for x in s})))
    rows = names.index.to_numpy()
    out.iloc[rows, out.columns.get_loc("AlertDuringSession")] = True
    out.iloc[rows, out.columns.get_loc("AlertNames")] = names.to_numpy()
    return out
