"""One rating for a command, everywhere: the risky-command rules plus the sudo-shell detector.

Findings, Session detail, User activity, Application activity and Process trees all
ask :func:`rate_commands`, so ``sudo /bin/bash`` is rated the same (high, by
``sudo.shell``) on every page. The rules live in one place each: the risky-command
rules (``hunting/rules/risky_commands*.yaml`` via :mod:`hunting.analysis.risky`) and
the detector settings in ``findings.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from hunting.analysis.risky import SEVERITIES as RISK_SEVERITIES
from hunting.analysis.risky import SEVERITY_RANK, RiskRule, match_commands
from hunting.detections.registry import DetectionSpec, _default_specs

SUDO_SHELL: Final = "sudo.shell"
RATING_COLUMNS: Final = ("Severity", "Rules")


def shell_binaries(specs: Mapping[str, DetectionSpec] | None = None) -> frozenset[str]:
    """Program names that make ``sudo X`` an interactive shell (findings.yaml ``sudo.shell.shells``)."""
    return frozenset(str(s) for s in (specs or _default_specs())[SUDO_SHELL].param("shells"))


def command_binary(commands: pd.Series) -> pd.Series:
    """Program name of each command line: its first word without the directory."""
    first = commands.astype("string").fillna("").str.strip().str.split(n=1).str[0].fillna("")
    return first.str.replace(r"^.*/", "", regex=True)


def sudo_shell_mask(sudo: pd.DataFrame, specs: Mapping[str, DetectionSpec] | None = None) -> pd.Series:
    """True for successful sudo runs of an interactive shell; the sudo.shell detector's own test."""
    binary = sudo["CommandBinary"].astype("string") if "CommandBinary" in sudo else None
    fallback = command_binary(sudo["Command"]) if "Command" in sudo else pd.Series("", index=sudo.index)
    name = (
        binary.fillna("").str.replace(r"^.*/", "", regex=True).mask(binary.isna(), fallback)
        if binary is not None
        else fallback
    )
    ok = (sudo["Result"] == "Success").fillna(False) if "Result" in sudo else True
    hit = name.isin(shell_binaries(specs)) & ok
    return pd.Series(np.asarray(hit, dtype=bool), index=sudo.index, name="Shell")


ENCODED: Final = "command.encoded_payload"
SUSPICIOUS_PATH: Final = "process.suspicious_path"
# How a page names a detector's hit on one command (findings.yaml titles need the finding's values).
_TITLES: Final = {
    SUDO_SHELL: "sudo ran an interactive shell",
    ENCODED: "Encoded command decoded and run",
    SUSPICIOUS_PATH: "Program ran from a temporary or hidden directory",
}


def _extra_row(row: object, rule_id: str, spec: DetectionSpec, matched: str, mitre: Sequence[str]) -> dict:
    return {
        "Row": row,
        "RuleId": rule_id,
        "Title": _TITLES.get(rule_id, rule_id),
        "Severity": spec.severity,
        "Techniques": ", ".join(mitre),
        "Matched": matched,
        "Decoded": False,
    }


