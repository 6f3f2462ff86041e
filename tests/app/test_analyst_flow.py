"""Issue 14: what a hunter trips over (sessions table, links that deliver, session-scoped wording).

Expected values come from the demo's own files, counted with grep (see each test), or from
the generator's manifest (what it wrote), not from the functions under test.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from hunting.demo.scenario import demo_log_paths, demo_manifest
from tests.app.conftest import no_exception, run_page

WEB = {"host": "web01", "range": "7d"}  # 7 days covers the demo's 3 days


def _web01_lines(name_prefix: str) -> list[str]:
    folder = next(p for p in demo_log_paths() if p.name == "web01")
    lines: list[str] = []
    for f in sorted(Path(folder).glob(f"{name_prefix}*")):
        opener = gzip.open if f.suffix == ".gz" else open
        with opener(f, "rt", encoding="utf-8", errors="replace") as fh:
            lines.extend(fh)
    return lines


def _sessions_table(at):
    return next(d.value for d in at.dataframe if "SessionId" in d.value.columns)


def test_logon_sessions_flagged_first_and_cron_left_out() -> None:
    # same as: zcat -f auth.log* | grep "session opened" | grep -vc "(cron:session)"  -> 26
    opened = [ln for ln in _web01_lines("auth.log") if "session opened for user" in ln]
    not_cron = [ln for ln in opened if "(cron:session)" not in ln and "(sudo:session)" not in ln]
    truth = demo_manifest().truth
    at = run_page("pages/1_Logons.py", params=WEB)
    no_exception(at)
    table = _sessions_table(at)
    assert len(table) == len(not_cron), "cron sessions are left out by default"
    assert "cron" not in set(table["SessionType"].astype(str))
    # flag columns come first, and the attacker's session (alerts fired in it) is the first row
    assert list(table.columns[:3]) == ["Flags", "AlertDuringSession", "AlertNames"]
    top = table.iloc[0]
    assert top["User"] == truth["compromised_user"]
    assert top["SourceIP"] == truth["attacker_ips"]["brute_force"]
    assert "alert during session" in top["Flags"]
    # the rows are tinted: the table is sent with a style for flagged rows
    styles = at.dataframe[-1].proto.arrow_data.styler.styles
    assert "rgba(228, 87, 46" in styles, "flagged rows are highlighted"
    # and cron comes back on request: all opened lines are sessions then
    at.toggle(key="logons_sessions_system").set_value(True).run()
    assert len(_sessions_table(at)) == len(opened)


def test_logons_honours_ip_link() -> None:
    truth = demo_manifest().truth
    ip = truth["attacker_ips"]["brute_force"]
    at = run_page("pages/1_Logons.py", params={**WEB, "ip": ip})
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Source IPs"] == "1"
    # grep "Accepted .* from 185.220.101.47" auth.log* -> the one password logon of the attacker
    accepted = [ln for ln in _web01_lines("auth.log") if "Accepted " in ln and f" from {ip} " in ln]
    assert metrics["Successful logons"] == f"{len(accepted):,}"
    assert int(metrics["Failed logons"].replace(",", "")) >= truth["brute_force_attempts"]
    assert any("from the link" in i.value for i in at.info)


def test_network_flows_to_the_address_of_a_link() -> None:
    ip = demo_manifest().truth["reverse_shell"]["ip"]
    # grep -c 45.95.147.236 sentinel/AzureNetworkAnalytics_CL.csv -> rows naming the C2 address
    folder = next(p for p in demo_log_paths() if p.name == "sentinel")
    rows = [ln for ln in (folder / "AzureNetworkAnalytics_CL.csv").read_text().splitlines() if ip in ln]
    web01_rows = [ln for ln in rows if ",web01," in ln]
    assert web01_rows
    at = run_page("pages/6_Network.py", params={**WEB, "ip": ip})
    no_exception(at)
    flows = [d.value for d in at.dataframe if "PublicIPs" in d.value.columns][-1]
    assert len(flows) == len(web01_rows)
    assert flows.apply(lambda r: " ".join(map(str, r)), axis=1).str.contains(ip, regex=False).all()


@pytest.mark.parametrize("page", ["pages/2_Session_detail.py"])
def test_logon_session_in_url_scopes_session_detail(page: str) -> None:
    truth = demo_manifest().truth
    at = run_page("pages/1_Logons.py", params=WEB)
    top = _sessions_table(at).iloc[0]
    at2 = run_page(page, params={**WEB, "logon": str(top["SessionId"])})
    no_exception(at2)
    texts = " ".join(i.value for i in at2.info)
    assert "Session:" in texts and truth["compromised_user"] in texts


def test_crontab_edits_one_rule_report_and_session_detail(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    # grep -E "crontab\[[0-9]+\]|crontab [0-9]+" syslog* | grep -cE "REPLACE|DELETE": one change by the intruder
    lines = [ln for ln in _web01_lines("syslog") if " crontab " in ln or "crontab[" in ln]
    changes = [ln for ln in lines if ") REPLACE (" in ln or ") DELETE (" in ln]
    assert len(changes) == 1 and len(lines) > len(changes)  # BEGIN/END EDIT are not extra edits
    root = Path(__file__).resolve().parents[2]
    demo = demo_log_paths()[0].parent
    out = tmp_path / "r.json"
    subprocess.run(
        [sys.executable, "-m", "hunting", "report", "--source", str(demo), "--host", "web01", "--format", "json",
         "--output", str(out)],
        check=True, cwd=root, capture_output=True,
    )  # fmt: skip
    assert len(json.loads(out.read_text())["cron"]["edits"]) == len(changes)
    at = run_page("pages/2_Session_detail.py", params=WEB)
    no_exception(at)
    assert {m.label: m.value for m in at.metric}["Crontab edits"] == str(len(changes))


def test_session_detail_empty_states_name_the_session_window() -> None:
    # a sudo session of the admin (seconds long): its window, not the sidebar's 7 days, is named
    at = run_page("pages/1_Logons.py", params=WEB, state={"logons_sessions_system": True})
    table = _sessions_table(at)
    sudo = table[(table["SessionType"] == "sudo") & table["End"].notna()]
    short = sudo.sort_values("DurationSeconds").iloc[0]
    assert short["DurationSeconds"] < 120
    at2 = run_page("pages/2_Session_detail.py", params={**WEB, "logon": str(short["SessionId"])})
    no_exception(at2)
    start = f"{short['Start']:%Y-%m-%d %H:%M:%S}"
    empties = [i.value for i in at2.info if i.value.startswith("No ")]
    assert empties, "some section of a seconds-long session is empty"
    for text in empties:
        assert "this session's window" in text and start in text, text


def _specs(at) -> list[dict]:
    import json

    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def _colour_map(spec: dict) -> dict[str, str]:
    scale = spec.get("encoding", {}).get("color", {}).get("scale", {})
    return dict(zip(scale.get("domain", []), scale.get("range", []), strict=False))


def _walk(spec: dict):
    yield spec
    for k in ("vconcat", "hconcat", "layer"):
        for sub in spec.get(k, []):
            yield from _walk(sub)


def test_charts_one_colour_per_result_integer_axes_one_bar(tmp_path: Path) -> None:
    from ui.charts import FAILURE_RED, LABEL_LIMIT, PALETTES, SUCCESS_GREEN

    # db01: only the admin logs on (grep "Accepted" db01 auth -> one account): one category
    at = run_page("pages/1_Logons.py", params={"host": "db01", "range": "7d"})
    no_exception(at)
    specs = [s for top in _specs(at) for s in _walk(top)]
    result_maps = [
        _colour_map(s) for s in specs if s.get("encoding", {}).get("color", {}).get("field") == "Result"
    ]
    assert len(result_maps) >= 3  # timeline, by account, by process
    for m in result_maps:  # red failures, green successes, in ticks and bars alike
        assert (
            m.get("Failure", FAILURE_RED) == FAILURE_RED and m.get("Success", SUCCESS_GREEN) == SUCCESS_GREEN
        )
    bars = [s for s in specs if s.get("mark", {}).get("type") == "bar" or s.get("mark") == "bar"]
    assert bars
    for b in bars:
        assert b["encoding"]["x"]["axis"]["format"] == "d"  # counts are whole numbers
        assert b["height"] >= 60 + 26  # one category still has a row to draw its bar in
        # labels not cut at Vega's default 180 px, and whole in the tooltip (issue 14 item 6)
        y = b["encoding"]["y"]
        assert y["axis"]["labelLimit"] == LABEL_LIMIT > 180
        assert any(t.get("field") == y["field"] for t in b["encoding"]["tooltip"]), b["encoding"]["tooltip"]
    ticks = [s for s in specs if s.get("mark", {}).get("type") == "tick"]
    for t in ticks:  # zoomed in, the date is still on the axis, in UTC
        assert (
            t["encoding"]["x"]["axis"]["formatType"] == "utc"
            and "%m-%d" in t["encoding"]["x"]["axis"]["format"]
        )
    # alert severities: High darkest (lowest luminance) on the summary page
    at2 = run_page("streamlit_app.py", params=WEB)
    sev = [
        _colour_map(s)
        for top in _specs(at2)
        for s in _walk(top)
        if s.get("encoding", {}).get("color", {}).get("field") == "Severity"
    ]
    assert sev and all(m.get(k) == PALETTES["Severity"][k] for m in sev for k in m)

    def lum(hex_: str) -> float:
        r, g, b = (int(hex_[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    p = PALETTES["Severity"]
    assert lum(p["High"]) < lum(p["Medium"]) < lum(p["Low"])
    assert lum(PALETTES["SeverityLevel"]["err"]) < lum(PALETTES["SeverityLevel"]["warning"])


def test_session_timeline_axis_spans_the_session() -> None:
    at = run_page("pages/1_Logons.py", params=WEB)
    top = _sessions_table(at).iloc[0]
    at2 = run_page("pages/2_Session_detail.py", params={**WEB, "logon": str(top["SessionId"])})
    no_exception(at2)
    tick = next(s for s in _specs(at2) if s.get("mark", {}).get("type") == "tick")
    domain = tick["encoding"]["x"]["scale"]["domain"]
    import pandas as pd

    assert pd.Timestamp(domain[0]) == top["Start"]
    assert pd.Timestamp(domain[1]) == top["End"]


def test_findings_download_link_opens_the_url_on_iocs() -> None:
    truth = demo_manifest().truth
    at = run_page("pages/8_Findings.py", params=WEB)
    no_exception(at)
    links = [
        (pl.proto.label, pl.proto.page, pl.proto.query_string)
        for pl in at.get("page_link")
        if "download URL" in pl.proto.label
    ]
    assert links, "the download finding links to the IoCs page"
    qs = links[0][2]
    from urllib.parse import parse_qs

    ioc = parse_qs(qs)["ioc"][0]
    assert ioc == truth["download_url"]  # the generator's wget URL, not the saved path
    at2 = run_page("pages/7_IoCs_and_threat_intel.py", params={**WEB, "ioc": ioc})
    no_exception(at2)
    assert at2.selectbox(key="ioc_pick").value == truth["download_url"]


def test_cron_link_draws_a_tree_not_too_many() -> None:
    # Findings' "Process trees of these runs" link: ?exe=cron (thousands of cron runs in the demo)
    at = run_page("pages/4_Process_trees.py", params={**WEB, "exe": "cron"})
    no_exception(at)
    assert not [w.value for w in at.warning if "too many" in w.value]
    page = at.get("iframe")[0].proto.srcdoc
    assert "curl -fsSL" in page  # the malicious job is drawn


def test_severity_icons_are_material_not_emoji() -> None:
    at = run_page("pages/8_Findings.py", params=WEB)
    no_exception(at)
    labels = [m.label for m in at.metric] + [e.proto.label for e in at.get("expandable")]
    assert any(":material/error:" in x for x in labels)
    assert not any(ch in x for x in labels for ch in "🔴🟠⚪")


def test_interactive_map_is_offline_unless_tiles_are_asked_for() -> None:
    """Issue 14 item 11: Leaflet comes from the app's static/ folder (no CDN); tiles, which need
    internet, only when the analyst turns them on, and the caption says which."""
    import json

    at = run_page("pages/1_Logons.py", params=WEB)
    no_exception(at)
    assert any("makes no request off the app" in c.value for c in at.caption)
    args = json.loads(
        next(c for c in at.get("component_instance") if "folium" in c.proto.component_name).proto.json_args
    )
    assert args["js_links"] == ["/app/static/leaflet/leaflet.js"]
    assert args["css_links"] == ["/app/static/leaflet/leaflet.css"]
    root = Path(__file__).resolve().parents[2]
    for link in args["js_links"] + args["css_links"]:  # served by [server] enableStaticServing
        assert (root / link.removeprefix("/app/")).is_file()
    assert "openstreetmap" not in args["script"].lower()
    at.toggle(key="logon_folium_tiles").set_value(True).run()
    assert any("tile.openstreetmap.org and need internet" in c.value for c in at.caption)
    args = json.loads(
        next(c for c in at.get("component_instance") if "folium" in c.proto.component_name).proto.json_args
    )
    assert "tile.openstreetmap.org" in args["script"]


def _ses_processes_by_grep(ses: int) -> int:
    """Processes of audit session ``ses`` on web01 counted from the raw audit.log with grep logic:
    execve records (syscall=59) carrying ses=N, plus pids that have records in the session but
    no execve record anywhere (forked without exec, e.g. sshd's privilege-separated child).
    Same as: grep " ses=6024 " audit.log | grep -c "syscall=59 "  -> 40, plus 1 such pid."""
    log = Path(demo_manifest().root) / "web01" / "audit" / "audit.log"
    lines = log.read_text().splitlines()
    tag = f" ses={ses} "
    execs = [ln for ln in lines if tag in ln and "syscall=59 " in ln]
    pids_in = {m for ln in lines if tag in ln for m in re.findall(r"(?<![p])pid=(\d+)", ln)}
    ever_exec = {m for ln in lines if "syscall=59 " in ln for m in re.findall(r"(?<![p])pid=(\d+)", ln)}
    return len(execs) + len(pids_in - ever_exec)


def test_process_counts_agree_session_list_and_tree() -> None:
    """Issue 14 item 12: the audit-session list said 41 processes and the tree's Processes metric
    42 (it counted the sshd ancestor drawn for context). Both now count the session's own
    processes (hunting.analysis.process_tree.session_mask); the ancestor is named apart."""
    ses = 6024  # the attacker's audit session (LOGIN record ses=6024 in web01's audit.log)
    expected = _ses_processes_by_grep(ses)
    assert expected == 41
    at = run_page("pages/4_Process_trees.py", params={**WEB, "session": str(ses)})
    no_exception(at)
    box = at.selectbox(key=next(k for k in at.session_state if str(k).startswith("pt_ses_")))
    listed = int(re.search(r"· (\d+) processes ·", box.format_func(box.value)).group(1))
    metric = next(m for m in at.metric if m.label == "Processes")
    assert listed == int(metric.value.replace(",", "")) == expected
    assert "1 ancestor" in metric.proto.help
    # Session detail of the same logon shows the same count
    logons = run_page("pages/1_Logons.py", params=WEB)
    top = _sessions_table(logons).iloc[0]
    detail = run_page("pages/2_Session_detail.py", params={**WEB, "logon": str(top["SessionId"])})
    no_exception(detail)
    assert [m.value for m in detail.metric if m.label == "Processes"] == [str(expected)]
