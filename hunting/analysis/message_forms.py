"""The syslog message forms of every event parser, from one declarative file.

``hunting/rules/message_forms.yaml`` lists, per parser (logons, sudo, cron, accounts,
sessions), the programs, the patterns with named fields, what a match means and
examples. This module loads it into typed dataclasses, applies forms to a column of
messages with RE2 (pyarrow.compute, the regex semantics Kusto has, linear in the input)
and writes the parse blocks of the Log Analytics templates from the same forms, so the
local and the KQL parsers cannot drift apart:

    python -m hunting.analysis.message_forms --kql      # rewrite the generated blocks
    python -m hunting.analysis.message_forms --check    # exit 1 if a .kql is stale

An empty capture is an absent field (NA): RE2 extractors and Kusto's ``extract()``
cannot tell an empty match from a group that did not take part.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

FORMS_PATH: Final = Path(__file__).resolve().parent.parent / "rules" / "message_forms.yaml"
_NAMED: Final = re.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>")
# Constructs RE2 refuses (lookaround, backreferences, possessive/atomic groups).
_NOT_RE2: Final = re.compile(r"\(\?<?[=!]|\\[1-9]|\(\?>|\\[AZz]")


class FormsError(ValueError):
    """The forms file is malformed (a pattern, a field or an example is wrong)."""


@dataclass(frozen=True)
class Example:
    """A message as the program writes it and the non-empty fields the pattern takes from it."""

    program: str
    message: str
    fields: Mapping[str, str]
    event: Mapping[str, str] = field(default_factory=dict)  # expected parser columns beyond the mapped fields


@dataclass(frozen=True)
class Form:
    """One message form: an RE2 pattern with named fields and what a match means."""

    name: str
    parser: str
    group: str
    pattern: str
    result: str
    kind: str
    fields: tuple[str, ...]
    examples: tuple[Example, ...]
    primary: bool = True  # logons: False for a PAM echo of another line
    invalid: bool | None = None  # logons: None = from the "invalid" field
    actions: Mapping[str, str] = field(default_factory=dict)  # cron: event -> Action
    key_first: str | None = None  # sudo: the body starts with a KEY= (no reason)


@dataclass(frozen=True)
class Group:
    """Forms tried in order on the lines of some programs (``programs`` None: any program)."""

    name: str
    parser: str
    programs: frozenset[str] | None
    marks: tuple[str, ...]
    forms: tuple[Form, ...]
    applies_to: str = "message"


@dataclass(frozen=True)
class Parser:
    name: str
    columns: Mapping[str, str]  # field -> output column
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class MessageForms:
    framing: Mapping[str, str]
    parsers: Mapping[str, Parser]

    def group(self, parser: str, name: str) -> Group:
        for g in self.parsers[parser].groups:
            if g.name == name:
                return g
        raise KeyError(f"{parser} has no group {name!r}")

    def form(self, name: str) -> Form:
        for f in self.all_forms():
            if f.name == name:
                return f
        raise KeyError(f"no message form {name!r}")

    def all_forms(self) -> list[Form]:
        return [f for p in self.parsers.values() for g in p.groups for f in g.forms]

    def programs(self, parser: str | None = None) -> frozenset[str]:
        """Programs (lower case) named by the groups of one parser, or of all."""
        parsers = [self.parsers[parser]] if parser else list(self.parsers.values())
        return frozenset(p for ps in parsers for g in ps.groups for p in (g.programs or ()))

    def marks(self) -> list[str]:
        """Message substrings that select the lines of program-independent groups."""
        out: list[str] = []
        for p in self.parsers.values():
            for g in p.groups:
                out += [m for m in g.marks if m not in out]
        return out


def check_pattern(pattern: str, where: str) -> tuple[str, ...]:
    """The named fields of ``pattern``; raises when RE2 or Python re cannot run it alike."""
    if _NOT_RE2.search(pattern):
        raise FormsError(f"{where}: pattern uses a construct RE2 lacks (lookaround, backreference, \\A/\\Z)")
    try:
        compiled = re.compile(pattern)
        pc.extract_regex(pa.array([""], pa.string()), pattern) if compiled.groupindex else None
        pc.match_substring_regex(pa.array([""], pa.string()), pattern)
    except (re.error, pa.ArrowInvalid) as exc:
        raise FormsError(f"{where}: {exc}") from exc
    if compiled.groups != len(compiled.groupindex):
        raise FormsError(f"{where}: every capturing group must be named (write (?:...) otherwise)")
    return tuple(_NAMED.findall(pattern))


_FORM_KEYS: Final = {
    "name",
    "pattern",
    "result",
    "kind",
    "examples",
    "primary",
    "invalid",
    "actions",
    "key_first",
}
_EXAMPLE_KEYS: Final = {"program", "message", "fields", "event"}


def _known_keys(raw: Mapping[str, object], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise FormsError(f"{where}: unknown key(s) {sorted(unknown)} (a mis-indented line?)")


def _example(raw: Mapping[str, object], where: str) -> Example:
    _known_keys(raw, _EXAMPLE_KEYS, where)
    try:
        fields = {str(k): str(v) for k, v in dict(raw.get("fields") or {}).items()}  # type: ignore[call-overload]
        event = {str(k): str(v) for k, v in dict(raw.get("event") or {}).items()}  # type: ignore[call-overload]
        return Example(str(raw["program"]), str(raw["message"]), fields, event)
    except (KeyError, TypeError, ValueError) as exc:
        raise FormsError(f"{where}: example needs program, message and fields ({exc})") from exc


def load_forms(path: Path = FORMS_PATH) -> MessageForms:
    """Read and check the forms file (patterns compile on RE2, examples match their fields)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    framing = {str(k): str(v) for k, v in data.get("framing", {}).items()}
    for name, pattern in framing.items():
        check_pattern(pattern, f"framing {name}")
    parsers: dict[str, Parser] = {}
    seen: set[str] = set()
    for pname, praw in data["parsers"].items():
        groups = []
        for graw in praw["groups"]:
            gname = str(graw["group"])
            progs = graw.get("programs")
            programs = None if progs == "any" else frozenset(str(p).lower() for p in progs)
            forms = []
            for fraw in graw["forms"]:
                name = str(fraw["name"])
                where = f"{pname}/{gname}/{name}"
                _known_keys(fraw, _FORM_KEYS, where)
                if name in seen:
                    raise FormsError(f"{where}: form name used twice")
                seen.add(name)
                fields = check_pattern(str(fraw["pattern"]), where)
                examples = tuple(_example(e, where) for e in fraw.get("examples") or ())
                if not examples:
                    raise FormsError(f"{where}: at least one example is required")
                form = Form(
                    name=name, parser=str(pname), group=gname, pattern=str(fraw["pattern"]),
                    result=str(fraw["result"]), kind=str(fraw["kind"]), fields=fields, examples=examples,
                    primary=bool(fraw.get("primary", True)), invalid=fraw.get("invalid"),
                    actions={str(k): str(v) for k, v in (fraw.get("actions") or {}).items()},
                    key_first=fraw.get("key_first"),
                )  # fmt: skip
                for ex in examples:
                    got = match_fields(form.pattern, ex.message)
                    if got != dict(ex.fields):
                        raise FormsError(
                            f"{where}: example {ex.message!r} gives {got}, not {dict(ex.fields)}"
                        )
                forms.append(form)
            groups.append(
                Group(
                    gname,
                    str(pname),
                    programs,
                    tuple(str(m) for m in graw.get("marks") or ()),
                    tuple(forms),
                    str(graw.get("applies_to", "message")),
                )
            )
        columns = {str(k): str(v) for k, v in (praw.get("columns") or {}).items()}
        parsers[str(pname)] = Parser(str(pname), columns, tuple(groups))
    return MessageForms(framing, parsers)


