"""Time and memory of process_events + build_tree on synthetic auditd execve events.

Run: .venv/bin/python bench/process_tree.py [sizes...]   (default 100000 1000000)

The synthetic hosts look like real ones: daemons whose parent (systemd) never
exec'd in the window, interactive chains several levels deep, bursts in the same
millisecond, and a pid counter that wraps at 32768 so pids are reused many times.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from hunting.analysis.process_tree import build_tree, process_events
from hunting.schema import AUDIT, conform

HOSTS = ("web01", "db01", "jump01", "build01")
EXES = ("/usr/bin/bash", "/usr/bin/ls", "/usr/bin/grep", "/usr/bin/sudo", "/usr/bin/python3", "/usr/bin/curl")


def synthetic_audit(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` execve events over len(HOSTS) hosts (generation is not timed)."""
    rng = np.random.default_rng(seed)
    host = rng.integers(0, len(HOSTS), n)
    pids = np.empty(n, dtype="int64")
    ppids = np.empty(n, dtype="int64")
    counter = dict.fromkeys(range(len(HOSTS)), 1000)
    recent: dict[int, list[int]] = {h: [] for h in range(len(HOSTS))}
    daemon = rng.random(n) < 0.2
    pick = rng.integers(0, 64, n)
    for i in range(n):
        h = int(host[i])
        c = counter[h] + 1
        if c >= 32768:  # kernel.pid_max default: pids wrap and get reused
            c = 300
        counter[h] = c
        pids[i] = c
        r = recent[h]
        ppids[i] = 1 if daemon[i] or not r else r[-1 - int(pick[i]) % len(r)]
        r.append(c)
        if len(r) > 64:
            del r[0]
    steps = rng.choice([0, 0, 1, 3, 40], n)  # milliseconds; zeros give same-millisecond bursts
    times = pd.Timestamp("2024-05-01", tz="UTC") + pd.to_timedelta(np.cumsum(steps), unit="ms")
    exe = np.array(EXES, dtype=object)[rng.integers(0, len(EXES), n)]
    epoch = times.asi8 // 1_000_000
    frame = pd.DataFrame(
        {
            "TimeGenerated": times,
            "Computer": np.array(HOSTS, dtype=object)[host],
            "EventId": [f"{e // 1000}.{e % 1000:03d}:{s}" for e, s in zip(epoch, range(n), strict=True)],
            "EventType": "SYSCALL",
            "RecordTypes": "SYSCALL,EXECVE,CWD,PATH,PATH,PROCTITLE",
            "Syscall": "59",
            "Success": "yes",
            "Pid": pids,
            "Ppid": ppids,
            "Uid": rng.choice([0, 1000, 1001], n),
            "Auid": rng.choice([1000, 1001, 4294967295], n),
            "Ses": rng.integers(1, 50, n),
            "Exe": exe,
            "Cmdline": exe + " --opt",
        }
    )
    return conform(frame, AUDIT)


def run(n: int) -> None:
    audit = synthetic_audit(n)
    t0 = time.perf_counter()
    procs = process_events(audit)
    t1 = time.perf_counter()
    tree = build_tree(procs)
    t2 = time.perf_counter()
    tracemalloc.start()
    build_tree(process_events(audit))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    synthetic = int(tree["IsSynthetic"].sum())
    print(
        f"{n:>9,} events: process_events {t1 - t0:6.2f} s, build_tree {t2 - t1:6.2f} s, "
        f"nodes {len(tree):,} ({synthetic} synthetic), max depth {int(tree['Depth'].max())}, "
        f"peak traced {peak / 2**20:,.0f} MiB, max RSS so far {rss:,.0f} MiB"
    )


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]:
        run(size)
