"""Sysmon for Linux events: one ``<Event>`` XML document per syslog message (``sysmon``).

The XML is Sysmon's own (``<System>`` with ``EventID``, ``EventRecordID``,
``Computer``; ``<EventData>`` of ``<Data Name=...>``), see SysmonForLinux's
test/linuxRules.cpp. Event 1 (process create) becomes an AuditEvents row that
process trees read like an execve; event 3 (network connect) a NetworkFlows row;
event 11 (file create) stays a Syslog row (its path is found by the IoC search) and
is listed by :func:`file_creates`. Sentinel's Syslog table drops the ``;`` of XML
entities (``&lt`` for ``&lt;``): that is repaired before parsing. XML is parsed
with defusedxml (no DTD, no entity expansion): the message is attacker-controlled.
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from hunting.schema import AUDIT, FLOWS, conform

PROCESS_CREATE = "SYSMON_PROCESS_CREATE"  # EventType of the AuditEvents rows made from event 1
EXEC_TYPES = (PROCESS_CREATE,)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos)(?!;)")
_DOCTYPE = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def is_sysmon(message: object) -> bool:
    return isinstance(message, str) and message.lstrip().startswith("<Event")


def parse_event(message: str) -> dict[str, str] | None:
    """System and EventData fields of one event (``EventID``, ``Image``, ...), or None."""
    text = message.strip()
    if not text.startswith("<Event") or _DOCTYPE.search(text):
        return None
    text = _ENTITY.sub(r"&\1;", text)
    try:
        root = SafeET.fromstring(text, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException):
        return None
    out: dict[str, str] = {}
    system = root.find("System")
    if system is not None:
        for child in system:
            if child.text and child.text.strip():
                out[child.tag] = child.text.strip()
            if child.tag == "TimeCreated" and child.get("SystemTime"):
                out["SystemTime"] = child.get("SystemTime", "")
    data = root.find("EventData")
    for item in data if data is not None else []:
        name = item.get("Name")
        if name:
            out[name] = (item.text or "").strip()
    return out if "EventID" in out else None


def _time(ev: dict[str, str]) -> pd.Timestamp | None:
    # UtcTime is "2021-10-15 20:51:48.123" (UTC); TimeCreated/@SystemTime is ISO with Z.
    for key in ("UtcTime", "SystemTime"):
        value = ev.get(key, "")
        if value:
            t = pd.to_datetime(value, utc=True, errors="coerce")
            if not pd.isna(t):
                return pd.Timestamp(t)
    return None


def _int(value: str | None) -> int | None:
    return int(value) if value and re.fullmatch(r"-?\d{1,19}", value) else None


def _event_id(t: pd.Timestamp, ev: dict[str, str]) -> str:
    """ "EPOCH.mmm:RecordID": process trees order same-millisecond events by the part after ':'."""
    return f"{t.value // 10**9}.{(t.value // 10**6) % 1000:03d}:{ev.get('EventRecordID', '0')}"


def _process_row(ev: dict[str, str], t: pd.Timestamp, message: str) -> dict[str, object]:
    return {
        "TimeGenerated": t,
        "EventId": _event_id(t, ev),
        "EventType": PROCESS_CREATE,
        "RecordTypes": PROCESS_CREATE,
        "Success": "yes",
        "Pid": _int(ev.get("ProcessId")),
        "Ppid": _int(ev.get("ParentProcessId")),
        "UidName": ev.get("User") or None,
        "Exe": ev.get("Image") or None,
        "Comm": (ev.get("Image") or "").rsplit("/", 1)[-1] or None,
        "Cwd": ev.get("CurrentDirectory") or None,
        "Cmdline": ev.get("CommandLine") or None,
        "Ses": _int(ev.get("LogonId")),
        "RawMessage": message,
    }


def _public(*ips: str) -> str:
    out = []
    for ip in ips:
        try:
            if ipaddress.ip_address(ip).is_global:
                out.append(ip)
        except ValueError:
            continue
    return ",".join(out)


def _flow_row(ev: dict[str, str], t: pd.Timestamp) -> dict[str, object]:
    outbound = ev.get("Initiated", "").lower() == "true"
    src, dst = ev.get("SourceIp", ""), ev.get("DestinationIp", "")
    proto = ev.get("Protocol", "").lower()
    return {
        "TimeGenerated": t,
        "FlowStartTime": t,
        "FlowEndTime": t,
        "FlowType": "SysmonNetworkConnect",
        "VMIPAddress": src if outbound else dst,
        "SrcIP": src or None,
        "DestIP": dst or None,
        "PublicIPs": _public(src, dst) or None,
        "L4Protocol": {"tcp": "T", "udp": "U"}.get(proto, proto or None),
        "DestPort": _int(ev.get("DestinationPort")),
        "FlowDirection": "O" if outbound else "I",
        "AllowedOutFlows": 1 if outbound else 0,
        "AllowedInFlows": 0 if outbound else 1,
        "DeniedInFlows": 0,
        "DeniedOutFlows": 0,
    }


@dataclass
class SysmonResult:
    """Rows made from Sysmon messages and the messages that could not be read."""

    processes: pd.DataFrame
    flows: pd.DataFrame
    files: pd.DataFrame  # TimeGenerated, Computer, Pid, Image, TargetFilename, User
    parsed: int = 0
    other: int = 0  # well-formed events of other ids (5, 9, 23 ...): kept as Syslog rows only
    unparsed: list[tuple[int, str]] = field(default_factory=list)


def from_messages(messages: Sequence[object], computers: Sequence[object]) -> SysmonResult:
    """Processes (event 1), flows (event 3) and file creations (event 11) from Sysmon XML."""
    procs: list[dict[str, object]] = []
    flows: list[dict[str, object]] = []
    files: list[dict[str, object]] = []
    result = SysmonResult(AUDIT.empty(), FLOWS.empty(), pd.DataFrame())
    for i, (message, computer) in enumerate(zip(messages, computers, strict=True), start=1):
        ev = parse_event(message) if isinstance(message, str) else None
        t = _time(ev) if ev else None
        if ev is None or t is None:
            result.unparsed.append((i, str(message)[:300]))
            continue
        result.parsed += 1
        host = computer if isinstance(computer, str) and computer else ev.get("Computer")
        eid = ev["EventID"]
        if eid == "1":
            procs.append({**_process_row(ev, t, str(message)), "Computer": host})
        elif eid == "3":
            flows.append({**_flow_row(ev, t), "Computer": host})
        elif eid == "11":
            files.append(
                {
                    "TimeGenerated": t,
                    "Computer": host,
                    "Pid": _int(ev.get("ProcessId")),
                    "Image": ev.get("Image"),
                    "TargetFilename": ev.get("TargetFilename"),
                    "User": ev.get("User"),
                }
            )
        else:
            result.other += 1
    if procs:
        result.processes = conform(pd.DataFrame(procs), AUDIT)
    if flows:
        result.flows = conform(pd.DataFrame(flows), FLOWS)
    result.files = pd.DataFrame(
        files, columns=["TimeGenerated", "Computer", "Pid", "Image", "TargetFilename", "User"]
    )
    return result


def file_creates(syslog: pd.DataFrame) -> pd.DataFrame:
    """Sysmon event 11 (file create) rows of a Syslog frame."""
    if syslog.empty:
        return from_messages([], []).files
    mask = (syslog["ProcessName"].astype("string").str.lower() == "sysmon").fillna(False)
    sub = syslog.loc[mask]
    return from_messages(sub["SyslogMessage"].tolist(), sub["Computer"].tolist()).files


__all__ = [
    "EXEC_TYPES",
    "PROCESS_CREATE",
    "SysmonResult",
    "file_creates",
    "from_messages",
    "is_sysmon",
    "parse_event",
]
