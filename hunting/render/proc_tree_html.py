"""Process trees as a pyvis (vis-network) graph and as an indented table.

Everything shown comes from the investigated host's logs, so it is attacker
controlled. vis-network 9 draws labels on a canvas (``fillText``: inert text) and
shows a string tooltip with ``innerText`` (text; each newline a ``<br>``), so
labels and tooltips carry the real characters (``<``, ``"``), not HTML escapes.
They reach the page inside a ``<script>``: the node and edge data are written
by ``hunting.render.jsenc.js_literal`` (``<``, ``>``, ``&``, ``'``, U+2028/2029
as ``\\uXXXX``), never by pyvis, whose template is rendered with empty data.
pyvis switches to its own ``innerHTML`` tooltip when a title it embeds holds
"href": it never sees ours, the page is checked for that template, and titles
still get a zero-width space in "href" should anyone draw ``tree_network``
with pyvis directly. Node ids are our own ProcKeys; neither ``heading`` nor
the select/filter menus (raw HTML, unescaped ids) are used. The colour legend
is HTML, so its values are HTML-escaped (``safe_text``).
"""

from __future__ import annotations

import html
import re
import zlib
from collections.abc import Callable
from typing import Any, Final, Literal, TypeAlias

import pandas as pd
from pyvis.network import Network

from hunting.analysis.process_tree import DEFAULT_RENDER_LIMIT, guard_size
from hunting.errors import HuntingError
from hunting.render.jsenc import js_literal

PALETTE: Final = (
    "#8ecae6", "#a3d977", "#ffd166", "#cdb4db", "#f4a261", "#90e0ef",
    "#b5e48c", "#ffafcc", "#e9c46a", "#bde0fe", "#d4a373", "#caffbf",
)  # fmt: skip
SYNTHETIC_COLOR: Final = "#e0e0e0"
RISK_BORDER: Final = "#d00000"
LINKED_BORDER: Final = "#1f6feb"  # the process a link (?pid=) asked for
DARK_CANVAS: Final = "#0e1117"  # Streamlit's dark theme background
SHORT_COMMAND_CHARS: Final = 20  # the label's second line (program name is the first)
NAME_CHARS: Final = 18
LEGEND_ENTRIES: Final = 10
MAX_FIELD_CHARS: Final = 600
FONT_PX: Final = 14
# Labels at least this tall on screen in the first view: when the whole tree fits only at a smaller
# zoom, the first view zooms to this size on the risky (or linked) processes instead; drag to pan.
MIN_LABEL_PX: Final = 11
NODE_SPACING: Final = 56  # between stacked siblings (two-line box: ~40 units, three: ~56)
_HREF = re.compile(r"h(?=ref)", re.IGNORECASE)
# C0/C1 controls (newlines too: a value cannot fake a tooltip line), U+2028/2029 and bidi overrides: shown as \xNN / \uNNNN, never acted on.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_OPTIONS: Final[dict[str, Any]] = {
    # Left to right: siblings stack downwards; narrow two-line boxes (program, start of the command)
    # and a short level step keep deep trees (the demo's: 9 levels) readable in a page-wide frame.
    "layout": {
        "hierarchical": {
            "enabled": True,
            "direction": "LR",
            "sortMethod": "directed",
            "levelSeparation": 235,
            "nodeSpacing": NODE_SPACING,
            "treeSpacing": 70,
        }
    },
    "physics": {"enabled": False},
    "interaction": {"hover": True, "tooltipDelay": 150, "navigationButtons": False},
    "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "smooth": False, "color": "#888888"},
    "nodes": {
        "shape": "box",
        "font": {"face": "monospace", "size": FONT_PX, "color": "#111111"},
        "margin": 5,
        "widthConstraint": {"maximum": 212},  # 20 monospace characters (169 px), margins, a thick border
        # vis-network hides labels below 5 px when zoomed out; keep them drawn
        "scaling": {"label": {"enabled": False, "drawThreshold": 1}},
    },
}

RiskInput: TypeAlias = pd.Series | Callable[[pd.Series], pd.Series] | None


