"""Detectors by rule id: the decorator that registers them and their settings from findings.yaml."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml

from hunting.analysis.risky import RiskRule, load_rules
from hunting.detections.model import (
    _TECHNIQUE,
    SEVERITIES,
    Finding,
)
from hunting.errors import HuntingError
from hunting.rules import RULES_DIR

FINDINGS_RULES: Final = RULES_DIR / "findings.yaml"


@dataclass(frozen=True)
class DetectionSpec:
    """One detection's entry in findings.yaml."""

    id: str
    title: str
    severity: str
    mitre: tuple[str, ...]
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        for t in self.mitre:
            if not _TECHNIQUE.fullmatch(str(t)):
                raise ValueError(f"{self.id}: {t!r} is not an ATT&CK technique id")

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise HuntingError(
                f"findings rule {self.id}: parameter {name!r} missing in {FINDINGS_RULES.name}"
            )
        return self.params[name]


def load_specs(path: Path | None = None) -> dict[str, DetectionSpec]:
    """Detections by id from the YAML file (default: the built-in one)."""
    path = path or FINDINGS_RULES
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise HuntingError(f"cannot read findings rules {path}: {exc}") from None
    if not isinstance(data, dict):
        raise HuntingError(f"{path}: expected a mapping of detection id -> settings")
    specs = {}
    for key, item in data.items():
        if not isinstance(item, dict):
            raise HuntingError(f"{path}: {key}: expected a mapping")
        try:
            specs[str(key)] = DetectionSpec(
                id=str(key),
                title=str(item["title"]),
                severity=str(item["severity"]),
                mitre=tuple(str(t) for t in item.get("mitre") or ()),
                description=str(item.get("description") or ""),
                params=dict(item.get("params") or {}),
            )
        except (KeyError, ValueError) as exc:
            raise HuntingError(f"{path}: {key}: {exc}") from None
    missing = set(DETECTIONS) - set(specs)
    if missing:
        raise HuntingError(f"{path}: no settings for detection(s) {', '.join(sorted(missing))}")
    return specs


@lru_cache(maxsize=1)
def _default_specs() -> dict[str, DetectionSpec]:
    return load_specs()


@lru_cache(maxsize=1)
def _default_risky() -> tuple[RiskRule, ...]:
    return tuple(load_rules())


# --- input ----------------------------------------------------------------------------------


Detector = Callable[[Any], list[Finding]]  # takes the run's context (base._Ctx)

# Rule id -> detector, filled by @detector as the family modules are imported.
DETECTIONS: Final[dict[str, Detector]] = {}


def detector(rule_id: str) -> Callable[[Detector], Detector]:
    """Register a detector under its rule id (title, severity, ATT&CK and params come from findings.yaml).

    One rule id per detector: a detector only emits findings of its own rule id (command.risky
    shows the matching risky-command rule's id, which findings.yaml does not list).
    """

    def register(func: Detector) -> Detector:
        if rule_id in DETECTIONS:
            raise ValueError(f"detector {rule_id!r} registered twice")
        DETECTIONS[rule_id] = func
        return func

    return register


def ordered(specs: Mapping[str, DetectionSpec]) -> list[tuple[str, Detector]]:
    """Registered detectors in the order findings.yaml lists them (then any others by id)."""
    rank = {k: i for i, k in enumerate(specs)}
    return sorted(DETECTIONS.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
