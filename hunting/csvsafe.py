"""CSV for spreadsheets from attacker-written text: one rule for every download.

OWASP CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return is run as a formula by Excel/LibreOffice, so it gets a leading ``'``. And rows
end in CRLF, which makes the csv module quote every cell holding a CR or LF: a bare
carriage return in an audit command line (``/bin/sh -c \\r=1+1``) stays inside its cell
instead of starting a new spreadsheet row (pandas' default ``\\n`` leaves a lone CR bare).
"""

from __future__ import annotations

import csv

import pandas as pd

__all__ = ["FORMULA_START", "neutralise", "safe_csv"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """One cell: text a spreadsheet would evaluate gets a leading apostrophe."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def safe_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text safe to open in a spreadsheet (numbers and times unchanged)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if (
            pd.api.types.is_numeric_dtype(s)
            or pd.api.types.is_datetime64_any_dtype(s)
            or pd.api.types.is_bool_dtype(s)
        ):
            continue
        out[col] = s.astype(object).map(neutralise)
    return str(out.to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL))
