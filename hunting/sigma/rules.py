"""Loading Sigma rule folders and converting them once (cached) for DuckDB and for KQL.

Rules are parsed with pySigma 2.x and converted through the processing pipeline in
``hunting/rules/sigma/pipeline.yml`` (log source -> table, builtin service -> program). A rule
that does not parse, whose log source is not mapped, that fails to convert, or whose SQL DuckDB
refuses (a field the table lacks, a regular expression RE2 rejects: each rule is tried once on
empty tables) is returned as a :class:`Skipped` with the reason; nothing is dropped silently.
Conversion is cached per file *content* (SHA-256), and rule sets by the folders' file names,
sizes and modification times, so a new time range, or a folder added beside the snapshot,
reuses what was converted. A YAML error is reported with its line, column and problem, never
the file's text (analysts' folders may hold anything).
"""

from __future__ import annotations

import hashlib
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

from hunting.evidence import EvidenceError, EvidencePolicy
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
# Columns of the sigma_process table (hunting.sigma.engine builds it) a process_creation rule may name.
PROCESS_COLUMNS: Final = (
    "Image",
    "CommandLine",
    "CurrentDirectory",
    "User",
    "LogonId",
    "ProcessId",
    "ParentProcessId",
    "ParentImage",
    "ParentCommandLine",
)


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

    @property
    def condition(self) -> str:
        """The SQL condition alone (the WHERE clause), for one-scan evaluation of a table."""
        prefix = f"SELECT * FROM {self.table} WHERE "
        if not self.sql.startswith(prefix):
            raise ValueError(f"unexpected SQL shape for rule {self.rule_id}")
        return self.sql[len(prefix) :]


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


def _files(
    dirs: Sequence[Path], policy: EvidencePolicy | None
) -> tuple[tuple[tuple[str, int, int], ...], tuple[Skipped, ...]]:
    """Rule files under ``dirs`` with (size, mtime) for the cache key; refused ones as Skipped.

    With a ``policy`` (folders a visitor typed in the app), every file's real path must be
    admitted by it too, so a symlink in the folder cannot pull in a file outside the roots."""
    out = []
    refused = []
    for d in dirs:
        if policy is not None:
            try:
                policy.admit(d)
            except EvidenceError as exc:
                refused.append(Skipped("", d.name, str(d), f"not read: {exc}"))
                continue
        if not d.exists():
            refused.append(Skipped("", "", str(d), "rule folder not found"))
            continue
        paths = [d] if d.is_file() else sorted(d.rglob("*.yml")) + sorted(d.rglob("*.yaml"))
        for p in paths:
            try:
                if policy is not None:
                    policy.admit_file(p)
                st = p.stat()
            except EvidenceError as exc:
                refused.append(Skipped("", p.name, str(p), f"not read: {exc}"))
                continue
            except OSError as exc:
                refused.append(Skipped("", p.name, str(p), f"not read: {exc.strerror or exc}"))
                continue
            out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out), tuple(refused)


def load_rules(
    dirs: Sequence[str | Path] | None = None,
    *,
    typed: Sequence[str | Path] = (),
    policy: EvidencePolicy | None = None,
) -> RuleSet:
    """Parse and convert every rule under ``dirs`` (default :func:`rule_dirs`) and ``typed``; cached.

    ``typed``: folders a visitor typed in the app; each of their files must pass ``policy``
    (the deployment's evidence policy). ``dirs`` (the snapshot, settings, the CLI) are trusted."""
    trusted = [Path(d) for d in (dirs if dirs is not None else rule_dirs())]
    visitor = [Path(d) for d in typed if Path(d) not in trusted]
    files, refused = _files(trusted, None)
    if visitor:  # the policy first: a refused path is not even tested for existence
        more, more_refused = _files(visitor, policy or EvidencePolicy(()))
        files, refused = files + more, refused + more_refused
    rs = _load(files)
    return RuleSet(rs.rules, refused + rs.skipped) if refused else rs