@cache
def message_forms() -> MessageForms:
    """The forms file, loaded once per process."""
    return load_forms()


def match_fields(pattern: str, text: str) -> dict[str, str] | None:
    """The non-empty named fields of one RE2 match of ``text``, or None (for examples and tests)."""
    hits = extract(pd.Series([text], dtype="string"), pattern)
    if hits.empty:
        return None
    row = hits.iloc[0]
    return {k: str(v) for k, v in row.items() if not pd.isna(v)}


def _arrow(texts: pd.Series) -> pa.Array:
    return pa.array(texts.astype("string").to_numpy(dtype=object, na_value=None), type=pa.string())


def extract(texts: pd.Series, pattern: str) -> pd.DataFrame:
    """RE2 match of every text: one row per matching text (same index), a string column per field.

    Empty captures are NA. A pattern without fields gives matching rows and no columns.
    """
    arr = _arrow(texts)
    return _extract_arrow(arr, texts.index, pattern)


def _extract_arrow(arr: pa.Array, index: pd.Index, pattern: str) -> pd.DataFrame:
    names = _NAMED.findall(pattern)
    if not names:
        hit = pc.fill_null(pc.match_substring_regex(arr, pattern), False).to_numpy(zero_copy_only=False)
        return pd.DataFrame(index=index[hit])
    res = pc.extract_regex(arr, pattern)
    hit = res.is_valid().to_numpy(zero_copy_only=False)
    res = res.filter(pa.array(hit))
    out = {}
    for name in names:
        col = res.field(name)
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        out[name] = pd.array(col.to_numpy(zero_copy_only=False), dtype="string")
    return pd.DataFrame(out, index=index[hit])


