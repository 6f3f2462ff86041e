"""Rendering for the Network and IoC pages: cached analysis, TI provider set-up and lookups.

API keys come from ``.streamlit/secrets.toml`` (section ``[ti]``) or environment
variables and are never drawn: the page shows provider names only, and every
status text a provider returns has its key scrubbed already (hunting.ti.base).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from hunting.analysis.geo import asn_summary, geolocate, whois_rdap
from hunting.analysis.iocs import extract_iocs
from hunting.analysis.network import (
    IOC_COLUMNS,
    IocSource,
    collect_iocs,
    flow_summary,
    ioc_overview,
    ip_activity,
    provider_status,
    sort_results,
    syslog_ips,
)
from hunting.analysis.threat_intel import lookup_iocs, providers_from_config
from hunting.errors import HuntingError
from hunting.schema import BY_NAME, FLOWS, SYSLOG
from hunting.ti.base import Provider
from hunting.ti.local_feed import LocalFeedProvider
from ui.context import Hunt, SourceSpec, fetch, shared_cache
from ui.safe import md

# Cell colours of the Severity column (text stays readable on light and dark themes).
SEVERITY_STYLE: Final = {
    "high": "background-color: #e4572e; color: white",
    "warning": "background-color: #f0a202; color: black",
    "information": "background-color: #3d7ea6; color: white",
}
# [ti] names in secrets.toml (see .streamlit/secrets.toml.example) -> providers_from_config names.
_SECRET_NAMES: Final = {
    "otx": "otx_key",
    "virustotal": "vt_key",
    "vt": "vt_key",
    "abuseipdb": "abuseipdb_key",
    "greynoise": "greynoise_key",
    "feed": "ti_feeds",
    "feeds": "ti_feeds",
}
_TI_ENV_PREFIX: Final = "HUNTING_"
MAX_LOOKUPS: Final = 500


# --- cached analysis --------------------------------------------------------------------------


@shared_cache("Finding IoCs in messages…")
def syslog_iocs(spec: SourceSpec, host: str, start: datetime, end: datetime) -> pd.DataFrame:
    """IoCs in the syslog messages of host and range (``extract_iocs``), read once for the
    Network page (its addresses) and the IoCs page (everything)."""
    frame = fetch(spec, "syslog", host, start, end).reset_index(drop=True)
    return extract_iocs(frame, ["SyslogMessage"])


@dataclass(frozen=True)
class NetworkData:
    syslog: pd.DataFrame
    flows: pd.DataFrame
    mentions: pd.DataFrame
    activity: pd.DataFrame
    flow_summary: pd.DataFrame
    errors: tuple[str, ...] = ()


@shared_cache("Finding addresses in messages and flows…")
def network_data(spec: SourceSpec, host: str, start: datetime, end: datetime) -> NetworkData:
    errors: list[str] = []
    frames: dict[str, pd.DataFrame] = {}
    for method, table in (("syslog", SYSLOG), ("network_flows", FLOWS)):
        try:
            frames[method] = fetch(spec, method, host, start, end)
        except HuntingError as exc:
            errors.append(f"{table.name}: {exc}")
            frames[method] = table.empty()
    syslog, flows = frames["syslog"], frames["network_flows"]
    occ = syslog_iocs(spec, host, start, end) if len(syslog) else None  # empty when the fetch failed
    mentions = syslog_ips(syslog, occurrences=occ)
    return NetworkData(
        syslog=syslog,
        flows=flows,
        mentions=mentions,
        activity=ip_activity(syslog, flows, mentions=mentions),
        flow_summary=flow_summary(flows),
        errors=tuple(errors),
    )


def hunt_network(hunt: Hunt) -> NetworkData:
    return network_data(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end)


@shared_cache("Looking up owners and locations (offline)…")
def geo_data(ips: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Offline country/owner per address and the owner summary."""
    geo = geolocate(list(ips))
    return geo, asn_summary(geo)


@dataclass(frozen=True)
class IocData:
    occurrences: pd.DataFrame
    overview: pd.DataFrame
    frames: Mapping[str, pd.DataFrame]
    searched: Mapping[str, int]  # table -> rows searched
    errors: tuple[str, ...] = ()


@shared_cache("Extracting IoCs…")
def ioc_data(spec: SourceSpec, host: str, start: datetime, end: datetime, tables: frozenset[str]) -> IocData:
    sources: list[IocSource] = []
    frames: dict[str, pd.DataFrame] = {}
    errors: list[str] = []
    for name, (method, columns) in IOC_COLUMNS.items():
        stored = "Syslog" if name == "SudoEvents" else name  # sudo events are parsed from Syslog
        if stored not in tables:
            continue
        table = BY_NAME[name]
        try:
            frame = fetch(spec, method, host, start, end)
        except HuntingError as exc:
            errors.append(f"{name}: {exc}")
            frame = table.empty()
        frames[name] = frame.reset_index(drop=True)
        shared = (method, columns) == ("syslog", ("SyslogMessage",)) and len(frame)
        pre = syslog_iocs(spec, host, start, end) if shared else None
        sources.append(IocSource(name, frames[name], columns, pre))
    occ = collect_iocs(sources)
    return IocData(occ, ioc_overview(occ), frames, {k: len(v) for k, v in frames.items()}, tuple(errors))


