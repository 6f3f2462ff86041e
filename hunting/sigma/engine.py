"""Running converted Sigma rules on one host's time range and turning matches into findings.

Why this way: the host's rows come from the source (``syslog``/``audit_events``, so local files
and Log Analytics frames alike), are registered in a private in-memory DuckDB connection as the
three ``sigma_*`` relations the pipeline names, and each rule's SQL (SigmaHQ's SQLite backend in
DuckDB spelling, see :mod:`hunting.sigma.backend`) runs on them. DuckDB evaluates LIKE/ILIKE in
linear time and its regular expressions are RE2, so attacker-controlled log text cannot make a
rule's pattern backtrack. Only rule text (trusted files) is part of the SQL; host and time range
select the rows before, through the source's own bound-parameter queries.

Tables:

* ``sigma_syslog``: Syslog rows; ``_text`` is SyslogMessage (keyword rules).
* ``sigma_auditd``: one row per auditd *record* (Sigma's auditd rules, like Zircolite, test
  fields of one record: ``type: EXECVE`` with ``a0``...). Fields are cut from the raw record
  with RE2 ``regexp_extract``; quoted values lose their quotes, hex-encoded ones (auditd encodes
  values with spaces or odd bytes) are decoded. ``_text`` is the record line.
* ``sigma_process``: program starts from :func:`process_events` (audit EXECVE events): Image,
  CommandLine, CurrentDirectory, User, LogonId and ParentImage/ParentCommandLine (the last
  program started by the parent pid before the child, an ASOF join).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import duckdb
import pandas as pd

from hunting.analysis.findings import MAX_EVIDENCE, Finding, Link, iso, syslog_line
from hunting.sigma.rules import FULLTEXT, ConvertedRule, RuleSet, Skipped, load_rules
from hunting.timerange import TimeRange

# auditd fields whose unquoted value is hex-encoded text (EXECVE arguments, paths, names).
_HEX_FIELDS: Final = frozenset({"name", "cwd", "exe", "comm", "proctitle", "path", "cmd", "data"})
_MAX_LINE: Final = 2000


@dataclass(frozen=True)
class SigmaRun:
    findings: list[Finding]
    skipped: list[Skipped]
    matched_rows: dict[str, int]  # rule id -> matching rows (tests compare with KQL)


def _auditd_sql(fields: set[str]) -> str:
    """Records of the registered ``audit`` frame with the rules' fields as columns (RE2 only).

    Each value is cut once (inner query), then unquoted or hex-decoded (outer query)."""
    names = sorted(fields - {"type", FULLTEXT})
    inner = "".join(f', regexp_extract(rec, \'(?:^|\\s){f}=("[^"]*"|\\S*)\', 1) AS "{f}"' for f in names)
    cols = []
    for f in names:
        raw = f'"{f}"'
        argument = f[0] == "a" and f[1:].isdigit()
        decode = (
            f"WHEN {'type = ' + chr(39) + 'EXECVE' + chr(39) + ' AND ' if argument else ''}"
            f"regexp_full_match({raw}, '(?:[0-9A-Fa-f]{{2}})+') AND try(decode(unhex({raw}))) IS NOT NULL "
            f"THEN decode(unhex({raw})) "
            if argument or f in _HEX_FIELDS
            else ""
        )
        cols.append(
            f"CASE WHEN {raw} = '' THEN NULL WHEN starts_with({raw}, '\"') THEN trim({raw}, '\"') "
            f"{decode}ELSE {raw} END AS {raw}"
        )
    outer = (", " + ", ".join(cols)) if cols else ""
    return (
        f'SELECT _row, TimeGenerated, Computer, "_text", "type"{outer} FROM ('
        f'SELECT _row, TimeGenerated, Computer, rec AS "_text", '
        f"regexp_extract(rec, '(?:^|\\s)type=(\\S+)', 1) AS \"type\"{inner} FROM ("
        "SELECT _row, TimeGenerated, Computer, unnest(string_split(RawMessage, chr(10))) AS rec FROM audit) r) x"
    )


_PROCESS_SQL: Final = """
SELECT c._row, c.TimeGenerated, c.Computer, c.Exe AS "Image", c.Cmdline AS "CommandLine",
       c.Cwd AS "CurrentDirectory", c."User" AS "User", CAST(c.Ses AS VARCHAR) AS "LogonId",
       c.Pid AS "ProcessId", c.Ppid AS "ParentProcessId", p.Exe AS "ParentImage",
       p.Cmdline AS "ParentCommandLine", c.Cmdline AS "_text"
