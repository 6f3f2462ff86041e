"""Base64 payloads inside command lines, decoded with bounds, and what they hide.

Droppers hide their real command in base64 (``bash -c {echo,B64}|{base64,-d}|{bash,-i}``,
``echo B64 | base64 -d | sh``, ``bash -c "$(echo B64 | base64 --decode)"``,
``python -c "exec(base64.b64decode('B64'))"``). :func:`decode_payloads` finds the
tokens, names the shape that carried them and decodes them (two levels deep);
:func:`analyse_payloads` runs the decoded text through the risky-command rules and
IoC extraction so a finding can show the original command and the decoded one.

Logs are attacker-controlled, so every step is linear in the input and capped: only the
``B64_MAX_TOKENS`` longest tokens are tried, a token is decoded from its first
``B64_MAX_TOKEN_CHARS`` characters, the decoded text kept per command is at most
``B64_MAX_TOTAL_CHARS``, and the shape is read from a fixed window around each token.
The token scan is a single character-class regex (no backtracking); risky.py's
vectorised RE2 prefilter (:data:`B64_PREFILTER`) decides which rows are scanned at all.
"""

from __future__ import annotations

import binascii
import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import pandas as pd

if TYPE_CHECKING:
    from hunting.analysis.risky import RiskRule

B64_MIN_CHARS: Final = 16
B64_MAX_TOKEN_CHARS: Final = 262_144  # longer tokens are decoded from their start only
B64_MAX_TOKENS: Final = 16  # longest tokens tried per text
B64_MAX_DEPTH: Final = 2
B64_MIN_PRINTABLE: Final = 0.9
B64_MAX_TOTAL_CHARS: Final = 1_048_576  # decoded text kept per command, all layers together
# RE2/`re` pattern that any text holding a token matches (for a vectorised prefilter).
B64_PREFILTER: Final = rf"[A-Za-z0-9+/]{{{B64_MIN_CHARS}}}"

_TOKEN: Final = re.compile(rf"[A-Za-z0-9+/]{{{B64_MIN_CHARS},}}={{0,2}}")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_WINDOW: Final = 48  # characters read before and after a token to name its shape

# Shapes: (name, pattern the text just before the token ends with, pattern the text after starts with).
_DECODE_FLAG: Final = r"(?:-d\w*|--decode|-D)"
_SHAPES: Final = (
    ("brace_echo", re.compile(r"\{\s*echo\s*,\s*$"), re.compile(rf"^\s*\}}\s*\|\s*\{{\s*base64\s*,\s*{_DECODE_FLAG}")),
    ("subshell_echo", re.compile(r"(?:\$\(|`)\s*(?:echo|printf)(?:\s+-[neE]+)*\s+[\"']?$"), re.compile(rf"^[\"']?\s*\|\s*base64\s+{_DECODE_FLAG}")),
    ("echo_pipe", re.compile(r"\b(?:echo|printf)(?:\s+-[neE]+)*\s+[\"']?$"), re.compile(rf"^[\"']?\s*\|\s*base64\s+{_DECODE_FLAG}")),
    ("here_string", re.compile(r"\bbase64\s+" + _DECODE_FLAG + r"\s*<<<\s*[\"']?$"), re.compile(r"^")),
    ("python_b64decode", re.compile(r"b64decode\(\s*b?[\"']$"), re.compile(r"^={0,2}[\"']")),
)  # fmt: skip
GENERIC: Final = "token"  # a base64 token in no known shape (still decoded when it is text)


@dataclass(frozen=True)
class Decoded:
    """One decoded payload: where it was, how it was carried, and its text.

    ``start``/``end`` index ``source`` (the command, or the parent payload's text for
    ``depth`` 2); ``parent`` is the index of that payload in the list, else -1.
    """

    token: str
    text: str
    shape: str
    depth: int
    start: int
    end: int
    parent: int = -1
    truncated: bool = False  # the token was longer than B64_MAX_TOKEN_CHARS


@dataclass(frozen=True)
class PayloadAnalysis:
    """A decoded payload with the risky-command rules and IoCs found in its text."""

    decoded: Decoded
    rules: list[tuple[str, str, str, str]] = field(default_factory=list)  # (RuleId, Title, Severity, Matched)
    iocs: list[tuple[str, str]] = field(default_factory=list)  # (IocType, Value)


