"""A simulated host: its log streams, pid allocator and audit sessions, run in time order.

Stories are generators that yield the next time they act; ``Sim`` resumes them in
time order so pids and audit session ids grow as a real kernel hands them out.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field

from hunting.demo.audit import AuditLog
from hunting.demo.writers import FACILITY, SEVERITY, Entry

Story = Generator[float, None, None]

RESERVED_PIDS = 300  # the kernel never hands out pids below this after wrapping


@dataclass
class Account:
    name: str
    uid: int
    gid: int
    home: str
    shell: str
    gecos: str = ""


class Pids:
    """Linux's cyclic pid allocation; threads nobody audits consume pids too (``churn`` per second)."""

    def __init__(
        self, start: int, pid_max: int, churn: float, t0: float, live: Iterable[int], rng: random.Random
    ) -> None:
        self.rng = rng
        self.next = start
        self.pid_max = pid_max
        self.churn = churn
        self.t = t0
        self.live = set(live)
        self.wrapped_at: float | None = None

    def alloc(self, now: float) -> int:
        if now > self.t:
            self.next += int((now - self.t) * self.churn * (0.5 + self.rng.random()))
            self.t = now
        self.next += 1
        while True:
            if self.next >= self.pid_max:
                self.next = RESERVED_PIDS + (self.next - self.pid_max)
                self.wrapped_at = self.wrapped_at or now
            if self.next not in self.live:
                return self.next
            self.next += 1


@dataclass
class Host:
    """One machine: where its lines go and the counters its kernel keeps."""

    name: str
    os_name: str
    private_ip: str
    public_ip: str
    rng: random.Random
    pids: Pids
    audit: AuditLog | None
    accounts: dict[str, Account]
    daemons: dict[str, int]
    next_ses: int
    names_over_time: list[tuple[float, str]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    def log(self, ts: float, facility: str, severity: str, app: str, pid: int | None, msg: str) -> None:
        self.entries.append((ts, FACILITY[facility], SEVERITY[severity], app, pid, msg))

    def new_session(self) -> int:
        ses = self.next_ses
        self.next_ses += 1
        return ses

    def uid(self, user: str) -> int:
        return self.accounts[user].uid

    @property
    def hostname(self) -> str | list[tuple[float, str]]:
        return self.names_over_time or self.name


class Sim:
    """A tiny discrete-event loop: (time, order, story) in a heap."""

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, Story]] = []
        self._order = itertools.count()

    def spawn(self, at: float, story: Story) -> None:
        heapq.heappush(self._heap, (at, next(self._order), story))

    def spawn_many(self, times: Iterable[float], make: Callable[[float], Story]) -> None:
        for t in times:
            self.spawn(t, make(t))

    def run(self) -> None:
        heap = self._heap
        while heap:
            at, _, story = heapq.heappop(heap)
            self.now = at
            try:
                nxt = next(story)
            except StopIteration:
                continue
            heapq.heappush(heap, (max(nxt, at), next(self._order), story))
