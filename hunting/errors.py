"""Errors a user can act on; pages show them with st.error, the CLI exits non-zero."""

from __future__ import annotations


class HuntingError(Exception):
    """Base of every error this package raises on purpose."""


class SourceUnavailable(HuntingError):
    """A data source cannot be opened or reached (missing path, auth failure, ...)."""


class QueryError(HuntingError):
    """A query failed or was given invalid parameters."""


class ParseError(HuntingError):
    """Input could not be parsed; ``path`` and ``line`` say where."""

    def __init__(self, message: str, path: str = "", line: int | None = None) -> None:
        where = f"{path}:{line}: " if path and line is not None else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")
        self.path = path
        self.line = line
