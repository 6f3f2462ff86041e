"""ATT&CK coverage (hunting.detections.coverage) on the demo: what fired, what could run, what lacks data.

Inputs are the demo's generated logs (ground truth in hunting/demo/intrusion.py) and the shipped
SigmaHQ snapshot. Each expectation is checked independently of the function under test: the
demo's files are read with plain regular expressions (as grep would), Sigma rule files for their
``logsource``/``tags`` lines, and the detectors are run with and without the frames
:data:`NEEDS` names.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

import hunting.detections  # noqa: F401  (registers every detector)
from hunting.detections.base import HuntData, collect
from hunting.detections.coverage import (
    COVERED,
    FIRED,
    FRAMES,
    NEEDS,
    NOT_COVERED,
    STATUSES,
    Coverage,
    coverage,
    coverage_rows,
)
from hunting.detections.model import HuntResult
from hunting.detections.registry import DETECTIONS
from hunting.detections.runner import find_all, run_detectors
from hunting.schema import AUDIT, SYSLOG
from hunting.sigma.engine import SigmaHunt
from hunting.sigma.rules import SIGMAHQ_DIR, RuleSet, load_rules
from hunting.timerange import TimeRange


@lru_cache(maxsize=1)
def _demo_dirs() -> dict[str, Path]:
    from hunting.demo.scenario import demo_log_paths

    return {p.name: p for p in demo_log_paths()}


@lru_cache(maxsize=1)
def _rules() -> RuleSet:
    return load_rules()


@lru_cache(maxsize=4)
def _hunt(host: str) -> tuple[HuntData, HuntResult, Coverage]:
    """A demo host's data over its whole span, the hunt with the shipped Sigma rules, and coverage."""
    from hunting.sources.local import LocalSource

    src = LocalSource.from_paths(list(_demo_dirs().values()))
    hosts = src.hosts()
    row = hosts[hosts["Computer"].str.lower() == host].iloc[0]
    data = collect(
        src, str(row["Computer"]), TimeRange(row["FirstSeen"], row["LastSeen"] + pd.Timedelta("1ms"))
    )
    hook = SigmaHunt(_rules(), src)
    result = find_all(data, extra=[hook])
    return data, result, coverage(data, result, _rules(), sigma_skipped=hook.status.skipped)


def _text(folder: Path, name: str) -> str:
    """Every file of the folder whose name starts with ``name`` (rotations, .gz), as one text."""
    out = []
    for p in sorted(folder.glob(name + "*")):
        raw = p.read_bytes()
        out.append((gzip.decompress(raw) if p.suffix == ".gz" else raw).decode("utf-8", "replace"))
    return "\n".join(out)


def _rule_meta(path: Path) -> tuple[str, str, list[str]]:
    """(id, logsource service/category, techniques) of a Sigma rule file read as text."""
    text = path.read_text(encoding="utf-8")
    rid = re.search(r"(?m)^id: (\S+)", text)
    assert rid
    src = re.search(r"(?m)^\s+(?:service|category): (\S+)", text)
    tags = [t.upper() for t in re.findall(r"(?m)^\s+- attack\.(t\d{4}(?:\.\d{3})?)\s*$", text)]
    return rid.group(1), src.group(1) if src else "", tags


# --- the data needs of the built-in detectors ----------------------------------------------------


def test_needs_list_every_registered_detector() -> None:
    assert set(NEEDS) == set(DETECTIONS)
    assert {f for frames in NEEDS.values() for f in frames} <= set(FRAMES)


def _without(data: HuntData, frames: tuple[str, ...]) -> HuntData:
    """``data`` with ``frames`` emptied; program starts come from audit, so no audit means none."""
    empty = {f: getattr(data, f).iloc[0:0] for f in frames if f != "processes"}
    out = replace(data, **empty, _procs=None)
    if "processes" in frames or "audit" in frames:
        out._procs = data.processes.iloc[0:0]
    return out


