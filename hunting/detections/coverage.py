"""ATT&CK coverage: which techniques the built-in detectors and the Sigma rules cover on this data.

One rule for the Findings page and the report: :func:`coverage` takes the hunt's data and result
(and the Sigma rule set, when Sigma ran) and says, per technique, which rules cover it, whether
each can run on the data present for this host and range, and how many findings carry it.

A rule *can run here* when the data it reads has rows for this host and range:

* built-in detectors: the :class:`~hunting.detections.base.HuntData` frames listed in
  :data:`NEEDS` (any one of them suffices; ``command.risky`` is listed per risky-command rule of
  ``hunting/rules/risky_commands.yaml``, each with its own techniques);
* Sigma rules: the table their log source maps to (``sigma_auditd``: auditd events;
  ``sigma_process``: program starts from auditd EXECVE; ``sigma_syslog``: syslog lines, and for a
  builtin service such as ``sshd`` only lines matching the pipeline's condition for that service,
  read from ``hunting/rules/sigma/pipeline.yml``, the same data the engine uses). Rules the loader
  skipped (log source not mapped, not convertible) cannot run anywhere: their reason is given.

Status of a technique: ``fired`` (a finding carries it), ``covered`` (some rule for it can run
here but found nothing), ``not covered here`` (every rule for it lacks data or was skipped).
Technique names are not shown: no ATT&CK name table is shipped and nothing is fetched; each row
names the rules instead. Findings are counted by the techniques they carry, so a finding whose
techniques come from what it matched (``command.encoded_payload``) or were folded in from a
command-line hit adds its rule to those techniques' rows too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd
import yaml

from hunting.analysis.risky import RiskRule
from hunting.detections.base import HuntData
from hunting.detections.model import _TECHNIQUE, HuntResult
from hunting.detections.registry import DETECTIONS, DetectionSpec, _default_risky, _default_specs, ordered

if TYPE_CHECKING:
    from hunting.sigma.rules import ConvertedRule, RuleSet, Skipped

BUILTIN: Final = "built-in"
SIGMA: Final = "sigma"
FIRED: Final = "fired"
COVERED: Final = "covered"
NOT_COVERED: Final = "not covered here"
STATUSES: Final = (FIRED, COVERED, NOT_COVERED)  # the sort order

# What each frame of HuntData is, for the reasons shown to the analyst.
FRAMES: Final = {
    "syslog": "syslog lines",
    "logons": "logon events (sshd/login/su lines, audit logins)",
    "sudo": "sudo lines",
    "cron": "cron lines",
    "accounts": "account changes (useradd/usermod/passwd lines)",
    "audit": "auditd events",
    "processes": "program starts (auditd EXECVE)",
    "flows": "network flows",
}

# The frames each built-in detector reads to find anything (any one with rows lets it run).
# tests/detections/test_coverage.py checks every registered detector is listed and finds nothing
# on the demo's intrusion once the frames listed here are emptied.
NEEDS: Final[Mapping[str, tuple[str, ...]]] = {
    "logon.password_guessing": ("logons",),
    "logon.password_spraying": ("logons",),
    "logon.success_after_failures": ("logons",),
    "logon.new_source": ("logons",),
    "logon.root_ssh": ("logons",),
    "sudo.shell": ("sudo",),
    "account.new_user": ("accounts",),
    "account.privileged_group": ("accounts",),
    "account.password_other": ("accounts",),
    "cron.crontab_edit": ("cron",),
    "cron.new_command": ("cron",),
    "command.risky": ("processes", "sudo", "cron"),
    "command.encoded_payload": ("processes", "sudo", "cron"),
    "process.suspicious_path": ("processes",),
    "network.shell_outbound": ("audit",),  # audit connect(), or program starts (audit) + flows
    "logging.stopped": ("syslog", "audit"),
    "logging.gap": ("syslog", "audit"),
    "command.download_execute": ("processes",),
    "file.ssh_authorized_keys": ("audit",),
}
# Extra techniques a detector emits, by the spec parameter that lists them.
_EXTRA_MITRE_PARAMS: Final = ("mitre_audit", "hidden_mitre")
_PLACEHOLDER: Final = re.compile(r"\{[^{}]*\}")
_TAG: Final = re.compile(r"attack\.(t\d{4}(?:\.\d{3})?)", re.IGNORECASE)
_SIGMA_TABLE_NEEDS: Final = {
    "sigma_auditd": ("audit",),
    "sigma_process": ("processes",),
    "sigma_syslog": ("syslog",),
}


@dataclass(frozen=True)
class CoverageRule:
    """One rule's part in one technique's row."""

    source: str  # built-in | sigma
    rule_id: str  # as findings show it (Sigma: ``sigma:<id>``)
    title: str
    runs: bool  # the data it reads is present here (and it was not skipped)
    reason: str  # why it cannot run here; "" when it can
    findings: int  # findings of this rule carrying the technique

    def label(self) -> str:
        """How the page and the report name it: built-in by rule id, Sigma by title."""
        return self.rule_id if self.source == BUILTIN else f"Sigma: {self.title}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rule_id": self.rule_id,
            "title": self.title,
            "runs": self.runs,
            "reason": self.reason or None,
            "findings": self.findings,
        }


@dataclass(frozen=True)
class TechniqueCoverage:
    technique: str
    status: str
    findings: int  # distinct findings carrying the technique
    rules: tuple[CoverageRule, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "status": self.status,
            "findings": self.findings,
            "rules": [r.to_dict() for r in self.rules],
        }


@dataclass(frozen=True)
class Coverage:
    techniques: tuple[TechniqueCoverage, ...]
    notes: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for t in self.techniques if t.status == s) for s in STATUSES}

    def by_technique(self, technique: str) -> TechniqueCoverage:
        for t in self.techniques:
            if t.technique == technique:
                return t
        raise KeyError(technique)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "techniques": [t.to_dict() for t in self.techniques],
            "notes": list(self.notes),
        }


# --- the rules and what they read -----------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    source: str
    rule_id: str
    title: str
    techniques: tuple[str, ...]
    runs: bool
    reason: str


def _rows(data: HuntData, frame: str) -> int:
    return len(data.processes) if frame == "processes" else len(getattr(data, frame))


def _no_data(data: HuntData, frames: Sequence[str]) -> str:
    """ "" when any of ``frames`` has rows, else the reason."""
    if any(_rows(data, f) for f in frames):
        return ""
    what = " or ".join(FRAMES[f] for f in frames)
    return f"no data: no {what} for {data.host} in this range"


def _clean_title(template: str) -> str:
    return " ".join(_PLACEHOLDER.sub("…", template).split())


def _builtin_rules(
    data: HuntData, specs: Mapping[str, DetectionSpec], risky: Sequence[RiskRule]
) -> list[_Rule]:
    out: list[_Rule] = []
    for rule_id, _ in ordered(specs):
        spec = specs[rule_id]
        reason = _no_data(data, NEEDS[rule_id]) if rule_id in NEEDS else ""
        if rule_id == "command.risky":  # one entry per risky-command rule: its id is the findings'
            for r in risky:
                techniques = tuple(t.strip() for t in r.techniques.split(",") if t.strip())
                out.append(_Rule(BUILTIN, r.id, r.title, techniques, not reason, reason))
            continue
        extra = [str(t) for p in _EXTRA_MITRE_PARAMS for t in (spec.params.get(p) or ())]
        techniques = tuple(dict.fromkeys([*spec.mitre, *extra]))
        out.append(_Rule(BUILTIN, rule_id, _clean_title(spec.title), techniques, not reason, reason))
    return out


@lru_cache(maxsize=1)
def _service_conditions() -> dict[str, dict[str, tuple[str, ...]]]:
    """Builtin syslog service -> {column: accepted values}, from the pipeline's add_condition items."""
    from hunting.sigma.rules import PIPELINE

    doc = yaml.safe_load(PIPELINE.read_text(encoding="utf-8")) or {}
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for item in doc.get("transformations") or ():
        if item.get("type") != "add_condition":
            continue
        for cond in item.get("rule_conditions") or ():
            if cond.get("type") == "logsource" and cond.get("service"):
                values = {
                    str(col): tuple(str(v) for v in (vals if isinstance(vals, list) else [vals]))
                    for col, vals in (item.get("conditions") or {}).items()
                }
                out[str(cond["service"]).lower()] = values
    return out


