"""Maps of IP locations: an offline Altair world map, and a folium map when online.

Offline first: analysts often work on isolated networks, where Leaflet (folium) cannot
load its JavaScript or tiles. The Altair map draws country shapes shipped in
hunting/data with points at coordinates from the offline geolocation.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import altair as alt
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from hunting.render.jsenc import js_literal
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


def _text_rows(fields: dict[str, object]) -> list[list[str]]:
    """Popup rows as plain strings (control characters visible, length capped)."""
    return [[plain(k, 60), plain(v, 200)] for k, v in fields.items()]


class _TextPopup(MacroElement):  # type: ignore[misc]
    """Popup and tooltip whose text reaches the page only through ``textContent``.

    folium's own Popup/Tooltip paste HTML into a JavaScript template literal, where a
    user name written as ``\\u003cimg src=x onerror=...\\u003e`` turns back into markup
    after HTML-escaping (issue 16). Here the values are a JSON literal (``js_literal``:
    ``<``, ``>``, ``&``, ``'``, U+2028/2029 escaped) and the DOM is built with
    ``textContent``, so no value is ever parsed as HTML or code, and backslashes stay.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
    var rows = {{ this.rows }}, tip = {{ this.tip }};
    var box = document.createElement("div");
    rows.forEach(function (r) {
        var b = document.createElement("b");
        b.textContent = r[0];
        box.appendChild(b);
        box.appendChild(document.createTextNode(": " + r[1]));
        box.appendChild(document.createElement("br"));
    });
    var t = document.createElement("span");
    t.textContent = tip;
    {{ this._parent.get_name() }}.bindPopup(box, {maxWidth: 400});
    {{ this._parent.get_name() }}.bindTooltip(t);
})();
{% endmacro %}"""
    )

    def __init__(self, rows: list[list[str]], tip: str) -> None:
        super().__init__()
        self._name = "TextPopup"
        self.rows = js_literal(rows)
        self.tip = js_literal(tip)


def folium_map(
    points: pd.DataFrame, *, color: str = "Result", red: frozenset[str] = frozenset({"Failure"})
) -> object:
    """A folium map whose popups and tooltips show log text as text (needs internet for
    Leaflet and tiles)."""
    import folium

    fmap = folium.Map(location=[20, 0], zoom_start=2, tiles="OpenStreetMap")
    for row in points.dropna(subset=["Latitude", "Longitude"]).itertuples(index=False):
        fields = row._asdict()
        marker = folium.CircleMarker(
            location=[fields["Latitude"], fields["Longitude"]],
            radius=5 + min(15, int(fields.get("Count", 1) or 1) ** 0.5),
            color="#e4572e" if str(fields.get(color)) in red else "#3bb273",
            fill=True,
        )
        marker.add_child(_TextPopup(_text_rows(fields), plain(fields.get("Ip", ""), 60)))
        marker.add_to(fmap)
    return fmap
