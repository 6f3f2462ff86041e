"""Security alerts: summaries, entity parsing and the re-scoping window around one alert."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd

from hunting.timerange import TimeRange, as_utc

# The notebook's limits around an alert: at most 24 h before and 12 h after.
MAX_BEFORE = timedelta(hours=24)
MAX_AFTER = timedelta(hours=12)
DEFAULT_BEFORE = timedelta(hours=6)
DEFAULT_AFTER = timedelta(hours=1)
_SEVERITY_ORDER = {"High": 0, "Medium": 1, "Low": 2, "Informational": 3}


def alert_counts(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts per name with severity, first and last time, most severe first."""
    if alerts.empty:
        return pd.DataFrame(columns=["AlertName", "Severity", "Count", "FirstSeen", "LastSeen"])
    g = alerts.assign(AlertName=alerts["AlertName"].fillna(alerts["AlertDisplayName"]))
    out = (
        g.groupby(["AlertName", "Severity"], dropna=False)
        .agg(
            Count=("TimeGenerated", "size"),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
    )
    out["_order"] = out["Severity"].map(_SEVERITY_ORDER).fillna(9)
    return (
        out.sort_values(["_order", "Count"], ascending=[True, False])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _json(text: object) -> object:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def alert_entities(alert: pd.Series) -> pd.DataFrame:
    """An alert's entities as rows (Type plus the entity's scalar properties as text)."""
    data = _json(alert.get("Entities"))
    rows = []
    for ent in data if isinstance(data, list) else []:
        if not isinstance(ent, dict):
            continue
        props = {k: v for k, v in ent.items() if k not in ("$id", "Type") and not isinstance(v, (dict, list))}
        rows.append({"Type": str(ent.get("Type", "")), "Properties": json.dumps(props, ensure_ascii=False)})
    return pd.DataFrame(rows, columns=["Type", "Properties"])


def alert_properties(alert: pd.Series) -> dict[str, str]:
    """ExtendedProperties as a flat text mapping."""
    data = _json(alert.get("ExtendedProperties"))
    if isinstance(data, dict):
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    return {} if data is None else {"ExtendedProperties": str(data)}


def rescope_window(
    alert_time: datetime, before: timedelta = DEFAULT_BEFORE, after: timedelta = DEFAULT_AFTER
) -> TimeRange:
    """Hours around an alert, clipped to the notebook's 24 h before / 12 h after maximum."""
    before = min(max(before, timedelta(minutes=1)), MAX_BEFORE)
    after = min(max(after, timedelta(0)), MAX_AFTER)
    t = as_utc(alert_time)
    return TimeRange(t - before, t + after + timedelta(seconds=1))