def _syslog_reason(data: HuntData, service: str | None) -> str:
    reason = _no_data(data, ("syslog",))
    if reason or not service:
        return reason
    cond = _service_conditions().get(service.lower())
    if not cond:
        return ""
    mask = pd.Series(True, index=data.syslog.index)
    for col, values in cond.items():
        if col not in data.syslog.columns:
            return f"no data: syslog lines have no {col} column"
        accepted = {v.lower() for v in values}
        mask &= data.syslog[col].astype("string").str.lower().isin(accepted).fillna(False)
    if bool(mask.any()):
        return ""
    wanted = "; ".join(f"{col} {', '.join(v)}" for col, v in cond.items())
    return f"no data: no syslog lines of service {service} ({wanted}) for {data.host} in this range"


def _sigma_reason(data: HuntData, rule: ConvertedRule, seen: dict[tuple[str, str], str]) -> str:
    """Why ``rule`` cannot run on ``data`` ("" when it can); ``seen`` caches it per table and service."""
    service = str(rule.rule.logsource.service or "") if rule.table == "sigma_syslog" else ""
    key = (rule.table, service)
    if key not in seen:
        frames = _SIGMA_TABLE_NEEDS.get(rule.table)
        if rule.table == "sigma_syslog":
            seen[key] = _syslog_reason(data, service or None)
        else:
            seen[key] = _no_data(data, frames) if frames else f"not run: table {rule.table} unknown"
    return seen[key]


