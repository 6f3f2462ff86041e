"""Execution: risky command lines, encoded payloads, download-and-execute."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from hunting.analysis.risky import SEVERITY_RANK, RiskRule
from hunting.detections.base import (
    UNSET_SES,
    _audit_line,
    _capped,
    _clip,
    _Ctx,
    _group,
    _links,
    _normalise_command,
    _risky_hits,
    _s,
    _seconds,
    _sudo_sessions,
    _suspicious_exe,
    _ts,
    syslog_line,
)
from hunting.detections.model import (
    Finding,
    iso,
)
from hunting.detections.registry import (
    detector,
)
from hunting.schema import CRON, SUDO, conform


@dataclass
class _Cmd:
    """A command line to check, with where it came from."""

    time: Any
    command: str
    user: str | None
    session: str | None
    line: str
    pid: Any
    origin: str  # audit | sudo | cron
    suspicious_exe: bool = False


def _commands(ctx: _Ctx) -> tuple[pd.Series, Callable[[Iterable[int]], dict[int, _Cmd]]]:
    """Every command line to check, as text (audit process starts, then sudo, then cron), and a
    builder of the :class:`_Cmd` of given positions.

    Why a builder: a busy host has hundreds of thousands of process starts and a handful of
    rule hits; evidence (raw line, session, user) is looked up only for the rows that hit.
    """
    procs = ctx.data.processes
    if len(procs):
        cmd = procs["Cmdline"]
        text = cmd.astype("string")
        a_rows = np.flatnonzero((cmd.notna() & (text != "")).fillna(False).to_numpy(bool))
    else:
        text, a_rows = pd.Series([], dtype="string"), np.array([], dtype=np.int64)
    su = conform(ctx.data.sudo, SUDO)
    su = su[su["Command"].notna()]
    cr = conform(ctx.data.cron, CRON)
    cr = cr[(cr["Action"] == "run") & cr["Command"].notna()]
    n_a, n_s = len(a_rows), len(su)
    texts = pd.Series(
        np.concatenate(
            [
                text.iloc[a_rows].to_numpy(dtype=object),
                su["Command"].astype("string").to_numpy(dtype=object),
                cr["Command"].astype("string").to_numpy(dtype=object),
            ]
        ),
        dtype="string",
    )

    def build(positions: Iterable[int]) -> dict[int, _Cmd]:
        want = sorted({int(p) for p in positions})
        out: dict[int, _Cmd] = {}
        audit_pos = [p for p in want if p < n_a]
        sudo_pos = [p for p in want if n_a <= p < n_a + n_s]
        cron_pos = [p for p in want if p >= n_a + n_s]
        if audit_pos:
            dirs = [str(d) for d in ctx.specs["process.suspicious_path"].param("dirs")]
            in_tmp, hidden = _suspicious_exe(procs["Exe"], dirs)
            raw = ctx.data.audit.drop_duplicates("EventId").set_index("EventId")["RawMessage"]
            # A pid that exec'd a program from such a path: its wrapper (nohup, env ...) is covered too.
            flagged = procs.loc[(in_tmp | hidden).to_numpy(), ["Computer", "Pid"]]
            sus_pids = {
                (str(c).lower(), int(p))
                for c, p in zip(flagged["Computer"], flagged["Pid"], strict=True)
                if pd.notna(p)
            }
            rows = procs.iloc[a_rows[audit_pos]].to_dict("records")
            for pos, r in zip(audit_pos, rows, strict=True):
                c, p = r["Computer"], r["Pid"]
                sus = bool(pd.notna(p) and (str(c).lower(), int(p)) in sus_pids)
                user = _s(r["LoginUser"]) if _s(r["LoginUser"]) not in (None, "unset") else _s(r["User"])
                ses_v = r["Ses"]
                ses = f"ses {int(ses_v)}" if pd.notna(ses_v) and int(ses_v) not in UNSET_SES else None
                out[pos] = _Cmd(
                    r["TimeGenerated"],
                    str(r["Cmdline"]),
                    user,
                    ses,
                    str(raw.get(r["EventId"], "")) or _audit_line(r),
                    r["Pid"],
                    "audit",
                    sus,
                )
        if sudo_pos:
            picked = su.iloc[[p - n_a for p in sudo_pos]]
            sessions = _sudo_sessions(ctx, picked)  # row by row: a subset gets the same sessions
            for pos, r, s in zip(sudo_pos, picked.to_dict("records"), sessions.tolist(), strict=True):
                out[pos] = _Cmd(
                    r["TimeGenerated"],
                    str(r["Command"]),
                    _s(r["Sudoer"]),
                    _s(s),
                    syslog_line(r),
                    r["ProcessID"],
                    "sudo",
                )
        if cron_pos:
            picked = cr.iloc[[p - n_a - n_s for p in cron_pos]]
            for pos, r in zip(cron_pos, picked.to_dict("records"), strict=True):
                out[pos] = _Cmd(
                    r["TimeGenerated"],
                    str(r["Command"]),
                    _s(r["User"]),
                    None,
                    syslog_line(r),
                    r["ProcessID"],
                    "cron",
                )
        return out

    return texts, build


def _command_hits(ctx: _Ctx) -> tuple[pd.DataFrame, dict[int, _Cmd]]:
    """Risky-rule hits on every command line and the commands that hit; once per pass (both
    command detectors read them)."""
    memo = ctx.memo.get("command_hits")
    if memo is None:
        texts, build = _commands(ctx)
        hits = _risky_hits(ctx, texts) if len(texts) else _risky_hits(ctx, pd.Series([], dtype="string"))
        memo = ctx.memo["command_hits"] = (hits, build(hits["Row"].tolist()) if len(hits) else {})
    return memo


@detector("command.risky")
def detect_risky_commands(ctx: _Ctx) -> list[Finding]:
    """Risky command-line rule hits (each finding shows the matching risky rule's id)."""
    return _command_findings(ctx, encoded=False)


@detector("command.encoded_payload")
def detect_encoded_payload(ctx: _Ctx) -> list[Finding]:
    """A command line carrying base64 that decodes to risky actions: one finding with what it hides."""
    return _command_findings(ctx, encoded=True)


def _command_findings(ctx: _Ctx, *, encoded: bool) -> list[Finding]:
    """Risky-rule hits on every command line; ``encoded`` picks the base64-payload ones or the others."""
    spec, enc = ctx.specs["command.risky"], ctx.specs["command.encoded_payload"]
    covered = {str(x) for x in spec.param("covered_by_process_path")}
    hits, cmds = _command_hits(ctx)
    if hits.empty:
        return []
    by_id = {r.id: r for r in ctx.risky}
    encoded_rows = set(hits.loc[hits["Decoded"].fillna(False).astype(bool), "Row"].tolist())
    items: list[tuple[str, _Cmd, pd.DataFrame]] = []  # (rule key, command, its hits)
    for row, h in hits.groupby("Row", sort=True):
        c = cmds[int(row)]
        if int(row) in encoded_rows:
            items.append(("command.encoded_payload", c, h))
            continue
        for rule_id, hr in h.groupby("RuleId", sort=False):
            if c.suspicious_exe and rule_id in covered:
                continue
            items.append((str(rule_id), c, hr))
    out = []
    for rule_key in dict.fromkeys(k for k, _, _ in items):
        if (rule_key == "command.encoded_payload") != encoded:
            continue
        group_items = [(c, h) for k, c, h in items if k == rule_key]
        keys = [
            tuple(
                x
                for x in ("cmd:" + _normalise_command(c.command), f"ses:{c.session}" if c.session else "")
                if x
            )
            for c, _ in group_items
        ]
        labels = _group(keys)
        for label in dict.fromkeys(labels):
            members = sorted(
                (m for m, lab in zip(group_items, labels, strict=True) if lab == label),
                key=lambda m: pd.Timestamp(m[0].time),
            )
            first = members[0][0]
            allhits = pd.concat([h for _, h in members])
            distinct = list(dict.fromkeys(_normalise_command(c.command) for c, _ in members))
            sessions = [c.session for c, _ in members if c.session]
            common = dict(
                end=_ts(max(pd.Timestamp(c.time) for c, _ in members)),
                user=first.user,
                session=sessions[0] if sessions else None,
                occurrences=len(members),
                evidence=_capped(c.line for c, _ in members),
                links=_links(
                    ("process", "Process tree around it", {"pid": first.pid, "session": first.session}),
                    ("session", "Session it ran in", {"session": first.session, "user": first.user}),
                    ("user", "User activity", {"user": first.user}),
                ),
            )
            if rule_key == "command.encoded_payload":
                hidden = allhits[allhits["Decoded"].fillna(False).astype(bool)]
                titles = list(dict.fromkeys(hidden["Title"].astype(str)))
                techniques = [t.strip() for ts in allhits["Techniques"].astype(str) for t in ts.split(",")]
                severity = max(
                    [enc.severity, *allhits["Severity"].astype(str)], key=SEVERITY_RANK.__getitem__
                )
                out.append(
                    ctx.make(
                        rule_key,
                        (distinct[0],),
                        first.time,
                        values={
                            "hidden": "; ".join(titles[:4])
                            + (f" (+{len(titles) - 4} more)" if len(titles) > 4 else "")
                        },
                        severity=severity,
                        mitre=tuple(dict.fromkeys([*enc.mitre, *techniques])),
                        detail=f"A command carrying base64 text that decodes to {len(titles)} kind(s) of risky "
                        f"action: {'; '.join(titles)}. Command: {_clip(first.command, 300)}"
                        + _decoded_detail(first.command, ctx.risky),
                        **common,
                    )
                )
                continue
            rule = by_id.get(rule_key)
            if rule is None:
                continue
            out.append(
                ctx.make(
                    "command.risky",
                    (distinct[0],),
                    first.time,
                    rule_id=rule.id,
                    values={"rule_title": rule.title, "command": _clip(distinct[0], 80)},
                    severity=rule.severity,
                    mitre=tuple(t.strip() for t in rule.techniques.split(",")),
                    detail=f"Rule {rule.id} ({rule.title}) matched {len(members)} command line(s)"
                    f" from {', '.join(sorted({c.origin for c, _ in members}))}: "
                    + " | ".join(_clip(d, 150) for d in distinct[:5]),
                    **common,
                )
            )
    return out


DECODED_SHOWN: Final = 600  # characters of each decoded payload shown in a finding's detail
DECODED_IOCS_SHOWN: Final = 12  # distinct IoCs of the decoded text named in a finding's detail


def _decoded_detail(command: str, rules: Sequence[RiskRule]) -> str:
    """The decoded text of a command's base64 payloads (line breaks shown as ⏎) and the IoCs in it.

    IoCs are named URLs and addresses first, paths last (a dropper's kill list holds dozens of paths).
    """
    from hunting.analysis.decode import analyse_payloads
    from hunting.analysis.iocs import IOC_TYPES

    parts = []
    iocs: dict[tuple[str, str], None] = {}
    for found in analyse_payloads(command, rules):
        p = found.decoded
        text = p.text.strip().replace("\r\n", "\n").replace("\n", " ⏎ ")
        parts.append(
            f" Decoded ({p.shape}, layer {p.depth}, {len(p.text)} chars): {_clip(text, DECODED_SHOWN)}"
        )
        iocs.update(dict.fromkeys(found.iocs))
    if iocs:
        rank = {t: i for i, t in enumerate(IOC_TYPES)}
        names = [f"{v} ({t})" for t, v in sorted(iocs, key=lambda tv: rank.get(tv[0], len(rank)))]
        more = f" (+{len(names) - DECODED_IOCS_SHOWN} more)" if len(names) > DECODED_IOCS_SHOWN else ""
        parts.append(f" IoCs in the decoded text: {', '.join(names[:DECODED_IOCS_SHOWN])}{more}.")
    return "".join(parts)


_DOWNLOAD: Final = re.compile(
    r"\b(?:wget|curl)\b.*?(?:\s-O\s*|\s-o\s*|\s--output(?:-document)?[=\s])['\"]?(/[^\s'\";|&]+)"
)


def _proc_raw(ctx: _Ctx) -> pd.Series:
    audit = ctx.data.audit
    if audit.empty:
        return pd.Series(dtype="string")
    return audit.drop_duplicates("EventId").set_index("EventId")["RawMessage"]


def proc_user_ses(r: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(login user, else the uid's name; ``ses N``) of a process row."""
    login = _s(r.get("LoginUser"))
    user = login if login not in (None, "unset") else _s(r.get("User"))
    ses_v = r.get("Ses")
    ses = (
        f"ses {int(ses_v)}" if ses_v is not None and pd.notna(ses_v) and int(ses_v) not in UNSET_SES else None
    )
    return user, ses


def _download_url(cmdline: object) -> str | None:
    """The URL a wget/curl command line fetched (the IoCs link names it, not the saved path)."""
    from hunting.analysis.iocs import extract_from_text

    return next((v for t, v in extract_from_text(str(cmdline or "")) if t == "url"), None)


@detector("command.download_execute")
def detect_download_execute(ctx: _Ctx) -> list[Finding]:
    spec = ctx.specs["command.download_execute"]
    procs = ctx.data.processes
    if procs.empty:
        return []
    window = _seconds(spec.param("window"))
    cmd = procs["Cmdline"].fillna("").astype(str)
    raw = _proc_raw(ctx)
    out = []
    seen: set[str] = set()
    for i in np.flatnonzero(cmd.str.contains(r"\b(?:wget|curl)\b", regex=True).to_numpy()):
        m = _DOWNLOAD.search(cmd.iloc[i])
        if not m or m.group(1) in seen:
            continue
        path, d = m.group(1), procs.iloc[i]
        t0 = d["TimeGenerated"]
        later = procs[(procs["TimeGenerated"] > t0) & (procs["TimeGenerated"] <= t0 + window)]
        later_cmd = later["Cmdline"].fillna("").astype(str)
        runs = later[
            (later["Exe"] == path).fillna(False).to_numpy()
            | later_cmd.str.match(
                rf"^(?:\S*/)?(?:nohup|setsid|exec|sh|bash)?\s*{re.escape(path)}(?:\s|$)"
            ).to_numpy()
        ]
        if runs.empty:
            continue
        chmods = later[later_cmd.str.contains(rf"\bchmod\s+\S*\s*{re.escape(path)}", regex=True).to_numpy()]
        seen.add(path)
        user, ses = proc_user_ses(d)
        rows = [d, *(r for _, r in chmods.iterrows()), *(r for _, r in runs.iterrows())]
        evidence = [str(raw.get(r["EventId"], "")) or _audit_line(r) for r in rows]
        first_run = runs.iloc[0]
        out.append(
            ctx.make(
                "command.download_execute",
                (path,),
                t0,
                values={"path": path},
                end=_ts(first_run["TimeGenerated"]),
                user=user,
                session=ses,
                occurrences=len(runs),
                detail=f"`{_clip(d['Cmdline'], 200)}` saved {path} at {iso(t0)}; "
                + (f"chmod at {iso(chmods['TimeGenerated'].iloc[0])}; " if len(chmods) else "")
                + f"run at {iso(first_run['TimeGenerated'])} as `{_clip(first_run['Cmdline'], 200)}`.",
                evidence=_capped(evidence),
                links=_links(
                    ("process", "Process tree of the download", {"pid": d["Pid"], "session": ses}),
                    ("iocs", "IoCs: the download URL", {"ioc": _download_url(d["Cmdline"]) or path}),
                ),
            )
        )
    return out
