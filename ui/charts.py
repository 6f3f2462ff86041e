"""Altair charts used across pages; times shown in UTC whatever the browser's zone."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from ui.safe import plain

MAX_MARKS = 20_000
FAILURE_RED = "#d62728"
SUCCESS_GREEN = "#2ca02c"
OTHER_GREY = "#8c8c8c"
# One colour per value wherever the field is drawn, on every page (rule as data). Severity
# palettes are sequential: the more severe, the darker.
PALETTES: dict[str, dict[str, str]] = {
    "Result": {"Failure": FAILURE_RED, "Success": SUCCESS_GREEN},
    "Severity": {"High": "#7f0000", "Medium": "#d7301f", "Low": "#fc8d59", "Informational": "#9ecae1"},
    "SeverityLevel": {
        "emerg": "#4d0000", "alert": "#67000d", "crit": "#7f0000", "err": "#d62728",
        "warning": "#fd8d3c", "notice": "#fdd0a2", "info": "#9ecae1", "debug": "#c7c7c7",
    },
}  # fmt: skip
RESULT_SCALE = alt.Scale(domain=list(PALETTES["Result"]), range=list(PALETTES["Result"].values()))
COUNT_AXIS = alt.Axis(format="d", tickMinStep=1)  # counts are whole numbers: no 0.2, 0.4 ticks
# Zoomed in to hours, Vega drops the date: always print it, in UTC.
TIME_AXIS = alt.Axis(format="%m-%d %H:%M", formatType="utc", labelOverlap=True, labelAngle=0)
LABEL_LIMIT = 260  # px before a category label is cut with an ellipsis (the tooltip has it all)


def palette_for(field: str | None) -> dict[str, str] | None:
    """The fixed colours of a field (Result, Severity, SeverityLevel), else None."""
    return PALETTES.get(field or "")


def colour(
    field: str,
    values: Sequence[object],
    *,
    title: str | None = None,
    legend: bool = True,
    palette_of: str | None = None,
) -> alt.Color:
    """Colour encoding of ``field``: the fixed palette of ``palette_of`` (default: the field)
    when it has one (only the values present, in the palette's order, matched
    case-insensitively), else Vega's default categories."""
    args: dict[str, object] = {"title": title if title is not None else field}
    if not legend:
        args["legend"] = None
    palette = palette_for(palette_of or field)
    if palette is None:
        return alt.Color(f"{field}:N", **args)  # type: ignore[arg-type]
    lower = {k.lower(): (i, v) for i, (k, v) in enumerate(palette.items())}
    present = sorted(
        {str(v) for v in values if v is not None and not pd.isna(v)},
        key=lambda v: (lower.get(v.lower(), (len(lower), ""))[0], v),
    )
    rng = [lower.get(v.lower(), (0, OTHER_GREY))[1] for v in present]
    return alt.Color(f"{field}:N", scale=alt.Scale(domain=present, range=rng), **args)  # type: ignore[arg-type]


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
        "x": alt.X(f"{time_col}:T", title="Time (UTC)", scale=alt.Scale(type="utc"), axis=TIME_AXIS),
        "y": alt.Y(f"{y}:N", title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        "tooltip": ["Time (UTC)", *tooltip],
    }
    if color:
        enc["color"] = (
            alt.Color(f"{color}:N", scale=color_scale)
            if color_scale is not None and palette_for(color) is None
            else colour(color, data[color].tolist())
        )
    rows = data[y].nunique() if y in data.columns else 1
    return (
        alt.Chart(data)
        .mark_tick(thickness=2, size=14)
        .encode(**enc)
        .properties(height=max(height, 40 + 22 * rows))
    )


def volume_chart(
    df: pd.DataFrame, *, key_title: str, height: int = 200, brush_detail: bool = False
) -> alt.Chart | alt.VConcatChart:
    """Stacked counts per time bucket; optionally an overview brush driving the detail chart."""
    data = _text_cols(_with_utc_text(df, "TimeGenerated"), ["Key"])
    tooltip: list[str | alt.Tooltip] = ["Time (UTC)", alt.Tooltip("Key:N", title=key_title), "Count:Q"]
    key_colour = colour("Key", data["Key"].tolist(), title=key_title, palette_of=key_title)
    base = alt.Chart(data).encode(
        color=key_colour,
        y=alt.Y("Count:Q", stack=True, axis=COUNT_AXIS),
        tooltip=tooltip,
    )
    if not brush_detail:
        return (
            base.mark_bar()
            .encode(
                x=alt.X("TimeGenerated:T", title="Time (UTC)", scale=alt.Scale(type="utc"), axis=TIME_AXIS)
            )
            .properties(height=height)
        )
    brush = alt.selection_interval(encodings=["x"])
    detail = (
        base.mark_bar()
        .encode(
            x=alt.X(
                "TimeGenerated:T",
                title="Time (UTC)",
                scale=alt.Scale(type="utc", domain=brush),
                axis=TIME_AXIS,
            )
        )
        .properties(height=height)
    )
    overview = (
        alt.Chart(data)
        .mark_area()
        .encode(
            x=alt.X(
                "TimeGenerated:T",
                title="Drag to zoom the chart above",
                scale=alt.Scale(type="utc"),
                axis=TIME_AXIS,
            ),
            y=alt.Y("sum(Count):Q", title=None, axis=alt.Axis(format="d", tickMinStep=1, tickCount=2)),
        )
        .add_params(brush)
        .properties(height=60)
    )
    return alt.vconcat(detail, overview)


def bar_counts(
    df: pd.DataFrame, *, category: str, value: str = "Count", color: str | None = None, height: int = 240
) -> alt.Chart:
    """Horizontal bars, largest first; a row of at least 24 px per category, so one category
    still draws a bar; whole-number axis; labels cut only past LABEL_LIMIT (full in the tooltip)."""
    data = _text_cols(df, [category, *([color] if color else [])])
    enc = {
        "y": alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        "x": alt.X(f"sum({value}):Q", title=value, axis=COUNT_AXIS),
        "tooltip": [category, alt.Tooltip(f"sum({value}):Q", title=value), *([color] if color else [])],
    }
    if color:
        enc["color"] = colour(color, data[color].tolist())
    rows = max(1, data[category].nunique(dropna=False)) if category in data.columns else 1
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(**enc)
        .properties(height=max(height if rows > 8 else 0, 60 + 26 * rows))
    )