def test_each_detector_finds_nothing_without_the_data_it_needs() -> None:
    """NEEDS is the honest input list: on the demo's intrusion (web01, every log present) the
    detectors that fire stop firing once the frames NEEDS names are emptied, and none fires."""
    data, _, _ = _hunt("web01")
    fired_before = {rid for rid in DETECTIONS if run_detectors(data, [rid])}
    # the demo's intrusion exercises most detectors: the check below is not vacuous
    assert {"logon.password_guessing", "sudo.shell", "account.new_user", "file.ssh_authorized_keys",
            "command.download_execute", "network.shell_outbound", "cron.crontab_edit"} <= fired_before  # fmt: skip
    for rid, frames in NEEDS.items():
        assert run_detectors(_without(data, frames), [rid]) == [], rid


# --- the demo -----------------------------------------------------------------------------------


def test_brute_force_on_web01_is_fired() -> None:
    # Independent check (as grep): web01's auth logs hold "Failed password" lines, and one address
    # failed more than 15 times (findings.yaml: logon.password_guessing threshold 16 in 4 h).
    auth = _text(_demo_dirs()["web01"], "auth.log")
    failed = re.findall(r"sshd\[\d+\]: Failed password for (?:invalid user )?\S+ from (\S+)", auth)
    assert len(failed) > 100
    assert Counter(failed).most_common(1)[0][1] > 15
    _, result, cov = _hunt("web01")
    row = cov.by_technique("T1110.001")
    assert row.status == FIRED
    guessing = [r for r in row.rules if r.rule_id == "logon.password_guessing"]
    assert guessing and guessing[0].runs and guessing[0].findings >= 1
    assert row.findings == sum(1 for f in result.findings if "T1110.001" in f.mitre)


def test_every_finding_technique_is_fired_with_its_rule() -> None:
    """Cross-check with the hunt's own findings: each technique a finding carries is a fired row
    naming that finding's rule (Sigma ones as sigma:<id>), and no fired row lacks a finding."""
    _, result, cov = _hunt("web01")
    assert result.findings
    for f in result.findings:
        for t in f.mitre:
            row = cov.by_technique(t)
            assert row.status == FIRED, t
            assert any(r.rule_id == f.rule_id and r.findings >= 1 for r in row.rules), (t, f.rule_id)
    carried = {t for f in result.findings for t in f.mitre}
    assert {r.technique for r in cov.techniques if r.status == FIRED} == carried


def test_audit_free_host_marks_auditd_sigma_rules_no_data() -> None:
    # app02 has no audit folder in the demo (only auth.log and syslog): checked on the files.
    app02 = _demo_dirs()["app02"]
    assert not (app02 / "audit").exists()
    assert not any("type=SYSCALL" in _text(app02, n) for n in ("auth.log", "syslog"))
    data, _, cov = _hunt("app02")
    assert data.audit.empty
    auditd_ids = {
        meta[0]
        for p in sorted((SIGMAHQ_DIR / "auditd").rglob("*.yml"))
        if (meta := _rule_meta(p))[2]  # tagged with a technique
    }
    assert len(auditd_ids) > 20
    entries = [
        r for row in cov.techniques for r in row.rules if r.rule_id.removeprefix("sigma:") in auditd_ids
    ]
    assert {r.rule_id.removeprefix("sigma:") for r in entries} == auditd_ids
    for r in entries:
        assert not r.runs and r.reason.startswith("no data: no auditd events"), r
    # a technique only auditd Sigma rules cover is "not covered here" on app02 ...
    only_auditd = [
        row
        for row in cov.techniques
        if row.rules and all(r.rule_id.removeprefix("sigma:") in auditd_ids for r in row.rules)
    ]
    assert only_auditd and all(row.status == NOT_COVERED for row in only_auditd)
    # ... and the same rules can run on web01, which has audit.log
    assert (_demo_dirs()["web01"] / "audit" / "audit.log").is_file()
    _, _, web = _hunt("web01")
    assert all(
        r.runs for row in web.techniques for r in row.rules if r.rule_id.removeprefix("sigma:") in auditd_ids
    )
    # the built-in detectors that read only audit cannot run either
    ssh_keys = [r for r in cov.by_technique("T1098.004").rules if r.rule_id == "file.ssh_authorized_keys"]
    assert ssh_keys and not ssh_keys[0].runs and "auditd events" in ssh_keys[0].reason