def command_hits(
    commands: pd.Series,
    *,
    exe: pd.Series | None = None,
    process: pd.Series | None = None,
    sudo: bool | pd.Series = False,
    succeeded: pd.Series | None = None,
    rules: Sequence[RiskRule] | None = None,
    specs: Mapping[str, DetectionSpec] | None = None,
) -> pd.DataFrame:
    """What the Findings engine says about each command line, as ``match_commands`` rows.

    The risky-command rules, plus the detectors that rate a single command or process
    the same way on every page: ``sudo.shell`` (``sudo``: all rows or a mask; only
    where ``succeeded``), ``command.encoded_payload`` (base64 that decodes to risky
    commands) and, given the executables ``exe``, ``process.suspicious_path`` (which
    then covers the rules findings.yaml lists under ``covered_by_process_path``, also on
    the rows of the same ``process`` key, e.g. ``host/pid``: ``nohup /tmp/x`` exec'ing
    ``/tmp/x`` is one process). ``Row`` is the label in ``commands``.
    """
    specs = specs or _default_specs()
    commands = commands.astype("string")
    hits = match_commands(commands, rules)
    extra: list[dict] = []
    if len(hits) and hits["Decoded"].fillna(False).astype(bool).any():
        enc = specs[ENCODED]
        for row in dict.fromkeys(hits.loc[hits["Decoded"].fillna(False).astype(bool), "Row"]):
            extra.append(_extra_row(row, ENCODED, enc, "base64 payload", enc.mitre))
    if exe is not None and len(commands):
        path = specs[SUSPICIOUS_PATH]
        dirs = [str(d) for d in path.param("dirs")]
        e = exe.reindex(commands.index).fillna("").astype("string")
        in_tmp = pd.Series(False, index=e.index)
        for d in dirs:
            in_tmp |= e.str.startswith(d).fillna(False).astype(bool)
        hidden = (
            e.str.contains(r"/\.[^/.][^/]*/", regex=True) | e.str.contains(r"/\.\.[^/]+/", regex=True)
        ).fillna(False)
        sus = (in_tmp | hidden.astype(bool)).to_numpy(dtype=bool)
        hidden_mitre = [str(t) for t in path.params.get("hidden_mitre") or ()]
        for label, is_hidden in zip(commands.index[sus], hidden.to_numpy(dtype=bool)[sus], strict=True):
            mitre = [*path.mitre, *(hidden_mitre if is_hidden else [])]
            extra.append(_extra_row(label, SUSPICIOUS_PATH, path, str(e.loc[label]), mitre))
        covered = {str(x) for x in specs["command.risky"].param("covered_by_process_path")}
        if len(hits) and sus.any():
            flagged = set(commands.index[sus])
            if process is not None:
                key = process.reindex(commands.index).astype("string")
                same = key.isin(set(key[sus].dropna())).fillna(False).to_numpy(dtype=bool)
                flagged |= set(commands.index[same])
            hits = hits[~(hits["RuleId"].isin(covered) & hits["Row"].isin(flagged))]
    mask = (
        pd.Series(bool(sudo), index=commands.index)
        if isinstance(sudo, bool)
        else sudo.reindex(commands.index).fillna(False).astype(bool)
    )
    if mask.any():
        spec = specs[SUDO_SHELL]
        shell = command_binary(commands).isin(shell_binaries(specs)).to_numpy(dtype=bool) & mask.to_numpy()
        if succeeded is not None:
            shell = shell & np.asarray(succeeded.reindex(commands.index).fillna(False), dtype=bool)
        for label in commands.index[shell]:
            extra.append(_extra_row(label, SUDO_SHELL, spec, str(commands.loc[label]), spec.mitre))
    if not extra:
        return hits.reset_index(drop=True)
    more = pd.DataFrame(extra).astype(hits.dtypes.to_dict())
    out = pd.concat([more, hits], ignore_index=True)
    pos = pd.Series(range(len(commands)), index=commands.index)
    order = np.argsort(pos.loc[out["Row"]].to_numpy(), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def worst_by_row(hits: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Severity (NA where no hit) and the rule ids of each row of ``index``: one page rating."""
    rank = pd.Series(-1, index=index, dtype="int64")
    ids: dict[object, list[str]] = {}
    if len(hits):
        r = hits["Severity"].map(SEVERITY_RANK)
        worst = r.groupby(hits["Row"].to_numpy()).max()
        rank.loc[worst.index] = worst.astype("int64").to_numpy()
        for row, rid in zip(hits["Row"], hits["RuleId"], strict=True):
            got = ids.setdefault(row, [])
            if rid not in got:
                got.append(str(rid))
    severity = rank.map(dict(enumerate(RISK_SEVERITIES))).astype("string")
    return pd.DataFrame(
        {
            "Severity": severity.to_numpy(),
            "Rules": pd.array([", ".join(ids[i]) if i in ids else pd.NA for i in index], dtype="string"),
        },
        index=index,
    )


def rate_commands(
    commands: pd.Series,
    *,
    sudo: bool = False,
    succeeded: pd.Series | None = None,
    rules: Sequence[RiskRule] | None = None,
    specs: Mapping[str, DetectionSpec] | None = None,
    exe: pd.Series | None = None,
) -> pd.DataFrame:
    """Severity (NA when nothing matches) and matching rule ids for each command line.

    ``sudo=True``: the commands ran through sudo, so an interactive shell is rated by
    the ``sudo.shell`` detector (only where ``succeeded``, default all). ``exe``: the
    programs' paths (process rows), rated by ``process.suspicious_path``. Indexed as
    ``commands`` (labels must be unique).
    """
    hits = command_hits(commands, exe=exe, sudo=sudo, succeeded=succeeded, rules=rules, specs=specs)
    return worst_by_row(hits, commands.index)