def decode_token(token: str) -> str | None:
    """The text a base64 token stands for, or None when it is not (mostly printable) UTF-8."""
    body = token.rstrip("=")[:B64_MAX_TOKEN_CHARS]
    body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
    try:
        raw = binascii.a2b_base64(body + "=" * (-len(body) % 4), strict_mode=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if len(text) < 4:
        return None
    printable = len(text) - len(_CONTROL.findall(text))
    return text if printable >= B64_MIN_PRINTABLE * len(text) else None


def _shape(text: str, start: int, end: int) -> str:
    before = text[max(0, start - _WINDOW) : start]
    after = text[end : end + _WINDOW]
    for name, pre, post in _SHAPES:
        if pre.search(before) and post.match(after):
            return name
    return GENERIC


def _tokens(text: str) -> list[re.Match[str]]:
    """The longest tokens of ``text`` (at most B64_MAX_TOKENS), in text order.

    All-lower-case runs are skipped: paths such as /opt/microsoft/omsagent match the
    alphabet, while base64 of text has capitals.
    """
    found = (m for m in _TOKEN.finditer(text) if not m.group().islower())
    longest = heapq.nlargest(B64_MAX_TOKENS, found, key=lambda m: m.end() - m.start())
    return sorted(longest, key=lambda m: m.start())


def decode_all(text: str) -> list[tuple[str, str]]:
    """(token, decoded text) for the longest tokens of ``text`` that decode to text (one level)."""
    out = []
    for m in _tokens(text):
        decoded = decode_token(m.group())
        if decoded is not None:
            out.append((m.group(), decoded))
    return out


def decode_payloads(command: str) -> list[Decoded]:
    """Base64 payloads of ``command`` and of the payloads themselves (to B64_MAX_DEPTH), in order.

    Each carries the shape that delivered it (``brace_echo``, ``echo_pipe``,
    ``subshell_echo``, ``here_string``, ``python_b64decode``, or ``token``).
    """
    if not isinstance(command, str) or len(command) < B64_MIN_CHARS:
        return []
    out: list[Decoded] = []
    budget = B64_MAX_TOTAL_CHARS
    layer: list[tuple[int, str]] = [(-1, command)]
    for depth in range(1, B64_MAX_DEPTH + 1):
        nxt: list[tuple[int, str]] = []
        for parent, source in layer:
            for m in _tokens(source):
                if budget <= 0:
                    return out
                token = m.group()
                text = decode_token(token)
                if text is None:
                    continue
                text = text[:budget]
                budget -= len(text)
                out.append(
                    Decoded(
                        token=token,
                        text=text,
                        shape=_shape(source, m.start(), m.end()),
                        depth=depth,
                        start=m.start(),
                        end=m.end(),
                        parent=parent,
                        truncated=len(token.rstrip("=")) > B64_MAX_TOKEN_CHARS,
                    )
                )
                nxt.append((len(out) - 1, text))
        layer = nxt
        if not layer:
            break
    return out


def analyse_payloads(command: str, rules: Sequence[RiskRule] | None = None) -> list[PayloadAnalysis]:
    """Each decoded payload of ``command`` with its risky-rule hits and IoCs (for a finding's detail)."""
    # risky imports this module for its decoding; import it here to avoid a cycle.
    from hunting.analysis.iocs import extract_from_text
    from hunting.analysis.risky import match_commands

    payloads = decode_payloads(command)
    if not payloads:
        return []
    texts = pd.Series([p.text for p in payloads], dtype="string")
    hits = match_commands(texts, rules)
    hits = hits[~hits["Decoded"].fillna(False).astype(bool)]  # nested layers are their own payloads
    out = []
    for i, payload in enumerate(payloads):
        mine = hits[hits["Row"] == i]
        found = [
            (str(r.RuleId), str(r.Title), str(r.Severity), str(r.Matched))
            for r in mine.itertuples(index=False)
        ]
        out.append(PayloadAnalysis(payload, found, extract_from_text(payload.text)))
    return out
