"""Which files the app may read: evidence roots, regular files, bounded decompression.

On the analyst's own machine (server bound to loopback) a typed path is theirs to
read. On a shared host (Streamlit Community Cloud, an internal Streamlit server) the
same box would hand every visitor the server's files and secrets (``/etc/shadow``,
``/proc/self/environ``, ``.streamlit/secrets.toml`` through a symlink). So the
deployment declares evidence roots (``[deploy] evidence_roots`` in secrets or
``HUNTING_EVIDENCE_ROOTS``, ``os.pathsep``-separated); a path is accepted only when its
real path (symlinks and ``..`` resolved) lies inside one, and with no roots on a
non-loopback server path inputs are off (uploads remain). Plain Python, no Streamlit.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LOOPBACK_ADDRESSES",
    "EvidenceError",
    "EvidencePolicy",
    "max_decompressed_bytes",
    "parse_roots",
    "policy_for",
]

LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
DEFAULT_MAX_DECOMPRESSED = 2 * 1024**3
DEFAULT_MAX_RATIO = 200
# Small archives may always expand this far, whatever their ratio (a log compresses ~10-50x).
RATIO_FLOOR_BYTES = 256 * 1024**2
MAX_PATH_CHARS = 4096


class EvidenceError(ValueError):
    """A path the policy refuses; the message names the path, never file content."""


@dataclass(frozen=True)
class EvidencePolicy:
    """``roots`` None: any readable regular file (the analyst's own machine);
    empty tuple: no path may be typed (shared host without roots)."""

    roots: tuple[str, ...] | None

    @property
    def paths_allowed(self) -> bool:
        return self.roots is None or bool(self.roots)

    def describe(self) -> str:
        if self.roots is None:
            return "any file this machine can read (the app serves only this machine)"
        if not self.roots:
            return "none: this server is shared and no evidence roots are configured, so upload files instead"
        return "inside " + ", ".join(self.roots)

    def admit(self, path: str | Path) -> Path:
        """The real path of ``path`` if the policy allows reading it, else EvidenceError.

        Symlinks and ``..`` are resolved before the roots are compared, so a link in an
        evidence folder cannot point outside it.
        """
        text = str(path)
        if not text or len(text) > MAX_PATH_CHARS or "\x00" in text:
            raise EvidenceError("not a usable path (empty, too long or containing a NUL byte)")
        if self.roots is not None and not self.roots:
            raise EvidenceError("paths on the server are disabled here: upload the files instead")
        try:
            real = Path(os.path.realpath(text))
        except (OSError, ValueError) as exc:
            raise EvidenceError(f"cannot resolve path: {getattr(exc, 'strerror', None) or exc}") from None
        if self.roots is not None and not any(_inside(real, Path(r)) for r in self.roots):
            raise EvidenceError("outside the evidence roots configured for this deployment")
        return real

    def admit_file(self, path: str | Path) -> Path:
        """``admit`` plus: it exists and is a regular file (a FIFO would hang the session,
        ``/dev/zero`` never ends). For single-file boxes (rules, threat feeds)."""
        real = self.admit(path)
        try:
            mode = os.stat(real).st_mode
        except OSError as exc:
            raise EvidenceError(f"cannot read: {exc.strerror or exc}") from None
        if not stat.S_ISREG(mode):
            raise EvidenceError("not a regular file (FIFO, device, socket or folder)")
        return real


def _inside(real: Path, root: Path) -> bool:
    return real == root or root in real.parents


def parse_roots(setting: str | Sequence[str] | None) -> tuple[str, ...]:
    """Roots from a secrets list or an ``os.pathsep``-separated string, as real paths."""
    if setting is None:
        return ()
    items = setting.split(os.pathsep) if isinstance(setting, str) else [str(s) for s in setting]
    return tuple(os.path.realpath(s.strip()) for s in items if s and s.strip())


def policy_for(roots: Iterable[str], server_address: str | None) -> EvidencePolicy:
    """Roots configured: only inside them. None configured: unrestricted on a loopback
    server, no typed paths otherwise (Streamlit binds every interface by default)."""
    roots = tuple(roots)
    if roots:
        return EvidencePolicy(roots)
    if (server_address or "").strip() in LOOPBACK_ADDRESSES:
        return EvidencePolicy(None)
    return EvidencePolicy(())


def regular_file(fd: int) -> None:
    """Raise OSError unless the open descriptor is a regular file (FIFOs hang, devices never end)."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise OSError("not a regular file (FIFO, device, socket or folder)")


def read_regular(path: str | Path, max_bytes: int) -> tuple[bytes, float]:
    """Bytes and mtime of a regular file, opened without blocking on a FIFO; OSError otherwise."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        regular_file(fd)
        st = os.fstat(fd)
        if st.st_size > max_bytes:
            raise OSError(f"file larger than {max_bytes // 1024**2} MiB")
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(max_bytes + 1)[:max_bytes], st.st_mtime
    finally:
        os.close(fd)


def _env_int(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


def max_decompressed_bytes(compressed: int) -> int:
    """How far ``compressed`` bytes may expand: ``HUNTING_MAX_DECOMPRESSED_BYTES`` (2 GiB)
    overall, and ``HUNTING_MAX_DECOMPRESSION_RATIO`` (200) times the input above a 256 MiB
    floor, so a 6 KB bzip2 bomb stops at 256 MiB instead of 8 GiB."""
    cap = _env_int("HUNTING_MAX_DECOMPRESSED_BYTES", DEFAULT_MAX_DECOMPRESSED)
    ratio = _env_int("HUNTING_MAX_DECOMPRESSION_RATIO", DEFAULT_MAX_RATIO)
    return min(cap, max(RATIO_FLOOR_BYTES, compressed * ratio))