FROM procs c ASOF LEFT JOIN procs p ON c.Computer = p.Computer AND c.Ppid = p.Pid AND c.TimeGenerated > p.TimeGenerated
"""


class SigmaTables:
    """The ``sigma_*`` relations of one host and range on a private DuckDB connection."""

    def __init__(self, syslog: pd.DataFrame, audit: pd.DataFrame, rules: RuleSet) -> None:
        from hunting.analysis.process_tree import process_events

        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.lock = threading.Lock()
        self.syslog = syslog.reset_index(drop=True)
        self.audit = audit.reset_index(drop=True)
        self.procs = process_events(self.audit).reset_index(drop=True) if len(self.audit) else None
        sys_frame = self.syslog.assign(_row=range(len(self.syslog)))
        sys_frame[FULLTEXT] = sys_frame.get("SyslogMessage")
        self.con.register("syslog_frame", sys_frame)
        self.con.execute("CREATE TEMP TABLE sigma_syslog AS SELECT * FROM syslog_frame")
        self.con.unregister("syslog_frame")
        if len(self.audit) and "RawMessage" in self.audit.columns:
            self.con.register(
                "audit",
                self.audit[["TimeGenerated", "Computer", "RawMessage"]].assign(_row=range(len(self.audit))),
            )
            self.con.execute("CREATE TEMP TABLE sigma_auditd AS " + _auditd_sql(rules.fields("sigma_auditd")))
        else:
            cols = ", ".join(
                f'CAST(NULL AS VARCHAR) AS "{f}"' for f in sorted(rules.fields("sigma_auditd") | {"type"})
            )
            self.con.execute(f'CREATE TEMP TABLE sigma_auditd AS SELECT 0 AS _row, NULL::TIMESTAMP AS TimeGenerated, NULL AS Computer, NULL::VARCHAR AS "_text", {cols} LIMIT 0')  # fmt: skip
        procs = self.procs
        if procs is None or procs.empty:
            procs = pd.DataFrame(
                {c: pd.Series(dtype="string") for c in ("Computer", "Exe", "Cmdline", "Cwd", "User")}
            )
            procs["TimeGenerated"] = pd.Series(dtype="datetime64[ns, UTC]")
            procs["Pid"] = procs["Ppid"] = procs["Ses"] = pd.Series(dtype="Int64")
        self.con.register("procs", procs.assign(_row=range(len(procs))))
        self.con.execute("CREATE TEMP TABLE sigma_process AS " + _PROCESS_SQL)
        self.con.unregister("procs")

    def rows(self, rule: ConvertedRule) -> list[int]:
        """Row numbers (in the table's source frame) matching ``rule``; raises duckdb.Error."""
        sql = rule.sql.replace("SELECT * FROM", "SELECT DISTINCT _row FROM", 1)
        with self.lock:
            return sorted(int(r[0]) for r in self.con.execute(sql).fetchall())

    def lines(self, rule: ConvertedRule, rows: Sequence[int]) -> list[str]:
        if rule.table == "sigma_syslog":
            return [syslog_line(self.syslog.iloc[i].to_dict()) for i in rows]
        if rule.table == "sigma_auditd":
            return [str(self.audit.iloc[i].get("RawMessage") or "") for i in rows]
        procs = self.procs if self.procs is not None else pd.DataFrame()
        out = []
        for i in rows:
            r = procs.iloc[i]
            out.append(f"{iso(r['TimeGenerated'])} pid={r.get('Pid')} ppid={r.get('Ppid')} user={r.get('User')} exe={r.get('Exe')} cwd={r.get('Cwd')} cmdline={r.get('Cmdline')}")  # fmt: skip
        return out

    def times(self, rule: ConvertedRule, rows: Sequence[int]) -> pd.Series:
        frame = {"sigma_syslog": self.syslog, "sigma_auditd": self.audit}.get(rule.table, self.procs)
        assert frame is not None
        return pd.to_datetime(frame["TimeGenerated"].iloc[list(rows)], utc=True)


def evaluate(tables: SigmaTables, rules: RuleSet, host: str) -> SigmaRun:
    """Every rule on the tables: one finding per rule that matched, skipped rules with reasons."""
    findings: list[Finding] = []
    skipped = list(rules.skipped)
    counts: dict[str, int] = {}
    for rule in rules.rules:
        try:
            rows = tables.rows(rule)
        except duckdb.Error as exc:
            skipped.append(Skipped(rule.rule_id, rule.title, rule.path, f"failed to run on DuckDB: {str(exc).splitlines()[0][:200]}"))  # fmt: skip
            continue
        counts[rule.rule_id] = len(rows)
        if rows:
            findings.append(_finding(rule, host, rows, tables))
    return SigmaRun(findings, skipped, counts)


def _finding(rule: ConvertedRule, host: str, rows: list[int], tables: SigmaTables) -> Finding:
    times = tables.times(rule, rows)
    lines = [ln[:_MAX_LINE] for ln in tables.lines(rule, rows[:MAX_EVIDENCE])]
    by = f" by {rule.author}" if rule.author else ""
    detail = f"Sigma rule {rule.rule_id} ({rule.level}){by}: {rule.description} Rule: {rule.url}"
    return Finding(
        id=f"sigma-{rule.rule_id}-{host}"[:120],
        rule_id=f"sigma:{rule.rule_id}",
        title=f"Sigma: {rule.title}",
        severity=rule.severity,
        mitre=rule.techniques,
        time=times.min().to_pydatetime(),
        end=times.max().to_pydatetime(),
        host=host,
        detail=detail,
        evidence=tuple(lines),
        occurrences=len(rows),
        links=(Link(rule.url, "Sigma rule"),),
    )


def sigma_run(source: Any, host: str, tr: TimeRange, rules: RuleSet | None = None) -> SigmaRun:
    """Fetch the host's syslog and audit rows for ``tr`` and evaluate ``rules`` (default: all)."""
    rules = rules if rules is not None else load_rules()
    syslog = source.syslog(host, tr)
    try:
        audit = source.audit_events(host, tr)
    except Exception:
        audit = pd.DataFrame()
    return evaluate(SigmaTables(syslog, audit, rules), rules, host)


def sigma_findings(
    source: Any, host: str, tr: TimeRange, rules: RuleSet | None = None
) -> tuple[list[Finding], list[Skipped]]:
    """Sigma findings for one host and range, and the rules not evaluated (with reasons)."""
    run = sigma_run(source, host, tr, rules)
    return run.findings, run.skipped
