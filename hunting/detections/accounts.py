"""Account manipulation: new users, privileged groups, another user's password changed."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from hunting.detections.base import (
    UNSET_SES,
    _audit_line,
    _capped,
    _Ctx,
    _fmt,
    _links,
    _s,
    syslog_line,
)
from hunting.detections.model import (
    Finding,
    iso,
)
from hunting.detections.registry import (
    DetectionSpec,
    detector,
)
from hunting.schema import ACCOUNTS, conform


def _account_rows(ctx: _Ctx, actions: Sequence[str]) -> pd.DataFrame:
    ac = conform(ctx.data.accounts, ACCOUNTS)
    ac = ac[ac["Action"].isin(actions)]
    return ac.assign(_ses=ctx.sessions.ses(ac["ProcessID"], ac["TimeGenerated"]))


def _system_account(spec: DetectionSpec, uid: object, shell: object) -> bool:
    """A uid below the system threshold whose shell cannot log in (what packages create).

    False where the uid or the shell is not known: those keep the rule's severity.
    """
    if pd.isna(uid) or _s(shell) is None:
        return False
    nologin = {str(n) for n in spec.param("nologin_shells")}
    name = str(shell).strip().rstrip("/").rsplit("/", 1)[-1]
    return int(str(uid)) < int(spec.param("system_uid_below")) and name in nologin


@detector("account.new_user")
def detect_new_user(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["account.new_user"]
    out = []
    for r in _account_rows(ctx, ["user_add"]).to_dict("records"):
        uid0 = pd.notna(r["UID"]) and int(r["UID"]) == 0
        system = not uid0 and _system_account(spec, r["UID"], r["Shell"])
        severity = str(spec.param("severity_uid0")) if uid0 else spec.severity
        if system:
            severity = str(spec.param("severity_system"))
        actor = _s(r["Actor"]) or ctx.sessions.login_user(r["ProcessID"], r["TimeGenerated"])
        out.append(
            ctx.make(
                "account.new_user",
                (r["User"], r["UID"]),
                r["TimeGenerated"],
                values={"user": r["User"]},
                title=_fmt(str(spec.param("title_system")), user=r["User"]) if system else None,
                severity=severity,
                user=_s(r["User"]),
                session=_s(r["_ses"]),
                detail=f"Account {r['User']} (uid {r['UID']}, home {r['Home']}, shell {r['Shell']}) created"
                + (f" from a session of {actor}" if actor else "")
                + ("; a system account (no login shell)." if system else "."),
                evidence=(syslog_line(r),),
                links=_links(
                    ("user", "User activity of the new account", {"user": r["User"]}),
                    ("session", "Session that created it", {"session": r["_ses"]}),
                ),
            )
        )
    return out


@detector("account.privileged_group")
def detect_privileged_group(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["account.privileged_group"]
    groups = {str(g) for g in spec.param("groups")}
    rows = _account_rows(ctx, ["group_member_add"])
    rows = rows[rows["Group"].isin(groups).fillna(False)]
    out = []
    for r in rows.to_dict("records"):
        actor = _s(r["Actor"]) or ctx.sessions.login_user(r["ProcessID"], r["TimeGenerated"])
        out.append(
            ctx.make(
                "account.privileged_group",
                (r["User"], r["Group"]),
                r["TimeGenerated"],
                values={"user": r["User"], "group": r["Group"]},
                user=_s(r["User"]),
                session=_s(r["_ses"]),
                detail=f"{r['User']} became a member of {r['Group']}" + (f" (by {actor})." if actor else "."),
                evidence=(syslog_line(r),),
                links=_links(
                    ("user", "User activity", {"user": r["User"]}),
                    ("session", "Session that did it", {"session": r["_ses"]}),
                ),
            )
        )
    return out


@detector("account.password_other")
def detect_password_other(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["account.password_other"]
    unknown_procs = {str(p) for p in spec.param("unknown_actor_processes")}
    audit = ctx.data.audit
    chauth = audit[audit["EventType"] == "USER_CHAUTHTOK"] if len(audit) else audit
    out = []
    for r in _account_rows(ctx, ["password_change"]).to_dict("records"):
        actor = _s(r["Actor"])
        evidence = [syslog_line(r)]
        if actor is None and len(chauth):
            near = chauth[
                (chauth["Pid"] == r["ProcessID"])
                & ((chauth["TimeGenerated"] - r["TimeGenerated"]).abs() <= pd.Timedelta("60s"))
            ]
            if len(near):
                ev = near.iloc[0]
                if pd.notna(ev["Auid"]) and int(ev["Auid"]) not in UNSET_SES:
                    actor = _s(ev["AuidName"]) or ctx.data.users.get(int(ev["Auid"]), str(int(ev["Auid"])))
                    evidence.append(_audit_line(ev))
        if actor is not None and actor == r["User"]:
            continue
        proc = str(r["ProcessName"] or "").lower()
        if actor is None and proc not in unknown_procs:
            continue
        out.append(
            ctx.make(
                "account.password_other",
                (r["User"], iso(r["TimeGenerated"])),
                r["TimeGenerated"],
                values={"user": r["User"], "actor": actor or f"another user ({proc})"},
                severity=spec.severity if actor else str(spec.param("severity_unknown_actor")),
                user=_s(r["User"]),
                session=_s(r["_ses"]),
                detail=f"The password of {r['User']} was set by {proc}"
                + (f", run in a login session of {actor}." if actor else "; who ran it is not logged."),
                evidence=_capped(evidence),
                links=_links(
                    ("user", "User activity", {"user": r["User"]}),
                    ("session", "Session that did it", {"session": r["_ses"]}),
                ),
            )
        )
    return out
