"""The sidebar every page calls first, and cached access to the chosen source.

The investigation (source, host, time range) lives in ``st.session_state`` under
keys source, host, range, start, end, ref and in the URL (``?host=web01&range=3d``), so a page switch keeps
it and a link shares it.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from hunting.errors import HuntingError
from hunting.readers.base import ReadOptions
from hunting.sources.base import Source
from hunting.timerange import MAX_BACK, MAX_FORWARD, TimeRange, as_utc
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
    workspace: str = ""


def _url_index(key: str, options: list[str], default: int) -> int:
    """Initial choice from the URL (?host=web01): bound widgets also read it in the browser,
    and this makes the same link work where binding does not apply (AppTest, first run)."""
    value = st.query_params.get(key)
    return options.index(value) if value in options else default


def _url_time(key: str, default: datetime) -> datetime:
    value = st.query_params.get(key)
    if value:
        try:
            return as_utc(value).replace(tzinfo=None)
        except (ValueError, TypeError):
            pass
    return default


@st.cache_resource(max_entries=4, show_spinner=False)
def open_source(spec: SourceSpec) -> Source:
    """Open (and for local files, parse once) a source; shared by all sessions.

    No elements are drawn in here: Streamlit would replay them on every cache hit.
    """
    from hunting.sources.local import LocalSource

    options = ReadOptions(year=spec.year, tz=spec.tz)
    if spec.kind == "demo":
        from hunting.demo.scenario import demo_log_paths

        return LocalSource.from_paths(demo_log_paths(), options, name="built-in demo")
    if spec.kind == "files":
        return LocalSource.from_paths(spec.paths, options)
    from ui.loganalytics import open_loganalytics

    return open_loganalytics(spec.workspace)


@st.cache_data(ttl=900, max_entries=64, show_spinner="Querying…")
def fetch(
    spec: SourceSpec, method: str, host: str, start: datetime, end: datetime, **kwargs: Any
) -> pd.DataFrame:
    """A Source method's result for host and range, cached per (source, arguments)."""
    source = open_source(spec)
    return getattr(source, method)(host, TimeRange(start, end), **kwargs)


@st.cache_data(ttl=900, max_entries=32, show_spinner=False)
def fetch_hosts(spec: SourceSpec, contains: str) -> pd.DataFrame:
    return open_source(spec).hosts(contains)


@st.cache_data(ttl=900, max_entries=8, show_spinner=False)
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


def _save_uploads(files: list[Any]) -> str:
    """Uploaded files go to a folder named by their content hash, so re-runs reuse it."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode())
        digest.update(f.getvalue())
    folder = Path(tempfile.gettempdir()) / "linux-hunting-uploads" / digest.hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(files):
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(f.name).name) or f"upload{i}"
        (folder / f"{i:03d}_{safe}").write_bytes(f.getvalue())
    return str(folder)


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
        text = sb.text_area(
            "Log files or folders on this machine (one per line)",
            key="hunt_paths",
            persist_state="session",
            help="auth.log, secure, syslog, messages, audit.log, journalctl -o json exports, "
            "rotated and .gz copies, Sentinel CSV/JSON exports. Formats are detected from content.",
        )
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
        paths = [p.strip() for p in (text or "").splitlines() if p.strip()]
        if uploads:
            paths.append(_save_uploads(list(uploads)))
        return SourceSpec("files", tuple(paths), int(year) or None, (tz or "UTC").strip())
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
    start = sb.datetime_input(
        "Start (UTC)", value=_url_time("start", default_start), min_value=lo, max_value=hi, key="start", persist_state="session",
    )  # fmt: skip
    end = sb.datetime_input(
        "End (UTC)", value=_url_time("end", reference.replace(tzinfo=None)), min_value=lo, max_value=hi, key="end", persist_state="session",
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
    """Keep the address bar a shareable link to this investigation."""
    wanted = _url_state()
    for key in ("source", "host", "range", "ref", "start", "end"):
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


def sidebar() -> Hunt:
    """Draw the shared sidebar and return the hunt, or stop the page with an explanation."""
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
        st.error(f"Cannot open the data source: {exc}")
        st.stop()
    search = st.sidebar.text_input(
        "Host name contains", key="hunt_search", persist_state="session", help="case-insensitive"
    )
    try:
        hosts = fetch_hosts(spec, (search or "").strip())
    except HuntingError as exc:
        st.error(f"Cannot list hosts: {exc}")
        st.stop()
    if hosts.empty:
        why = f"no host name contains '{md(search)}'" if search else "the source holds no host data"
        st.warning(f"No hosts to investigate: {why}.")
        _ingest_summary(source)
        st.stop()
    names = hosts["Computer"].astype(str).tolist()
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
    return Hunt(spec, source, str(host), tr, host_row, fetch_tables(spec))


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
