"""Risky command lines: YAML rules matched over a column of commands.

Matching runs on RE2 through pyarrow compute, which is linear in the input, so an
attacker's 1 MB command line cannot make a rule backtrack for minutes. Patterns
must therefore use the syntax RE2 and Python's ``re`` share; the loader checks
both. Base64 text inside a command is decoded (two levels deep, by
:mod:`hunting.analysis.decode`, which holds the limits) and the decoded
text is matched again, because encoding is how droppers hide from this kind of
rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from hunting.analysis.decode import (  # noqa: F401  (B64_* re-exported: risky's API)
    B64_MAX_DEPTH,
    B64_MAX_TOKEN_CHARS,
    B64_MAX_TOKENS,
    B64_MIN_CHARS,
    B64_MIN_PRINTABLE,
    B64_PREFILTER,
    decode_all,
)
from hunting.errors import HuntingError
from hunting.rules import RISKY_COMMANDS

SEVERITIES: Final = ("low", "medium", "high")  # ascending
SEVERITY_RANK: Final = {s: i for i, s in enumerate(SEVERITIES)}
MATCH_CHARS: Final = 200  # Matched column is cut to this many characters
ENCODED_RULE_ID: Final = "lnx.base64_decode"  # reported on the outer command of a decoded hit
MAX_RULE_FILE_BYTES: Final = 2_000_000


COLUMNS: Final = ("Row", "RuleId", "Title", "Severity", "Techniques", "Matched", "Decoded")

_ID_RE: Final = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
_TAG_RE: Final = re.compile(r"attack\.t\d{4}(?:\.\d{3})?")
_KEYS: Final = frozenset({"id", "title", "description", "severity", "tags", "pattern", "examples"})
_LEADING_FLAGS: Final = re.compile(r"\(\?([aiLmsux]+)\)")


class RuleError(HuntingError):
    """A rule file or a rule in it is invalid; the message names both."""

    def __init__(self, message: str, path: str = "", rule_id: str = "") -> None:
        where = " ".join(p for p in (path and f"{path}:", rule_id and f"rule {rule_id}:") if p)
        super().__init__(f"{where} {message}" if where else message)
        self.path = path
        self.rule_id = rule_id


@dataclass(frozen=True)
class RiskRule:
    """One risky-command rule; construction fails on any invalid field."""

    id: str
    title: str
    severity: str
    tags: tuple[str, ...]
    pattern: str
    description: str = ""
    match_examples: tuple[str, ...] = ()
    nomatch_examples: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.fullmatch(self.id):
            raise ValueError(f"id {self.id!r} must look like 'lnx.download_execute'")
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError("title is empty")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        if not self.tags:
            raise ValueError("tags is empty: give at least one ATT&CK technique (attack.t1059.004)")
        for tag in self.tags:
            if not isinstance(tag, str) or not _TAG_RE.fullmatch(tag):
                raise ValueError(f"tag {tag!r} must look like attack.t1059 or attack.t1059.004")
        _check_pattern(self.pattern)

    @property
    def techniques(self) -> str:
        """Technique ids as ATT&CK writes them: 'T1105, T1059.004'."""
        return ", ".join(t.removeprefix("attack.").upper() for t in self.tags)

    def search(self, text: str) -> str | None:
        """The leftmost match in one text (RE2, as in bulk matching), or None."""
        found = _extract(pa.array([text], pa.large_string()), self.pattern)
        return found[0].as_py() if found[0].is_valid else None


def _check_pattern(pattern: object) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("pattern is empty")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern does not compile: {exc}") from None
    if compiled.groups:
        raise ValueError("pattern has a capturing group: write (?:...) instead of (...)")
    try:
        pc.match_substring_regex(pa.array([""], pa.large_string()), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(
            f"pattern is not RE2 syntax (no lookarounds, backreferences or \\Z): {exc}"
        ) from None


def _extract(texts: pa.Array, pattern: str) -> pa.Array:
    """Leftmost match of ``pattern`` per text (null where none)."""
    found = pc.extract_regex(texts, f"(?P<m>{pattern})")
    return pc.if_else(pc.is_valid(found), pc.struct_field(found, [0]), None)


# --- Loading -----------------------------------------------------------------


def load_rules(path: Path | None = None, extra: Sequence[Path] = ()) -> list[RiskRule]:
    """Rules from the built-in file (or ``path``) followed by the ``extra`` user files.

    Every rule's examples are run when it is loaded, so a user rule that does not
    do what its author showed is refused instead of silently missing attacks.
    """
    rules: list[RiskRule] = []
    seen: dict[str, str] = {}
    for file in (path or RISKY_COMMANDS, *extra):
        for rule in _load_file(Path(file)):
            if rule.id in seen:
                raise RuleError(f"duplicate rule id, already defined in {seen[rule.id]}", str(file), rule.id)
            seen[rule.id] = str(file)
            rules.append(rule)
    return rules


@lru_cache(maxsize=1)
def _default_rules() -> tuple[RiskRule, ...]:
    return tuple(load_rules())


def _load_file(path: Path) -> list[RiskRule]:
    where = str(path)
    try:
        if path.stat().st_size > MAX_RULE_FILE_BYTES:
            raise RuleError(f"file is larger than {MAX_RULE_FILE_BYTES} bytes", where)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read rule file: {exc}", where) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # position and problem only: str(exc) quotes the file's lines
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise RuleError(
            f"not valid YAML{at}: {getattr(exc, 'problem', None) or type(exc).__name__}", where
        ) from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise RuleError("a rule file must be a YAML list of rules", where)
    return [_rule_from_dict(item, where, n) for n, item in enumerate(data, 1)]


def _rule_from_dict(item: Any, where: str, number: int) -> RiskRule:
    rule_id = str(item.get("id", f"#{number}")) if isinstance(item, dict) else f"#{number}"
    if not isinstance(item, dict):
        raise RuleError("each rule must be a mapping of id, title, severity, ...", where, rule_id)
    unknown = set(item) - _KEYS
    missing = {"id", "title", "severity", "tags", "pattern", "examples"} - set(item)
    if unknown:
        raise RuleError(f"unknown keys: {', '.join(sorted(map(str, unknown)))}", where, rule_id)
    if missing:
        raise RuleError(f"missing keys: {', '.join(sorted(missing))}", where, rule_id)
    examples = item["examples"]
    if not isinstance(examples, dict) or not examples.get("match") or not examples.get("nomatch"):
        raise RuleError("examples needs non-empty 'match' and 'nomatch' lists", where, rule_id)
    tags, good, bad = item["tags"], examples["match"], examples["nomatch"]
    for name, value in (("tags", tags), ("examples.match", good), ("examples.nomatch", bad)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RuleError(f"{name} must be a list of strings", where, rule_id)
    try:
        rule = RiskRule(
            id=item["id"],
            title=item["title"],
            severity=item["severity"],
            tags=tuple(tags),
            pattern=item["pattern"],
            description=str(item.get("description") or ""),
            match_examples=tuple(good),
            nomatch_examples=tuple(bad),
            source=where,
        )
    except ValueError as exc:
        raise RuleError(str(exc), where, rule_id) from None
    _check_examples(rule)
    return rule


def _check_examples(rule: RiskRule) -> None:
    texts = pa.array([*rule.match_examples, *rule.nomatch_examples], pa.large_string())
    hits = pc.match_substring_regex(texts, rule.pattern).to_pylist()
    n = len(rule.match_examples)
    for text, hit in zip(rule.match_examples, hits[:n], strict=True):
        if not hit:
            raise RuleError(f"pattern does not match its example {text!r}", rule.source, rule.id)
    for text, hit in zip(rule.nomatch_examples, hits[n:], strict=True):
        if hit:
            raise RuleError(f"pattern matches its nomatch example {text!r}", rule.source, rule.id)


# --- Matching ----------------------------------------------------------------


def match_commands(commands: pd.Series, rules: Sequence[RiskRule] | None = None) -> pd.DataFrame:
    """One row per (command, rule) hit: Row, RuleId, Title, Severity, Techniques, Matched, Decoded.

    ``Row`` is the label of the command in ``commands``. ``Decoded`` rows were found
    in base64 text inside the command; such a command also gets a row for the
    base64 rule (``ENCODED_RULE_ID``) when that rule is in ``rules``. Distinct
    commands are matched once each, so repeated commands cost nothing extra.
    """
    rules = _default_rules() if rules is None else tuple(rules)
    try:
        codes, uniques = pd.factorize(commands, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists, dicts from JSON): match their text
        codes, uniques = pd.factorize(commands.map(_as_text, na_action="ignore"), use_na_sentinel=True)
    texts = _to_arrow(uniques)
    hits = _scan(texts, rules, decoded=False)
    hits.extend(_decoded_hits(texts, rules))
    if not hits:
        return _empty()
    found = pd.DataFrame(hits, columns=["Unique", "Rule", "Matched", "Decoded"])
    found = found.drop_duplicates(["Unique", "Rule", "Decoded"], keep="first")
    rows = pd.DataFrame({"Unique": codes, "Position": np.arange(len(codes))})
    out = rows.merge(found, on="Unique", how="inner")
    out = out.sort_values(["Position", "Decoded", "Rule"], kind="stable").reset_index(drop=True)
    table = {
        "Row": commands.index.take(out["Position"].to_numpy()),
        "RuleId": [rules[i].id for i in out["Rule"]],
        "Title": [rules[i].title for i in out["Rule"]],
        "Severity": [rules[i].severity for i in out["Rule"]],
        "Techniques": [rules[i].techniques for i in out["Rule"]],
        "Matched": out["Matched"].to_numpy(),
        "Decoded": out["Decoded"].to_numpy(),
    }
    return _typed(pd.DataFrame(table))


def _empty() -> pd.DataFrame:
    return _typed(pd.DataFrame({c: [] for c in COLUMNS}))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("RuleId", "Title", "Severity", "Techniques", "Matched"):
        df[col] = df[col].astype("string")
    df["Decoded"] = df["Decoded"].astype("boolean")
    return df


def _as_text(value: object) -> str:
    """A cell as command text; a list or tuple is an argv, joined by spaces."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return " ".join(map(str, value))
    return str(value)