@lru_cache(maxsize=256)
def _file_techniques(path: str, size: int, mtime: int) -> dict[str, tuple[str, ...]]:
    """Rule id -> ATT&CK techniques of the rules in a Sigma file (skipped rules keep no tags)."""
    from hunting.sigma.rules import MAX_RULE_BYTES

    if size > MAX_RULE_BYTES:
        return {}
    try:
        docs = list(yaml.safe_load_all(Path(path).read_text(encoding="utf-8", errors="replace")))
    except (OSError, yaml.YAMLError):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for doc in docs:
        if isinstance(doc, dict) and doc.get("id") and isinstance(doc.get("tags"), list):
            tags = (m.group(1).upper() for t in doc["tags"] if (m := _TAG.fullmatch(str(t))))
            out[str(doc["id"])] = tuple(dict.fromkeys(tags))
    return out


def _skipped_techniques(s: Skipped) -> tuple[str, ...]:
    p = Path(s.path)
    try:
        st = p.stat()
    except OSError:
        return ()
    if not p.is_file():
        return ()
    return _file_techniques(str(p), st.st_size, st.st_mtime_ns).get(s.rule_id, ())


def _sigma_rules(data: HuntData, rules: RuleSet, skipped: Sequence[Skipped]) -> tuple[list[_Rule], int]:
    """The rule set's rules (those that failed at run time as skipped) and skipped ones with tags;
    and how many carry no technique tag."""
    failed = {s.rule_id: s.reason for s in skipped if s.rule_id}
    out: list[_Rule] = []
    untagged = 0
    loaded = set()
    seen: dict[tuple[str, str], str] = {}
    for r in rules.rules:
        loaded.add(r.rule_id)
        if not r.techniques:
            untagged += 1
            continue
        reason = f"not run: {failed[r.rule_id]}" if r.rule_id in failed else _sigma_reason(data, r, seen)
        out.append(_Rule(SIGMA, f"sigma:{r.rule_id}", r.title, r.techniques, not reason, reason))
    for s in skipped:
        # Only rules that were read and parsed (they have an id) but cannot run; a duplicate id
        # is the same rule as a loaded one, not a gap.
        if not s.rule_id or s.rule_id in loaded or s.reason.startswith("duplicate rule id"):
            continue
        techniques = _skipped_techniques(s)
        if not techniques:
            untagged += 1
            continue
        out.append(_Rule(SIGMA, f"sigma:{s.rule_id}", s.title, techniques, False, f"not run: {s.reason}"))
    return out, untagged


# --- the coverage ---------------------------------------------------------------------------


