"""The derived event tables (logons, sudo, cron, account changes) from a host's raw rows.

One entry point so the local ingest ("parse once") and any caller that holds raw frames
derive the same events the same way: syslog message forms first, auditd user records
beside them (a host may have only one of the two), merged so that one logon written by
both sshd and auditd counts once.

Merge rule: an audit-derived row is the same event as a syslog-derived row when both
name the same host and result (action, for account changes), lie within
``SAME_EVENT_WINDOW`` of each other, and come from the same process where both give
a pid; without a pid on the syslog side, the user and address (command, for sudo)
must agree instead. Each syslog row absorbs at most one audit row (the nearest in
time), so three failed passwords in one sshd process stay three. The syslog row is
kept (its message is what an analyst greps for); unmatched audit rows are added.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from hunting.schema import ACCOUNTS, CRON, LOGONS, SUDO, conform

SAME_EVENT_WINDOW: Final = pd.Timedelta("5s")


def derive_event_tables(syslog: pd.DataFrame, audit: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Event tables by schema table name, each conformed to its schema.

    ``syslog`` holds Syslog-schema rows (any hosts); ``audit`` AuditEvents-schema rows or None.
    """
    from hunting.analysis.accounts import account_changes
    from hunting.analysis.cron import cron_events
    from hunting.analysis.logons import logon_events
    from hunting.analysis.sudo import sudo_events

    logons = conform(logon_events(syslog), LOGONS)
    sudo = conform(sudo_events(syslog), SUDO)
    accounts = conform(account_changes(syslog), ACCOUNTS)
    if audit is not None and len(audit):
        logons = with_audit_events(LOGONS.name, logons, audit)
        sudo = with_audit_events(SUDO.name, sudo, audit)
        accounts = with_audit_events(ACCOUNTS.name, accounts, audit)
    return {
        LOGONS.name: logons,
        SUDO.name: sudo,
        CRON.name: conform(cron_events(syslog), CRON),
        ACCOUNTS.name: accounts,
    }


