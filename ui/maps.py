"""Maps of IP locations: an offline Altair world map, and a folium map when online.

Offline first: analysts often work on isolated networks, where Leaflet (folium) cannot
load its JavaScript or tiles. The Altair map draws country shapes shipped in
hunting/data with points at coordinates from the offline geolocation.
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path

import altair as alt
import pandas as pd

from ui.charts import RESULT_SCALE
from ui.safe import plain

WORLD = Path(__file__).resolve().parent.parent / "hunting" / "data" / "world-countries-110m.json"


@cache
def _world() -> dict[str, object]:
    return json.loads(WORLD.read_text())


def world_map(
    points: pd.DataFrame, *, color: str = "Result", size: str = "Count", tooltip: list[str] | None = None
) -> alt.LayerChart | alt.FacetChart:
    """Points (Latitude, Longitude, ...) over country shapes; works with no internet."""
    countries = alt.Data(values=_world(), format=alt.DataFormat(type="topojson", feature="countries"))
    base = (
        alt.Chart(countries)
        .mark_geoshape(fill="#2b2f3a", stroke="#555b6e", strokeWidth=0.4)
        .project(type="equalEarth")
    )
    data = points.dropna(subset=["Latitude", "Longitude"]).copy()
    for c in data.columns:
        if data[c].dtype == "string" or data[c].dtype == object:
            data[c] = data[c].map(lambda v: plain(v, 120))
    dots = (
        alt.Chart(data)
        .mark_circle(opacity=0.8, stroke="white", strokeWidth=0.5)
        .encode(
            longitude="Longitude:Q",
            latitude="Latitude:Q",
            color=alt.Color(f"{color}:N", scale=RESULT_SCALE if color == "Result" else alt.Undefined),
            size=alt.Size(f"{size}:Q", scale=alt.Scale(range=[30, 600]), legend=None),
            tooltip=tooltip or [c for c in data.columns if c not in ("Latitude", "Longitude")],
        )
    )
    return alt.layer(base, dots).properties(height=380)


def _html_text(value: object, limit: int = 200) -> str:
    """Text for folium popups/tooltips: HTML-escaped, and inert in the two template
    languages folium passes it through (Jinja2 re-renders popups; Leaflet code puts
    them in a JavaScript template literal), so `{{ }}`, `{% %}` and `${}` stay text."""
    text = html.escape(plain(value, limit))
    return text.translate({ord("{"): "&#123;", ord("}"): "&#125;", ord("$"): "&#36;", ord("`"): "&#96;"})


def folium_map(
    points: pd.DataFrame, *, color: str = "Result", red: frozenset[str] = frozenset({"Failure"})
) -> object:
    """A folium map with escaped popups (needs internet for Leaflet and tiles)."""
    import folium

    fmap = folium.Map(location=[20, 0], zoom_start=2, tiles="OpenStreetMap")
    for row in points.dropna(subset=["Latitude", "Longitude"]).itertuples(index=False):
        fields = row._asdict()
        popup = "<br>".join(f"<b>{_html_text(k)}</b>: {_html_text(v)}" for k, v in fields.items())
        folium.CircleMarker(
            location=[fields["Latitude"], fields["Longitude"]],
            radius=5 + min(15, int(fields.get("Count", 1) or 1) ** 0.5),
            color="#e4572e" if str(fields.get(color)) in red else "#3bb273",
            fill=True,
            popup=folium.Popup(popup, max_width=400),
            tooltip=_html_text(fields.get("Ip", ""), 60),
        ).add_to(fmap)
    return fmap
