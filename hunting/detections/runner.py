"""Running every detector on one host: collection, deduplication, corroboration, attack timeline."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from hunting.analysis.logons import FAILURE, SUCCESS
from hunting.analysis.risky import RiskRule
from hunting.detections.base import (
    HuntData,
    _capped,
    _Ctx,
    _fid,
    _group,
    _Sessions,
    collect,
)
from hunting.detections.model import (
    SEVERITIES,
    Finding,
    HuntResult,
    TimelineGroup,
    sort_findings,
)
from hunting.detections.registry import (
    DETECTIONS,
    DetectionSpec,
    _default_risky,
    _default_specs,
    ordered,
)
from hunting.errors import HuntingError
from hunting.schema import CRON, LOGONS, conform
from hunting.timerange import TimeRange

ExtraSource = Callable[[HuntData], list[Finding]]


def searched_counts(data: HuntData, risky: Sequence[RiskRule], detections: int) -> dict[str, int]:
    """How much each detection looked at: the denominator of "no findings"."""
    lg = conform(data.logons, LOGONS)
    counted = lg[lg["Result"].isin([SUCCESS, FAILURE])]
    cr = conform(data.cron, CRON)
    procs = data.processes
    return {
        "syslog_lines": len(data.syslog),
        "logon_attempts": int(counted["Count"].fillna(1).sum()),
        "successful_logons": int(counted.loc[counted["Result"] == SUCCESS, "Count"].fillna(1).sum()),
        "sudo_commands": len(data.sudo),
        "cron_runs": int((cr["Action"] == "run").sum()),
        "crontab_changes": int(cr["Action"].isin(["replace", "delete", "begin_edit"]).sum()),
        "account_changes": len(data.accounts),
        "audit_events": len(data.audit),
        "process_starts": len(procs),
        "network_flows": len(data.flows),
        "command_lines_checked": int(len(procs) + len(data.sudo) + int((cr["Action"] == "run").sum())),
        "risky_command_rules": len(risky),
        "detections": detections,
    }


def attack_timeline(findings: Sequence[Finding]) -> list[TimelineGroup]:
    """Group findings linked by a shared user, address or session; groups and members in time order."""
    ordered = sorted(findings, key=lambda f: (f.time, -f.rank, f.id))
    keys = [
        tuple(
            k
            for k in (
                f.user and f"u:{f.user}",
                f.source_ip and f"i:{f.source_ip}",
                f.session and f"s:{f.session}",
            )
            if k
        )
        or (f"f:{f.id}",)
        for f in ordered
    ]
    labels = _group([tuple(str(k) for k in ks) for ks in keys])
    groups: list[TimelineGroup] = []
    for label in dict.fromkeys(labels):
        members = [f for f, lab in zip(ordered, labels, strict=True) if lab == label]
        ends = [f.end or f.time for f in members]
        groups.append(
            TimelineGroup(
                id=_fid("timeline", members[0].host, *(f.id for f in members)),
                start=min(f.time for f in members),
                end=max(ends),
                severity=max((f.severity for f in members), key=SEVERITIES.index),
                finding_ids=tuple(f.id for f in members),
                users=tuple(dict.fromkeys(f.user for f in members if f.user)),
                ips=tuple(dict.fromkeys(f.source_ip for f in members if f.source_ip)),
                sessions=tuple(dict.fromkeys(f.session for f in members if f.session)),
            )
        )
    return sorted(groups, key=lambda g: (g.start, g.id))


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per id: repeats (same rule and key) are merged, evidence and counts added up."""
    merged: dict[str, Finding] = {}
    for f in findings:
        old = merged.get(f.id)
        if old is None:
            merged[f.id] = f
            continue
        merged[f.id] = replace(
            old,
            time=min(old.time, f.time),
            end=max(x for x in (old.end, f.end, old.time, f.time) if x is not None),
            evidence=_capped([*old.evidence, *f.evidence]),
            occurrences=old.occurrences + f.occurrences,
            severity=max(old.severity, f.severity, key=SEVERITIES.index),
        )
    return list(merged.values())