def first_match(texts: pd.Series, forms: Sequence[Form]) -> pd.DataFrame:
    """The first form (in order) each text matches: ``_form`` and the fields of all ``forms``.

    One RE2 pass per form over the texts no earlier form took; rows that match none are left out.
    """
    names = list(dict.fromkeys(f for form in forms for f in form.fields))
    arr = _arrow(texts)
    free = np.ones(len(texts), dtype=bool)
    parts = []
    for form in forms:
        if not free.any():
            break
        pos = np.flatnonzero(free)
        sub = arr.take(pa.array(pos))
        got = _extract_arrow(sub, pd.RangeIndex(len(pos)), form.pattern)
        if got.empty and not len(got.index):
            continue
        taken = pos[got.index.to_numpy()]
        got.index = texts.index[taken]
        got.insert(0, "_form", form.name)
        parts.append(got)
        free[taken] = False
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in ["_form", *names]})
    out = pd.concat(parts)
    for n in names:
        if n not in out:
            out[n] = pd.Series(pd.NA, index=out.index, dtype="string")
    return out[["_form", *names]].astype("string")


def unwrap_repeats(msg: pd.Series) -> tuple[pd.Series, pd.Series]:
    """rsyslog's ``message repeated N times: [ line]`` -> (inner line, N); others -> (line, 1)."""
    rep = extract(msg, message_forms().framing["repeated"])
    inner = msg.copy()
    count = pd.Series(1, index=msg.index, dtype="Int64")
    if len(rep):
        inner.loc[rep.index] = rep["inner"].fillna("")
        count.loc[rep.index] = pd.to_numeric(rep["count"], errors="coerce").astype("Int64").fillna(1)
    return inner, count


def replace(texts: pd.Series, pattern: str, by: str = "") -> pd.Series:
    """RE2 replacement of every match of ``pattern`` (``\\1``-style references in ``by``)."""
    out = pc.replace_substring_regex(_arrow(texts), pattern, by)
    return pd.Series(pd.array(out.to_numpy(zero_copy_only=False), dtype="string"), index=texts.index)


# --- KQL -----------------------------------------------------------------------------------

BEGIN: Final = "// generated by hunting.analysis.message_forms from hunting/rules/message_forms.yaml: begin"
END: Final = "// generated: end (edit the forms file and run python -m hunting.analysis.message_forms --kql)"
KQL_DIR: Final = Path(__file__).resolve().parent.parent / "queries" / "kql"


def kql_regex(pattern: str) -> str:
    """A verbatim KQL string literal of ``pattern`` (named groups are kept: Kusto's RE2 numbers them)."""
    if '"' in pattern or "\n" in pattern:
        raise FormsError(f"pattern {pattern!r} cannot be a verbatim KQL string")
    return '@"' + pattern + '"'


def _dyn(values: Sequence[str]) -> str:
    return "dynamic([" + ", ".join('"' + v + '"' for v in values) + "])"


def _lets(forms: Sequence[Form], prefix: str) -> list[str]:
    return [f"let {prefix}{f.name} = {kql_regex(f.pattern)};" for f in forms]


