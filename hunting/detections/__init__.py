"""One detection engine: every finding, flag and rating on every page comes from here.

Layout: :mod:`.model` (Finding, Link, HuntResult, TimelineGroup), :mod:`.registry`
(``@detector(rule_id)`` and the settings in ``hunting/rules/findings.yaml``), :mod:`.base`
(HuntData, collect, evidence helpers), one module per family (logons, privilege,
accounts, persistence, execution, defence_evasion, network), :mod:`.runner` (find_all,
hunt, attack timeline, dedupe), :mod:`.rating` (one rating for a command or session on
every page) and :mod:`.coverage` (ATT&CK techniques covered for the data present; imported
on use, not here).

Other finding sources (Sigma) plug in through ``hunt(..., extra=[fn])`` /
``find_all(..., extra=[fn])`` with ``fn(HuntData) -> list[Finding]``; the Sigma rule set
contributes coverage rows through ``coverage(data, result, sigma=rules)``.
"""

from __future__ import annotations

# Importing the family modules registers their detectors (order does not matter:
# the runner follows findings.yaml).
from hunting.detections import (  # noqa: F401
    accounts,
    defence_evasion,
    execution,
    logons,
    network,
    persistence,
    privilege,
)
