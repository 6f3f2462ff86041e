"""Page icons (browser-tab favicons) that ship with the app.

Streamlit turns ``page_icon=":material/name:"`` into a download of
``https://fonts.gstatic.com/.../name/default/24px.svg`` by the browser: a request to
Google each time a page opens (blank offline, and a request off the app on every page).
A local SVG file becomes a ``data:`` URL instead, so the Material Symbols the pages use
are kept in ``static/icons`` (licence and origin in ``static/SOURCE.md``).
"""

from __future__ import annotations

from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"


def page_icon(name: str) -> str:
    """Path of the shipped Material Symbol ``name`` for ``st.set_page_config(page_icon=...)``.

    Raises FileNotFoundError for an icon not shipped, so a new page cannot fall back
    silently to a remote icon.
    """
    path = ICONS / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"page icon {name!r} is not in {ICONS}: copy it there (see static/SOURCE.md)")
    return str(path)
