"""Query files: SQL for the local engine (bound parameters only), KQL for Log Analytics."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

QUERY_DIR = Path(__file__).parent

_ALLOWED = (str, int, float, datetime, type(None), list, tuple)


@cache
def load_query(kind: str, name: str) -> str:
    """The text of ``queries/<kind>/<name>.<kind>``; the names are code constants, never user text."""
    path = QUERY_DIR / kind / f"{name}.{kind}"
    return path.read_text(encoding="utf-8")


def sql(
    name: str, *, identifiers: dict[str, str] | None = None, **params: object
) -> tuple[str, dict[str, object]]:
    """A DuckDB query and its parameters, bound by the engine (``$name`` placeholders).

    Identifiers (a table or column name) cannot be bound, so they are substituted only
    when they are names declared in :mod:`hunting.schema`.
    """
    from hunting.schema import BY_NAME

    known = set(BY_NAME) | {c for t in BY_NAME.values() for c in t.names}
    text = load_query("sql", name)
    for key, ident in (identifiers or {}).items():
        if ident not in known:
            raise ValueError(f"{ident!r} is not a schema table or column")
        text = text.replace("{" + key + "}", ident)
    for key, value in params.items():
        if not isinstance(value, _ALLOWED):
            raise TypeError(f"query parameter {key!r} has unsupported type {type(value).__name__}")
        if f"${key}" not in text:
            raise KeyError(f"query {name!r} has no parameter ${key}")
    return text, dict(params)
