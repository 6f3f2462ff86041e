"""One encoder for values placed in generated JavaScript (folium, pyvis, iframe HTML).

HTML-escaping is not enough inside a script: in a JavaScript string ``\\u003c`` becomes
``<`` again, and ``</script>``, U+2028/U+2029 or a quote can end the literal or the
element. So values go in as JSON with ``<``, ``>``, ``&``, ``'``, braces, U+2028 and U+2029
written as ``\\uXXXX`` escapes (inert in a ``<script>`` element, in an HTML attribute
and in both kinds of JS string), and are shown by the page through ``textContent``
(never ``innerHTML``). Backslashes in log text survive as backslashes.
"""

from __future__ import annotations

import json

__all__ = ["js_literal"]

_JS_UNSAFE = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    ord("'"): "\\u0027",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
    # braces: folium/branca re-render generated script text as a Jinja template
    ord("{"): "\\u007b",
    ord("}"): "\\u007d",
}


def js_literal(value: object) -> str:
    """``value`` (str, number, list, dict, None) as a JavaScript expression that evaluates
    to exactly that value, safe to paste into a ``<script>`` element or JS code."""
    if isinstance(value, dict):
        items = (f"{js_literal(str(k))}:{js_literal(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(js_literal(v) for v in value) + "]"
    if isinstance(value, (bool, int, float)) or value is None:
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False).translate(_JS_UNSAFE)