def coverage(
    data: HuntData,
    result: HuntResult,
    sigma: RuleSet | None = None,
    *,
    sigma_skipped: Sequence[Skipped] | None = None,
    specs: Mapping[str, DetectionSpec] | None = None,
    risky_rules: Sequence[RiskRule] | None = None,
) -> Coverage:
    """ATT&CK techniques covered by the built-in detectors and ``sigma``'s rules on ``data``.

    ``result`` is the hunt over ``data`` (its findings say what fired); ``sigma_skipped`` the
    Sigma rules skipped in that run (default: the rule set's own skipped list; a run adds the
    rules DuckDB refused). Rows: fired first, then covered, then not covered here, by id.
    """
    specs = specs or _default_specs()
    risky = tuple(risky_rules) if risky_rules is not None else _default_risky()
    rules = _builtin_rules(data, specs, risky)
    notes: list[str] = []
    if sigma is not None:
        sigma_rules, untagged = _sigma_rules(
            data, sigma, tuple(sigma_skipped) if sigma_skipped is not None else sigma.skipped
        )
        rules += sigma_rules
        if untagged:
            notes.append(f"{untagged} Sigma rule(s) carry no ATT&CK technique tag and are not in this table.")
    else:
        notes.append("Sigma rules were not run: only the built-in detectors are counted.")
    by_id = {r.rule_id: r for r in rules}
    # technique -> rule id -> findings count; and technique -> distinct finding ids
    fired: dict[str, dict[str, int]] = {}
    finding_ids: dict[str, set[str]] = {}
    for f in result.findings:
        for t in f.mitre:
            per = fired.setdefault(t, {})
            per[f.rule_id] = per.get(f.rule_id, 0) + 1
            finding_ids.setdefault(t, set()).add(f.id)
    members: dict[str, list[str]] = {}
    for r in rules:
        for t in r.techniques:
            if _TECHNIQUE.fullmatch(t):
                members.setdefault(t, []).append(r.rule_id)
    for t, per in fired.items():
        for rid in per:
            if rid not in members.setdefault(t, []):
                members[t].append(rid)
    rows = []
    for t, rids in members.items():
        entries = []
        for rid in dict.fromkeys(rids):
            rule = by_id.get(rid)
            n = fired.get(t, {}).get(rid, 0)
            if rule is None:  # a finding of a rule not listed (e.g. an extra finding source)
                entries.append(
                    CoverageRule(SIGMA if rid.startswith("sigma:") else BUILTIN, rid, rid, True, "", n)
                )
            else:
                runs = rule.runs or n > 0
                entries.append(
                    CoverageRule(rule.source, rule.rule_id, rule.title, runs, "" if runs else rule.reason, n)
                )
        entries.sort(key=lambda e: (-e.findings, not e.runs, e.source != BUILTIN, e.label().lower()))
        count = len(finding_ids.get(t, ()))
        status = FIRED if count else COVERED if any(e.runs for e in entries) else NOT_COVERED
        rows.append(TechniqueCoverage(t, status, count, tuple(entries)))
    rows.sort(key=lambda row: (STATUSES.index(row.status), _technique_key(row.technique)))
    unlisted = sorted(set(DETECTIONS) - set(NEEDS))
    if unlisted:  # counted as able to run: what they read is not listed in NEEDS
        notes.append(f"Data needs not listed for {', '.join(unlisted)}: counted as able to run.")
    return Coverage(tuple(rows), tuple(notes))


def _technique_key(t: str) -> tuple[int, int]:
    main, _, sub = t[1:].partition(".")
    return int(main), int(sub or 0)


def _by_reason(rules: Sequence[Mapping[str, Any]], name: Any) -> str:
    """``rule, rule (reason); rule (reason)``: rules that cannot run, grouped by why."""
    groups: dict[str, list[str]] = {}
    for r in rules:
        groups.setdefault(str(r["reason"] or ""), []).append(name(r))
    return "; ".join(f"{', '.join(names)} ({reason})" for reason, names in groups.items())


def coverage_rows(cov: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The coverage section of a report (``Coverage.to_dict()``) as flat table rows for display:
    technique, status, findings, what fired, what ran without a match, what cannot run and why
    (grouped by reason)."""

    def name(r: Mapping[str, Any]) -> str:
        return str(r["rule_id"]) if r["source"] == BUILTIN else f"Sigma: {r['title']}"

    out = []
    for t in cov.get("techniques", []):
        rules = t.get("rules", [])
        out.append(
            {
                "technique": t["technique"],
                "status": t["status"],
                "findings": int(t["findings"]),
                "fired": "; ".join(f"{name(r)} ×{int(r['findings'])}" for r in rules if r["findings"]),
                "ran": "; ".join(name(r) for r in rules if r["runs"] and not r["findings"]),
                "not_here": _by_reason([r for r in rules if not r["runs"]], name),
            }
        )
    return out