def test_syslog_service_rules_need_lines_of_their_service() -> None:
    vsftpd = SIGMAHQ_DIR / "builtin" / "vsftpd" / "lnx_vsftpd_susp_error_messages.yml"
    sshd = SIGMAHQ_DIR / "builtin" / "sshd" / "lnx_sshd_susp_ssh.yml"
    (v_id, v_src, v_tags), (s_id, s_src, s_tags) = _rule_meta(vsftpd), _rule_meta(sshd)
    assert (v_src, s_src) == ("vsftpd", "sshd") and "T1190" in v_tags and "T1190" in s_tags
    # grep: web01's logs have sshd lines and no vsftpd line
    web01 = _demo_dirs()["web01"]
    logs = _text(web01, "auth.log") + _text(web01, "syslog")
    assert "vsftpd" not in logs and re.search(r" sshd\[\d+\]: ", logs)
    _, _, cov = _hunt("web01")
    by_id = {r.rule_id: r for r in cov.by_technique("T1190").rules}
    assert by_id[f"sigma:{s_id}"].runs
    assert not by_id[f"sigma:{v_id}"].runs
    assert by_id[f"sigma:{v_id}"].reason.startswith("no data: no syslog lines of service vsftpd")


def test_rules_the_loader_skipped_are_not_covered_with_the_reason() -> None:
    wget = SIGMAHQ_DIR / "file_event" / "file_event_lnx_wget_download_file_in_tmp_dir.yml"
    rid, category, tags = _rule_meta(wget)
    assert category == "file_event" and "T1105" in tags
    _, _, cov = _hunt("web01")
    entry = next(r for r in cov.by_technique("T1105").rules if r.rule_id == f"sigma:{rid}")
    assert not entry.runs and entry.findings == 0
    assert entry.reason.startswith("not run: ") and "file_event" in entry.reason


def test_rows_sorted_fired_covered_not_covered_then_by_id() -> None:
    for host in ("web01", "app02"):
        _, _, cov = _hunt(host)
        ranks = [STATUSES.index(r.status) for r in cov.techniques]
        assert ranks == sorted(ranks)
        assert sum(cov.counts().values()) == len(cov.techniques)
        for status in STATUSES:
            ids = [r.technique for r in cov.techniques if r.status == status]
            key = [tuple(int(x) for x in t[1:].split(".")) + ((0,) if "." not in t else ()) for t in ids]
            assert key == sorted(key)
        covered = [r for r in cov.techniques if r.status == COVERED]
        assert covered and all(r.findings == 0 and any(e.runs for e in r.rules) for r in covered)


def test_without_sigma_only_built_in_rules_and_a_note() -> None:
    data, result, _ = _hunt("web01")
    cov = coverage(data, result)
    assert any("Sigma rules were not run" in n for n in cov.notes)
    assert all(
        not r.rule_id.startswith("sigma:") for row in cov.techniques for r in row.rules if r.findings == 0
    )


def test_empty_host_has_nothing_fired_and_built_in_rules_lack_data() -> None:
    """A host with no rows at all: nothing can run, every reason says which data is missing."""
    tr = TimeRange(pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-01-02", tz="UTC"))
    data = HuntData(host="empty", tr=tr, syslog=SYSLOG.empty(), audit=AUDIT.empty())
    cov = coverage(data, find_all(data), _rules())
    assert cov.techniques and all(row.status == NOT_COVERED for row in cov.techniques)
    assert all(r.reason.startswith(("no data: ", "not run: ")) for row in cov.techniques for r in row.rules)


@pytest.mark.parametrize("host", ["web01", "app02"])
def test_rows_for_display_follow_the_json(host: str) -> None:
    _, _, cov = _hunt(host)
    rows = coverage_rows(cov.to_dict())
    assert [r["technique"] for r in rows] == [t.technique for t in cov.techniques]
    t1110 = next(r for r in rows if r["technique"] == "T1110.001")
    if host == "web01":
        assert t1110["status"] == FIRED and "logon.password_guessing ×" in t1110["fired"]
    else:  # app02's auth.log: sshd lines, so the guessing detector could run
        assert "logon.password_guessing" in t1110["ran"] or "logon.password_guessing" in t1110["fired"]
