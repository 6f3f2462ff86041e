"""Sigma rules as KQL for Log Analytics (pySigma-backend-kusto through the same pipeline).

The rule's condition comes from the trusted rule file, converted by the Kusto backend after
the pipeline in ``hunting/rules/sigma/pipeline.yml`` (the same one the local engine uses, so a
builtin ``service: sshd`` rule gains ``ProcessName =~ "sshd"`` in both). Keyword (field-less)
values become ``SyslogMessage contains``, like the local ``_text`` column. Host and time range
are never spliced as text: they are ``let`` statements of typed literals from
:mod:`hunting.queries.kql_render`. Only Syslog rules run there: Sentinel's AuditLog_CL keeps
auditd records in a layout this pipeline does not map, so auditd and process_creation rules
run on the audit rows fetched for the hunt (:func:`hunting.sigma.engine.run_on_data`).

pySigma-backend-kusto 1.0.1 declares ``pysigma<2``, so pip refuses it next to pySigma 2.0.1 and it
is not in requirements.txt (decision: nothing vendored, the backend stays optional); it imports and
converts under pySigma 2.0.1. Install it with ``pip install --no-deps pysigma-backend-kusto==1.0.1``
(``make install-dev`` does, so CI has it); without it the Syslog rules run on the fetched rows
instead and the Findings page and report say so. tests/sigma/test_sigma_kql.py runs the KQL it
produces on the test-only KQL engine duckdb-kql and compares with the local matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import pandas as pd
from sigma.exceptions import SigmaError
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations.base import DetectionItemTransformation
from sigma.rule import SigmaDetectionItem
from sigma.types import SigmaString, SpecialChars

from hunting.queries.kql_render import literal
from hunting.sigma.rules import PIPELINE, ConvertedRule, RuleSet, Skipped
from hunting.timerange import TimeRange

MARKER: Final = "// hunting:sigma"
MESSAGE: Final = "SyslogMessage"
KUSTO_MISSING: Final = (
    "pySigma-backend-kusto is not installed, so Sigma rules cannot be converted to KQL "
    "(pip install --no-deps pysigma-backend-kusto==1.0.1; README, Sigma rules)"
)
ROW_CAP: Final = 10_000  # matching rows fetched per rule; the finding counts them all
KqlRunner = Callable[[str, TimeRange], pd.DataFrame]


def kusto_available() -> bool:
    """Whether pySigma-backend-kusto can be imported (it is optional: see the module docstring)."""
    try:
        _backend()
    except ImportError:
        return False
    return True


class _KeywordsToMessage(DetectionItemTransformation):  # type: ignore[misc]
    """Field-less (keyword) values search SyslogMessage, as Sigma keywords search the line."""

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> None:
        if detection_item.field is None:
            detection_item.field = MESSAGE
            values = []
            for v in detection_item.value:
                if isinstance(v, SigmaString):
                    if not v.startswith(SpecialChars.WILDCARD_MULTI):
                        v = SigmaString("*") + v
                    if not v.endswith(SpecialChars.WILDCARD_MULTI):
                        v = v + SigmaString("*")
                values.append(v)
            detection_item.value = values


@lru_cache(maxsize=1)
def _backend() -> Any:
    from sigma.backends.kusto import KustoBackend  # optional: see the module docstring

    pipeline = ProcessingPipeline.from_yaml(PIPELINE.read_text(encoding="utf-8"))
    keywords = ProcessingPipeline(
        name="keywords-to-SyslogMessage", priority=30,
        items=[ProcessingItem(identifier="keywords_to_message", transformation=_KeywordsToMessage())],
    )  # fmt: skip
    return KustoBackend(pipeline + keywords)


@dataclass(frozen=True)
class KqlRule:
    rule: ConvertedRule
    table: str
    condition: str  # the Kusto backend's filter expression

    def query(self, host: str, tr: TimeRange) -> str:
        """The full query: marker, typed ``let`` literals for host and range, then the rule."""
        return (
            f"{MARKER}\n"
            f"let sigma_host = {literal('host', host)};\n"
            f"let sigma_start = {literal('datetime', tr.start)};\n"
            f"let sigma_end = {literal('datetime', tr.end)};\n"
            f"{self.table}\n"
            "| where TimeGenerated >= sigma_start and TimeGenerated < sigma_end and Computer =~ sigma_host\n"
            f"| where {self.condition}\n"
            f"| take {ROW_CAP + 1}"
        )


def kql_rules(rules: RuleSet) -> tuple[list[KqlRule], list[Skipped]]:
    """Each evaluable rule as KQL; rules that cannot run on Log Analytics, with the reason."""
    out: list[KqlRule] = []
    skipped = list(rules.skipped)
    if not kusto_available():
        return [], skipped + [Skipped(r.rule_id, r.title, r.path, KUSTO_MISSING) for r in rules.rules]
    for r in rules.rules:
        if r.kql_table is None:
            skipped.append(Skipped(r.rule_id, r.title, r.path, f"{r.table}: AuditLog_CL records are not mapped for Log Analytics"))  # fmt: skip
            continue
        try:
            converted = _convert(r)
        except SigmaError as exc:
            skipped.append(Skipped(r.rule_id, r.title, r.path, f"KQL conversion failed: {str(exc)[:200]}"))
            continue
        out.append(KqlRule(r, r.kql_table, converted))
    return out, skipped


def _convert(r: ConvertedRule) -> str:
    from sigma.collection import SigmaCollection

    fresh = SigmaCollection.from_yaml(_rule_text(r.path, r.rule_id))
    rule: Any = next(x for x in fresh.rules if str(x.id or "") == r.rule_id or len(fresh.rules) == 1)
    queries = _backend().convert_rule(rule)
    if len(queries) != 1:
        raise SigmaError(f"{len(queries)} queries")
    return str(queries[0])


@lru_cache(maxsize=1024)
def _rule_text(path: str, rule_id: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read()


def run_kql_rules(rules: list[KqlRule], host: str, tr: TimeRange, run: KqlRunner) -> Any:
    """Each rule's query through ``run`` (the Log Analytics source's ``sigma_rows``, or a test
    engine): one finding per rule with rows, the matching Syslog lines as evidence.

    Returns a :class:`hunting.sigma.engine.SigmaRun`; a rule the service refuses is skipped with
    the service's message, the others still run."""
    from hunting.detections.base import syslog_line
    from hunting.errors import HuntingError
    from hunting.sigma.engine import SigmaRun, make_finding, syslog_who

    findings = []
    skipped: list[Skipped] = []
    counts: dict[str, int] = {}
    for k in rules:
        try:
            rows = run(k.query(host, tr), tr)
        except HuntingError as exc:
            skipped.append(
                Skipped(k.rule.rule_id, k.rule.title, k.rule.path, f"Log Analytics: {str(exc)[:200]}")
            )
            continue
        counts[k.rule.rule_id] = len(rows)
        if len(rows):
            rows = rows.sort_values("TimeGenerated", kind="stable")
            lines = [syslog_line(r) for r in rows.head(25).to_dict("records")]
            times = pd.to_datetime(rows["TimeGenerated"], utc=True)
            findings.append(make_finding(k.rule, host, times, lines, len(rows), syslog_who(rows)))
    return SigmaRun(findings, skipped, counts)