def safe_text(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    """Log text made inert for HTML, including pyvis's "href" tooltip switch."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + f"… [{len(text) - limit} more characters]"
    return _HREF.sub(lambda m: m.group(0) + "\u200b", html.escape(text, quote=True))


def canvas_text(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    """Log text for a vis-network label (canvas) or string tooltip (``innerText``): the real
    characters, cut to ``limit``; control characters, line/paragraph separators and bidi overrides
    shown as ``\\xNN``/``\\uNNNN``. Not for HTML: it reaches the page only through ``js_literal``."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + f"… [{len(text) - limit} more characters]"
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100 else f"\\u{ord(m.group(0)):04x}",
        text,
    )


def frame_height(tree: pd.DataFrame, minimum: int, most: int = 1600) -> int:
    """Pixels for the frame that shows ``tree``: room for the legend and for every stacked leaf at
    the first view's zoom (labels ``MIN_LABEL_PX`` tall), between ``minimum`` and ``most``."""
    leaves = int((tree["ChildCount"].fillna(0) == 0).sum()) if "ChildCount" in tree.columns else len(tree)
    scale = MIN_LABEL_PX / FONT_PX
    return int(max(minimum, min(most, 110 + leaves * NODE_SPACING * scale)))


def risk_texts(tree: pd.DataFrame, risk: RiskInput) -> pd.Series:
    """Per-row rule text ("" where none): from a Series aligned on ``tree``'s index, or a callable.

    A callable gets the Cmdline column and returns such a Series; values may be
    a string or a list of rule ids/descriptions.
    """
    if risk is None:
        return pd.Series("", index=tree.index, dtype="object")
    found = risk(tree["Cmdline"]) if callable(risk) else risk
    aligned = found.reindex(tree.index)
    return aligned.map(_join_rules).astype("object")


def tree_network(
    tree: pd.DataFrame,
    *,
    color_by: Literal["exe", "user"] = "exe",
    risk: RiskInput = None,
    max_nodes: int = DEFAULT_RENDER_LIMIT,
    dark: bool = False,
    highlight: frozenset[str] = frozenset(),
) -> Network:
    """The pyvis Network for ``tree`` (rows of ``build_tree`` or one of its scopes); ``dark``
    draws on the dark theme's canvas; ProcKeys in ``highlight`` get the linked-process border."""
    if color_by not in ("exe", "user"):
        raise HuntingError(f"color_by must be 'exe' or 'user', not {color_by!r}")
    too_many = guard_size(len(tree), max_nodes)
    if too_many:
        raise HuntingError(too_many)
    rules = risk_texts(tree, risk)
    net = Network(
        height="96vh", width="100%", directed=True, cdn_resources="in_line",
        bgcolor=DARK_CANVAS if dark else "#ffffff",
    )  # fmt: skip
    net.options = dict(_OPTIONS)
    if dark:
        net.options["edges"] = {**_OPTIONS["edges"], "color": "#9aa0a6"}
    keys = set(tree["ProcKey"].astype(str))
    for (_, row), rule in zip(tree.iterrows(), rules, strict=True):
        node = _node(row, color_by, rule, linked=str(row["ProcKey"]) in highlight)
        net.nodes.append(node)
        net.node_ids.append(node["id"])
        net.node_map[node["id"]] = node
        parent = row["ParentKey"]
        if pd.notna(parent) and str(parent) in keys:
            net.edges.append({"from": str(parent), "to": node["id"], "arrows": "to"})
    return net


