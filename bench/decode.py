"""Time of decode_payloads on hostile command lines (logs are attacker-controlled).

Run: PYTHONPATH=. .venv/bin/python bench/decode.py

Prints seconds per call for: a 70,000-character token in the echo | base64 -d shape,
a token at the B64_MAX_TOKEN_CHARS cap and twice that, 5,000 short tokens, 1 MB of
base64 alphabet with no valid padding, and 1 MB of near-miss text (15-character runs).
"""

from __future__ import annotations

import base64
import time

from hunting.analysis.decode import B64_MAX_TOKEN_CHARS, decode_payloads


def _cases() -> dict[str, str]:
    tok70k = base64.b64encode(b"A" * 52_500).decode()
    cap = base64.b64encode(b"B" * (B64_MAX_TOKEN_CHARS * 3 // 4)).decode()
    return {
        "70,000-char token, echo | base64 -d": f"echo {tok70k} | base64 -d | sh",
        "token at the cap": f"echo {cap} | base64 -d | sh",
        "token twice the cap": f"echo {cap * 2} | base64 -d | sh",
        "5,000 short tokens": " ".join(
            base64.b64encode(f"token {i:08d}".encode()).decode() for i in range(5_000)
        ),
        "1 MB alphabet, no padding": "Ab1/" * 262_144 + "A",
        "1 MB of 15-char runs": ("AbCdEfGhIjKlMnO " * 65_536),
        "1 MB brace shape repeated": "{echo,QUFBQUFBQUFBQUFBQUFBQQ==}|{base64,-d}|" * 24_000,
    }


def main() -> None:
    decode_payloads("echo QUFBQUFBQUFBQUFBQUFBQQ== | base64 -d")  # warm-up (regex compile)
    for name, text in _cases().items():
        took = float("inf")
        for _ in range(3):  # best of 3: the machine is shared
            start = time.perf_counter()
            found = decode_payloads(text)
            took = min(took, time.perf_counter() - start)
        print(f"{name:40s} {len(text):>9,} chars  {took * 1000:8.1f} ms  {len(found)} payload(s)")


if __name__ == "__main__":
    main()