def with_audit_events(table: str, rows: pd.DataFrame, audit: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (one derived table, from syslog) plus that table's events from ``audit``, merged.

    For sources that derive the syslog side elsewhere (KQL in Log Analytics).
    """
    from hunting.analysis.audit_events import audit_account_changes, audit_logons, audit_sudo

    if table == LOGONS.name:
        return merge_same_events(conform(rows, LOGONS), audit_logons(audit), ["Result"], {"User", "SourceIP"})
    if table == SUDO.name:
        return merge_same_events(conform(rows, SUDO), audit_sudo(audit), [], {"Command"})
    if table == ACCOUNTS.name:
        return merge_same_events(
            conform(rows, ACCOUNTS), audit_account_changes(audit), ["Action"], {"User", "Group"}
        )
    raise ValueError(f"audit records give no {table} rows")


def _nearest(left: pd.DataFrame, right: pd.DataFrame, by: list[str], window: pd.Timedelta) -> pd.DataFrame:
    """Pairs (``_l``, ``_r``, ``_dt``): for each right row the nearest left row with equal ``by`` values."""
    if left.empty or right.empty:
        return pd.DataFrame({"_l": [], "_r": [], "_dt": []})
    lk = left[[*by, "TimeGenerated", "_l"]].dropna(subset=["TimeGenerated"]).sort_values("TimeGenerated")
    rk = right[[*by, "TimeGenerated", "_r"]].dropna(subset=["TimeGenerated"]).sort_values("TimeGenerated")
    lk = lk.assign(_lt=lk["TimeGenerated"])
    pairs = pd.merge_asof(rk, lk, on="TimeGenerated", by=by, tolerance=window, direction="nearest")
    pairs = pairs.dropna(subset=["_l"])
    pairs["_dt"] = (pairs["TimeGenerated"] - pairs["_lt"]).abs()
    return pairs[["_l", "_r", "_dt"]]


def _keyed(df: pd.DataFrame, cols: list[str], tag: str) -> pd.DataFrame:
    out = pd.DataFrame({"TimeGenerated": df["TimeGenerated"], tag: np.arange(len(df))})
    for c in cols:
        out[c] = df[c].astype("string").fillna("")
    return out


def merge_same_events(
    syslog_rows: pd.DataFrame,
    audit_rows: pd.DataFrame,
    same: list[str],
    agree: set[str],
    *,
    window: pd.Timedelta = SAME_EVENT_WINDOW,
) -> pd.DataFrame:
    """Syslog rows plus the audit rows that describe no syslog row (see the module's merge rule).

    ``same`` columns must be equal besides Computer (and ProcessID where both have one);
    ``agree`` columns must be equal where both rows have a value (pid pairs) or equal
    outright (pairs without a pid).
    """
    if audit_rows.empty:
        return syslog_rows
    if syslog_rows.empty:
        return audit_rows
    left = syslog_rows.reset_index(drop=True)
    right = audit_rows.reset_index(drop=True)
    if "Result" in same:  # Notice rows describe attempts counted elsewhere: never merged
        counted_l = left["Result"].isin(["Success", "Failure"]).to_numpy()
        counted_r = right["Result"].isin(["Success", "Failure"]).to_numpy()
    else:
        counted_l = np.ones(len(left), bool)
        counted_r = np.ones(len(right), bool)
    cols = ["Computer", *same, *sorted(agree)]
    lk = _keyed(left, cols, "_l")[counted_l]
    rk = _keyed(right, cols, "_r")[counted_r]
    lk["ProcessID"] = left["ProcessID"].astype("Int64")[counted_l]
    rk["ProcessID"] = right["ProcessID"].astype("Int64")[counted_r]
    # 1: same process
    lp, rp = lk[lk["ProcessID"].notna()], rk[rk["ProcessID"].notna()]
    pairs = _nearest(
        lp.astype({"ProcessID": "int64"}),
        rp.astype({"ProcessID": "int64"}),
        ["Computer", *same, "ProcessID"],
        window,
    )
    if len(pairs):
        lv = lp.set_index("_l").loc[pairs["_l"].astype(int)]
        rv = rp.set_index("_r").loc[pairs["_r"].astype(int)]
        ok = np.ones(len(pairs), bool)
        for c in agree:
            a, b = lv[c].to_numpy(), rv[c].to_numpy()
            ok &= (a == "") | (b == "") | (a == b)
        pairs = pairs[ok]
    matched = _one_to_one(pairs)
    # 2: no pid on the syslog side: the agree columns must match exactly
    rest_r = rk[~rk["_r"].isin(matched["_r"])]
    rest_l = lk[lk["ProcessID"].isna() & ~lk["_l"].isin(matched["_l"])]
    pairs2 = _nearest(rest_l, rest_r, ["Computer", *same, *sorted(agree)], window)
    matched = pd.concat([matched, _one_to_one(pairs2)])
    extra = right.drop(index=matched["_r"].astype(int).to_numpy())
    if "Result" in same:  # an audit Notice (PAM's USER_AUTH beside sshd's USER_LOGIN) of a process
        # the syslog rows already describe adds nothing but a second notice
        seen = set(zip(left["Computer"].fillna(""), left["ProcessID"].astype("Int64"), strict=True))
        pairs = zip(extra["Computer"].fillna(""), extra["ProcessID"].astype("Int64"), strict=True)
        described = pd.Series([p in seen for p in pairs], index=extra.index, dtype=bool)
        extra = extra[~(described & (extra["Result"] == "Notice"))]
    out = pd.concat([left, extra], ignore_index=True)
    return out.sort_values("TimeGenerated", kind="stable").reset_index(drop=True)


def _one_to_one(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each syslog row absorbs at most one audit row: the nearest in time."""
    if pairs.empty:
        return pd.DataFrame({"_l": pd.Series(dtype="int64"), "_r": pd.Series(dtype="int64")})
    best = pairs.sort_values("_dt", kind="stable").drop_duplicates("_l").drop_duplicates("_r")
    return best[["_l", "_r"]].astype("int64")
