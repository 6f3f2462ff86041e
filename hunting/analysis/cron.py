"""cron job runs and crontab edits (Debian cron, RHEL cronie) from the Syslog table.

Both daemons and crontab(1) log ``(name) EVENT (detail)``. User is the first name:
the job's owner for ``CMD``, the person who ran crontab for edits. Command holds
the detail: the command for ``run``, the crontab's owner for edits and lists
(root editing alice's crontab is ``(root) BEGIN EDIT (alice)``), the file for
``reload``. Other events (INFO, STARTUP, MAIL, CMDOUT ...) are not kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import pandas as pd

from hunting.analysis.logons import _prepare
from hunting.analysis.message_forms import extract, message_forms
from hunting.schema import CRON, conform

# The form (and its event -> Action names) is in hunting/rules/message_forms.yaml; the
# detail runs to the last ")" on the line: commands may hold parentheses themselves.
_CRON: Final = message_forms().form("cron_event")
CRON_PROCESSES: Final = message_forms().programs("cron")
_ACTIONS: Final = dict(_CRON.actions)


def cron_events(syslog: pd.DataFrame) -> pd.DataFrame:
    """Job runs and crontab edits/lists/deletes/reloads as CRON rows, oldest first."""
    if syslog.empty:
        return CRON.empty()
    df = _prepare(syslog)
    df = df[df["_proc"].isin(CRON_PROCESSES)]
    if df.empty:
        return CRON.empty()
    m = extract(df["_msg"], _CRON.pattern)
    df = df.loc[m.index].copy()
    df["User"] = m["user"].str.strip()
    df["Action"] = m["event"].map(_ACTIONS)
    df["Command"] = m["detail"].str.strip()
    df = df.sort_values(["TimeGenerated", "_seq"], kind="stable")
    return conform(df, CRON)


CRONTAB_CHANGES: Final = ("replace", "delete")


def crontab_changes(cron: pd.DataFrame) -> pd.DataFrame:
    """The one rule for "crontab edits", everywhere (report, Findings, Session detail): a crontab
    that changed (REPLACE) or was removed (DELETE). ``crontab -e`` logs BEGIN EDIT, REPLACE and
    END EDIT for one change, and LIST/RELOAD change nothing, so counting every line overcounts."""
    cr = conform(cron, CRON)
    return cr[cr["Action"].isin(CRONTAB_CHANGES).fillna(False)].reset_index(drop=True)


def _utc(when: datetime | str | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(when)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def new_cron_commands(
    cron_events: pd.DataFrame, *, baseline_end: datetime | str | pd.Timestamp
) -> pd.DataFrame:
    """Commands (per Computer and User) that cron first ran after ``baseline_end``.

    Everything run at or before ``baseline_end`` is the regular background. Runs is
    the number of runs after it; NewUser is true when that user had no cron runs at
    all in the baseline; BaselineCommands counts the distinct commands of the baseline
    on that Computer, so an empty baseline (nothing to compare with) is visible.
    A naive ``baseline_end`` is taken as UTC.
    """
    cols = ["Computer", "User", "Command", "FirstSeen", "LastSeen", "Runs", "NewUser", "BaselineCommands"]
    end = _utc(baseline_end)
    ev = conform(cron_events, CRON)
    runs = ev[(ev["Action"] == "run") & ev["TimeGenerated"].notna()].copy()
    key = ["Computer", "User", "Command"]
    for k in key:
        runs[k] = runs[k].fillna("")
    before = runs[runs["TimeGenerated"] <= end]
    after = runs[runs["TimeGenerated"] > end]
    if after.empty:
        return _empty_new(cols)
    known = before[key].drop_duplicates()
    known["_known"] = True
    agg = (
        after.groupby(key, sort=False)
        .agg(
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
            Runs=("TimeGenerated", "size"),
        )
        .reset_index()
        .merge(known, on=key, how="left")
    )
    agg = agg[agg["_known"].isna()].copy()
    users = before[["Computer", "User"]].drop_duplicates().assign(_user_known=True)
    agg = agg.merge(users, on=["Computer", "User"], how="left")
    agg["NewUser"] = agg["_user_known"].isna()
    per_host = before.groupby("Computer")["Command"].nunique().rename("BaselineCommands").reset_index()
    agg = agg.merge(per_host, on="Computer", how="left")
    agg["BaselineCommands"] = agg["BaselineCommands"].fillna(0)
    agg = agg.sort_values(["FirstSeen", "Computer", "User"], kind="stable")
    return agg[cols].astype(_NEW_DTYPES).reset_index(drop=True)


_NEW_DTYPES = {
    "Computer": "string", "User": "string", "Command": "string", "FirstSeen": "datetime64[ns, UTC]",
    "LastSeen": "datetime64[ns, UTC]", "Runs": "Int64", "NewUser": "boolean", "BaselineCommands": "Int64",
}  # fmt: skip


def _empty_new(cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_NEW_DTYPES[c]) for c in cols})
