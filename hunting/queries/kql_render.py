"""KQL for Log Analytics: constant templates plus a ``let`` prelude of typed literals.

The Log Analytics query API has no bind parameters, so this module is the one
place where a value becomes KQL text. Every value is written as a literal of its
declared type (strings escaped, datetimes tz-aware, host and table names checked
against an allow-list) and bound to a name in a ``let`` statement; the template
bodies are files under ``queries/kql/`` that only refer to those names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Final

from hunting.errors import QueryError
from hunting.queries import load_query

# Declared parameter kinds (the "// params:" header of each template).
STRING: Final = "string"
HOST: Final = "host"
TABLE: Final = "table"
DATETIME: Final = "datetime"
LONG: Final = "long"
TIMESPAN: Final = "timespan"
BOOL: Final = "bool"
STRINGS: Final = "strings"
KINDS: Final = (STRING, HOST, TABLE, DATETIME, LONG, TIMESPAN, BOOL, STRINGS)

MARKER: Final = "// hunting:"  # first line of every rendered query: which template it is
_PARAMS_HEADER = re.compile(r"^//\s*params:(.*)$", re.MULTILINE)
_TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# DNS labels and NetBIOS-style names as agents report them; nothing that quotes or pipes.
_HOST = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9_.])?$")
_INT64 = (-(2**63), 2**63 - 1)
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def _shown(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kql_string(value: str) -> str:
    """A double-quoted KQL string literal that holds exactly ``value``.

    Backslash is escaped first so that the escapes added after it stay escapes.
    """
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    for ch in value:
        if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) in ("Cc", "Cs"):
            raise QueryError(f"text {_shown(value)} contains a control character (U+{ord(ch):04X})")
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def kql_datetime(value: datetime) -> str:
    """``datetime(...Z)`` in UTC; naive datetimes are refused (their zone is a guess)."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise QueryError(f"time {value.isoformat()} has no time zone; give times in UTC")
    utc = value.astimezone(UTC)
    return f"datetime({utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond * 10:07d}Z)"


def kql_long(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected int, got {type(value).__name__}")
    if not _INT64[0] <= value <= _INT64[1]:
        raise QueryError(f"number {value} does not fit a 64-bit integer")
    return f"{value}"


def kql_timespan(value: timedelta) -> str:
    """Whole seconds as ``Ns``, anything finer in 100 ns ticks."""
    if not isinstance(value, timedelta):
        raise TypeError(f"expected timedelta, got {type(value).__name__}")
    if value < timedelta(0):
        raise QueryError(f"time span {value} is negative")
    if value.microseconds == 0:
        return f"{int(value.total_seconds())}s"
    ticks = (value.days * 86_400 + value.seconds) * 10_000_000 + value.microseconds * 10
    return f"{ticks}tick"


def kql_bool(value: bool) -> str:
    if not isinstance(value, bool):
        raise TypeError(f"expected bool, got {type(value).__name__}")
    return "true" if value else "false"


def kql_strings(values: Sequence[str]) -> str:
    """A ``dynamic([...])`` array of string literals (for ``in~`` lists)."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"expected a sequence of str, got {type(values).__name__}")
    return "dynamic([" + ", ".join(kql_string(v) for v in values) + "])"


def validate_host(value: str) -> str:
    """The host name unchanged, or a QueryError naming what is allowed."""
    if not isinstance(value, str) or not _HOST.match(value):
        raise QueryError(
            f"{_shown(value)} is not a valid host name: use letters, digits, '.', '-' or '_' "
            "(up to 255 characters)"
        )
    return value


def validate_table(value: str) -> str:
    """A Log Analytics table name (``Syslog``, ``AuditLog_CL``); used through ``table(name)``."""
    if not isinstance(value, str) or not _IDENT.match(value):
        raise QueryError(f"{_shown(value)} is not a table name: use letters, digits and '_'")
    return value


def literal(kind: str, value: object) -> str:
    """``value`` as a KQL literal of the declared ``kind``."""
    if kind == STRING:
        return kql_string(value)  # type: ignore[arg-type]
    if kind == HOST:
        return kql_string(validate_host(value))  # type: ignore[arg-type]
    if kind == TABLE:
        return kql_string(validate_table(value))  # type: ignore[arg-type]
    if kind == DATETIME:
        return kql_datetime(value)  # type: ignore[arg-type]
    if kind == LONG:
        return kql_long(value)  # type: ignore[arg-type]
    if kind == TIMESPAN:
        return kql_timespan(value)  # type: ignore[arg-type]
    if kind == BOOL:
        return kql_bool(value)  # type: ignore[arg-type]
    if kind == STRINGS:
        return kql_strings(value)  # type: ignore[arg-type]
    raise ValueError(f"unknown KQL parameter kind {kind!r}")


@cache
def declared_params(name: str) -> dict[str, str]:
    """A template's ``// params: name:kind, ...`` header as {name: kind}."""
    if not _TEMPLATE_NAME.match(name):
        raise ValueError(f"{name!r} is not a KQL template name")
    text = load_query("kql", name)
    header = _PARAMS_HEADER.search(text)
    params: dict[str, str] = {}
    for item in header.group(1).split(",") if header else []:
        pname, _, kind = item.strip().partition(":")
        if not _IDENT.match(pname) or kind not in KINDS:
            raise ValueError(f"template {name!r}: bad parameter declaration {item.strip()!r}")
        params[pname] = kind
    return params


def render_kql(name: str, **params: object) -> str:
    """The query text: a marker line, one ``let`` per declared parameter, the template."""
    declared = declared_params(name)
    missing = sorted(set(declared) - set(params))
    extra = sorted(set(params) - set(declared))
    if missing or extra:
        raise KeyError(f"template {name!r}: missing {missing}, unexpected {extra}")
    prelude = "".join(f"let {p} = {literal(kind, params[p])};\n" for p, kind in declared.items())
    return f"{MARKER}{name}\n{prelude}{load_query('kql', name)}"


def template_name(query: str) -> str | None:
    """The template a rendered query came from (the fake server and logs use it)."""
    first = query.split("\n", 1)[0]
    if first.startswith(MARKER) and _TEMPLATE_NAME.match(first[len(MARKER) :]):
        return first[len(MARKER) :]
    return None
