"""Detection rules shipped as data (YAML), loaded by the analysis modules."""

from __future__ import annotations

from pathlib import Path
from typing import Final

RULES_DIR: Final = Path(__file__).resolve().parent
RISKY_COMMANDS: Final = RULES_DIR / "risky_commands.yaml"
