"""Altair charts used across pages; times shown in UTC whatever the browser's zone."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from ui.safe import plain

MAX_MARKS = 20_000
RESULT_SCALE = alt.Scale(domain=["Failure", "Success"], range=["#e4572e", "#3bb273"])


def _with_utc_text(df: pd.DataFrame, time_col: str) -> pd.DataFrame:
    out = df.copy()
    out["Time (UTC)"] = out[time_col].dt.strftime("%Y-%m-%d %H:%M:%S")
    return out


def _text_cols(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        if (
            c in out.columns
            and out[c].dtype != "datetime64[ns, UTC]"
            and not pd.api.types.is_numeric_dtype(out[c])
        ):
            out[c] = out[c].map(lambda v: plain(v, 200))
    return out


def event_timeline(
    df: pd.DataFrame,
    *,
    y: str,
    color: str | None = None,
    tooltip: Sequence[str] = (),
    time_col: str = "TimeGenerated",
    height: int = 220,
    color_scale: alt.Scale | None = None,
) -> alt.Chart:
    """One tick per event on a UTC time axis, one row per ``y`` value."""
    data = _text_cols(
        _with_utc_text(df.head(MAX_MARKS), time_col), [y, *(tooltip or ()), *([color] if color else [])]
    )
    enc = {
        "x": alt.X(f"{time_col}:T", title="Time (UTC)", scale=alt.Scale(type="utc")),
        "y": alt.Y(f"{y}:N", title=None),
        "tooltip": ["Time (UTC)", *tooltip],
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", scale=color_scale or alt.Undefined)
    return alt.Chart(data).mark_tick(thickness=2, size=14).encode(**enc).properties(height=height)


def volume_chart(
    df: pd.DataFrame, *, key_title: str, height: int = 200, brush_detail: bool = False
) -> alt.Chart | alt.VConcatChart:
    """Stacked counts per time bucket; optionally an overview brush driving the detail chart."""
    data = _text_cols(_with_utc_text(df, "TimeGenerated"), ["Key"])
    tooltip: list[str | alt.Tooltip] = ["Time (UTC)", alt.Tooltip("Key:N", title=key_title), "Count:Q"]
    base = alt.Chart(data).encode(
        color=alt.Color("Key:N", title=key_title),
        y=alt.Y("Count:Q", stack=True),
        tooltip=tooltip,
    )
    if not brush_detail:
        return (
            base.mark_bar()
            .encode(x=alt.X("TimeGenerated:T", title="Time (UTC)", scale=alt.Scale(type="utc")))
            .properties(height=height)
        )
    brush = alt.selection_interval(encodings=["x"])
    detail = (
        base.mark_bar()
        .encode(x=alt.X("TimeGenerated:T", title="Time (UTC)", scale=alt.Scale(type="utc", domain=brush)))
        .properties(height=height)
    )
    overview = (
        alt.Chart(data)
        .mark_area()
        .encode(
            x=alt.X("TimeGenerated:T", title="Drag to zoom the chart above", scale=alt.Scale(type="utc")),
            y=alt.Y("sum(Count):Q", title=None),
        )
        .add_params(brush)
        .properties(height=60)
    )
    return alt.vconcat(detail, overview)


def bar_counts(
    df: pd.DataFrame, *, category: str, value: str = "Count", color: str | None = None, height: int = 240
) -> alt.Chart:
    """Horizontal bars, largest first."""
    data = _text_cols(df, [category, *([color] if color else [])])
    enc = {
        "y": alt.Y(f"{category}:N", sort="-x", title=None),
        "x": alt.X(f"sum({value}):Q", title=value),
        "tooltip": [category, alt.Tooltip(f"sum({value}):Q", title=value), *([color] if color else [])],
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N")
    return alt.Chart(data).mark_bar().encode(**enc).properties(height=height)
