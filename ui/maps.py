"""Maps of IP locations: an offline Altair world map, and an interactive folium map.

Offline first: analysts often work on isolated networks. The Altair map draws country
shapes shipped in hunting/data with points at coordinates from the offline geolocation.
The folium map loads Leaflet from the app itself (``static/leaflet``, served by
Streamlit's static file serving) instead of folium's CDN links, and draws the same
shipped country outlines as its base layer; OpenStreetMap tiles, which need internet
(and tell tile.openstreetmap.org that someone is looking), are added only on request.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st
from branca.element import MacroElement
from jinja2 import Template

from hunting.render.jsenc import js_literal
from ui.charts import RESULT_SCALE
from ui.safe import plain

WORLD = Path(__file__).resolve().parent.parent / "hunting" / "data" / "world-countries-110m.json"
# Where Streamlit serves the repository's static/ folder (``[server] enableStaticServing``).
STATIC_URL = "app/static"
LAND_FILL, LAND_STROKE, SEA = "#2b2f3a", "#555b6e", "#1b1e26"
TILES_NOTE = (
    "Country outlines ship with the app; this map makes no request off the app. "
    "Street tiles come from tile.openstreetmap.org and need internet: without it they stay grey."
)


@cache
def _world() -> dict[str, object]:
    return json.loads(WORLD.read_text())


def static_url(path: str) -> str:
    """URL of ``static/<path>`` as the app serves it (honours ``server.baseUrlPath``)."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return "/" + "/".join(p for p in (base, STATIC_URL, path) if p)


def _arc_points(topo: dict, index: int) -> list[list[float]]:
    """One TopoJSON arc as lon/lat pairs (delta-decoded, reversed for ``~index``)."""
    arc = topo["arcs"][index if index >= 0 else ~index]
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    x = y = 0
    points = []
    for dx, dy in arc:
        x, y = x + dx, y + dy
        points.append([round(x * sx + tx, 3), round(y * sy + ty, 3)])
    return points if index >= 0 else points[::-1]


def _ring(topo: dict, arcs: list[int]) -> list[list[float]]:
    ring: list[list[float]] = []
    for i in arcs:
        pts = _arc_points(topo, i)
        ring.extend(pts if not ring else pts[1:])  # each arc starts where the last ended
    return ring


@cache
def world_geojson() -> str:
    """The shipped TopoJSON countries as GeoJSON text (Leaflet draws GeoJSON without a plugin)."""
    topo = _world()
    features = []
    for g in topo["objects"]["countries"]["geometries"]:  # type: ignore[index]
        if g["type"] == "Polygon":
            geometry = {"type": "Polygon", "coordinates": [_ring(topo, r) for r in g["arcs"]]}
        elif g["type"] == "MultiPolygon":
            geometry = {
                "type": "MultiPolygon",
                "coordinates": [[_ring(topo, r) for r in p] for p in g["arcs"]],
            }
        else:
            continue
        features.append({"type": "Feature", "properties": {}, "geometry": geometry})
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))


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
    points: pd.DataFrame,
    *,
    color: str = "Result",
    red: frozenset[str] = frozenset({"Failure"}),
    tiles: bool = False,
) -> object:
    """A folium map whose popups and tooltips show log text as text.

    Leaflet comes from the app (``static/leaflet``), the base layer is the shipped country
    outlines; with ``tiles`` OpenStreetMap tiles are drawn under them (needs internet).
    """
    import folium

    fmap = folium.Map(
        location=[20, 0],
        zoom_start=2,
        tiles="OpenStreetMap" if tiles else None,
        min_zoom=1,
        world_copy_jump=True,
    )
    # folium's defaults are CDN links (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers);
    # this map needs only Leaflet, served by the app.
    fmap.default_js = [("leaflet", static_url("leaflet/leaflet.js"))]
    fmap.default_css = [("leaflet_css", static_url("leaflet/leaflet.css"))]
    if not tiles:
        fmap.get_root().header.add_child(
            folium.Element(f"<style>.leaflet-container {{ background: {SEA}; }}</style>"), name="sea"
        )
    folium.GeoJson(
        json.loads(world_geojson()),
        name="countries",
        style_function=lambda _: {
            "fillColor": LAND_FILL,
            "color": LAND_STROKE,
            "weight": 0.6,
            "fillOpacity": 0.0 if tiles else 1.0,
        },
        interactive=False,
        control=False,
    ).add_to(fmap)
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


def interactive_map(points: pd.DataFrame, *, color: str = "Result", key: str) -> None:
    """The folium map in a page: offline by default, street tiles only when the analyst asks."""
    from streamlit_folium import st_folium

    tiles = st.toggle(
        "Street map tiles (needs internet)",
        key=f"{key}_tiles",
        help="Loads OpenStreetMap tiles from tile.openstreetmap.org; off, nothing leaves the app.",
    )
    st.caption(
        TILES_NOTE if tiles else "Country outlines ship with the app; this map makes no request off the app."
    )
    st_folium(
        folium_map(points, color=color, tiles=tiles),
        height=420,
        use_container_width=True,
        returned_objects=[],
        key=key,
    )
