"""Rendering and caching for the Process trees and Application activity pages.

``process_tree_section`` is also the tree of a session on the Session detail page.
The analysis is in ``hunting.analysis.process_scope`` / ``process_tree``; here it
is cached per host and range and drawn. The pyvis HTML escapes every log value
(``hunting.render.proc_tree_html``); Markdown gets ``md``; CSV cells that a
spreadsheet would run as formulas are neutralised.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import altair as alt
import pandas as pd
import streamlit as st

from hunting.analysis.process_scope import (
    collapse_repeats,
    host_tree,
    interesting_tree,
    logon_scope,
    risk_labels,
    scope_tree,
    tree_risks,
)
from hunting.analysis.process_tree import (
    DEFAULT_RENDER_LIMIT,
    guard_size,
    session_mask,
    tree_for_session,
    tree_in_window,
)
from hunting.csvsafe import safe_csv
from hunting.errors import HuntingError
from hunting.render.proc_tree_html import LINKED_BORDER, RISK_BORDER, frame_height, tree_html, tree_table
from hunting.sources.base import Source
from ui.charts import volume_chart
from ui.context import Hunt, SourceSpec, explain_empty, shared_cache
from ui.safe import md

WHAT: Final = "process starts (auditd execve events)"
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
FILTER_COLUMNS: Final = (
    "Process",
    "Command",
    "User",
    "LoginUser",
    "Exe",
    "Cwd",
    "Path",
    "Risk",
    "Pid",
    "Ses",
)
MAX_TABLE_ROWS: Final = 5_000  # rows of the table view sent to the browser; the CSV holds all
RISK_TABLE_COLUMNS: Final = (
    "Time", "Pid", "Process", "Command", "RuleId", "Title", "Severity", "Techniques", "Matched", "Decoded",
)  # fmt: skip


# --- data ------------------------------------------------------------------------------------


@shared_cache("Building process trees from auditd…")
def _host_tree(spec: SourceSpec, host: str, start: datetime, end: datetime, _source: Source) -> pd.DataFrame:
    from ui.context import fetch

    audit = fetch(spec, "audit_events", host, start, end)
    try:
        users = _source.host_users(host)
    except HuntingError:
        users = None  # names then come from the audit log alone
    return host_tree(audit, host_users=users)


def load_tree(hunt: Hunt) -> pd.DataFrame:
    """The host's process tree for the sidebar's range (cached), or an empty TREE frame."""
    if "AuditEvents" not in hunt.tables:
        return host_tree(pd.DataFrame())
    return _host_tree(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end, hunt.source)


@shared_cache()
def _risks(tree: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    hits = tree_risks(tree)
    return hits, risk_labels(tree, hits)


@shared_cache("Drawing the tree…")
def _html(
    tree: pd.DataFrame, color_by: str, risk: pd.Series, limit: int, dark: bool, highlight: tuple[str, ...]
) -> str:
    return tree_html(
        tree,
        color_by="user" if color_by == "user" else "exe",
        risk=risk,
        max_nodes=limit,
        dark=dark,
        highlight=frozenset(highlight),
    )


def dark_theme() -> bool:
    """Whether the app shows Streamlit's dark theme (the tree's canvas follows it): the configured
    ``theme.base`` when set (this repo's config: dark), else what the browser reports."""
    try:
        base = st.get_option("theme.base")
    except Exception:  # an option this version does not know
        base = None
    if base in ("dark", "light"):
        return bool(base == "dark")
    try:
        return getattr(st.context.theme, "type", None) == "dark"
    except Exception:  # outside a browser session (AppTest, bare mode)
        return False


DRAW_CHOICES: Final = {
    "interesting": "Risky processes with their ancestors and children",
    "all": "Every process",
}
INTERESTING_ABOVE: Final = 80  # smaller scopes are drawn whole


def drawn_rows(
    tree: pd.DataFrame, hits: pd.DataFrame, linked: pd.Index, *, interesting: bool
) -> pd.DataFrame:
    """What the graph draws: the interesting part (risky/linked processes, their ancestors and
    children) or everything, with runs of identical subtrees folded into one box (×N)."""
    seeds = pd.Index(hits["Row"].unique()).union(linked) if len(hits) else linked
    base = interesting_tree(tree, seeds) if interesting and len(seeds) else tree
    return collapse_repeats(base, keep=linked)


# --- pure helpers ----------------------------------------------------------------------------


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would evaluate (=, +, -, @, tab, CR first) get a leading quote."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        if pd.api.types.is_bool_dtype(s):
            continue
        text = s.astype("string")
        risky = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
        if risky.any():
            out[col] = text.mask(risky, "'" + text)
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV safe to open in a spreadsheet."""
    return safe_csv(df).encode("utf-8")  # the one CSV rule (hunting.csvsafe): formulas and bare CRs


def filter_table(df: pd.DataFrame, text: str, columns: tuple[str, ...] = FILTER_COLUMNS) -> pd.DataFrame:
    """Rows where any of ``columns`` contains ``text`` (literal, case-insensitive)."""
    needle = (text or "").strip()
    if not needle:
        return df
    hit = pd.Series(False, index=df.index)
    for col in columns:
        if col in df.columns:
            cell = df[col].astype("string")
            hit |= cell.str.contains(needle, case=False, regex=False).fillna(False).astype(bool)
    return df.loc[hit]


def tree_rows(tree: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """The table view: ``tree_table`` rows with the matched rules as a Risk column."""
    table = tree_table(tree)  # Ses: 4294967295 shown as "unset"
    table.insert(4, "Risk", labels.reindex(tree.index).astype("string"))
    return table


def brushed_volume(df: pd.DataFrame, *, key_title: str, height: int = 200) -> alt.VConcatChart | alt.Chart:
    """``volume_chart`` with the overview brush; detail bars clipped to the brushed domain.

    Without ``clip`` the detail chart's bars outside the brushed interval are
    drawn over the axis and the neighbouring chart.
    """
    chart = volume_chart(df, key_title=key_title, height=height, brush_detail=True)
    if isinstance(chart, alt.VConcatChart):
        chart.vconcat[0] = chart.vconcat[0].mark_bar(clip=True)
    return chart


# --- the section -----------------------------------------------------------------------------


def process_tree_section(
    hunt: Hunt,
    *,
    logon: Mapping[str, Any] | None = None,
    ses: int | None = None,
    auid: int | None = None,
    start: datetime | pd.Timestamp | None = None,
    end: datetime | pd.Timestamp | None = None,
    exe: str | None = None,
    alert_time: datetime | pd.Timestamp | None = None,
    before: timedelta = timedelta(minutes=15),
    after: timedelta = timedelta(minutes=30),
    key: str = "ptree",
    tree: pd.DataFrame | None = None,
    height: int = 620,
    highlight_pid: int | None = None,
) -> pd.DataFrame:
    """Draw the process tree of one scope (tree, risky processes, filterable table, CSV).

    Scope: ``logon`` (a Logons-page session dict, matched to its audit session),
    else any of ``ses``/``auid``/``start``/``end`` (processes in it plus their
    ancestors), ``exe`` (whole trees holding that executable), ``alert_time``
    (a window ``before``/``after`` it); nothing = the whole range. ``key``
    prefixes the widget keys, so a page can hold several sections. Returns the
    scoped rows (TREE columns); empty when there is nothing to show, after
    saying why.
    """
    full = load_tree(hunt) if tree is None else tree
    if full.empty:
        explain_empty(hunt, WHAT, "AuditEvents")
        return full
    where = "in the whole range"
    args: dict[str, Any] = {"ses": ses, "auid": auid, "start": start, "end": end, "exe": exe}
    if logon is not None:
        found, how = logon_scope(full, logon)
        args.update(found)
        where = f"in {how}"
    if exe:
        args["branches"] = st.toggle(
            "Only the branches holding it (its ancestors and descendants)", value=True, key=f"{key}_branches",
            help="Off: whole trees from their roots, with every sibling (e.g. all ssh connections under sshd).",
        )  # fmt: skip
    try:
        scoped = scope_tree(full, **args)
    except HuntingError as exc:
        st.warning(md(exc))
        return full.iloc[0:0]
    if alert_time is not None:
        scoped = tree_in_window(scoped, pd.Timestamp(alert_time), before, after)
        where = f"within {before} before and {after} after the alert"
    elif exe:
        where = f"in trees holding an executable named or containing '{md(exe, 120)}'"
    elif logon is None and any(v is not None for v in (ses, auid, start, end)):
        where = "in this scope"
    if scoped.empty:
        st.info(f"No process starts {where} on {md(hunt.host)} in {hunt.tr.label()}.")
        return scoped
    if logon is not None:
        st.caption(f"Scope: {md(how, 300)}.")
    session = {k: args.get(k) for k in ("ses", "auid", "start", "end")}
    if alert_time is not None:  # the window's own processes; ancestors started before it are context
        mid = pd.Timestamp(alert_time)
        session = {"start": mid - pd.Timedelta(before), "end": mid + pd.Timedelta(after)}
    own = int(session_mask(scoped, **session).sum()) if any(v is not None for v in session.values()) else None
    render_tree(scoped, key=key, height=height, highlight_pid=highlight_pid, own=own)
    return scoped


def render_tree(
    tree: pd.DataFrame,
    *,
    key: str,
    height: int = 620,
    highlight_pid: int | None = None,
    own: int | None = None,
) -> None:
    """Pyvis tree (the interesting part by default when the scope is large; identical runs
    folded), risky processes and the table view of ``tree`` (rows of build_tree).

    ``own``: the session's own processes (``session_mask``), shown as the Processes count
    so it matches the session list; the ancestors drawn for context are counted apart."""
    hits, labels = _risks(tree)
    linked = (
        tree.index[(tree["Pid"] == highlight_pid).fillna(False).to_numpy(bool)]
        if highlight_pid is not None
        else tree.index[0:0]
    )
    real = int((~tree["IsSynthetic"].fillna(False).astype(bool)).sum())
    c = st.columns([1, 1, 1, 2])
    context = real - own if own is not None else 0
    c[0].metric(
        "Processes", f"{own if own is not None else real:,}",
        help=f"Plus {context:,} ancestor(s) outside this scope, drawn for context." if context else None,
    )  # fmt: skip
    c[1].metric("Trees", f"{tree['RootKey'].nunique():,}")
    c[2].metric("Risky processes", f"{hits['Row'].nunique() if len(hits) else 0:,}")
    with c[3]:
        color_by = st.radio(
            "Colour by", ["exe", "user"], horizontal=True, key=f"{key}_color",
            format_func={"exe": "executable", "user": "user"}.__getitem__,
        )  # fmt: skip
        limit = int(
            st.number_input(
                "Most processes to draw", 10, 20_000, DEFAULT_RENDER_LIMIT, step=100, key=f"{key}_limit",
                help="Larger trees make the browser slow; narrow the time window instead.",
            )
        )  # fmt: skip
    has_seeds = bool(len(hits) or len(linked))
    choice = "all"
    if has_seeds and len(tree) > INTERESTING_ABOVE:
        choice = st.radio(
            "Draw", list(DRAW_CHOICES), format_func=DRAW_CHOICES.__getitem__, horizontal=True, key=f"{key}_draw",
        )  # fmt: skip
    drawn = drawn_rows(tree, hits, linked, interesting=choice == "interesting")
    too_many = guard_size(len(drawn), limit)
    if too_many:
        st.warning(too_many)
        drawn = drawn_rows(_narrowed(tree, key), hits, linked, interesting=False)
        too_many = guard_size(len(drawn), limit)
        if too_many:
            st.info(
                f"Still {len(drawn):,} processes with their ancestors: narrow the window further to draw."
            )
    if not too_many:
        folded = int(drawn["Repeats"].fillna(1).sum() - len(drawn)) if "Repeats" in drawn.columns else 0
        st.caption(
            f"Drawing {len(drawn):,} box(es) for {len(tree):,} rows"
            + (" (risky processes with their ancestors and children)" if choice == "interesting" else "")
            + (f"; {folded:,} identical repeat(s) folded into '×N' boxes" if folded > 0 else "")
            + ". Every row is in the table below."
        )
        risk = labels.reindex(drawn.index).fillna("")
        keys = tuple(str(k) for k in tree.loc[linked, "ProcKey"])
        tall = frame_height(drawn, height)  # room for stacked siblings at a readable zoom
        st.iframe(_html(drawn, color_by, risk, limit, dark_theme(), keys), height=tall)
        st.caption(
            f"Box = program and start of its command line. Border: red ({RISK_BORDER}) = matched a risky-command "
            f"rule (hover for it); blue ({LINKED_BORDER}, ▶) = the process the link named; dashed grey = a parent "
            "whose start is not in the data. '[forked, no execve]' rows were named from their other audit records."
        )
    if len(hits):
        st.markdown("**Risky processes**")
        st.dataframe(_risk_table(tree, hits), hide_index=True)
    st.markdown("**Table view** (same rows, depth-first)")
    rows = tree_rows(tree, labels)
    needle = st.text_input("Filter rows (text in process, command, user, path, pid…)", key=f"{key}_filter")
    shown = filter_table(rows, needle)
    if needle:
        st.caption(f"{len(shown):,} of {len(rows):,} rows contain '{md(needle, 100)}'.")
    st.dataframe(shown.head(MAX_TABLE_ROWS), hide_index=True)
    if len(shown) > MAX_TABLE_ROWS:
        st.caption(
            f"The first {MAX_TABLE_ROWS:,} of {len(shown):,} rows are shown (a cap, to keep the page quick); "
            "filter above, or download all of them."
        )
    st.download_button(
        f"Download all {len(shown):,} rows (CSV)", lambda: csv_bytes(shown), file_name="process_tree.csv",
        mime="text/csv", key=f"{key}_csv", on_click="ignore",
    )  # fmt: skip


def _narrowed(tree: pd.DataFrame, key: str) -> pd.DataFrame:
    times = tree["TimeGenerated"].dropna()
    lo = times.min().tz_convert("UTC").tz_localize(None).to_pydatetime()
    hi = times.max().tz_convert("UTC").tz_localize(None).to_pydatetime()
    if hi <= lo:
        return tree
    a, b = st.slider(
        "Narrow to processes started between (UTC)", min_value=lo, max_value=hi, value=(lo, hi),
        step=timedelta(seconds=1), format="MMM DD HH:mm:ss", key=f"{key}_narrow",
    )  # fmt: skip
    return tree_for_session(tree, start=pd.Timestamp(a, tz="UTC"), end=pd.Timestamp(b, tz="UTC"))


def _risk_table(tree: pd.DataFrame, hits: pd.DataFrame) -> pd.DataFrame:
    rows = tree.loc[hits["Row"]]
    out = hits.drop(columns=["Row", "ProcKey"], errors="ignore").reset_index(drop=True)
    out.insert(0, "Time", rows["TimeGenerated"].reset_index(drop=True))
    out.insert(1, "Pid", rows["Pid"].reset_index(drop=True))
    out.insert(2, "Process", rows["Name"].reset_index(drop=True))
    out.insert(3, "Command", rows["Cmdline"].reset_index(drop=True))
    return out[list(RISK_TABLE_COLUMNS)]