def tree_html(
    tree: pd.DataFrame,
    *,
    color_by: Literal["exe", "user"] = "exe",
    risk: RiskInput = None,
    max_nodes: int = DEFAULT_RENDER_LIMIT,
    dark: bool = False,
    highlight: frozenset[str] = frozenset(),
) -> str:
    """Self-contained HTML (vis-network inlined, works offline in an iframe srcdoc), with a colour
    legend above the graph."""
    net = tree_network(
        tree, color_by=color_by, risk=risk, max_nodes=max_nodes, dark=dark, highlight=highlight
    )
    nodes, edges = net.nodes, net.edges
    focus = [n["id"] for n in nodes if n["borderWidth"] == 6] or [
        n["id"] for n in nodes if n["borderWidth"] == 4
    ]
    net.nodes, net.edges = [], []  # pyvis renders its template without any log text ...
    try:
        page = _without_cdn(str(net.generate_html()))
    finally:
        net.nodes, net.edges = nodes, edges
    # ... and the data goes in through the one JavaScript encoder
    for name, data in (("nodes", nodes), ("edges", edges)):
        empty = f"{name} = new vis.DataSet([]);"
        if page.count(empty) != 1:
            raise HuntingError(f"pyvis template changed: no single '{empty}'")
        page = page.replace(empty, f"{name} = new vis.DataSet({js_literal(data)});")
    if "popup.innerHTML" in page:  # pyvis's href tooltip template (innerHTML) must stay off
        raise HuntingError("pyvis switched to its innerHTML tooltip")
    head, sep, body = page.partition("<body>")
    if not sep:
        return page
    style = (
        f"<style>html,body{{background:{DARK_CANVAS if dark else '#ffffff'};margin:0;height:100%}}"
        "body{display:flex;flex-direction:column}center{display:none}"
        ".card{background:transparent;border:none;flex:1 1 auto;min-height:0}"
        "#mynetwork{height:100% !important;float:none !important;box-sizing:border-box}"
        f".ptlegend{{font:12px sans-serif;color:{'#e6e6e6' if dark else '#222'};padding:4px 6px}}"
        ".ptlegend span{display:inline-block;margin:2px 10px 2px 0;white-space:nowrap}"
        ".ptlegend i{display:inline-block;width:14px;height:11px;margin-right:4px;vertical-align:middle;"
        "border:1px solid #555}</style>"
    )
    view = _FIRST_VIEW.replace("MIN_SCALE", str(MIN_LABEL_PX / FONT_PX)).replace("FOCUS", js_literal(focus))
    body = body.replace("</body>", view + "</body>", 1)
    return (
        head.replace("</head>", style + "</head>", 1)
        + sep
        + legend_html(tree, color_by, risk, highlight)
        + body
    )


# The first view: the whole tree when its labels are then MIN_LABEL_PX tall or more; else that zoom,
# on the linked or risky processes (their box if it fits, else its top left), or the tree's top left.
_FIRST_VIEW: Final = """<script>
(function () {
  var minScale = MIN_SCALE, focus = FOCUS;
  function firstView() {
    if (typeof network !== "object" || !network) return;
    network.fit({animation: false});
    if (network.getScale() >= minScale) return;
    var box = function (ids) {
      var l = Infinity, t = Infinity, r = -Infinity, b = -Infinity;
      ids.forEach(function (id) {
        var n = network.getBoundingBox(id);
        if (!n) return;
        l = Math.min(l, n.left); t = Math.min(t, n.top); r = Math.max(r, n.right); b = Math.max(b, n.bottom);
      });
      return {l: l, t: t, r: r, b: b};
    };
    var all = box(network.body.nodeIndices), f = focus.length ? box(focus) : {l: all.l, t: all.t, r: all.l, b: all.t};
    if (!isFinite(all.l) || !isFinite(f.l)) return;
    var frame = document.getElementById("mynetwork");
    var w = frame.clientWidth / minScale, h = frame.clientHeight / minScale, pad = 20 / minScale;
    // across: the whole tree if it fits; else the focus, with as many of its ancestors (left) as fit
    var x = all.r - all.l + 2 * pad <= w ? (all.l + all.r) / 2
      : f.r - f.l + 2 * pad <= w ? Math.max(f.r + pad - w / 2, all.l - pad + w / 2) : f.l - pad + w / 2;
    var y = all.b - all.t + 2 * pad <= h ? (all.t + all.b) / 2
      : f.b - f.t + 2 * pad <= h ? (f.t + f.b) / 2 : f.t - pad + h / 2;
    network.moveTo({position: {x: x, y: y}, scale: minScale, animation: false});
  }
  var moved = false;
  firstView();
  network.on("dragStart", function () { moved = true; });
  network.on("zoom", function () { moved = true; });
  window.addEventListener("resize", function () { if (!moved) firstView(); });
})();
</script>
"""


