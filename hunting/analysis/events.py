"""The derived event tables (logons, sudo, cron, account changes) from a host's raw rows.

One entry point so the local ingest ("parse once") and any caller that holds raw frames
derive the same events the same way: syslog message forms first, auditd user records
beside them (a host may have only one of the two), merged so that one logon written by
both sshd and auditd counts once.

Merge rule: an audit-derived row is the same event as a syslog-derived row when both
name the same host and result (action, for account changes) and come from the same
process: that process's syslog rows, weighted by Count (``message repeated N times``),
absorb as many of its audit rows as they count, those lying between its first and last
syslog row give or take ``SAME_EVENT_WINDOW`` (so three failed passwords stay three,
and a pid reused later is not confused). Syslog rows without a pid (some exports) match
the nearest audit row within the window whose user and address (command, user/group)
are equal. The syslog row is kept (its message is what an analyst greps for);
unmatched audit rows are added, and audit notices of a process the syslog describes
are dropped.
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
    ``agree`` columns must be equal outright for pairs without a pid.
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
    has_count = "Count" in left.columns
    lk["_w"] = left["Count"].astype("Int64").fillna(1).clip(lower=1)[counted_l] if has_count else 1
    # 1: same process: its syslog rows, weighted by Count ("message repeated N times"), absorb
    # as many audit rows of the same result (action) lying between them, give or take the window
    gkey = ["Computer", *same, "ProcessID"]
    lp, rp = lk[lk["ProcessID"].notna()], rk[rk["ProcessID"].notna()]
    absorbed = pd.Series(dtype="int64")
    if len(lp) and len(rp):
        span = lp.groupby(gkey).agg(
            _first=("TimeGenerated", "min"), _last=("TimeGenerated", "max"), _n=("_w", "sum")
        )
        cand = rp.merge(span, left_on=gkey, right_index=True, how="inner")
        cand = cand[
            (cand["TimeGenerated"] >= cand["_first"] - window)
            & (cand["TimeGenerated"] <= cand["_last"] + window)
        ].sort_values("TimeGenerated", kind="stable")
        rank = cand.groupby(gkey).cumcount()
        absorbed = cand.loc[rank.to_numpy() < cand["_n"].to_numpy(), "_r"]
    matched = pd.DataFrame({"_r": absorbed.astype("int64")})
    # 2: no pid on the syslog side: the agree columns must match exactly
    rest_r = rk[~rk["_r"].isin(matched["_r"])]
    rest_l = lk[lk["ProcessID"].isna()]
    pairs2 = _nearest(rest_l, rest_r, ["Computer", *same, *sorted(agree)], window)
    matched = pd.concat([matched, _one_to_one(pairs2)[["_r"]]])
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