def _to_arrow(values: Any) -> pa.Array:
    """Distinct commands as an Arrow string array (non-strings as their str())."""
    try:
        if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype):
            return pa.array(values, pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        pass
    items = [_as_text(v) for v in values]
    try:
        return pa.array(items, pa.large_string())
    except (pa.ArrowInvalid, UnicodeEncodeError):
        # Lone surrogates (undecodable bytes kept by surrogateescape) cannot go to Arrow.
        fixed = [v.encode("utf-8", "backslashreplace").decode("utf-8") for v in items]
        return pa.array(fixed, pa.large_string())


def _scan(texts: pa.Array, rules: Sequence[RiskRule], *, decoded: bool) -> list[tuple[int, int, str, bool]]:
    """(text index, rule index, matched text, decoded) for every rule hit.

    One pass of all rules together finds the few texts that match anything; each
    rule then runs on those alone (one RE2 pass costs about the same for 1 rule
    as for 40).
    """
    hits: list[tuple[int, int, str, bool]] = []
    if len(texts) == 0 or not rules:
        return hits
    candidates = None
    if len(rules) > 1:
        candidates = _rows_matching(texts, _combined_pattern(tuple(r.pattern for r in rules)))
    if candidates is None:
        candidates = np.arange(len(texts))
    if not len(candidates):
        return hits
    subset = texts.take(pa.array(candidates))
    for r, rule in enumerate(rules):
        where = _rows_matching(subset, rule.pattern)
        if where is None or not len(where):
            continue
        matched = _extract(subset.take(pa.array(where)), rule.pattern).to_pylist()
        hits.extend(
            (int(candidates[i]), r, _clip(m or ""), decoded) for i, m in zip(where, matched, strict=True)
        )
    return hits


def _rows_matching(texts: pa.Array, pattern: str) -> np.ndarray | None:
    """Positions of the texts ``pattern`` matches; None if RE2 cannot build it."""
    try:
        mask = pc.fill_null(pc.match_substring_regex(texts, pattern), False)
    except pa.ArrowInvalid:  # a combined pattern over RE2's program size limit
        return None
    return np.flatnonzero(mask.to_numpy(zero_copy_only=False))


@lru_cache(maxsize=8)
def _combined_pattern(patterns: tuple[str, ...]) -> str:
    """All patterns as one alternation; a leading (?i) becomes a scoped (?i:...)."""
    parts = []
    for pattern in patterns:
        flags = _LEADING_FLAGS.match(pattern)
        if flags:
            parts.append(f"(?{flags.group(1)}:{pattern[flags.end() :]})")
        else:
            parts.append(f"(?:{pattern})")
    return "|".join(parts)


def _clip(text: str) -> str:
    return text if len(text) <= MATCH_CHARS else text[: MATCH_CHARS - 1] + "…"


def _decoded_hits(texts: pa.Array, rules: Sequence[RiskRule]) -> list[tuple[int, int, str, bool]]:
    """Hits inside base64 payloads, attributed to the command that carried them."""
    encoded = next((i for i, r in enumerate(rules) if r.id == ENCODED_RULE_ID), None)
    hits: list[tuple[int, int, str, bool]] = []
    mask = pc.fill_null(pc.match_substring_regex(texts, B64_PREFILTER), False)
    # (command, the base64 token seen in the command, text to decode next)
    layer = [(int(i), "", texts[int(i)].as_py()) for i in np.flatnonzero(mask.to_numpy(zero_copy_only=False))]
    tokens: dict[int, str] = {}  # command -> its token whose payload matched a rule
    for _depth in range(B64_MAX_DEPTH):
        payloads = [
            (owner, seen or token, text) for owner, seen, outer in layer for token, text in decode_all(outer)
        ]
        if not payloads:
            break
        inner = _scan(pa.array([p[2] for p in payloads], pa.large_string()), rules, decoded=True)
        for k, r, matched, _ in inner:
            owner, token, _text = payloads[k]
            hits.append((owner, r, matched, True))
            tokens.setdefault(owner, token)
        layer = payloads
    if encoded is not None:
        hits.extend((owner, encoded, _clip(token), False) for owner, token in tokens.items())
    return hits


# --- Summaries -----------------------------------------------------------------


def max_severity(matches: pd.DataFrame, index: pd.Index | None = None) -> pd.Series:
    """Highest severity per ``Row`` of a ``match_commands`` result.

    With ``index`` (the commands' index) the result lines up with the input table,
    NA where a command matched nothing, ready to add as a column.
    """
    if matches.empty:
        worst = pd.Series([], dtype="string", name="Severity")
    else:
        rank = matches["Severity"].map(SEVERITY_RANK)
        top = rank.groupby(matches["Row"].to_numpy(), sort=False).max()
        worst = top.map(dict(enumerate(SEVERITIES))).astype("string").rename("Severity")
    if index is not None:
        worst = worst.reindex(index)
    return worst
