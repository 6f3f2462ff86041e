"""auditd records as the kernel and PAM write them (RAW or ENRICHED log_format).

EXECVE arguments follow the kernel's ``audit_log_execve_info``: an argument with a
space, quote, control or non-ASCII byte is hex-encoded; one too long for the rest
of the record is split into ``aN_len=`` / ``aN[i]=`` chunks across EXECVE records.
"""

from __future__ import annotations

import functools
import random
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

UNSET = 4294967295
MAX_EXECVE_AUDIT_LEN = 7500  # kernel constant: room for argument text per EXECVE record
_ABUF = 96  # kernel's reserve for an argument's "aN_len=... aN[i]=" prefix
MAX_PROCTITLE_AUDIT_LEN = 128
GS = "\x1d"  # separates RAW fields from ENRICHED translations

# One audit event: (epoch seconds rounded to ms, [(record type, body)]).
AuditEvent = tuple[float, list[tuple[str, str]]]


@dataclass(frozen=True)
class Cred:
    """A process's audit identity: login uid and session survive su/sudo, uid changes."""

    auid: int
    uid: int
    gid: int
    ses: int
    tty: str = "(none)"
    euid: int | None = None
    egid: int | None = None

    def as_root(self) -> Cred:
        return Cred(self.auid, 0, 0, self.ses, self.tty)


_CONTROL = re.compile(rb'[\x00-\x20"\x7f-\xff]')


def needs_hex(data: bytes) -> bool:
    """The kernel's audit_string_contains_control: quote, space, control or non-ASCII."""
    return _CONTROL.search(data) is not None


@functools.lru_cache(maxsize=4096)
def field_value(text: str) -> str:
    data = text.encode()
    return data.hex().upper() if needs_hex(data) else f'"{text}"'


def execve_bodies(argv: list[str]) -> list[str]:
    """Bodies of the EXECVE record(s) for ``argv``, split the way the kernel splits them."""
    bodies: list[str] = []
    parts = [f"argc={len(argv)}"]
    len_rem = MAX_EXECVE_AUDIT_LEN
    for i, arg in enumerate(argv):
        data = arg.encode()
        big = len(data) >= MAX_EXECVE_AUDIT_LEN  # spans kernel buffers: forced hex
        encode = big or needs_hex(data)
        len_full = len(data) * 2 if encode else len(data)
        pos, it = 0, 0
        while True:
            rest = data[pos:]
            len_abuf = len(rest) * 2 if encode else len(rest) + 2
            if len_rem < _ABUF + 8:
                bodies.append("".join(parts))
                parts, len_rem = [""], MAX_EXECVE_AUDIT_LEN
            if big or it > 0 or len_abuf + _ABUF > len_rem:
                head = (f" a{i}_len={len_full}" if it == 0 else "") + f" a{i}[{it}]="
                it += 1
            else:
                head = f" a{i}="
            len_rem -= len(head)
            if encode:
                n = len(rest) if len_abuf <= len_rem else len_rem // 2
                parts.append(head + rest[:n].hex().upper())
                len_rem -= n * 2
            else:
                n = len(rest) if len_abuf <= len_rem else len_rem - 2
                parts.append(head + '"' + rest[:n].decode(errors="replace") + '"')
                len_rem -= n + 2
            pos += n
            if pos >= len(data):
                break
    bodies.append("".join(parts))
    return bodies


def proctitle(argv: list[str]) -> str:
    """/proc/PID/cmdline at syscall exit, NUL separated, cut at 128 bytes."""
    data = "\0".join(argv).encode()[:MAX_PROCTITLE_AUDIT_LEN]
    return data.hex().upper() if needs_hex(data) else f'"{data.decode()}"'


def inode_of(path: str) -> int:
    return 131072 + zlib.crc32(path.encode()) % 3_900_000