def yaml_problem(exc: BaseException) -> str:
    """A YAML/Sigma parse error as position and problem only (never the offending text)."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return f"YAML error at {where}{exc.problem or 'not valid YAML'}"
    if isinstance(exc, yaml.YAMLError):
        return "YAML error (no position given)"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


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


@lru_cache(maxsize=1)
def _backend() -> DuckDBSigmaBackend:
    pipeline = ProcessingPipeline.from_yaml(PIPELINE.read_text(encoding="utf-8"))
    return DuckDBSigmaBackend(pipeline, fulltext_field=FULLTEXT)


@lru_cache(maxsize=8)
def _load(files: tuple[tuple[str, int, int], ...]) -> RuleSet:
    rules: list[ConvertedRule] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for name, size, _ in files:
        path = Path(name)
        if size > MAX_RULE_BYTES:
            skipped.append(Skipped("", path.name, name, f"file larger than {MAX_RULE_BYTES:,} bytes"))
            continue
        try:
            data = path.read_bytes()[: MAX_RULE_BYTES + 1]
        except OSError as exc:
            skipped.append(Skipped("", path.name, name, f"not read: {exc.strerror or exc}"))
            continue
        for item in _file_rules(name, hashlib.sha256(data).hexdigest(), data):
            if isinstance(item, Skipped):
                skipped.append(item)
            elif item.rule_id in seen:
                skipped.append(Skipped(item.rule_id, item.title, name, "duplicate rule id (first one kept)"))
            else:
                seen.add(item.rule_id)
                rules.append(item)
    good, bad = _try_on_empty_tables(rules)
    return RuleSet(tuple(good), tuple(skipped + bad))


@lru_cache(maxsize=4096)
def _file_rules(name: str, digest: str, data: bytes) -> tuple[ConvertedRule | Skipped, ...]:
    """Every rule of one file converted (cached by path and content hash)."""
    path = Path(name)
    try:
        collection = SigmaCollection.from_yaml(data.decode("utf-8", errors="replace"))
    except (SigmaError, ValueError, UnicodeError, yaml.YAMLError) as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, yaml.YAMLError) else exc
        return (Skipped("", path.name, name, f"not a Sigma rule: {yaml_problem(cause)}"),)
    out: list[ConvertedRule | Skipped] = []
    for rule in collection.rules:
        rid = str(rule.id or path.stem)
        title = str(rule.title or path.stem)
        if not isinstance(rule, SigmaRule):
            out.append(Skipped(rid, title, name, "correlation rules are not supported"))
            continue
        out.append(_convert(_backend(), rule, path))
    if not out:
        out.append(Skipped("", path.name, name, "no rule in the file"))
    return tuple(out)


def _try_on_empty_tables(rules: list[ConvertedRule]) -> tuple[list[ConvertedRule], list[Skipped]]:
    """Each rule's SQL once on empty tables of the real columns: DuckDB's refusals (a field the
    table has not, a regular expression RE2 rejects) become reasons at load, not surprises later."""
    import duckdb

    from hunting.schema import SYSLOG

    con = duckdb.connect(":memory:")
    syslog_cols = [c for c, _ in SYSLOG.columns]
    auditd = sorted({f for r in rules if r.table == "sigma_auditd" for f in r.fields} - {FULLTEXT, "type"})
    shapes = {
        "sigma_syslog": ["_row", *syslog_cols, FULLTEXT],
        "sigma_auditd": ["_row", "TimeGenerated", "Computer", FULLTEXT, "type", *auditd],
        "sigma_process": ["_row", "TimeGenerated", "Computer", FULLTEXT, *PROCESS_COLUMNS],
    }
    for table, cols in shapes.items():
        spec = ", ".join(f'"{c}" {"BIGINT" if c == "_row" else "VARCHAR"}' for c in dict.fromkeys(cols))
        con.execute(f"CREATE TABLE {table} ({spec})")
    good: list[ConvertedRule] = []
    bad: list[Skipped] = []
    for r in rules:
        try:
            con.execute(r.sql.replace("SELECT *", "SELECT _row", 1)).fetchall()
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0][:200]
            bad.append(Skipped(r.rule_id, r.title, r.path, f"DuckDB cannot run the converted rule: {first}"))
            continue
        good.append(r)
    con.close()
    return good, bad


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
