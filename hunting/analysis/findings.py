"""Triage findings: a re-export of :mod:`hunting.detections` for existing imports.

The detections live in ``hunting/detections/`` (one module per family, registered by
rule id); import from there in new code. This module keeps ``Finding``, ``HuntData``,
``collect``, ``hunt`` and the rest importable from their old place.
"""

from __future__ import annotations

import hunting.detections  # noqa: F401  (registers every detector)
from hunting.detections.base import (
    UNSET_SES,
    HuntData,
    collect,
    flow_line,
    syslog_line,
)
from hunting.detections.model import (
    MAX_EVIDENCE,
    PAGES,
    SEVERITIES,
    Finding,
    HuntResult,
    Link,
    TimelineGroup,
    findings_frame,
    iso,
    mitre_url,
    sort_findings,
)
from hunting.detections.registry import DETECTIONS, FINDINGS_RULES, DetectionSpec, load_specs
from hunting.detections.runner import ExtraSource, attack_timeline, find_all, hunt, searched_counts

__all__ = [
    "DETECTIONS",
    "FINDINGS_RULES",
    "MAX_EVIDENCE",
    "PAGES",
    "SEVERITIES",
    "UNSET_SES",
    "DetectionSpec",
    "ExtraSource",
    "Finding",
    "HuntData",
    "HuntResult",
    "Link",
    "TimelineGroup",
    "attack_timeline",
    "collect",
    "find_all",
    "findings_frame",
    "flow_line",
    "hunt",
    "iso",
    "load_specs",
    "mitre_url",
    "searched_counts",
    "sort_findings",
    "syslog_line",
]
