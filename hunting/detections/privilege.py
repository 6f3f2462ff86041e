"""Privilege escalation: sudo to an interactive shell."""

from __future__ import annotations

from hunting.detections.base import (
    _clip,
    _Ctx,
    _links,
    _s,
    _sudo_sessions,
    syslog_line,
)
from hunting.detections.model import (
    Finding,
    iso,
)
from hunting.detections.rating import sudo_shell_mask
from hunting.detections.registry import (
    detector,
)
from hunting.schema import SUDO, conform


@detector("sudo.shell")
def detect_sudo_shell(ctx: _Ctx) -> list[Finding]:
    su = conform(ctx.data.sudo, SUDO)
    su = su[su["Command"].notna().to_numpy()]
    hits = su[sudo_shell_mask(su, ctx.specs).to_numpy()]
    if hits.empty:
        return []
    hits = hits.assign(_ses=_sudo_sessions(ctx, hits))
    out = []
    for r in hits.to_dict("records"):
        out.append(
            ctx.make(
                "sudo.shell",
                (r["Sudoer"], r["RunAs"], r["Command"], iso(r["TimeGenerated"])),
                r["TimeGenerated"],
                values={"user": r["Sudoer"], "run_as": r["RunAs"], "command": _clip(r["Command"], 60)},
                user=_s(r["Sudoer"]),
                session=_s(r["_ses"]),
                detail=f"{r['Sudoer']} ran {r['Command']} as {r['RunAs']} (tty {r['TTY']}, in {r['PWD']}).",
                evidence=(syslog_line(r),),
                links=_links(
                    ("session", "Session where sudo ran", {"user": r["Sudoer"], "session": r["_ses"]}),
                    ("user", "User activity", {"user": r["Sudoer"]}),
                ),
            )
        )
    return out
