"""The investigation report: one dict per host and range (build), written as JSON, Markdown or HTML (render)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

SCHEMA_ID: Final = "hunting.report/1"
SCHEMA_FILE: Final = Path(__file__).resolve().parent / "schema" / "hunting.report-1.json"
FORMATS: Final = ("json", "html", "md")