def hunt_iocs(hunt: Hunt) -> IocData:
    return ioc_data(hunt.spec, hunt.host, hunt.tr.start, hunt.tr.end, frozenset(hunt.tables))


# --- threat-intelligence providers -----------------------------------------------------------


def ti_settings() -> dict[str, str]:
    """TI settings from st.secrets, {} without a secrets file (any access to st.secrets raises then)."""
    try:
        secrets = st.secrets.to_dict()
    except StreamlitSecretNotFoundError:
        return {}
    except Exception:  # a secrets file that does not parse: the page still works without keys
        return {}
    return ti_settings_from(secrets)


def ti_settings_from(secrets: Mapping[str, object]) -> dict[str, str]:
    """providers_from_config names from the ``[ti]`` section (otx, virustotal, ..., feed) or top-level ``*_key``."""
    out: dict[str, str] = {}
    for key, value in secrets.items():
        if isinstance(value, str) and value.strip() and (key.endswith(("_key", "_url")) or key == "ti_feeds"):
            out[key] = value.strip()
    section = secrets.get("ti")
    if isinstance(section, Mapping):
        for key, value in section.items():
            if not isinstance(value, str) or not value.strip():
                continue
            out[_SECRET_NAMES.get(str(key).lower(), str(key).lower())] = value.strip()
    return out


def _ti_env() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_TI_ENV_PREFIX)))


@dataclass(frozen=True)
class ProviderSet:
    providers: tuple[Provider, ...]
    errors: tuple[str, ...] = ()
    feed_stats: tuple[str, ...] = ()  # "demo_feed.csv: 14 indicators loaded, 0 skipped"


