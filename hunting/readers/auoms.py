"""AUOMS (Microsoft's auditd plugin for the Log Analytics / Azure Monitor agents) records.

Sentinel stores them as text: in ``Syslog`` (``ProcessName`` ``auoms``) or one record
per row in a custom audit table, as

    type=AUOMS_EXECVE audit(1521757638.392:262332): SchemaVersion=1 auoms_version=2.5.2.0
    ... ppid=26595 pid=26918 audit_user=root auid=0 user=root uid=0 ... comm="logger"
    exe="/usr/bin/logger" key="auoms,execve" cwd="/" ... argc=6 cmdline="logger -t x "y z""
    redactors= containerid=

(field names: OMS-Auditd-Plugin's TestEventData.cpp; order: Azure-Sentinel's
Parsers/SyslogAUOMS/SyslogExecve.txt). One record is one whole event, already
joined by the agent (SYSCALL, EXECVE, CWD, PATH folded into one), so each becomes
one AuditEvents row. ``cmdline`` is written between quotes *without* escaping the
quotes inside it, so it is cut at the known fields that follow it, not at a quote.
Agent metadata (``SchemaVersion``, ``auoms_version``, ``redactors``, ``containerid``,
``a0``..``a3`` registers) goes to no column: it stays in ``RawMessage`` only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from hunting.schema import AUDIT, conform

# Record types whose event is a program start (process_tree treats them as execve).
EXEC_TYPES = ("AUOMS_EXECVE",)
# Agent metadata in every record: values such as auoms_version=2.5.2.0 are versions, not
# addresses; they are kept in RawMessage only (for IoC extraction over raw text).
METADATA_FIELDS = ("SchemaVersion", "auoms_version", "redactors", "containerid", "a0", "a1", "a2", "a3")
_HEADER = re.compile(
    r"^\s*(?:node=\S+\s+)?type=(?P<type>[A-Z][A-Z0-9_]*)\s+(?:msg=)?audit\("
    r"(?P<id>(?P<sec>\d{1,12})(?:\.(?P<frac>\d{1,9}))?:(?P<serial>\d{1,20}))\):\s?(?P<body>.*)$",
    re.DOTALL,
)
# cmdline/proctitle hold unescaped quotes: the value runs to the last quote before a known
# trailing field (or the end), never to the first inner quote.
_TAIL = r"(?=\s+(?:redactors|containerid|cmdline|proctitle|exe|cwd)=|\s*$)"
_CMDLINE = re.compile(r'(?:^|\s)cmdline="(?P<v>.*?)"' + _TAIL, re.DOTALL)
_PROCTITLE = re.compile(r'(?:^|\s)proctitle=(?P<v>".*?"|\S*)' + _TAIL, re.DOTALL)
_FIELD = re.compile(r"""(?:^|[\s'(])(?P<k>[A-Za-z_][\w-]*)=(?P<v>"[^"]*"|\[[^\]]*\]|[^\s'"]*)""")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")

_INT_FIELDS = {
    "Pid": "pid", "Ppid": "ppid", "Uid": "uid", "Auid": "auid", "Euid": "euid", "Gid": "gid",
    "Ses": "ses", "Argc": "argc",
}  # fmt: skip
_TEXT_FIELDS = {
    "Syscall": "syscall", "Success": "success", "Exit": "exit", "Tty": "tty", "Comm": "comm",
    "Exe": "exe", "Key": "key", "Cwd": "cwd", "Op": "op", "Acct": "acct", "Addr": "addr",
    "Hostname": "hostname", "Terminal": "terminal", "Res": "res", "UidName": "user",
    "AuidName": "audit_user",
}  # fmt: skip


def is_auoms(message: object) -> bool:
    """True for a record in AUOMS's text form (``type=... audit(EPOCH:SERIAL): ...``)."""
    return isinstance(message, str) and _HEADER.match(message) is not None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _proctitle(value: str) -> str:
    """Quoted as is; hex (auditd's encoding with NUL separators) decoded, NULs as spaces."""
    if value.startswith('"'):
        return _unquote(value)
    if _HEX.match(value):
        raw = bytes.fromhex(value).rstrip(b"\x00")
        return raw.replace(b"\x00", b" ").decode("utf-8", "replace")
    return value


def parse_record(message: str) -> dict[str, object] | None:
    """One AUOMS record as AuditEvents columns (without Computer), or None if not AUOMS."""
    m = _HEADER.match(message)
    if m is None:
        return None
    body = m.group("body")
    row: dict[str, object] = {
        "EventId": m.group("id"),
        "EventType": m.group("type"),
        "RecordTypes": m.group("type"),
        "RawMessage": message,
        "TimeGenerated": pd.Timestamp(
            int(m.group("sec")) * 10**9 + int((m.group("frac") or "").ljust(9, "0")), tz="UTC"
        ),
    }
    cmd = _CMDLINE.search(body)
    title = _PROCTITLE.search(body)
    rest = body
    for found in sorted((x for x in (cmd, title) if x is not None), key=lambda x: -x.start()):
        rest = rest[: found.start()] + " " + rest[found.end() :]
    fields: dict[str, str] = {}
    for f in _FIELD.finditer(rest):
        fields.setdefault(f.group("k"), _unquote(f.group("v")))
    if cmd is not None:
        row["Cmdline"] = cmd.group("v")
    if title is not None:
        row["Proctitle"] = _proctitle(title.group("v"))
    for col, key in _TEXT_FIELDS.items():
        value = fields.get(key)
        if value not in (None, ""):
            row[col] = value
    for col, key in _INT_FIELDS.items():
        value = fields.get(key, "")
        if re.fullmatch(r"-?\d{1,20}", value):
            row[col] = int(value)
    return row


@dataclass
class AgentCounts:
    """How many agent messages became rows, and the ones that did not (row number, text)."""

    parsed: int = 0
    unparsed: list[tuple[int, str]] = field(default_factory=list)


def audit_events_from_messages(
    messages: Sequence[object], computers: Sequence[object]
) -> tuple[pd.DataFrame, AgentCounts]:
    """AuditEvents rows from AUOMS record texts (Syslog messages or custom-table RawData).

    Row numbers in the counts are 1-based positions in ``messages``. The same record
    seen twice (Computer and EventId equal) is kept once, as auditd's reader does.
    """
    rows: list[dict[str, object]] = []
    counts = AgentCounts()
    for i, (message, computer) in enumerate(zip(messages, computers, strict=True), start=1):
        row = parse_record(message) if isinstance(message, str) else None
        if row is None:
            counts.unparsed.append((i, str(message)[:300]))
            continue
        row["Computer"] = computer if isinstance(computer, str) and computer else pd.NA
        rows.append(row)
        counts.parsed += 1
    if not rows:
        return AUDIT.empty(), counts
    df = pd.DataFrame(rows)
    df = df.drop_duplicates(["Computer", "EventId", "EventType"])
    return conform(df, AUDIT), counts


__all__ = [
    "EXEC_TYPES",
    "METADATA_FIELDS",
    "AgentCounts",
    "audit_events_from_messages",
    "is_auoms",
    "parse_record",
]
