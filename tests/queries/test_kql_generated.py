"""The parse blocks of the Log Analytics templates are generated from the message forms file.

hunting/queries/kql/{logon_events,sudo_events,cron_events,account_changes}.kql hold, between
the marker comments, ``let`` statements written by ``python -m hunting.analysis.message_forms
--kql`` from hunting/rules/message_forms.yaml. A form edited without regenerating (or a
generated line edited by hand) fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hunting.analysis.message_forms import (
    BEGIN,
    END,
    FORMS_PATH,
    GENERATED_TEMPLATES,
    KQL_DIR,
    FormsError,
    kql_block,
    load_forms,
    message_forms,
    stale_templates,
    with_block,
)


def test_committed_templates_equal_generated_text() -> None:
    assert stale_templates() == [], "run: python -m hunting.analysis.message_forms --kql"


@pytest.mark.parametrize("name", GENERATED_TEMPLATES)
def test_every_pattern_of_the_block_is_a_form_or_framing_pattern(name: str) -> None:
    text = (KQL_DIR / f"{name}.kql").read_text(encoding="utf-8")
    block = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    forms = message_forms()
    known = {f.pattern for f in forms.all_forms()} | set(forms.framing.values())
    known |= {f.key_first for f in forms.all_forms() if f.key_first}
    known.add("^(?P<reason>)" + forms.form("sudo_body_plain").pattern[1:])  # sudo's aligned plain body
    patterns = re.findall(r'= @"(.*)";', block)
    assert patterns and set(patterns) <= known
    # every let of the block is used by the template body (no dead, no misspelt names)
    body = text[text.index(END) :]
    for let in re.findall(r"^let (\w+) =", block, re.MULTILINE):
        assert re.search(rf"\b{let}\b", body), f"{name}: {let} is generated but not used"


def test_a_changed_form_makes_the_template_stale(tmp_path: Path) -> None:
    """The check can fail: a forms file with one cron pattern changed gives another block."""
    changed = FORMS_PATH.read_text(encoding="utf-8").replace(
        "(?P<event>CMD|BEGIN EDIT|", "(?P<event>CMD|CMDOUT|BEGIN EDIT|"
    )
    path = tmp_path / "forms.yaml"
    path.write_text(changed, encoding="utf-8")
    text = (KQL_DIR / "cron_events.kql").read_text(encoding="utf-8")
    new = with_block(text, kql_block("cron_events", load_forms(path)))
    assert new != text and "CMD|CMDOUT|BEGIN EDIT" in new


def test_a_hand_edited_generated_line_is_stale(tmp_path: Path) -> None:
    for name in GENERATED_TEMPLATES:
        (tmp_path / f"{name}.kql").write_text((KQL_DIR / f"{name}.kql").read_text(encoding="utf-8"))
    sudo = tmp_path / "sudo_events.kql"
    sudo.write_text(
        sudo.read_text().replace(
            'let sudo_programs = dynamic(["sudo"]);', 'let sudo_programs = dynamic(["sudo", "doas"]);'
        )
    )
    assert stale_templates(tmp_path) == ["sudo_events"]


def test_markers_are_required() -> None:
    with pytest.raises(FormsError, match="markers"):
        with_block("Syslog | take 1", "let x = 1;")
