"""Command and control: a shell talking to a remote address."""

from __future__ import annotations

import ipaddress
import re
from typing import Final

import pandas as pd

from hunting.detections.base import (
    UNSET_SES,
    _audit_line,
    _capped,
    _clip,
    _Ctx,
    _is_public,
    _links,
    _s,
    _seconds,
    flow_line,
)
from hunting.detections.model import (
    Finding,
)
from hunting.detections.registry import (
    detector,
)
from hunting.schema import FLOWS, conform

_DEV_TCP: Final = re.compile(r"/dev/(?:tcp|udp)/([0-9A-Za-z.:\-]+)/(\d+)")
_NC_TARGET: Final = re.compile(r"\b(?:nc|ncat|netcat)\b[^|;&]*?\s((?:\d{1,3}\.){3}\d{1,3})\s+(\d+)")


def _remote_of(cmdline: str) -> tuple[str, int] | None:
    for pattern in (_DEV_TCP, _NC_TARGET):
        m = pattern.search(cmdline)
        if m:
            return m.group(1), int(m.group(2))
    return None


def _sockaddr(raw: str) -> tuple[str, int] | None:
    """IPv4/IPv6 address and port from an auditd SOCKADDR record's saddr hex."""
    m = re.search(r"saddr=([0-9A-Fa-f]{16,})", raw)
    if not m:
        return None
    b = bytes.fromhex(m.group(1)[: len(m.group(1)) // 2 * 2])
    family = int.from_bytes(b[:2], "little")
    if family == 2 and len(b) >= 8:
        return str(ipaddress.IPv4Address(b[4:8])), int.from_bytes(b[2:4], "big")
    if family == 10 and len(b) >= 24:
        return str(ipaddress.IPv6Address(b[8:24])), int.from_bytes(b[2:4], "big")
    return None


@detector("network.shell_outbound")
def detect_shell_outbound(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["network.shell_outbound"]
    shells = {str(s) for s in spec.param("shells")}
    window = _seconds(spec.param("window"))
    out: list[Finding] = []
    audit = ctx.data.audit
    # 1. audit connect() of a shell
    if len(audit):
        conn = audit[audit["Syscall"].astype("string").isin(["42", "connect"]).fillna(False)]
        conn = conn[conn["RawMessage"].str.contains("SOCKADDR", regex=False).fillna(False)]
        name = conn["Exe"].fillna(conn["Comm"]).fillna("").str.replace(r"^.*/", "", regex=True)
        for r in conn[name.isin(shells).to_numpy()].to_dict("records"):
            remote = _sockaddr(str(r["RawMessage"]))
            if remote is None or not _is_public(remote[0]):
                continue
            ip, port = remote
            user = (
                ctx.data.users.get(int(r["Auid"]))
                if pd.notna(r["Auid"]) and int(r["Auid"]) not in UNSET_SES
                else None
            )
            ses = f"ses {int(r['Ses'])}" if pd.notna(r["Ses"]) and int(r["Ses"]) not in UNSET_SES else None
            out.append(
                ctx.make(
                    "network.shell_outbound",
                    (ip, port, r["Pid"]),
                    r["TimeGenerated"],
                    values={"ip": ip, "port": port},
                    user=user,
                    source_ip=ip,
                    session=ses,
                    detail=f"{r['Exe']} (pid {r['Pid']}) connected to {ip}:{port} (audit connect).",
                    evidence=(_audit_line(r),),
                    links=_links(
                        ("network", "Network: this address", {"ip": ip}),
                        ("process", "Process tree", {"pid": r["Pid"]}),
                    ),
                )
            )
    # 2. a shell naming a remote in its command line, confirmed by an outbound flow
    procs, flows = ctx.data.processes, conform(ctx.data.flows, FLOWS)
    if procs.empty or flows.empty:
        return out
    outbound = flows[flows["FlowDirection"] == "O"]
    name = procs["Exe"].fillna("").str.replace(r"^.*/", "", regex=True)
    # _remote_of needs "/dev/tcp|udp/" or an nc/ncat/netcat word: both hold "/dev/" or "nc"
    cmd = procs["Cmdline"].astype("string")
    maybe = (cmd.str.contains("/dev/", regex=False) | cmd.str.contains("nc", regex=False)).fillna(False)
    cands = procs[name.isin(shells).to_numpy() & procs["Cmdline"].notna().to_numpy() & maybe.to_numpy(bool)]
    raw = audit.drop_duplicates("EventId").set_index("EventId")["RawMessage"]
    seen = set()
    for r in cands.to_dict("records"):
        remote = _remote_of(str(r["Cmdline"]))
        if remote is None or not _is_public(remote[0]) or remote in seen:
            continue
        ip, port = remote
        t = pd.Timestamp(r["TimeGenerated"])
        to_ip = outbound["PublicIPs"].fillna("").str.contains(ip, regex=False) | (
            outbound["DestIP"] == ip
        ).fillna(False)
        start = outbound["FlowStartTime"].fillna(outbound["TimeGenerated"])
        end = outbound["FlowEndTime"].fillna(outbound["TimeGenerated"])
        near = (start <= t + window) & (end >= t - window)
        match = outbound[(to_ip & near).to_numpy()]
        if match.empty:
            continue
        same_port = match[match["DestPort"] == port]
        match = same_port if len(same_port) else match
        seen.add(remote)
        user = _s(r["LoginUser"]) if _s(r["LoginUser"]) not in (None, "unset") else _s(r["User"])
        ses = f"ses {int(r['Ses'])}" if pd.notna(r["Ses"]) and int(r["Ses"]) not in UNSET_SES else None
        out.append(
            ctx.make(
                "network.shell_outbound",
                (ip, port),
                r["TimeGenerated"],
                values={"ip": ip, "port": port},
                user=user,
                source_ip=ip,
                session=ses,
                detail=f"{r['Exe']} (pid {r['Pid']}) ran `{_clip(r['Cmdline'], 150)}`, and the network flows show "
                f"{len(match)} outbound flow record(s) to {ip} within {spec.param('window')} "
                f"(ports {', '.join(sorted({str(p) for p in match['DestPort'].dropna()}))}).",
                evidence=_capped(
                    [
                        str(raw.get(r["EventId"], "")) or _audit_line(r),
                        *(flow_line(x) for x in match.to_dict("records")),
                    ]
                ),
                occurrences=len(match),
                links=_links(
                    ("network", "Network: flows to this address", {"ip": ip}),
                    ("process", "Process tree of the shell", {"pid": r["Pid"], "session": ses}),
                ),
            )
        )
    return out
