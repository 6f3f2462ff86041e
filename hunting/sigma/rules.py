"""Loading Sigma rule folders and converting them once (cached) for DuckDB and for KQL.

Rules are parsed with pySigma 2.x and converted through the processing pipeline in
``hunting/rules/sigma/pipeline.yml`` (log source -> table, builtin service -> program). A rule
that does not parse, whose log source is not mapped, or that fails to convert is returned as a
:class:`Skipped` with the reason; nothing is dropped silently. Converted rule sets are cached by
the folders' file names, sizes and modification times, so a new time range reuses them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError
from sigma.processing.pipeline import ProcessingPipeline
from sigma.rule import SigmaRule

from hunting.rules import RULES_DIR
from hunting.sigma.backend import DuckDBSigmaBackend

SIGMA_DIR: Final = RULES_DIR / "sigma"
SIGMAHQ_DIR: Final = SIGMA_DIR / "sigmahq"
PIPELINE: Final = SIGMA_DIR / "pipeline.yml"
SIGMAHQ_COMMIT: Final = "8eaafff1f2845a696050e05e72ba1140ee190698"
SIGMAHQ_URL: Final = f"https://github.com/SigmaHQ/sigma/blob/{SIGMAHQ_COMMIT}/rules/linux/"
ENV_DIRS: Final = "HUNTING_SIGMA_DIRS"  # os.pathsep-separated extra rule folders
TABLES: Final = ("sigma_syslog", "sigma_auditd", "sigma_process")
FULLTEXT: Final = "_text"  # keyword (field-less) values match this column of each table
LEVELS: Final = {"informational": "low", "low": "low", "medium": "medium", "high": "high", "critical": "high"}
_TECHNIQUE: Final = re.compile(r"attack\.(t\d{4}(?:\.\d{3})?)", re.IGNORECASE)
_FIELD: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_RULE_BYTES: Final = 1_000_000


@dataclass(frozen=True)
class Skipped:
    """A rule that is not evaluated, and why (shown to the analyst, never dropped silently)."""

    rule_id: str
    title: str
    path: str
    reason: str


@dataclass(frozen=True)
class ConvertedRule:
    """One rule ready to run: its SQL over a ``sigma_*`` table, and what a finding needs."""

    rule_id: str
    title: str
    severity: str
    level: str
    techniques: tuple[str, ...]
    table: str
    sql: str  # SELECT * FROM <table> WHERE ...
    fields: tuple[str, ...]  # rule fields the table must have as columns
    url: str  # SigmaHQ URL at the pinned commit, or the local file path
    path: str
    author: str
    description: str
    kql_table: str | None
    rule: SigmaRule


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[ConvertedRule, ...]
    skipped: tuple[Skipped, ...]

    def fields(self, table: str) -> set[str]:
        return {f for r in self.rules if r.table == table for f in r.fields}


def rule_dirs(extra: Iterable[str | Path] = (), environ: dict[str, str] | None = None) -> list[Path]:
    """The shipped SigmaHQ snapshot, then ``HUNTING_SIGMA_DIRS``, then ``extra`` (CLI, sidebar)."""
    env = (environ if environ is not None else dict(os.environ)).get(ENV_DIRS, "")
    dirs = [SIGMAHQ_DIR, *(Path(p) for p in env.split(os.pathsep) if p.strip()), *(Path(p) for p in extra)]
    seen: list[Path] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return seen


def _files(dirs: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for d in dirs:
        paths = [d] if d.is_file() else sorted(d.rglob("*.yml")) + sorted(d.rglob("*.yaml"))
        for p in paths:
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def load_rules(dirs: Sequence[str | Path] | None = None) -> RuleSet:
    """Parse and convert every rule under ``dirs`` (default :func:`rule_dirs`); cached."""
    paths = [Path(d) for d in (dirs if dirs is not None else rule_dirs())]
    missing = [Skipped("", "", str(p), "rule folder not found") for p in paths if not p.exists()]
    rs = _load(_files(paths))
    return RuleSet(rs.rules, tuple(missing) + rs.skipped) if missing else rs


def _url(path: Path) -> str:
    try:
        return SIGMAHQ_URL + path.resolve().relative_to(SIGMAHQ_DIR.resolve()).as_posix()
    except ValueError:
        return str(path)


def _fields_of(rule: SigmaRule) -> set[str]:
    from sigma.rule import SigmaDetection

    out: set[str] = set()

    def walk(d: Any) -> None:
        for it in d.detection_items:
            if isinstance(it, SigmaDetection):
                walk(it)
            elif it.field:
                out.add(it.field)

    for d in rule.detection.detections.values():
        walk(d)
    return out


@lru_cache(maxsize=8)
def _load(files: tuple[tuple[str, int, int], ...]) -> RuleSet:
    pipeline = ProcessingPipeline.from_yaml(PIPELINE.read_text(encoding="utf-8"))
    backend = DuckDBSigmaBackend(pipeline, fulltext_field=FULLTEXT)
    rules: list[ConvertedRule] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for name, size, _ in files:
        path = Path(name)
        if size > MAX_RULE_BYTES:
            skipped.append(Skipped("", path.name, name, f"file larger than {MAX_RULE_BYTES:,} bytes"))
            continue
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8", errors="replace"))
        except (SigmaError, ValueError, UnicodeError, yaml.YAMLError) as exc:
            skipped.append(Skipped("", path.name, name, f"not a Sigma rule: {str(exc)[:200]}"))
            continue
        for rule in collection.rules:
            rid = str(rule.id or path.stem)
            title = str(rule.title or path.stem)
            if not isinstance(rule, SigmaRule):
                skipped.append(Skipped(rid, title, name, "correlation rules are not supported"))
                continue
            if rid in seen:
                skipped.append(Skipped(rid, title, name, "duplicate rule id (first one kept)"))
                continue
            seen.add(rid)
            skipped_or_rule = _convert(backend, rule, path)
            (skipped if isinstance(skipped_or_rule, Skipped) else rules).append(skipped_or_rule)  # type: ignore[arg-type]
    return RuleSet(tuple(rules), tuple(skipped))


def _convert(backend: DuckDBSigmaBackend, rule: SigmaRule, path: Path) -> ConvertedRule | Skipped:
    rid, title = str(rule.id or path.stem), str(rule.title or path.stem)
    ls = rule.logsource
    where = f"log source product={ls.product} category={ls.category} service={ls.service}"
    if (ls.product or "").lower() != "linux":
        return Skipped(rid, title, str(path), f"{where}: only product: linux is mapped")
    try:
        queries = backend.convert_rule(rule)
        state = rule.get_conversion_states()[0].processing_state if rule.get_conversion_states() else {}
    except SigmaError as exc:
        return Skipped(rid, title, str(path), f"{where}: {str(exc)[:300]}")
    table = state.get("table")
    if table not in TABLES or (rule.was_processed_by("table_linux_any") and (ls.service or ls.category)):
        return Skipped(rid, title, str(path), f"{where}: not mapped to a table of this tool")
    if len(queries) != 1:
        return Skipped(rid, title, str(path), f"converted to {len(queries)} queries; one expected")
    fields = _fields_of(rule)
    bad = sorted(f for f in fields if not _FIELD.match(f))
    if bad:
        return Skipped(rid, title, str(path), f"field names not supported: {', '.join(bad)}")
    level = str(rule.level.name).lower() if rule.level else "low"
    tags = tuple(dict.fromkeys(m.group(1).upper() for t in rule.tags if (m := _TECHNIQUE.fullmatch(str(t)))))
    author = str(rule.author or "")
    return ConvertedRule(
        rule_id=rid, title=title, severity=LEVELS.get(level, "low"), level=level, techniques=tags,
        table=str(table), sql=str(queries[0]), fields=tuple(sorted(fields)), url=_url(path), path=str(path),
        author=author, description=str(rule.description or ""), kql_table=state.get("kql_table"), rule=rule,
    )  # fmt: skip
