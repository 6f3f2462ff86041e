"""Findings links carry scope hints (?session=ses N, ?user=, ?pid=, ?exe=, ?ip=, ?ioc=, ?app=): the
target pages preselect them. AppTest does not bind the URL to widgets, so the pages read
``st.query_params`` themselves; these tests pass the hints as URL parameters only.

Demo facts (checked in the demo's logs): deploy logged on from 185.220.101.47 at 03:28:16 on
2026-03-12 and that ssh logon opened audit session 6024; root has hundreds of (cron) sessions;
the C2 address 45.95.147.236 appears in a /dev/tcp path; cron's crontab RELOAD is tagged ``cron``.
"""

from __future__ import annotations

from typing import Any

from hunting.demo.scenario import demo_manifest
from tests.app.conftest import no_exception, run_page
from ui.safe import md

WEB = {"host": "web01", "range": "7d"}
TRUTH = dict(demo_manifest().truth)


def _infos(at: Any) -> str:
    return "\n".join(i.value for i in at.info)


def _widget(at: Any, kind: str, key: str) -> Any:
    return next(w for w in at.get(kind) if w.key == key)


def test_session_detail_session_hint_scopes_to_its_logon() -> None:
    at = run_page("pages/2_Session_detail.py", params={**WEB, "session": "ses 6024"})
    no_exception(at)
    infos = _infos(at)
    assert "audit session 6024" in infos
    assert f"logon session of {TRUTH['compromised_user']}" in infos
    assert md(TRUTH["attacker_ips"]["brute_force"]) in infos
    assert "**Session:**" in infos  # the page's own scope box: the session is in force
    assert md("2026-03-12 03:28:16") in infos


def test_session_detail_user_with_many_sessions_is_not_guessed() -> None:
    at = run_page("pages/2_Session_detail.py", params={**WEB, "user": "root"})
    no_exception(at)
    infos = _infos(at)
    assert "no single logon session" in infos
    assert "**Session:**" not in infos


def test_session_detail_selection_wins_over_hint() -> None:
    picked = {"SessionId": "x", "Computer": "db01", "User": "alice"}
    at = run_page(
        "pages/2_Session_detail.py", params={**WEB, "session": "ses 6024"}, state={"hunt_session": picked}
    )
    no_exception(at)
    assert "audit session 6024" not in _infos(at)  # the Logons-page pick (other host) is reported instead
    assert any("db01" in w.value for w in at.warning)


def test_process_trees_session_and_pid_hints() -> None:
    at = run_page("pages/4_Process_trees.py", params={**WEB, "session": "ses 6024", "pid": "2930868"})
    no_exception(at)
    assert _widget(at, "radio", "pt_scope").value == "session"
    ses_box = next(s for s in at.selectbox if s.key and s.key.startswith("pt_ses_"))
    assert ses_box.format_func(ses_box.value).startswith("ses 6024 · deploy")
    assert _widget(at, "text_input", "pt_filter").value == "2930868"
    assert "process 2930868" in _infos(at)


def test_process_trees_exe_hint() -> None:
    at = run_page("pages/4_Process_trees.py", params={**WEB, "exe": "/tmp/.x/kworkerd", "pid": "2931499"})
    no_exception(at)
    assert _widget(at, "radio", "pt_scope").value == "exe"
    assert _widget(at, "selectbox", "pt_exe").value == "/tmp/.x/kworkerd"
    assert _widget(at, "text_input", "pt_filter").value == "2931499"


def test_process_trees_pid_alone_picks_its_executable() -> None:
    at = run_page("pages/4_Process_trees.py", params={**WEB, "pid": "2931499"})
    no_exception(at)
    assert _widget(at, "radio", "pt_scope").value == "exe"
    assert _widget(at, "selectbox", "pt_exe").value == "/tmp/.x/kworkerd"


def test_network_ip_hint() -> None:
    c2 = TRUTH["attacker_ips"]["c2"]
    at = run_page("pages/6_Network.py", params={**WEB, "ip": c2})
    no_exception(at)
    assert _widget(at, "selectbox", "net_ip").value == c2
    assert any(f"Messages that name {md(c2)}" in m.value for m in at.markdown)


def test_network_unknown_ip_hint_is_said() -> None:
    at = run_page("pages/6_Network.py", params={**WEB, "ip": "203.0.113.250"})
    no_exception(at)
    assert _widget(at, "selectbox", "net_ip").value is None
    assert md("203.0.113.250") in _infos(at)


def test_iocs_ioc_hint() -> None:
    at = run_page("pages/7_IoCs_and_threat_intel.py", params={**WEB, "ioc": "/tmp/.x/kworkerd"})
    no_exception(at)
    assert _widget(at, "selectbox", "ioc_pick").value == "/tmp/.x/kworkerd"


def test_user_activity_user_hint() -> None:
    at = run_page("pages/3_User_activity.py", params={**WEB, "user": "backup2"})
    no_exception(at)
    assert _widget(at, "selectbox", "user").value == "backup2"


def test_application_activity_app_hint_for_a_system_daemon() -> None:
    at = run_page("pages/5_Application_activity.py", params={**WEB, "app": "cron"})
    no_exception(at)
    assert _widget(at, "selectbox", "app").value == "cron"
    assert "system daemon" in _infos(at)
    assert any(m.label == "Messages" and m.value == "1" for m in at.metric)  # the crontab RELOAD line