def _fold_corroborations(findings: list[Finding], merge_into: Mapping[str, str]) -> list[Finding]:
    """A command-line hit that restates a structured finding (same session, minutes apart) joins it.

    ``usermod -aG sudo x`` in auditd and ``add 'x' to group 'sudo'`` in syslog are
    one event seen twice: the structured finding keeps both lines and the union of
    techniques.
    """
    window = pd.Timedelta("10min")
    out = list(findings)
    for f in findings:
        target_rule = merge_into.get(f.rule_id)
        if target_rule is None:
            continue
        targets = [
            t
            for t in out
            if t.rule_id == target_rule
            and abs(pd.Timestamp(t.time) - pd.Timestamp(f.time)) <= window
            and (
                (f.session is not None and t.session == f.session) or (f.session is None and t.user == f.user)
            )
        ]
        if not targets:
            continue
        t = targets[0]
        merged = replace(
            t,
            mitre=tuple(dict.fromkeys([*t.mitre, *f.mitre])),
            evidence=_capped([*t.evidence, *f.evidence]),
            detail=t.detail + f" Also seen as a command line: {f.title}.",
        )
        out = [merged if x is t else x for x in out if x is not f]
    return out


def find_all(
    data: HuntData,
    *,
    specs: Mapping[str, DetectionSpec] | None = None,
    risky_rules: Sequence[RiskRule] | None = None,
    extra: Sequence[ExtraSource] = (),
) -> HuntResult:
    """Run every detection on one host's data; a failing detection is reported, not fatal.

    ``extra`` are other finding sources (e.g. Sigma rules): callables taking the same
    :class:`HuntData` and returning findings; theirs are deduplicated, sorted and linked
    into the attack timeline with the built-in ones, and a HuntingError they raise is
    reported under the callable's ``__name__``.
    """
    specs = specs or _default_specs()
    risky = tuple(risky_rules) if risky_rules is not None else _default_risky()
    ctx = _Ctx(data, specs, risky, _Sessions(data.audit, data.users))
    found: list[Finding] = []
    errors: list[str] = []
    for rule_id, detect in ordered(specs):
        try:
            found.extend(detect(ctx))
        except HuntingError as exc:
            errors.append(f"{rule_id}: {exc}")
    for source in extra:
        try:
            found.extend(source(data))
        except HuntingError as exc:
            errors.append(f"{getattr(source, '__name__', 'extra')}: {exc}")
    merge_into = {str(k): str(v) for k, v in (specs["command.risky"].params.get("merge_into") or {}).items()}
    findings = sort_findings(_fold_corroborations(_dedupe(found), merge_into))
    return HuntResult(
        host=data.host,
        tr=data.tr,
        findings=tuple(findings),
        timeline=tuple(attack_timeline(findings)),
        searched=searched_counts(data, risky, len(DETECTIONS) + len(extra)),
        errors=tuple(errors),
    )


def hunt(source: Any, host: str, tr: TimeRange, *, extra: Sequence[ExtraSource] = ()) -> HuntResult:
    """Fetch a host's data from any Source and run the detections (and ``extra`` finding sources)."""
    return find_all(collect(source, host, tr), extra=extra)


def run_detectors(
    data: HuntData,
    rule_ids: Sequence[str],
    *,
    specs: Mapping[str, DetectionSpec] | None = None,
    risky_rules: Sequence[RiskRule] | None = None,
) -> list[Finding]:
    """Only the named detectors on ``data`` (deduplicated, sorted): how pages ask the engine for flags."""
    specs = specs or _default_specs()
    risky = tuple(risky_rules) if risky_rules is not None else _default_risky()
    ctx = _Ctx(data, specs, risky, _Sessions(data.audit, data.users))
    found: list[Finding] = []
    for rule_id in rule_ids:
        found.extend(DETECTIONS[rule_id](ctx))
    return sort_findings(_dedupe(found))