class AuditLog:
    """Collects one host's audit events; serials are given when the file is written."""

    def __init__(
        self,
        names: Mapping[int, str],
        rng: random.Random,
        *,
        enriched: bool,
        groups: Mapping[int, str] | None = None,
    ) -> None:
        self.names = names
        self.groups = groups or names
        self.rng = rng
        self.enriched = enriched
        self.events: list[AuditEvent] = []
        # argv, cwd and paths repeat endlessly (cron): their records are built once
        self._tails: dict[tuple[object, ...], list[tuple[str, str]]] = {}

    def _name(self, uid: int) -> str:
        return "unset" if uid == UNSET else self.names.get(uid, str(uid))

    def _ptr(self) -> str:
        return f"{0x550000000000 + self.rng.getrandbits(40):x}"

    def add(self, ts: float, records: list[tuple[str, str]]) -> None:
        self.events.append((round(ts, 3), records))

    def execve(
        self,
        ts: float,
        pid: int,
        ppid: int,
        argv: list[str],
        exe: str,
        cred: Cred,
        cwd: str,
        *,
        path: str | None = None,
        comm: str | None = None,
        static: bool = False,
        owner: int = 0,
    ) -> None:
        """SYSCALL execve + EXECVE + CWD + PATH (program, loader) + PROCTITLE + EOE."""
        path = path or exe
        comm = (comm or path.rsplit("/", 1)[-1])[:15]
        euid = cred.uid if cred.euid is None else cred.euid
        egid = cred.gid if cred.egid is None else cred.egid
        items = 1 if static else 2
        sysc = (
            f"arch=c000003e syscall=59 success=yes exit=0 a0={self._ptr()} a1={self._ptr()} "
            f"a2={self._ptr()} a3={self.rng.getrandbits(6) + 1:x} items={items} ppid={ppid} pid={pid} "
            f"auid={cred.auid} uid={cred.uid} gid={cred.gid} euid={euid} suid={euid} fsuid={euid} "
            f"egid={egid} sgid={egid} fsgid={egid} tty={cred.tty} ses={cred.ses} comm={field_value(comm)} "
            f'exe="{exe}" subj=unconfined key="exec"'
        )
        if self.enriched:
            u, e = self._name(cred.uid), self._name(euid)
            g, eg = self.groups.get(cred.gid, str(cred.gid)), self.groups.get(egid, str(egid))
            sysc += (
                f'{GS}ARCH=x86_64 SYSCALL=execve AUID="{self._name(cred.auid)}" UID="{u}" GID="{g}" '
                f'EUID="{e}" SUID="{e}" FSUID="{e}" EGID="{eg}" SGID="{eg}" FSGID="{eg}"'
            )
        key = (tuple(argv), cwd, path, static, owner)
        tail = self._tails.get(key)
        if tail is None:
            tail = [("EXECVE", b) for b in execve_bodies(argv)]
            tail.append(("CWD", f"cwd={field_value(cwd)}"))
            tail.append(("PATH", self._path(0, path, owner)))
            if not static:
                tail.append(("PATH", self._path(1, "/lib64/ld-linux-x86-64.so.2", 0)))
            tail.append(("PROCTITLE", f"proctitle={proctitle(argv)}"))
            tail.append(("EOE", ""))
            self._tails[key] = tail
        self.add(ts, [("SYSCALL", sysc), *tail])

    def _path(self, item: int, name: str, owner: int) -> str:
        body = (
            f"item={item} name={field_value(name)} inode={inode_of(name)} dev=08:01 mode=0100755 "
            f"ouid={owner} ogid={owner} rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 "
            f"cap_fver=0 cap_frootid=0"
        )
        if self.enriched:
            body += f'{GS}OUID="{self._name(owner)}" OGID="{self._name(owner)}"'
        return body

    def file_write(
        self, ts: float, pid: int, ppid: int, cred: Cred, comm: str, exe: str, target: str, key: str
    ):
        """An openat(O_WRONLY|O_CREAT|O_APPEND) caught by a ``-w FILE -p wa -k KEY`` watch."""
        parent = target.rsplit("/", 1)[0] or "/"
        sysc = (
            f"arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1={self._ptr()} a2=441 a3=1b6 "
            f"items=2 ppid={ppid} pid={pid} auid={cred.auid} uid={cred.uid} gid={cred.gid} euid={cred.uid} "
            f"suid={cred.uid} fsuid={cred.uid} egid={cred.gid} sgid={cred.gid} fsgid={cred.gid} "
            f'tty={cred.tty} ses={cred.ses} comm="{comm}" exe="{exe}" subj=unconfined key="{key}"'
        )
        if self.enriched:
            sysc += (
                f'{GS}ARCH=x86_64 SYSCALL=openat AUID="{self._name(cred.auid)}" UID="{self._name(cred.uid)}"'
            )
        recs = [
            ("SYSCALL", sysc),
            ("CWD", 'cwd="/root"'),
            (
                "PATH",
                f'item=0 name="{parent}/" inode={inode_of(parent)} dev=08:01 mode=040700 ouid=0 ogid=0 '
                "rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
            ),
            (
                "PATH",
                f'item=1 name="{target}" inode={inode_of(target)} dev=08:01 mode=0100600 ouid=0 ogid=0 '
                "rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
            ),
            ("PROCTITLE", f"proctitle={proctitle([comm])}"),
            ("EOE", ""),
        ]
        self.add(ts, recs)

    def user_msg(
        self,
        ts: float,
        rtype: str,
        pid: int,
        cred_uid: int,
        auid: int,
        ses: int,
        msg: str,
    ) -> None:
        """A userspace message (PAM, shadow-utils, sudo): ``pid= uid= auid= ses= subj= msg='...'``."""
        body = f"pid={pid} uid={cred_uid} auid={auid} ses={ses} subj=unconfined msg='{msg}'"
        if self.enriched:
            body += f'{GS}UID="{self._name(cred_uid)}" AUID="{self._name(auid)}"'
        self.add(ts, [(rtype, body)])

    def pam(
        self,
        ts: float,
        rtype: str,
        pid: int,
        auid: int,
        ses: int,
        op: str,
        grantors: str,
        acct: str,
        exe: str,
        *,
        hostname: str = "?",
        addr: str = "?",
        terminal: str = "?",
        res: str = "success",
    ) -> None:
        msg = (
            f'op=PAM:{op} grantors={grantors} acct="{acct}" exe="{exe}" hostname={hostname} '
            f"addr={addr} terminal={terminal} res={res}"
        )
        self.user_msg(ts, rtype, pid, 0, auid, ses, msg)

    def login(self, ts: float, pid: int, auid: int, ses: int) -> None:
        """The kernel's LOGIN record when pam_loginuid sets the login uid and a new session."""
        body = (
            f"pid={pid} uid=0 subj=unconfined old-auid={UNSET} auid={auid} tty=(none) "
            f"old-ses={UNSET} ses={ses} res=1"
        )
        if self.enriched:
            body += f'{GS}UID="root" OLD-AUID="unset" AUID="{self._name(auid)}"'
        self.add(ts, [("LOGIN", body)])

    def ordered(self, first_serial: int, rng: random.Random, interleave: float) -> Iterator[str]:
        """Lines in time order with serials; a few events' records interleaved as kernels do.

        A userspace message can land between the records of a syscall event that is
        still being emitted, so a reader has to group records by serial, not by line.
        """
        events = sorted(self.events, key=lambda e: e[0])
        serial = first_serial
        held: list[str] = []
        for i, (ts, recs) in enumerate(events):
            head = f"{ts:.3f}:{serial}"
            serial += 1
            lines = [
                f"type={t} msg=audit({head}): {b}\n" if b else f"type={t} msg=audit({head}):\n"
                for t, b in recs
            ]
            if held:
                # the pending syscall event's tail comes after this one's first record
                yield lines[0]
                yield from held
                held = []
                yield from lines[1:]
                continue
            nxt = events[i + 1][0] if i + 1 < len(events) else None
            if (
                len(lines) > 3
                and nxt is not None
                and nxt - ts <= 0.05
                and interleave
                and rng.random() < interleave
            ):
                cut = rng.randrange(1, len(lines) - 1)
                yield from lines[:cut]
                held = lines[cut:]
                continue
            yield from lines
        yield from held
