"""The message forms file (hunting/rules/message_forms.yaml) describes what the parsers really do.

Every example is checked three ways: by the loader (RE2, pyarrow), by Python's ``re`` as an
independent engine (same named fields), and through the parser function of its form
(logon_events, sudo_events, cron_events, account_changes, pam_sessions) on a one-line
Syslog frame, whose output columns must hold the example's fields. The store's pre-filter
must admit every example line (a line it drops is lost locally, issue 12).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.accounts import account_changes
from hunting.analysis.cron import cron_events
from hunting.analysis.logons import logon_events
from hunting.analysis.message_forms import (
    Example,
    Form,
    FormsError,
    extract,
    first_match,
    load_forms,
    match_fields,
    message_forms,
    unwrap_repeats,
)
from hunting.analysis.sessions import pam_sessions
from hunting.analysis.sudo import sudo_events
from hunting.queries import sql
from hunting.store import Store, parser_prefilter

FORMS = message_forms()
EXAMPLES = [(f, ex) for f in FORMS.all_forms() for ex in f.examples]
IDS = [f"{f.name}-{i}" for f in FORMS.all_forms() for i, _ in enumerate(f.examples)]
T0 = pd.Timestamp("2024-03-03 10:00:00", tz="UTC")


def one_line(program: str, message: str, pid: int | None = 4242) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "TimeGenerated": [T0],
            "Computer": ["h1"],
            "ProcessName": [program],
            "ProcessID": pd.array([pid], dtype="Int64"),
            "SyslogMessage": [message],
        }
    )


def _value(v: object) -> str | None:
    return None if pd.isna(v) else str(v)  # type: ignore[arg-type]


def test_file_loads_with_every_parser_and_form() -> None:
    assert set(FORMS.parsers) == {"logons", "sudo", "cron", "accounts", "sessions"}
    # counted by hand in the YAML: 3 PAM + 7 sshd + 11 su + 3 login logon forms, 28 shadow-utils forms
    assert [len(g.forms) for g in FORMS.parsers["logons"].groups] == [3, 7, 11, 3]
    assert len(FORMS.group("accounts", "shadow").forms) == 28
    assert len(EXAMPLES) >= len(FORMS.all_forms())


@pytest.mark.parametrize(("form", "example"), EXAMPLES, ids=IDS)
def test_example_fields_on_re2_and_python_re(form: Form, example: Example) -> None:
    assert match_fields(form.pattern, example.message) == dict(example.fields)
    # Python's re is a second engine: the same match and the same non-empty fields
    m = re.search(form.pattern, example.message)
    assert m is not None
    assert {k: v for k, v in m.groupdict().items() if v} == dict(example.fields)


def _expected_logon(form: Form, ex: Example) -> dict[str, str | None]:
    f = ex.fields
    if form.kind == "{method}":
        kind = f["method"]
    elif form.kind == "{service}":
        kind = {"sshd": "pam", "su-l": "su", "sudo-i": "sudo"}.get(f.get("service", ""), f.get("service"))
    else:
        kind = form.kind
    result = ("Notice" if f["method"] == "none" else "Failure") if form.result == "by_method" else form.result
    want: dict[str, str | None] = {
        "Result": result,
        "LogonType": kind,
        "User": f.get("user"),
        "SourceIP": f.get("ip"),
        "SourcePort": f.get("port"),
    }
    want.update(ex.event)
    return want


@pytest.mark.parametrize(("form", "example"), EXAMPLES, ids=IDS)
def test_example_through_its_parser(form: Form, example: Example) -> None:
    """The parser of the form, on the example as a one-line log, gives the example's fields."""
    columns = FORMS.parsers[form.parser].columns
    if form.parser == "logons":
        got = logon_events(one_line(example.program, example.message))
        assert len(got) == 1
        row = got.iloc[0]
        want = _expected_logon(form, example)
        assert {k: _value(row[k]) for k in want} == want
        if form.invalid is not None:
            assert bool(row["InvalidUser"]) is form.invalid
    elif form.parser == "accounts":
        got = account_changes(one_line(example.program, example.message))
        assert len(got) == 1
        row = got.iloc[0]
        want = {col: example.fields.get(fld) for fld, col in columns.items()}
        want.update(example.event)
        assert {k: _value(row[k]) for k in want} == want
        assert row["Action"] == form.result
    elif form.parser == "cron":
        got = cron_events(one_line(example.program, example.message))
        assert got[["User", "Action", "Command"]].values.tolist() == [
            [example.fields["user"], form.actions[example.fields["event"]], example.fields["detail"]]
        ]
    elif form.parser == "sudo":
        body = form.group == "sudo_body"
        message = f"tester : {example.message}" if body else example.message
        got = sudo_events(one_line(example.program, message))
        assert len(got) == 1
        row = got.iloc[0]
        if body:
            want = {col: example.fields.get(fld) for fld, col in columns.items() if fld != "user"}
            want["Sudoer"] = "tester"
            want["Result"] = "Failure" if "reason" in example.fields else "Success"
        else:
            want = dict(example.event)
        assert {k: _value(row[k]) for k in want} == want
    elif form.parser == "sessions":
        got = pam_sessions(one_line(example.program, example.message))
        assert got[["SessionType", "User"]].values.tolist() == [
            [example.fields["service"], example.fields["user"]]
        ]
        opened = example.fields["what"] == "opened"
        assert got["Start"].notna().tolist() == [opened] and got["End"].notna().tolist() == [not opened]
    else:  # pragma: no cover - a parser added to the file without a check here
        pytest.fail(f"no parser check for {form.parser}")