def _feed_stats(feed: LocalFeedProvider) -> str:
    skipped = sum(feed.stats.skipped.values())
    why = "; ".join(f"{n} {reason}" for reason, n in feed.stats.skipped.most_common(3))
    return f"{', '.join(feed.sources)}: {feed.stats.loaded} indicator(s) loaded, {skipped} skipped" + (
        f" ({why})" if why else ""
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def build_providers(
    settings: tuple[tuple[str, str], ...], env: tuple[tuple[str, str], ...], feed: str, feed_mtime: float
) -> ProviderSet:
    """Providers from settings and environment plus the feed file the user named (cached per inputs)."""
    del feed_mtime  # only part of the cache key: an edited feed file is loaded again
    errors: list[str] = []
    try:
        providers = providers_from_config(dict(settings), dict(env))
    except HuntingError as exc:  # a configured feed file that cannot be read
        errors.append(f"configured feed: {exc}")
        without_feeds = {k: v for k, v in settings if k != "ti_feeds"}
        providers = providers_from_config(without_feeds, {k: v for k, v in env if k != "HUNTING_TI_FEEDS"})
    except ValueError as exc:
        errors.append(str(exc))
        providers = []
    if feed:
        try:
            providers.append(LocalFeedProvider.from_paths([feed]))
        except HuntingError as exc:
            errors.append(f"feed file: {exc}")
    stats = tuple(_feed_stats(p) for p in providers if isinstance(p, LocalFeedProvider))
    return ProviderSet(tuple(providers), tuple(errors), stats)


@dataclass
class TiSetup:
    providers: list[Provider] = field(default_factory=list)
    timeout: float = 10.0
    retries: int = 2


def ti_controls(hunt: Hunt, prefix: str) -> TiSetup:
    """Provider set-up in an expander: configured providers (names only), a feed file, time-outs."""
    settings = ti_settings()
    env = _ti_env()
    keyed = providers_from_config(
        {k: v for k, v in settings.items() if k != "ti_feeds"},
        {k: v for k, v in env if k != "HUNTING_TI_FEEDS"},
    )
    configured = bool(keyed) or "ti_feeds" in settings or any(k == "HUNTING_TI_FEEDS" and v for k, v in env)
    demo_default = hunt.spec.kind == "demo" and not configured
    state_key = "ti_feed_path_demo" if demo_default else "ti_feed_path"
    if state_key not in st.session_state:
        st.session_state[state_key] = _demo_feed() if demo_default else ""
    with st.expander("Threat-intelligence providers", expanded=False):
        feed = st.text_input(
            "Threat feed file (CSV indicator,type,severity,description, or STIX 2.1 JSON)",
            value=st.session_state[state_key],
            key=f"{prefix}_ti_feed",
            help="A path on the machine running the app. Looked up offline, no account needed.",
        )
        st.session_state[state_key] = feed or ""
        c1, c2 = st.columns(2)
        timeout = c1.number_input(
            "Time-out per request (s)", 0.5, 60.0, 10.0, 0.5, key=f"{prefix}_ti_timeout"
        )
        retries = c2.number_input("Retries on 429/5xx/time-out", 0, 5, 2, key=f"{prefix}_ti_retries")
        feed = (feed or "").strip()
        if feed and feed != _demo_feed():  # shared hosts: only regular files inside the evidence roots
            from hunting.evidence import EvidenceError
            from ui.context import evidence_policy

            try:
                evidence_policy().admit_file(feed)
            except EvidenceError as exc:
                st.error(f"Threat feed not used: {md(feed, 200)}: {md(exc, 300)}")
                feed = ""
        mtime = _mtime(feed)
        pset = build_providers(tuple(sorted(settings.items())), env, feed, mtime)
        names = [p.name for p in pset.providers]
        st.caption(
            "Providers: "
            + (md(", ".join(names)) if names else "none")
            + ". API keys for OTX, VirusTotal, AbuseIPDB and GreyNoise go in `.streamlit/secrets.toml` "
            "(section `[ti]`) or HUNTING_OTX_KEY, HUNTING_VT_KEY, HUNTING_ABUSEIPDB_KEY, HUNTING_GREYNOISE_KEY."
        )
        for line in pset.feed_stats:
            st.caption(md(line))
    if demo_default and feed and feed == _demo_feed():
        st.info(
            "No threat-intelligence provider is configured: using the demo's threat feed file by default."
        )
    for err in pset.errors:
        st.error(md(err, 400))
    if not pset.providers:
        st.warning(
            "No threat-intelligence provider: name a feed file under *Threat-intelligence providers*, "
            "or configure API keys. Everything else on this page works without one."
        )
    return TiSetup(list(pset.providers), float(timeout), int(retries))


def _demo_feed() -> str:
    from hunting.demo.scenario import demo_feed_path

    return str(demo_feed_path())


def _mtime(path: str) -> float:
    try:
        return Path(path).stat().st_mtime if path else 0.0
    except OSError:
        return 0.0


def run_lookups(iocs: Sequence[tuple[str, str]], setup: TiSetup, what: str) -> pd.DataFrame:
    """Look ``iocs`` up in every provider with a progress bar; failures come back as rows."""
    iocs = list(iocs)[:MAX_LOOKUPS]
    bar = st.progress(0.0, text=f"Looking up {what}…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"Looking up {what}: {done}/{total}")

    results = lookup_iocs(
        iocs, setup.providers, timeout=setup.timeout, retries=setup.retries, progress=progress
    )
    bar.empty()
    return sort_results(results)


def severity_style(severity: object) -> str:
    """CSS for one Severity cell: red high, amber warning, blue information, none for unknown."""
    return SEVERITY_STYLE.get(str(severity), "")


TI_COLUMNS: Final = {
    "Reference": st.column_config.LinkColumn("Reference"),
    "Result": st.column_config.CheckboxColumn("Hit"),
}


def show_ti_results(results: pd.DataFrame, key: str) -> None:
    """Provider states (errors named per provider) and the results table; never raises."""
    status = provider_status(results)
    for row in status.itertuples(index=False):
        if row.State != "ok":
            st.warning(f"{md(row.Provider)} {row.State}: {md(row.Message, 300)}")
    hits = int(results["Result"].fillna(False).astype(bool).sum()) if len(results) else 0
    st.caption(f"{hits} hit(s) in {len(results)} lookup(s).")
    st.dataframe(status, hide_index=True, key=f"{key}_status", width="content")
    shown = sort_results(results)
    st.dataframe(
        shown.style.map(severity_style, subset=["Severity"]),
        hide_index=True,
        column_config=TI_COLUMNS,
        column_order=["Severity", "Ioc", "IocType", "Provider", "Result", "Details", "Reference", "Status"],
        key=f"{key}_results",
    )


def whois_panel(ip: str, key: str) -> None:
    """RDAP registration facts, only when the analyst opts in (it queries the internet)."""
    online = st.checkbox("Online whois (RDAP: queries the regional internet registry)", key=key)
    if not online:
        return
    with st.spinner("Querying RDAP…"):
        facts = whois_rdap(ip, enabled=True, timeout=5)
    st.dataframe(
        pd.DataFrame({"Field": list(facts), "Value": [str(v) for v in facts.values()]}),
        hide_index=True,
        width="content",
    )


_ADDRESS_CHAR = r"[0-9A-Fa-f.:]"


def flows_naming(flows: pd.DataFrame, ip: str) -> pd.DataFrame:
    """Flow records whose source, destination or public-address list names ``ip`` (as a whole
    address: 10.0.0.1 does not match 10.0.0.10), newest first, for the "One address" section."""
    if flows.empty or not ip:
        return flows.iloc[0:0]
    token = rf"(?<!{_ADDRESS_CHAR}){re.escape(ip)}(?!{_ADDRESS_CHAR})"
    hit = pd.Series(False, index=flows.index)
    for col in ("SrcIP", "DestIP", "PublicIPs", "VMIPAddress"):
        if col in flows.columns:
            hit |= flows[col].astype("string").str.contains(token, regex=True).fillna(False).astype(bool)
    out = flows[hit]
    return out.sort_values("TimeGenerated", ascending=False) if "TimeGenerated" in out.columns else out
