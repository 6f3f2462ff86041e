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


def rate_commands(
    commands: pd.Series,
    *,
    sudo: bool = False,
    succeeded: pd.Series | None = None,
    rules: Sequence[RiskRule] | None = None,
    specs: Mapping[str, DetectionSpec] | None = None,
) -> pd.DataFrame:
    """Severity (NA when nothing matches) and matching rule ids for each command line.

    ``sudo=True``: the commands ran through sudo, so an interactive shell is rated by
    the ``sudo.shell`` detector (only where ``succeeded``, default all). Indexed as
    ``commands``.
    """
    commands = commands.astype("string")
    hits = match_commands(commands.reset_index(drop=True), rules)
    rank = pd.Series(-1, index=range(len(commands)), dtype="int64")
    ids: list[list[str]] = [[] for _ in range(len(commands))]
    if len(hits):
        worst = hits.assign(_r=hits["Severity"].map(SEVERITY_RANK)).groupby("Row")["_r"].max()
        rank.loc[worst.index] = worst.astype("int64")
        for row, rid in zip(hits["Row"], hits["RuleId"], strict=True):
            if rid not in ids[int(row)]:
                ids[int(row)].append(str(rid))
    if sudo and len(commands):
        spec = (specs or _default_specs())[SUDO_SHELL]
        shell = command_binary(commands).isin(shell_binaries(specs)).to_numpy(dtype=bool)
        if succeeded is not None:
            shell = shell & np.asarray(succeeded.fillna(False), dtype=bool)
        for i in np.flatnonzero(shell):
            rank.iloc[i] = max(int(rank.iloc[i]), SEVERITY_RANK[spec.severity])
            ids[i].insert(0, SUDO_SHELL)
    severity = rank.map(dict(enumerate(RISK_SEVERITIES))).astype("string")
    return pd.DataFrame(
        {
            "Severity": severity.to_numpy(),
            "Rules": pd.array([", ".join(x) if x else pd.NA for x in ids], dtype="string"),
        },
        index=commands.index,
    )
