"""The sidebar every page calls first, and cached access to the chosen source.

The investigation (source, host, time range) lives in ``st.session_state`` under
keys source, host, range, start, end, ref and in the URL (``?host=web01&range=3d``), so a page switch keeps
it and a link shares it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import shutil
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from hunting.bytecache import ByteLRU, budget_bytes
from hunting.errors import HuntingError
from hunting.evidence import EvidenceError, EvidencePolicy, parse_roots, policy_for
from hunting.readers.base import ReadOptions
from hunting.sources.base import Source
from hunting.timerange import MAX_BACK, MAX_FORWARD, TimeRange, as_utc
from ui import errors
from ui.safe import md

SourceKind = Literal["demo", "files", "loganalytics"]
PRESETS: dict[str, timedelta | None] = {
    "24h": timedelta(hours=24),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
    "custom": None,
}
PRESET_LABELS = {"24h": "Last 24 hours", "3d": "Last 3 days", "7d": "Last 7 days", "custom": "Custom range"}
KIND_LABELS = {"demo": "Built-in demo", "files": "Local log files", "loganalytics": "Azure Log Analytics"}


@dataclass(frozen=True)
class SourceSpec:
    """Hashable description of a source, used as the cache key."""

    kind: SourceKind = "demo"
    paths: tuple[str, ...] = ()
    year: int | None = None
    tz: str = "UTC"
    host_name: str = ""  # host of records that name none (raw audit.log)
    workspace: str = ""
    roots: tuple[str, ...] | None = None  # evidence roots the readers enforce (hunting.evidence)


def _url_index(key: str, options: list[str], default: int) -> int:
    """Initial choice from the URL (?host=web01): bound widgets also read it in the browser,
    and this makes the same link work where binding does not apply (AppTest, first run)."""
    value = st.query_params.get(key)
    return options.index(value) if value in options else default


def _url_time(key: str, default: datetime) -> datetime:
    """A time from the URL, or ``default`` (and a note) when it is not a usable time (NaT, junk)."""
    value = st.query_params.get(key)
    if value:
        try:
            out = as_utc(value).replace(tzinfo=None)
            if isinstance(out, datetime) and not pd.isna(out):
                return datetime.fromisoformat(out.isoformat())  # a plain datetime, not a Timestamp
        except (ValueError, TypeError, OverflowError):
            pass
        st.sidebar.warning(
            f"The link's {key} time {md(value, 60)} is not a date and time: using {default:%Y-%m-%d %H:%M}."
        )
    return default


def _clamped(key: str, value: datetime, lo: datetime, hi: datetime) -> datetime:
    """Keep a time inside the pickers' window (an old link, another host's range), saying so."""
    if lo <= value <= hi:
        return value
    fixed = min(max(value, lo), hi)
    st.sidebar.info(
        f"The {key} time {value:%Y-%m-%d %H:%M} is outside what this host allows "
        f"({lo:%Y-%m-%d} to {hi:%Y-%m-%d}): moved to {fixed:%Y-%m-%d %H:%M}."
    )
    return fixed


@st.cache_resource(max_entries=4, show_spinner=False)
def open_source(spec: SourceSpec) -> Source:
    """Open (and for local files, parse once) a source; shared by all sessions.

    No elements are drawn in here: Streamlit would replay them on every cache hit.
    """
    from hunting.sources.local import LocalSource

    options = ReadOptions(year=spec.year, tz=spec.tz, host_name=spec.host_name, roots=spec.roots)
    if spec.kind == "demo":
        from hunting.demo.scenario import demo_log_paths

        return LocalSource.from_paths(demo_log_paths(), options, name="built-in demo")
    if spec.kind == "files":
        return LocalSource.from_paths(spec.paths, options)
    from ui.loganalytics import open_loganalytics

    return open_loganalytics(spec.workspace)


CACHE_TTL = 900  # seconds a cached result is kept at most (a re-read log shows after that)


@st.cache_resource(show_spinner=False)
def shared_lru() -> ByteLRU:
    """The server's one result cache, shared by every session, bounded by ``$HUNTING_CACHE_MB``
    (default 1024 MB) of estimated bytes (hunting.bytecache)."""
    return ByteLRU(budget_bytes(), ttl=CACHE_TTL)


class _Uncacheable(Exception):
    """An argument that cannot be part of a key (a frame that did not come from the cache)."""


# Frames handed out by shared_cache, by id: (weak reference, the key that produced them).
# A frame passed back into another cached function is keyed by where it came from (exact
# and O(1)), instead of hashing its content; the weak reference guards against id reuse.
_HANDED_OUT: dict[int, tuple[weakref.ref[Any], Hashable]] = {}


CONTENT_KEY_ROWS = (
    200_000  # frames not from the cache are keyed by a hash of their content (sampled past this)
)


def _content_key(value: pd.DataFrame | pd.Series) -> Hashable:
    """An order-sensitive digest of a frame's values, index, columns and dtypes. Past
    CONTENT_KEY_ROWS rows, of its whole index and an evenly spaced sample of its rows (as
    Streamlit's own hashing samples): a window cut from a cached frame keeps the original
    index labels, so two windows never share a key."""
    try:
        if len(value) > CONTENT_KEY_ROWS:
            picks = np.linspace(0, len(value) - 1, CONTENT_KEY_ROWS // 10).astype(np.int64)
            hashes = np.concatenate(
                [
                    np.array([value.index.start, value.index.stop, value.index.step], dtype=np.int64)
                    if isinstance(value.index, pd.RangeIndex)
                    else pd.util.hash_pandas_object(value.index).to_numpy(),
                    pd.util.hash_pandas_object(value.iloc[picks], index=False).to_numpy(),
                ]
            )
        else:
            hashes = pd.util.hash_pandas_object(value, index=True).to_numpy()
    except TypeError as exc:  # unhashable cells (lists)
        raise _Uncacheable from exc
    digest = hashlib.blake2b(hashes.tobytes(), digest_size=16).hexdigest()
    if isinstance(value, pd.Series):
        return ("series", str(value.name), str(value.dtype), len(value), digest)
    cols = tuple((str(c), str(t)) for c, t in value.dtypes.items())
    return ("frame", cols, len(value), digest)


def _key_part(value: Any) -> Hashable:
    if isinstance(value, pd.DataFrame | pd.Series):
        held = _HANDED_OUT.get(id(value))
        if held is not None and held[0]() is value:
            return ("from-cache", held[1])
        return _content_key(value)
    try:
        hash(value)
    except TypeError as exc:
        raise _Uncacheable from exc
    return value


def _key_parts(signature: inspect.Signature, arguments: Mapping[str, Any]) -> list[Hashable]:
    parts: list[Hashable] = []
    for name, value in arguments.items():
        if name.startswith("_"):
            continue
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            parts.extend((k, _key_part(v)) for k, v in sorted(value.items()))
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            parts.extend((name, _key_part(v)) for v in value)
        else:
            parts.append((name, _key_part(value)))
    return parts


def _hand_out(value: Any, key: Hashable) -> Any:
    """A frame goes out as a shallow copy (copy-on-write: a page may add columns to it without
    touching the cached one), remembered so that passing it on keys by its origin."""
    if isinstance(value, tuple) and not hasattr(value, "_fields"):  # (frame, series) results
        return tuple(_hand_out(v, (key, i)) for i, v in enumerate(value))
    if not isinstance(value, pd.DataFrame | pd.Series):
        return value
    out = value.copy(deep=False)
    ident = id(out)
    _HANDED_OUT[ident] = (weakref.ref(out, lambda _r, i=ident: _HANDED_OUT.pop(i, None)), key)
    return out


def shared_cache(spinner: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Cache a function's results in :func:`shared_lru` (bounded by bytes, shared across sessions).

    The key is the function and its arguments; parameters named ``_x`` are left out of it
    (as with st.cache_data). Frame arguments are keyed by the cached call that produced
    them; any other frame makes the call run uncached. Results are shared: treat them as
    read-only (frames come out as copy-on-write shallow copies).
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        name = f"{func.__module__}.{func.__qualname__}"
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            try:
                key = (name, *_key_parts(signature, bound.arguments))
            except _Uncacheable:
                return func(*args, **kwargs)

            def compute() -> Any:
                t = time.perf_counter()
                if spinner:
                    with st.spinner(spinner):
                        out = func(*args, **kwargs)
                else:
                    out = func(*args, **kwargs)
                if os.environ.get("HUNTING_CACHE_TRACE"):  # bench/pages.py: where first visits spend
                    print(f"cache miss {name} {time.perf_counter() - t:.2f} s", file=sys.stderr)
                return out

            return _hand_out(shared_lru().get_or_compute(key, compute), key)

        return wrapper

    return decorate


@shared_cache("Querying…")
def fetch(
    spec: SourceSpec, method: str, host: str, start: datetime, end: datetime, **kwargs: Any
) -> pd.DataFrame:
    """A Source method's result for host and range, cached per (source, arguments)."""
    source = open_source(spec)
    return getattr(source, method)(host, TimeRange(start, end), **kwargs)


class CachedSource:
    """A Source whose host-and-range methods go through :func:`fetch`, so the Findings pass,
    the report and every page share one copy of each fetched frame."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.source = open_source(spec)
        self.name = self.source.name

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_") or method in {"tables", "hosts", "host_users", "ingest_report"}:
            if method == "tables":
                return lambda: fetch_tables(self.spec)
            return getattr(self.source, method)

        def call(host: str, tr: TimeRange, **kwargs: Any) -> pd.DataFrame:
            return fetch(self.spec, method, host, tr.start, tr.end, **kwargs)

        return call


@shared_cache()
def fetch_hosts(spec: SourceSpec, contains: str) -> pd.DataFrame:
    return open_source(spec).hosts(contains)


@shared_cache()
def fetch_tables(spec: SourceSpec) -> set[str]:
    return open_source(spec).tables()


@dataclass
class Hunt:
    """What a page needs: the source, the host and the time range."""

    spec: SourceSpec
    source: Source
    host: str
    tr: TimeRange
    host_row: pd.Series
    tables: set[str] = field(default_factory=set)

    def fetch(self, method: str, **kwargs: Any) -> pd.DataFrame:
        """Cached call of a Source method for this host and range; errors become messages."""
        return fetch(self.spec, method, self.host, self.tr.start, self.tr.end, **kwargs)

    def missing(self, *tables: str) -> list[str]:
        return [t for t in tables if t not in self.tables]


def _secret_section(name: str) -> dict[str, Any]:
    """A section of secrets.toml, or {} (any access raises when no secrets file exists)."""
    try:
        section = st.secrets.get(name)
    except Exception:  # StreamlitSecretNotFoundError and parse errors alike: not configured
        return {}
    return dict(section) if section else {}


def evidence_policy() -> EvidencePolicy:
    """The deployment's evidence policy: ``[deploy] evidence_roots`` in secrets or
    HUNTING_EVIDENCE_ROOTS; with neither, unrestricted only when the server listens on
    loopback (Streamlit binds every interface unless server.address says otherwise)."""
    roots = parse_roots(_secret_section("deploy").get("evidence_roots")) or parse_roots(
        os.environ.get("HUNTING_EVIDENCE_ROOTS")
    )
    return policy_for(roots, st.get_option("server.address"))


def _session_folder() -> Path:
    """This session's private upload folder (named by a hash of the session id)."""
    ctx = get_script_run_ctx()
    sid = ctx.session_id if ctx is not None else "no-session"
    base = Path(tempfile.gettempdir()) / "linux-hunting-uploads"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    return base / hashlib.sha256(f"upload:{sid}".encode()).hexdigest()[:24]


def _save_uploads(files: list[Any]) -> str:
    """Uploaded files go to this session's folder, in a subfolder named by their content
    hash (re-runs reuse it); other sessions never see them."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode())
        digest.update(f.getvalue())
    folder = _session_folder() / digest.hexdigest()[:16]
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for i, f in enumerate(files):
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(f.name).name) or f"upload{i}"
        (folder / f"{i:03d}_{safe}").write_bytes(f.getvalue())
    return str(folder)


UPLOAD_KEY = "hunt_upload_dir"


def _typed_paths(text: str, policy: EvidencePolicy) -> tuple[list[str], bool]:
    """Typed paths the policy admits (others reported by name); True when all were admitted."""
    paths, ok = [], True
    for p in (p.strip() for p in (text or "").splitlines()):
        if not p:
            continue
        try:
            real = policy.admit(p)
            if not real.exists():
                raise EvidenceError("not found")
        except (EvidenceError, OSError) as exc:
            st.sidebar.warning(f"Not read: {md(p, 200)} — {md(exc, 200)}")
            ok = False
            continue
        paths.append(p)
    return paths, ok


def _source_controls() -> SourceSpec:
    sb = st.sidebar
    kinds = list(KIND_LABELS)
    kind = sb.radio(
        "Data source",
        kinds,
        index=_url_index("source", kinds, 0),
        format_func=KIND_LABELS.__getitem__,
        key="source",
        persist_state="session",
    )
    if kind == "files":
        policy = evidence_policy()
        if "hunt_paths" not in st.session_state and st.query_params.get_all("path"):
            st.session_state["hunt_paths"] = "\n".join(st.query_params.get_all("path"))
        text = sb.text_area(
            "Log files or folders on this machine (one per line)",
            key="hunt_paths",
            persist_state="session",
            disabled=not policy.paths_allowed,
            help="auth.log, secure, syslog, messages, audit.log, journalctl -o json exports, "
            "rotated and .gz copies, Sentinel CSV/JSON exports. Formats are detected from content. "
            f"Paths allowed: {policy.describe()}.",
        )
        if not policy.paths_allowed:
            sb.caption("Paths on the server are off here (shared host, no evidence roots): upload files.")
        uploads = sb.file_uploader("…or upload files", accept_multiple_files=True, key="hunt_uploads")
        with sb.expander("Reading options"):
            year = st.number_input(
                "Year for lines without one (0 = from file date)",
                0,
                2100,
                0,
                key="hunt_year",
                persist_state="session",
            )
            tz = st.text_input(
                "Time zone of lines without offset", "UTC", key="hunt_tz", persist_state="session"
            )
            host_name = st.text_input(
                "Host name for audit.log without node= (empty: the syslog host beside it, else the folder)",
                "",
                max_chars=253,
                key="hunt_host_name",
                persist_state="session",
            )
        paths, all_ok = _typed_paths(text if policy.paths_allowed else "", policy)
        st.session_state["_url_paths"] = tuple(paths) if all_ok else ()
        if uploads:  # kept for the session: the uploader is empty again on the next page
            st.session_state[UPLOAD_KEY] = _save_uploads(list(uploads))
        upload_dir = st.session_state.get(UPLOAD_KEY)
        roots = policy.roots
        if upload_dir and Path(upload_dir).is_dir():
            paths.append(upload_dir)
            if roots is not None:
                roots = (*roots, str(Path(upload_dir).resolve()))
            n = sum(1 for f in Path(upload_dir).iterdir() if f.is_file())
            sb.caption(f"{n} uploaded file(s) kept for this session only.")
            if sb.button("Forget the uploaded files", key="hunt_forget_uploads"):
                st.session_state.pop(UPLOAD_KEY, None)
                if _session_folder() in Path(upload_dir).parents:  # only this session's own folder
                    shutil.rmtree(upload_dir, ignore_errors=True)
                st.rerun()
        try:
            tz_name = (tz or "UTC").strip()
            ReadOptions(tz=tz_name)
        except Exception:
            sb.warning(f"Unknown time zone {md(tz, 80)}: UTC is used.")
            tz_name = "UTC"
        return SourceSpec(
            "files",
            tuple(paths),
            int(year) or None,
            tz_name,
            host_name=(host_name or "").strip(),
            roots=roots,
        )
    if kind == "loganalytics":
        from ui.loganalytics import workspace_controls

        return SourceSpec("loganalytics", workspace=workspace_controls())
    return SourceSpec("demo")


def _default_host(hosts: pd.DataFrame) -> int:
    """Start on the host with most alerts, then most data: the likeliest to matter."""
    order = hosts.sort_values(["AlertRows", "SyslogRows", "AuditRows"], ascending=False)
    return int(hosts.index.get_loc(order.index[0]))


def _time_controls(host_row: pd.Series) -> TimeRange:
    sb = st.sidebar
    last = as_utc(host_row["LastSeen"])
    ref_choice = sb.radio(
        "Relative to",
        ["last", "now"],
        index=_url_index("ref", ["last", "now"], 0),
        format_func={"last": "the host's last event", "now": "now"}.__getitem__,
        horizontal=True,
        key="ref",
        persist_state="session",
    )
    reference = last if ref_choice == "last" else as_utc(datetime.now().astimezone())
    preset = sb.selectbox(
        "Time range",
        list(PRESETS),
        index=_url_index("range", list(PRESETS), 1),
        format_func=PRESET_LABELS.__getitem__,
        key="range",
        persist_state="session",
    )
    delta = PRESETS[preset]
    if delta is not None:
        return TimeRange(reference - delta, reference)
    lo, hi = (reference - MAX_BACK).replace(tzinfo=None), (reference + MAX_FORWARD).replace(tzinfo=None)
    default_start = max(lo, (reference - timedelta(days=1)).replace(tzinfo=None))
    values = {
        "start": _url_time("start", default_start),
        "end": _url_time("end", reference.replace(tzinfo=None)),
    }
    for key in ("start", "end"):
        held = st.session_state.get(key)  # from an earlier host or a callback
        if isinstance(held, datetime) and not pd.isna(held):
            fixed = _clamped(key, held.replace(tzinfo=None), lo, hi)
            if fixed != held:
                st.session_state[key] = fixed
        elif key in st.session_state:
            del st.session_state[key]
        values[key] = _clamped(key, values[key], lo, hi)
    start = sb.datetime_input(
        "Start (UTC)", value=values["start"], min_value=lo, max_value=hi, key="start", persist_state="session",
    )  # fmt: skip
    end = sb.datetime_input(
        "End (UTC)", value=values["end"], min_value=lo, max_value=hi, key="end", persist_state="session",
    )  # fmt: skip
    if start is None or end is None or end <= start:
        sb.warning("End must be after start; showing the last 24 hours instead.")
        return TimeRange(reference - timedelta(days=1), reference)
    # st.datetime_input returns naive datetimes: they are UTC by this app's convention.
    return TimeRange(start, end).clamp(reference)


def set_custom_range(tr: TimeRange) -> None:
    """Re-scope the investigation (call from a widget callback, before the sidebar draws)."""
    st.session_state["range"] = "custom"
    st.session_state["start"] = tr.start.replace(tzinfo=None)
    st.session_state["end"] = tr.end.replace(tzinfo=None)


APP_ROOT = Path(__file__).resolve().parent.parent
PAGE_ICONS = {"Logons": ":material/key:", "Session detail": ":material/manage_search:",
              "User activity": ":material/person:", "Process trees": ":material/account_tree:",
              "Application activity": ":material/apps:", "Network": ":material/lan:",
              "IoCs and threat intel": ":material/crisis_alert:", "Findings": ":material/warning:",
              "Data sources": ":material/folder_open:"}  # fmt: skip


def _navigation(menu: Any) -> None:
    """Our own menu (the default one names the landing page after its file); links carry the hunt.

    Drawn last into a slot at the top, so the links hold this run's host and range.
    """
    keep = _url_state()
    links: list[tuple[str, str, str | None]] = [("streamlit_app.py", "Host summary", ":material/dns:")]
    for path in sorted((APP_ROOT / "pages").glob("*.py")):
        label = path.stem.split("_", 1)[-1].replace("_", " ")
        links.append((f"pages/{path.name}", label, PAGE_ICONS.get(label)))
    with menu:
        for target, label, icon in links:
            try:
                st.page_link(target, label=label, icon=icon, query_params=keep)
            except StreamlitAPIException:  # a page run as the entry script (tests) has no such links
                return


def _url_state() -> dict[str, str]:
    """The investigation as URL parameters (never secrets: workspace ids stay out)."""
    state = {
        k: str(st.session_state[k]) for k in ("source", "host", "range", "ref") if st.session_state.get(k)
    }
    if state.get("range") == "custom":
        state |= {k: st.session_state[k].isoformat() for k in ("start", "end") if st.session_state.get(k)}
    return state


def _write_url() -> None:
    """Keep the address bar a shareable link to this investigation. Typed paths go in only
    when the evidence policy admitted every one of them (uploads never do)."""
    paths = (
        list(st.session_state.get("_url_paths") or ()) if st.session_state.get("source") == "files" else []
    )
    if paths != st.query_params.get_all("path"):
        if paths:
            st.query_params["path"] = paths
        elif "path" in st.query_params:
            del st.query_params["path"]
    wanted = _url_state()
    for key in ("source", "host", "range", "ref", "start", "end"):
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


def sidebar() -> Hunt:
    """Draw the shared sidebar and return the hunt, or stop the page with an explanation."""
    require_sign_in()
    errors.open_notice_area()
    menu = st.sidebar.container()
    st.sidebar.divider()
    st.sidebar.header("Investigation")
    spec = _source_controls()
    if spec.kind == "files" and not spec.paths:
        st.info("Enter the paths of log files or folders in the sidebar, or upload files, to start hunting.")
        st.stop()
    try:
        with st.spinner("Reading the logs (parsed once, then cached)…"):
            source = open_source(spec)
    except HuntingError as exc:
        errors.source_error(exc, "the data source")
        st.stop()
    search = st.sidebar.text_input(
        "Host name contains", key="hunt_search", persist_state="session", help="case-insensitive"
    )
    try:
        hosts = fetch_hosts(spec, (search or "").strip())
    except HuntingError as exc:
        errors.source_error(exc, "the host list")
        st.stop()
    errors.frame_notes(hosts, "host list")
    if hosts.empty:
        why = f"no host name contains '{md(search)}'" if search else "the source holds no host data"
        st.warning(f"No hosts to investigate: {why}.")
        _ingest_summary(source)
        st.stop()
    names = hosts["Computer"].astype(str).tolist()
    asked = st.query_params.get("host")
    if asked and asked not in names and st.session_state.get("host") not in names:
        st.warning(
            f"The link names host {md(asked, 120)}, which this source does not hold"
            f"{' (or the host filter hides)' if search else ''}: showing another host instead."
        )
    host = st.sidebar.selectbox(
        f"Host ({len(names)} found)",
        names,
        index=_url_index("host", names, _default_host(hosts)),
        key="host",
        persist_state="session",
    )
    host_row = hosts.loc[hosts["Computer"] == host].iloc[0]
    tr = _time_controls(host_row)
    st.sidebar.caption(f"{tr.label()}")
    _write_url()
    _navigation(menu)
    _ingest_summary(source)
    tables = errors.guarded(lambda: fetch_tables(spec), "the table list") or set()
    return GuardedHunt(spec, source, str(host), tr, host_row, tables)


class GuardedHunt(Hunt):
    """A Hunt whose fetches report source errors and partial/truncated results in the
    page's notice area (ui.errors) instead of crashing the page."""

    def fetch(self, method: str, **kwargs: Any) -> pd.DataFrame:
        out = errors.guarded(lambda: Hunt.fetch(self, method, **kwargs), method.replace("_", " "))
        return out if out is not None else pd.DataFrame()


def _current_user() -> Mapping[str, Any]:
    """The visitor as Streamlit's OIDC sign-in knows them (a seam for tests)."""
    return st.user.to_dict()


def sign_in_verdict(user: Mapping[str, Any], allowed_users: Iterable[Any]) -> str:
    """ "sign_in", "denied" or "ok": signed out visitors sign in first; a signed-in
    account passes only when its e-mail (or preferred_username) is on the allow-list,
    compared case-insensitively. An empty allow-list admits nobody (fail closed)."""
    if not user.get("is_logged_in", False):  # absent (AppTest, no auth yet): signed out
        return "sign_in"
    name = str(user.get("email") or user.get("preferred_username") or "").strip().lower()
    allowed = {str(u).strip().lower() for u in allowed_users or []}
    return "ok" if name and name in allowed else "denied"


def require_sign_in() -> None:
    """With ``[auth]`` configured in secrets (st.login, OpenID Connect), nothing renders
    until the visitor has signed in and is on ``[deploy] allowed_users``."""
    if not _secret_section("auth"):
        return
    allowed = _secret_section("deploy").get("allowed_users") or []
    verdict = sign_in_verdict(_current_user(), allowed)
    if verdict == "sign_in":
        st.title("Sign in required")
        st.write("This hunting app holds evidence from investigated hosts: sign in to continue.")
        st.button("Sign in", on_click=st.login, type="primary")
        st.stop()
    if verdict == "denied":
        st.title("Not allowed")
        st.error(
            "Your account is not on this deployment's allow-list ([deploy] allowed_users)."
            if allowed
            else "No accounts are allowed yet: the administrator must list them in [deploy] allowed_users."
        )
        st.button("Sign out", on_click=st.logout)
        st.stop()


def _ingest_summary(source: Source) -> None:
    accounts = source.ingest_report()
    if not accounts:
        return
    lines = sum(a.lines for a in accounts)
    unparsed = sum(a.unparsed for a in accounts)
    errors = sum(1 for a in accounts if a.error)
    msg = f"{len(accounts)} files, {lines:,} lines, {unparsed:,} not parsed"
    if errors:
        msg += f", {errors} with problems"
    st.sidebar.caption(f"Source: {source.name} — {msg}. See *Data sources* for details.")


def explain_empty(hunt: Hunt, what: str, *tables: str) -> None:
    """Say why a section is empty: missing table, or nothing for this host and range."""
    missing = hunt.missing(*tables)
    if missing:
        st.info(f"No {what}: the data source has no {', '.join(missing)} data.")
    else:
        st.info(f"No {what} for {md(hunt.host)} in {hunt.tr.label()}.")