def legend_html(
    tree: pd.DataFrame, color_by: str, risk: RiskInput = None, highlight: frozenset[str] = frozenset()
) -> str:
    """The colour legend: the most frequent executables (or users) with their fill, then the
    borders (risky, linked, unknown parent) and the ×N of folded repeats. Values escaped."""
    col = "Exe" if color_by == "exe" else "User"
    real = tree[~tree["IsSynthetic"].fillna(False).astype(bool)]
    counts = real[col].astype("string").fillna("").value_counts()
    items = []
    for value in counts.index[:LEGEND_ENTRIES]:
        name = value.rsplit("/", 1)[-1] if col == "Exe" else value
        items.append(
            f'<span title="{safe_text(value)}"><i style="background:{_color(value)}"></i>{safe_text(name or "?", 40)}</span>'
        )
    if len(counts) > LEGEND_ENTRIES:
        items.append(f"<span>… {len(counts) - LEGEND_ENTRIES} more</span>")
    items.append(
        f'<span><i style="background:#fff;border:3px solid {RISK_BORDER}"></i>⚠ risky command</span>'
    )
    if highlight:
        items.append(
            f'<span><i style="background:#fff;border:3px solid {LINKED_BORDER}"></i>linked process</span>'
        )
    items.append(
        f'<span><i style="background:{SYNTHETIC_COLOR};border:1px dashed #555"></i>unknown parent</span>'
    )
    if "Repeats" in tree.columns and (tree["Repeats"].fillna(1) > 1).any():
        items.append("<span>×N: N identical runs drawn once</span>")
    items.append("<span>Drag to move, wheel to zoom; hover a box for its details.</span>")
    return (
        f'<div class="ptlegend">Colour = {"executable" if col == "Exe" else "user"}: {"".join(items)}</div>'
    )