def kql_block(template: str, forms: MessageForms | None = None) -> str:
    """The generated lines of one template (between the markers): the forms as ``let`` statements."""
    forms = forms or message_forms()
    lines: list[str] = []
    if template == "logon_events":
        p = forms.parsers["logons"]
        for g in p.groups:
            lines.append(
                f"// {g.name}: " + ("any program" if g.programs is None else ", ".join(sorted(g.programs)))
            )
            lines += _lets(g.forms, "re_")
        lines.append(f"let ssh = {_dyn(sorted(forms.group('logons', 'ssh').programs or ()))};")
        lines.append(f"let su_programs = {_dyn(sorted(forms.group('logons', 'su').programs or ()))};")
        lines.append(f"let login_programs = {_dyn(sorted(forms.group('logons', 'login').programs or ()))};")
        lines.append(f"let re_solaris_prefix = {kql_regex(forms.framing['solaris_prefix'])};")
        lines.append(f"let re_old_pam_program = {kql_regex(forms.framing['old_pam_program'])};")
        for name in ("repeated", "pam_more_line", "pam_kv_user", "pam_kv_rhost"):
            lines.append(f"let re_{name} = {kql_regex(forms.framing[name])};")
    elif template == "sudo_events":
        head = forms.group("sudo", "sudo_head").forms[0]
        plain = forms.form("sudo_body_plain")
        lines.append(f"let sudo_programs = {_dyn(sorted(forms.programs('sudo')))};")
        lines.append(f"let re_head = {kql_regex(head.pattern)};")
        lines.append(f"let re_keyfirst = {kql_regex(plain.key_first or '')};")
        # an empty reason group first, so both body forms number their fields alike
        lines.append(f"let re_plain = {kql_regex('^(?P<reason>)' + plain.pattern.removeprefix('^'))};")
        lines.append(f"let re_reason = {kql_regex(forms.form('sudo_body_reason').pattern)};")
        lines.append(f"let re_solaris_prefix = {kql_regex(forms.framing['solaris_prefix'])};")
    elif template == "cron_events":
        form = forms.form("cron_event")
        lines.append(f"let cron_programs = {_dyn(sorted(forms.programs('cron')))};")
        lines.append(f"let re_cron = {kql_regex(form.pattern)};")
        lines.append(f"let re_solaris_prefix = {kql_regex(forms.framing['solaris_prefix'])};")
    elif template == "account_changes":
        g = forms.group("accounts", "shadow")
        lines += [f"let f{i} = {kql_regex(f.pattern)};  // {f.name}" for i, f in enumerate(g.forms, 1)]
        lines.append(f"let shadow_processes = {_dyn(sorted(g.programs or ()))};")
        lines.append(f"let re_solaris_prefix = {kql_regex(forms.framing['solaris_prefix'])};")
        lines.append(f"let re_trailing_newline = {kql_regex(forms.framing['trailing_newline'])};")
    else:
        raise KeyError(f"template {template!r} has no generated block")
    return "\n".join(lines)


GENERATED_TEMPLATES: Final = ("logon_events", "sudo_events", "cron_events", "account_changes")


def with_block(text: str, block: str) -> str:
    """``text`` with the lines between the markers replaced by ``block``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise FormsError("template has no generated-block markers")
    return text[: start + len(BEGIN)] + "\n" + block + "\n" + text[end:]


def stale_templates(kql_dir: Path = KQL_DIR) -> list[str]:
    """Templates whose committed generated block differs from the forms file."""
    out = []
    for name in GENERATED_TEMPLATES:
        path = kql_dir / f"{name}.kql"
        text = path.read_text(encoding="utf-8")
        if with_block(text, kql_block(name)) != text:
            out.append(name)
    return out


def write_kql(kql_dir: Path = KQL_DIR) -> list[str]:
    """Rewrite the generated blocks; the names of the templates that changed."""
    changed = []
    for name in GENERATED_TEMPLATES:
        path = kql_dir / f"{name}.kql"
        text = path.read_text(encoding="utf-8")
        new = with_block(text, kql_block(name))
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(name)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--kql"]:
        for name in write_kql():
            print(f"rewrote {name}.kql")
        return 0
    if args == ["--check"]:
        stale = stale_templates()
        for name in stale:
            print(
                f"{name}.kql differs from the forms file; run python -m hunting.analysis.message_forms --kql"
            )
        return 1 if stale else 0
    print("usage: python -m hunting.analysis.message_forms --kql | --check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
