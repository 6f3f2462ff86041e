"""The findings model: what a detection returns and what the pages, CLI and report show."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import pandas as pd

from hunting.timerange import TimeRange

SEVERITIES: Final = ("low", "medium", "high")  # ascending
MAX_EVIDENCE: Final = 25  # evidence lines kept per finding; ``occurrences`` counts them all
_TECHNIQUE: Final = re.compile(r"T\d{4}(?:\.\d{3})?")


# Pages (Streamlit's pages/ files) a finding links to, by what they show.
PAGES: Final = {
    "logons": "pages/1_Logons.py",
    "session": "pages/2_Session_detail.py",
    "user": "pages/3_User_activity.py",
    "process": "pages/4_Process_trees.py",
    "application": "pages/5_Application_activity.py",
    "network": "pages/6_Network.py",
    "iocs": "pages/7_IoCs_and_threat_intel.py",
    "data": "pages/9_Data_sources.py",
}


# --- the model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """Where the evidence is shown: a page and scope hints (URL parameters) for it."""

    page: str
    label: str
    params: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"page": self.page, "label": self.label, "params": dict(self.params)}


@dataclass(frozen=True)
class Finding:
    """One suspicious thing, shared by the pages, the CLI and the exported report."""

    id: str
    rule_id: str
    title: str
    severity: str
    mitre: tuple[str, ...]
    time: datetime
    end: datetime | None = None
    host: str = ""
    user: str | None = None
    source_ip: str | None = None
    session: str | None = None
    detail: str = ""
    evidence: tuple[str, ...] = ()
    occurrences: int = 1
    links: tuple[Link, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        bad = [t for t in self.mitre if not _TECHNIQUE.fullmatch(t)]
        if bad:
            raise ValueError(f"not ATT&CK technique ids: {', '.join(bad)}")
        if self.time.tzinfo is None:
            raise ValueError("finding time must be timezone-aware (UTC)")

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "mitre": list(self.mitre),
            "time": iso(self.time),
            "end": iso(self.end) if self.end is not None else None,
            "host": self.host,
            "user": self.user,
            "source_ip": self.source_ip,
            "session": self.session,
            "detail": self.detail,
            "evidence": list(self.evidence),
            "occurrences": self.occurrences,
            "links": [link.to_dict() for link in self.links],
        }


def mitre_url(technique: str) -> str:
    """``T1548.003`` -> https://attack.mitre.org/techniques/T1548/003/"""
    if not _TECHNIQUE.fullmatch(technique):
        raise ValueError(f"not an ATT&CK technique id: {technique!r}")
    return "https://attack.mitre.org/techniques/" + technique.replace(".", "/") + "/"


def iso(ts: datetime | pd.Timestamp) -> str:
    """ISO 8601 UTC with a Z, to the millisecond when there is one."""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond // 1000:03d}"
    return text + "Z"


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then oldest first (then id, so the order is stable)."""
    return sorted(findings, key=lambda f: (-f.rank, f.time, f.id))


@dataclass(frozen=True)
class TimelineGroup:
    """Findings tied together by a shared user, address or session, in time order."""

    id: str
    start: datetime
    end: datetime
    severity: str
    finding_ids: tuple[str, ...]
    users: tuple[str, ...]
    ips: tuple[str, ...]
    sessions: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": iso(self.start),
            "end": iso(self.end),
            "severity": self.severity,
            "finding_ids": list(self.finding_ids),
            "users": list(self.users),
            "ips": list(self.ips),
            "sessions": list(self.sessions),
        }


@dataclass(frozen=True)
class HuntResult:
    """Findings (sorted), the attack timeline and what was searched."""

    host: str
    tr: TimeRange
    findings: tuple[Finding, ...]
    timeline: tuple[TimelineGroup, ...]
    searched: Mapping[str, int]
    errors: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in reversed(SEVERITIES)}

    def by_id(self, finding_id: str) -> Finding:
        for f in self.findings:
            if f.id == finding_id:
                return f
        raise KeyError(finding_id)


def findings_frame(findings: Sequence[Finding]) -> pd.DataFrame:
    """A table of findings for display (no evidence): severity, time, title, ATT&CK, who, where."""
    return pd.DataFrame(
        {
            "Severity": [f.severity for f in findings],
            "Time": pd.to_datetime([f.time for f in findings], utc=True),
            "Title": [f.title for f in findings],
            "ATT&CK": [", ".join(f.mitre) for f in findings],
            "User": [f.user for f in findings],
            "IP": [f.source_ip for f in findings],
            "Session": [f.session for f in findings],
            "Occurrences": [f.occurrences for f in findings],
            "Rule": [f.rule_id for f in findings],
            "Id": [f.id for f in findings],
        },
        columns=["Severity", "Time", "Title", "ATT&CK", "User", "IP", "Session", "Occurrences", "Rule", "Id"],
    )
