"""Sysmon for Linux XML events: parsing, hostile XML, event mapping."""

from __future__ import annotations

import json
from pathlib import Path

from hunting.readers.sysmon import from_messages, parse_event

DATA = Path(__file__).resolve().parents[1] / "data"


def _messages() -> list[str]:
    rows = json.loads((DATA / "sysmon-linux/syslog_sysmon_az.json").read_text())
    return [r["SyslogMessage"] for r in rows]


def test_event_counts_match_the_sample() -> None:
    msgs = _messages()
    r = from_messages(msgs, ["app-vm02"] * len(msgs))
    # grep -o '<EventID>[0-9]*': 4 x 1 (one cut short), 3, 5, 11
    assert (r.parsed, len(r.unparsed), r.other) == (6, 1, 1)
    assert (len(r.processes), len(r.flows), len(r.files)) == (3, 1, 1)
    assert r.unparsed[0][0] == 7  # the 7th message is the truncated one
    assert r.processes["EventId"].tolist()[0] == "1690622042.101:1201"


def test_entity_and_doctype_xml_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<Event><System><EventID>1</EventID></System><EventData><Data Name="Image">&b;</Data></EventData></Event>'
    )
    assert parse_event(bomb) is None
    assert parse_event("<Event><System><EventID>1</EventID>") is None


def test_fields_from_system_and_eventdata() -> None:
    ev = parse_event(_messages()[2])
    assert ev is not None
    assert (ev["EventID"], ev["DestinationIp"], ev["DestinationPort"], ev["Computer"]) == (
        "3",
        "203.0.113.7",
        "80",
        "app-vm02",
    )