def short_command(row: pd.Series, limit: int = SHORT_COMMAND_CHARS) -> str:
    """The command line without its program (already the label's first line), cut to ``limit``."""
    cmd = "" if pd.isna(row["Cmdline"]) else str(row["Cmdline"])
    first, _, rest = cmd.partition(" ")
    text = rest if first.rsplit("/", 1)[-1] == str(row["Name"]) else cmd
    text = re.sub(r"\s*\(seen in [^)]*\)", "", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# pyvis's template links Bootstrap from jsdelivr even with in-line resources (only its
# menus, which we never draw, use it): offline it fails, online it tells a CDN each time.
_CDN_TAG = re.compile(
    r'<link\s[^>]*href="https://cdn\.jsdelivr\.net/[^"]*"[^>]*>'
    r'|<script\s[^>]*src="https://cdn\.jsdelivr\.net/[^"]*"[^>]*>\s*</script>'
)


def _without_cdn(page: str) -> str:
    """Edit only the template's head, before any log-derived text."""
    head, sep, body = page.partition("<body")
    return _CDN_TAG.sub("", head) + sep + body


def tree_table(tree: pd.DataFrame) -> pd.DataFrame:
    """The same rows in the same (depth-first) order, with an indented Process column for tables/CSV."""
    depth = tree["Depth"].fillna(0).astype("int64").tolist()
    indent = pd.Series(
        ["    " * (d - 1) + "└─ " if d > 0 else "" for d in depth], index=tree.index, dtype="string"
    )
    out = pd.DataFrame(
        {
            "Time": tree["TimeGenerated"],
            "Computer": tree["Computer"],
            "Process": indent + tree["Name"].fillna("?").astype("string"),
            "Command": tree["Cmdline"],
            "User": tree["User"],
            "LoginUser": tree["LoginUser"],
            "Ses": tree["Ses"].map(ses_text).astype("string"),
            "Pid": tree["Pid"],
            "Ppid": tree["Ppid"],
            "Exe": tree["Exe"],
            "Cwd": tree["Cwd"],
            "Path": tree["Path"],
            "Depth": tree["Depth"],
            "Descendants": tree["DescendantCount"],
            "Synthetic": tree["IsSynthetic"],
            "ProcKey": tree["ProcKey"],
            "ParentKey": tree["ParentKey"],
        },
        index=tree.index,
    )
    return out


UNSET_SESSION: Final = 4294967295  # (u32)-1: auditd's "no login session"


def ses_text(value: object) -> str:
    """An audit session for people: 4294967295 is auditd's "unset" (no login session)."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        return "unset" if int(str(value)) == UNSET_SESSION else str(value)
    except ValueError:
        return str(value)


def _join_rules(value: object) -> str:
    if isinstance(value, list | tuple | set):
        return "; ".join(str(v) for v in value if v is not None and str(v))
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _color(value: object) -> str:
    text = "" if value is None or value is pd.NA else str(value)
    return PALETTE[zlib.crc32(text.encode("utf-8", "replace")) % len(PALETTE)]


def _node(row: pd.Series, color_by: str, rule: str, linked: bool = False) -> dict[str, Any]:
    key = str(row["ProcKey"])
    synthetic = bool(row["IsSynthetic"])
    name = _clip(canvas_text(row["Name"]), NAME_CHARS)
    repeats = row.get("Repeats", 1)
    times = f" ×{int(repeats)}" if pd.notna(repeats) and int(repeats) > 1 else ""
    cmd = "" if synthetic else canvas_text(short_command(row), SHORT_COMMAND_CHARS + 1)
    label = f"{name}{times}\n{cmd}" if cmd else f"{name}{times}\n{canvas_text(row['Pid'])}"
    fill = SYNTHETIC_COLOR if synthetic else _color(row["Exe"] if color_by == "exe" else row["User"])
    node: dict[str, Any] = {
        "id": key,
        "label": label,
        "title": _HREF.sub(lambda m: m.group(0) + "\u200b", _title(row, rule)),
        "shape": "box",
        "color": {"background": fill, "border": "#555555"},
        "borderWidth": 1,
    }
    if synthetic:
        node["shapeProperties"] = {"borderDashes": [4, 4]}
    if rule:
        node["label"] = "⚠ " + label
        node["color"] = {"background": fill, "border": RISK_BORDER}
        node["borderWidth"] = 4
    if linked:
        node["label"] = "▶ " + node["label"]
        node["color"] = {"background": fill, "border": LINKED_BORDER}
        node["borderWidth"] = 6
    return node


def _title(row: pd.Series, rule: str) -> str:
    if bool(row["IsSynthetic"]):
        return (
            f"unknown parent pid {canvas_text(row['Pid'])} on {canvas_text(row['Computer'])}\n"
            "(its start is not in the data: started before logging, or forked without exec)"
        )
    time = row["TimeGenerated"]
    lines = [
        f"{canvas_text(row['Name'], 120)}  pid {canvas_text(row['Pid'])} (ppid {canvas_text(row['Ppid'])})",
        f"time: {time.isoformat() if pd.notna(time) else '?'}",
        f"host: {canvas_text(row['Computer'])}",
        f"user: {canvas_text(row['User'])} (uid {canvas_text(row['Uid'])}, euid {canvas_text(row['Euid'])})",
        f"login user: {canvas_text(row['LoginUser'])} (auid {canvas_text(row['Auid'])}, "
        f"session {canvas_text(ses_text(row['Ses']))}, tty {canvas_text(row['Tty'])})",
        f"exe: {canvas_text(row['Exe'])}",
        f"cwd: {canvas_text(row['Cwd'])}",
        f"command: {canvas_text(row['Cmdline'])}",
        f"path: {canvas_text(row['Path'])}",
    ]
    if pd.notna(row["Success"]) and str(row["Success"]) != "yes":
        lines.append(f"success: {canvas_text(row['Success'])}")
    if pd.notna(row["Key"]) and str(row["Key"]) not in ("", "(null)"):
        lines.append(f"audit key: {canvas_text(row['Key'])}")
    if rule:
        lines.append(f"RISK: {canvas_text(rule)}")
    return "\n".join(lines)
