"""Time budget for adversarial input: the hostile corpus plus one 1 MB line, ingested and
hunted, against the same volume of ordinary lines (target: at most twice the time).

Run: PYTHONPATH=. .venv/bin/python bench/hostile.py [TOKEN_CHARS]

Issue 16 measured Findings ~400 s and Process trees ~230 s with a 70,000-character token;
this prints seconds for ingest (parse + load), the hunt (every detection) and the process
tree build, for three folders: the corpus, corpus + a 1 MB single line in auth.log and in
audit.log (EXECVE argument and PROCTITLE), and the corpus + ordinary lines of the same total
size. The figures are the result; nothing here asserts.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hunting.analysis.findings import hunt
from hunting.analysis.process_tree import build_tree
from hunting.sources.local import LocalSource
from hunting.timerange import TimeRange, as_utc
from tests.hostile.corpus import ATTACKER_IP, HOST, write_hostile_logs

MB = 1024 * 1024


def _normal_lines(total: int) -> str:
    lines, size, i = [], 0, 0
    while size < total:
        line = (
            f"Mar  9 12:{i // 60 % 60:02d}:{i % 60:02d} {HOST} sshd[{5000 + i % 999}]: "
            f"Failed password for invalid user user{i} from {ATTACKER_IP} port {1000 + i % 60000} ssh2"
        )
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


def _long_audit(chars: int) -> str:
    arg = ("41" * (chars // 2))[:chars]  # hex-encoded EXECVE argument: 'A' * chars/2
    return (
        f"type=SYSCALL msg=audit(1709985600.100:900001): arch=c000003e syscall=59 success=yes exit=0 "
        f'ppid=1 pid=4242 auid=1000 uid=0 gid=0 euid=0 ses=7 tty=pts0 comm="sh" exe="/bin/sh" key="exec"\n'
        f'type=EXECVE msg=audit(1709985600.100:900001): argc=2 a0="sh" a1={arg}\n'
        f"type=PROCTITLE msg=audit(1709985600.100:900001): proctitle={arg}\n"
    )


def _run(folder: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    os.environ["HUNTING_CACHE_DIR"] = tempfile.mkdtemp()
    src = LocalSource.from_paths([folder])
    t1 = time.perf_counter()
    row = src.hosts(HOST)
    last = as_utc(row.iloc[0]["LastSeen"])
    tr = TimeRange(last - timedelta(days=7), last + timedelta(seconds=1))
    hunt(src, HOST, tr)
    t2 = time.perf_counter()
    build_tree(src.audit_events(HOST, tr))
    t3 = time.perf_counter()
    return {"ingest": t1 - t0, "hunt": t2 - t1, "tree": t3 - t2, "total": t3 - t0}


def main() -> None:
    chars = int(sys.argv[1]) if len(sys.argv) > 1 else MB
    results = {}
    for name in ("corpus", "corpus + long line", "corpus + normal lines"):
        folder = Path(tempfile.mkdtemp(prefix="hostile-bench-"))
        write_hostile_logs(folder)
        auth, audit = folder / "auth.log", folder / "audit" / "audit.log"
        if name == "corpus + long line":
            with auth.open("a") as fh:
                fh.write(
                    f"Mar  9 12:00:00 {HOST} sshd[4242]: Invalid user {'B' * chars} from {ATTACKER_IP} port 22\n"
                )
            with audit.open("a") as fh:
                fh.write(_long_audit(chars))
        elif name == "corpus + normal lines":
            with auth.open("a") as fh:
                fh.write(_normal_lines(2 * chars))
        results[name] = _run(folder)
        r = results[name]
        print(
            f"{name:<24} ingest {r['ingest']:7.2f} s  hunt {r['hunt']:7.2f} s  tree {r['tree']:6.2f} s  total {r['total']:7.2f} s"
        )
    ratio = results["corpus + long line"]["total"] / results["corpus + normal lines"]["total"]
    print(
        f"long line / same volume of normal lines: {ratio:.2f}x (target <= 2x), line of {chars:,} characters"
    )


if __name__ == "__main__":
    main()