def test_prefilter_admits_every_example_line() -> None:
    """Each example, stored as a Syslog row, passes the ingest pre-filter query (and an
    unrelated kernel line does not), so no form's lines are lost locally."""
    pre = parser_prefilter()
    assert set(pre["processes"]) == set(FORMS.programs())
    store = Store()
    frames = [one_line(ex.program, ex.message) for _, ex in EXAMPLES]
    frames += [one_line("kernel", "[ 1.0] unrelated line")]
    rows = pd.concat(frames, ignore_index=True)
    rows["TimeGenerated"] = T0 - pd.to_timedelta(range(len(rows), 0, -1), unit="s")  # kernel line not last
    rows.loc[len(rows) - 1, "TimeGenerated"] = T0 - pd.Timedelta("1h")
    store.add_frame("Syslog", rows)
    text, params = sql("syslog_for_parsers", host="h1", processes=pre["processes"], marks=pre["marks"])
    got = store.query(text, params)
    assert sorted(got["SyslogMessage"]) == sorted(ex.message for _, ex in EXAMPLES)


def test_first_match_takes_forms_in_order_and_empty_is_absent() -> None:
    su = FORMS.group("logons", "su").forms
    texts = pd.Series(
        ["FAILED SU (to root) bob on pts/1", "bob to root on tty1", "nothing", None], dtype="string"
    )
    hits = first_match(texts, su)
    # "FAILED SU (to root) bob on pts/1" would also fit su_old ("X to Y on Z") but su_failed is earlier
    assert hits["_form"].tolist() == ["su_failed", "su_old"]
    assert hits.index.tolist() == [0, 1]
    # "(to root)  on tty1": the empty "by" is NA, as Kusto's extract gives "" for both cases
    e = extract(pd.Series(["(to root)  on tty1"], dtype="string"), su[0].pattern)
    assert e["user"].tolist() == ["root"] and e["by"].isna().all()


def test_unwrap_repeats() -> None:
    msg = pd.Series(["message repeated 3 times: [ Failed password for root from 1.2.3.4 port 22 ssh2]", "x"])
    inner, count = unwrap_repeats(msg.astype("string"))
    assert inner.tolist() == ["Failed password for root from 1.2.3.4 port 22 ssh2", "x"]
    assert count.tolist() == [3, 1]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "forms.yaml"
    p.write_text(text, encoding="utf-8")
    return p


MINIMAL = """
parsers:
  cron:
    groups:
      - group: g
        programs: [cron]
        forms:
          - name: f
            pattern: '{pattern}'
            result: r
            kind: k
            examples:
              - program: cron
                message: '{message}'
                fields: {fields}
"""


@pytest.mark.parametrize(
    ("pattern", "message", "fields", "error"),
    [
        (r"^(?P<a>x)(?=y)", "xy", "{a: x}", "RE2 lacks"),  # lookahead
        (r"^(?P<a>x)\1", "xx", "{a: x}", "RE2 lacks"),  # backreference
        (r"^(x)(?P<a>y)", "xy", "{a: y}", "unnamed|must be named"),
        (r"^(?P<a>x)", "xy", "{a: z}", "gives"),  # the example's fields are wrong
        (r"^(?P<a>x)", "q", "{a: x}", "gives"),  # the example does not match
    ],
)
def test_loader_rejects_bad_forms(
    tmp_path: Path, pattern: str, message: str, fields: str, error: str
) -> None:
    path = _write(tmp_path, MINIMAL.format(pattern=pattern, message=message, fields=fields))
    with pytest.raises(FormsError, match=error):
        load_forms(path)


def test_loader_rejects_unknown_keys(tmp_path: Path) -> None:
    """A mis-indented ``event:`` (at form level instead of the example's) is an error, not ignored."""
    text = MINIMAL.format(pattern="^(?P<a>x)", message="x", fields="{a: x}") + "            event: {A: x}\n"
    with pytest.raises(FormsError, match="unknown key"):
        load_forms(_write(tmp_path, text))
