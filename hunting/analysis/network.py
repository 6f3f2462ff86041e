"""Who the host talked to: addresses in syslog messages and flow records, and IoCs across tables.

Syslog counts are messages (a line naming an address twice counts once); flow
counts are the flows the records summarise (allowed plus denied, both ways).
Addresses inside paths (``/dev/tcp/45.95.147.236/4444``) count as mentions:
:func:`hunting.analysis.iocs.extract_iocs` reports such a token as one path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import pandas as pd

from hunting.analysis.geo import DOCUMENTATION, PUBLIC, ip_scope
from hunting.analysis.iocs import IOC_TYPES, IPV4, IPV6, extract_iocs, normalise_ip
from hunting.schema import BOOL, INT, TEXT, TIME, Table, conform
from hunting.ti.base import NOT_FOUND, OK, RATE_LIMITED, SEVERITIES

IP_TYPES: Final = (IPV4, IPV6)
DIRECTIONS: Final = {"I": "inbound", "O": "outbound"}
FLOW_COUNTS: Final = ("AllowedInFlows", "AllowedOutFlows", "DeniedInFlows", "DeniedOutFlows")

IP_MENTIONS = Table(
    "IpMentions",
    (
        ("TimeGenerated", TIME),
        ("Ip", TEXT),
        ("IpType", TEXT),
        ("Scope", TEXT),
        ("ProcessName", TEXT),
        ("Row", INT),  # position of the syslog row in the frame given
    ),
    "One row per (syslog message, address it names).",
)

IP_ACTIVITY = Table(
    "IpActivity",
    (
        ("Ip", TEXT),
        ("IpType", TEXT),
        ("Scope", TEXT),
        ("IsPublic", BOOL),
        ("SyslogMessages", INT),
        ("FlowRecords", INT),
        ("Flows", INT),
        ("FirstSeen", TIME),
        ("LastSeen", TIME),
        ("Processes", TEXT),  # "sshd (120), CRON (3)": most messages first
        ("SeenIn", TEXT),  # syslog | flows | syslog,flows
    ),
    "Every address seen in syslog messages or flow records, most active first.",
)

FLOW_SUMMARY = Table(
    "FlowSummary",
    (
        ("FlowDirection", TEXT),  # inbound | outbound
        ("L4Protocol", TEXT),
        ("L7Protocol", TEXT),
        ("FlowType", TEXT),
        ("Records", INT),
        ("Flows", INT),
        ("DeniedFlows", INT),
        ("RemoteIps", INT),
        ("DestPorts", TEXT),
    ),
    "Flow records grouped by direction and protocol, most flows first.",
)

FLOW_VOLUME = Table(
    "FlowVolume",
    (("TimeGenerated", TIME), ("Key", TEXT), ("Count", INT)),
    "Flows per time bucket (flow start) and key, the shape ui.charts.volume_chart draws.",
)

HOST_IOCS = Table(
    "HostIocs",
    (
        ("IocType", TEXT),
        ("Value", TEXT),
        ("IpScope", TEXT),
        ("Table", TEXT),
        ("Column", TEXT),
        ("Row", INT),  # position of the row in that table's frame
        ("TimeGenerated", TIME),
    ),
    "One row per IoC occurrence in any of the host's tables.",
)

IOC_OVERVIEW = Table(
    "IocOverview",
    (
        ("IocType", TEXT),
        ("Value", TEXT),
        ("IpScope", TEXT),
        ("IsPublic", BOOL),  # NA for non-IP types
        ("Note", TEXT),  # "private address", "documentation range", ... (marked, not dropped)
        ("Count", INT),
        ("Rows", INT),
        ("FirstSeen", TIME),
        ("LastSeen", TIME),
        ("SeenIn", TEXT),  # "Syslog.SyslogMessage: 12, AuditEvents.Cmdline: 3"
    ),
    "Distinct IoCs with how often and where they were seen.",
)

PROVIDER_STATUS = Table(
    "ProviderStatus",
    (
        ("Provider", TEXT),
        ("Lookups", INT),
        ("Hits", INT),
        ("NotFound", INT),
        ("Errors", INT),
        ("RateLimited", INT),
        ("Skipped", INT),
        ("State", TEXT),  # ok | partly failing | failing
        ("Message", TEXT),  # the most frequent error or skip reason
    ),
    "How each threat-intelligence provider fared in one batch of lookups.",
)

_SEVERITY_RANK: Final = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # high first
_HEX_GROUPS: Final = re.compile(r"[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")
_V6_TOKEN: Final = re.compile(r"[0-9A-Fa-f:.]+")


# --- addresses in syslog ----------------------------------------------------------------------


def syslog_ips(syslog: pd.DataFrame, *, occurrences: pd.DataFrame | None = None) -> pd.DataFrame:
    """Addresses named in each syslog message (see :data:`IP_MENTIONS`), in row order.

    ``occurrences``: ``extract_iocs(syslog, ["SyslogMessage"])`` when the caller has it
    already (the IoCs page reads the same messages), else computed here.
    """
    if syslog.empty:
        return IP_MENTIONS.empty()
    syslog = syslog.reset_index(drop=True)
    occ = extract_iocs(syslog, ["SyslogMessage"]) if occurrences is None else occurrences
    occ = occ[occ["IocType"].isin(IP_TYPES)].drop_duplicates(["Row", "Value"])
    if occ.empty:
        return IP_MENTIONS.empty()
    src = syslog.loc[occ["Row"].to_numpy(), ["TimeGenerated", "ProcessName"]].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "TimeGenerated": src["TimeGenerated"],
            "Ip": occ["Value"].to_numpy(),
            "IpType": occ["IocType"].to_numpy(),
            "Scope": occ["IpScope"].to_numpy(),
            "ProcessName": src["ProcessName"],
            "Row": occ["Row"].to_numpy(),
        }
    )
    return conform(out.sort_values(["Row", "Ip"], kind="stable"), IP_MENTIONS)


# --- addresses in flows ------------------------------------------------------------------------


def flow_totals(flows: pd.DataFrame) -> pd.Series:
    """Flows each record summarises: allowed and denied, in and out (missing counts as 0)."""
    total = pd.Series(0, index=flows.index, dtype="Int64")
    for col in FLOW_COUNTS:
        total = total + flows[col].fillna(0).astype("Int64")
    return total


def _flow_addresses(row: Mapping[str, object]) -> list[str]:
    """The addresses one record names, besides the host's own (VMIPAddress)."""
    found: list[str] = []
    for col in ("SrcIP", "DestIP", "PublicIPs"):
        value = row.get(col)
        if value is None or value is pd.NA or not isinstance(value, str):
            continue
        for part in value.replace(";", ",").split(","):
            ip = normalise_ip(part.strip().strip("'\"[]"))
            if ip is not None and ip[1] not in found:
                found.append(ip[1])
    own = row.get("VMIPAddress")
    own_ip = normalise_ip(own.strip()) if isinstance(own, str) else None
    return [ip for ip in found if own_ip is None or ip != own_ip[1]]


def flow_ips(flows: pd.DataFrame) -> pd.DataFrame:
    """One row per (flow record, remote address): Ip, IpType, FirstSeen, LastSeen, Flows."""
    cols = ["Ip", "IpType", "FirstSeen", "LastSeen", "Flows"]
    if flows.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    totals = flow_totals(flows)
    start = flows["FlowStartTime"].fillna(flows["TimeGenerated"])
    end = flows["FlowEndTime"].fillna(flows["TimeGenerated"])
    rows: list[tuple[object, ...]] = []
    for i, rec in enumerate(flows[["SrcIP", "DestIP", "PublicIPs", "VMIPAddress"]].to_dict("records")):
        for ip in _flow_addresses(rec):
            rows.append((ip, IPV6 if ":" in ip else IPV4, start.iat[i], end.iat[i], totals.iat[i]))
    return pd.DataFrame(rows, columns=cols)


# --- per address -------------------------------------------------------------------------------


def _processes(names: pd.Series) -> str:
    counts = names.fillna("(none)").astype(str).value_counts(sort=False)
    counts = counts.sort_values(ascending=False, kind="stable")
    return ", ".join(f"{name} ({n})" for name, n in counts.items())


def ip_activity(
    syslog: pd.DataFrame, flows: pd.DataFrame, *, mentions: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every address in syslog messages or flows with counts, first/last seen and the processes naming it.

    ``mentions`` (from :func:`syslog_ips`) saves extracting again when the caller has it.
    Ordered by syslog messages plus flow records, then address.
    """
    mentions = syslog_ips(syslog) if mentions is None else mentions
    fl = flow_ips(flows)
    parts: list[pd.DataFrame] = []
    if not mentions.empty:
        by_ip = mentions.groupby("Ip", sort=False)
        parts.append(
            pd.DataFrame(
                {
                    "IpType": by_ip["IpType"].first(),
                    "SyslogMessages": by_ip["Row"].nunique(),
                    "SyslogFirst": by_ip["TimeGenerated"].min(),
                    "SyslogLast": by_ip["TimeGenerated"].max(),
                    "Processes": by_ip["ProcessName"].agg(_processes),
                }
            )
        )
    if not fl.empty:
        by_ip = fl.groupby("Ip", sort=False)
        parts.append(
            pd.DataFrame(
                {
                    "FlowType": by_ip["IpType"].first(),
                    "FlowRecords": by_ip["Flows"].size(),
                    "Flows": by_ip["Flows"].sum(),
                    "FlowFirst": pd.to_datetime(by_ip["FirstSeen"].min(), utc=True),
                    "FlowLast": pd.to_datetime(by_ip["LastSeen"].max(), utc=True),
                }
            )
        )
    if not parts:
        return IP_ACTIVITY.empty()
    out = pd.concat(parts, axis=1) if len(parts) == 2 else parts[0]
    out = out.rename_axis("Ip").reset_index()
    for col in ("IpType", "SyslogMessages", "FlowRecords", "Flows", "Processes", "FlowType"):
        if col not in out.columns:
            out[col] = pd.NA
    for col in ("SyslogFirst", "SyslogLast", "FlowFirst", "FlowLast"):
        if col not in out.columns:
            out[col] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
    out["IpType"] = out["IpType"].fillna(out["FlowType"])
    out["SyslogMessages"] = out["SyslogMessages"].fillna(0)
    out["FlowRecords"] = out["FlowRecords"].fillna(0)
    out["Flows"] = out["Flows"].fillna(0)
    out["FirstSeen"] = out[["SyslogFirst", "FlowFirst"]].min(axis=1)
    out["LastSeen"] = out[["SyslogLast", "FlowLast"]].max(axis=1)
    out["Scope"] = out["Ip"].map(ip_scope)
    out["IsPublic"] = out["Scope"] == PUBLIC
    in_syslog = out["SyslogMessages"].astype(int) > 0
    in_flows = out["FlowRecords"].astype(int) > 0
    out["SeenIn"] = [
        ",".join(n for n, hit in (("syslog", s), ("flows", f)) if hit)
        for s, f in zip(in_syslog, in_flows, strict=True)
    ]
    out["_activity"] = out["SyslogMessages"].astype(int) + out["FlowRecords"].astype(int)
    out = out.sort_values(["_activity", "Ip"], ascending=[False, True], kind="stable")
    return conform(out, IP_ACTIVITY)


# --- flows ----------------------------------------------------------------------------------


def _direction(values: pd.Series) -> pd.Series:
    return values.map(lambda v: DIRECTIONS.get(str(v), "unknown") if pd.notna(v) else "unknown")


def flow_summary(flows: pd.DataFrame) -> pd.DataFrame:
    """Flow records by direction, L4/L7 protocol and flow type (see :data:`FLOW_SUMMARY`)."""
    if flows.empty:
        return FLOW_SUMMARY.empty()
    data = pd.DataFrame(
        {
            "FlowDirection": _direction(flows["FlowDirection"]),
            "L4Protocol": flows["L4Protocol"].fillna("").astype(str),
            "L7Protocol": flows["L7Protocol"].fillna("").astype(str),
            "FlowType": flows["FlowType"].fillna("").astype(str),
            "Flows": flow_totals(flows),
            "Denied": flows["DeniedInFlows"].fillna(0).astype("Int64")
            + flows["DeniedOutFlows"].fillna(0).astype("Int64"),
            "Remote": [tuple(_flow_addresses(r)) for r in flows.to_dict("records")],
            "DestPort": flows["DestPort"],
        }
    )
    keys = ["FlowDirection", "L4Protocol", "L7Protocol", "FlowType"]
    grouped = (
        data.groupby(keys, sort=False)
        .agg(
            Records=("Flows", "size"),
            Flows=("Flows", "sum"),
            DeniedFlows=("Denied", "sum"),
            RemoteIps=("Remote", lambda s: len({ip for ips in s for ip in ips})),
            DestPorts=("DestPort", lambda s: ",".join(str(p) for p in sorted(set(s.dropna().astype(int))))),
        )
        .reset_index()
        .sort_values(["Flows", *keys], ascending=[False, True, True, True, True], kind="stable")
    )
    return conform(grouped, FLOW_SUMMARY)


FlowKey = str  # FlowDirection | L7Protocol | FlowType | direction+protocol


def flows_over_time(
    flows: pd.DataFrame, *, bucket_seconds: int = 3600, by: FlowKey = "FlowDirection"
) -> pd.DataFrame:
    """Flows per bucket of flow start time (UTC) and ``by`` (``direction+protocol`` joins both)."""
    if bucket_seconds <= 0:
        raise ValueError("bucket_seconds must be positive")
    if flows.empty:
        return FLOW_VOLUME.empty()
    direction = _direction(flows["FlowDirection"])
    if by == "FlowDirection":
        key = direction
    elif by == "direction+protocol":
        key = direction + " " + flows["L7Protocol"].fillna("?").astype(str)
    elif by in ("L7Protocol", "L4Protocol", "FlowType"):
        key = flows[by].fillna("?").astype(str)
    else:
        raise ValueError(f"cannot group flows by {by!r}")
    start = flows["FlowStartTime"].fillna(flows["TimeGenerated"])
    data = pd.DataFrame(
        {"TimeGenerated": start.dt.floor(f"{int(bucket_seconds)}s"), "Key": key, "Count": flow_totals(flows)}
    ).dropna(subset=["TimeGenerated"])
    grouped = data.groupby(["TimeGenerated", "Key"], as_index=False)["Count"].sum()
    return conform(grouped.sort_values(["TimeGenerated", "Key"], kind="stable"), FLOW_VOLUME)


# --- messages that name an address ---------------------------------------------------------


def mentions_ip(text: pd.Series, ip: str) -> pd.Series:
    """True where ``text`` names ``ip`` as a whole token (10.0.0.1 is not in 10.0.0.12).

    IPv4 is matched literally between non-address characters (``from 10.0.0.1 port``,
    ``10.0.0.1:22``, ``/dev/tcp/10.0.0.1/4444``, ``::ffff:10.0.0.1``); IPv6 in any
    spelling (case, zero compression) by parsing the candidate tokens.
    """
    norm = normalise_ip(ip.strip())
    out = pd.Series(False, index=text.index, dtype=bool)
    if norm is None:
        raise ValueError(f"not an IP address: {ip!r}")
    values = text.astype("string")
    if norm[0] == IPV4 or norm[1].startswith("::ffff:"):
        v4 = norm[1].removeprefix("::ffff:")
        pattern = re.compile(rf"(?<![\w.]){re.escape(v4)}(?![\w]|\.\w)")
        cand = values.str.contains(v4, regex=False).fillna(False).astype(bool)
        out[cand] = values[cand].map(lambda s: pattern.search(s) is not None).astype(bool)
        return out
    target = norm[1]
    cand = values.str.contains(_HEX_GROUPS.pattern, regex=True).fillna(False).astype(bool)

    def has(s: str) -> bool:
        for tok in _V6_TOKEN.findall(s):
            if tok.count(":") < 2:
                continue
            ip6 = normalise_ip(tok.strip(".:") if not tok.startswith("::") else tok.rstrip(".:"))
            if ip6 is not None and ip6[1] == target:
                return True
        return False

    out[cand] = values[cand].map(has).astype(bool)
    return out


def messages_mentioning(syslog: pd.DataFrame, ip: str) -> pd.DataFrame:
    """The syslog rows whose message names ``ip`` as a whole token, in time order."""
    if syslog.empty:
        return syslog
    hit = mentions_ip(syslog["SyslogMessage"].fillna(""), ip)
    return syslog[hit.to_numpy()].sort_values("TimeGenerated", kind="stable")


# --- IoCs across the host's tables --------------------------------------------------------------


# Where a host's IoCs are looked for: table -> (Source method, text columns). SudoEvents
# repeat sudo's syslog lines with "(command continued)" parts joined, so long commands
# are searched whole.
IOC_COLUMNS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "Syslog": ("syslog", ("SyslogMessage",)),
    "AuditEvents": ("audit_events", ("Cmdline",)),
    "SudoEvents": ("sudo_events", ("Command",)),
    "SecurityAlert": ("alerts", ("Description", "Entities", "ExtendedProperties")),
}


@dataclass(frozen=True)
class IocSource:
    """Where to look: a table's frame and the text columns that may hold IoCs."""

    table: str
    frame: pd.DataFrame
    columns: tuple[str, ...]
    # extract_iocs(frame, columns) when the caller has it already (shared by two pages)
    occurrences: pd.DataFrame | None = None


def collect_iocs(sources: Iterable[IocSource]) -> pd.DataFrame:
    """Every IoC occurrence in the given tables (see :data:`HOST_IOCS`), with the row's time.

    Columns a frame lacks are skipped (a source may not have every column).
    """
    parts: list[pd.DataFrame] = []
    for src in sources:
        cols = [c for c in src.columns if c in src.frame.columns]
        if src.frame.empty or not cols:
            continue
        frame = src.frame.reset_index(drop=True)
        occ = extract_iocs(frame, cols) if src.occurrences is None else src.occurrences
        if occ.empty:
            continue
        occ = occ.copy()
        occ["Table"] = src.table
        if "TimeGenerated" in src.frame.columns:
            occ["TimeGenerated"] = frame["TimeGenerated"].to_numpy()[occ["Row"].to_numpy(dtype=int)]
        parts.append(occ)
    if not parts:
        return HOST_IOCS.empty()
    return conform(pd.concat(parts, ignore_index=True), HOST_IOCS)


def scope_note(scope: object) -> str:
    """Why an address is not worth a TI lookup, in words ('' for public and non-IP IoCs)."""
    if scope is None or scope is pd.NA or (isinstance(scope, float) and pd.isna(scope)) or scope == PUBLIC:
        return ""
    if scope == DOCUMENTATION:
        return "documentation range"
    return f"{scope} address"


def ioc_overview(occurrences: pd.DataFrame) -> pd.DataFrame:
    """Distinct IoCs with counts, first/last seen and where (see :data:`IOC_OVERVIEW`).

    Ordered by type (url, ipv4, ipv6, dns, hashes, path), then most seen, then value.
    """
    if occurrences.empty:
        return IOC_OVERVIEW.empty()
    occ = occurrences.assign(Where=occurrences["Table"].astype(str) + "." + occurrences["Column"].astype(str))
    occ["RowKey"] = occ["Table"].astype(str) + ":" + occ["Row"].astype(str)
    grouped = (
        occ.groupby(["IocType", "Value"], sort=False)
        .agg(
            IpScope=("IpScope", "first"),
            Count=("Value", "size"),
            Rows=("RowKey", "nunique"),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
            SeenIn=("Where", lambda s: ", ".join(f"{w}: {n}" for w, n in s.value_counts(sort=False).items())),
        )
        .reset_index()
    )
    grouped["IsPublic"] = grouped["IpScope"].map(lambda s: pd.NA if pd.isna(s) else s == PUBLIC)
    grouped["Note"] = grouped["IpScope"].map(scope_note)
    rank = {t: i for i, t in enumerate(IOC_TYPES)}
    grouped["_rank"] = grouped["IocType"].map(rank).fillna(len(rank))
    grouped = grouped.sort_values(["_rank", "Count", "Value"], ascending=[True, False, True], kind="stable")
    return conform(grouped, IOC_OVERVIEW)


def lookup_candidates(
    overview: pd.DataFrame, *, types: Sequence[str] | None = None, include_non_public: bool = False
) -> list[tuple[str, str]]:
    """(value, type) pairs worth a TI lookup: the chosen types, public addresses only unless asked."""
    wanted = overview if types is None else overview[overview["IocType"].isin(list(types))]
    if not include_non_public:
        wanted = wanted[wanted["IsPublic"].fillna(True).astype(bool)]
    return list(zip(wanted["Value"].astype(str), wanted["IocType"].astype(str), strict=True))


def ips_of_owners(geo: pd.DataFrame, owners: Sequence[str]) -> list[tuple[str, str]]:
    """(ip, type) for the addresses whose AS owner is one of ``owners``, in ``geo`` order."""
    picked = geo[geo["AsnOwner"].isin(list(owners))]
    return [(ip, IPV6 if ":" in ip else IPV4) for ip in picked["Ip"].astype(str)]


# --- TI results -------------------------------------------------------------------------------


def sort_results(results: pd.DataFrame) -> pd.DataFrame:
    """Hits first, most severe first, then IoC and provider (failed lookups stay, after hits)."""
    if results.empty:
        return results
    rank = results["Severity"].map(lambda s: _SEVERITY_RANK.get(str(s), len(_SEVERITY_RANK)))
    order = results.assign(_hit=~results["Result"].fillna(False).astype(bool), _rank=rank)
    order = order.sort_values(["_hit", "_rank", "Ioc", "Provider"], kind="stable")
    return order.drop(columns=["_hit", "_rank"]).reset_index(drop=True)


def worst_severity(results: pd.DataFrame) -> dict[str, str]:
    """IoC -> most severe verdict among the providers that reported it as bad."""
    hits = results[results["Result"].fillna(False).astype(bool)]
    out: dict[str, str] = {}
    for ioc, sev in zip(hits["Ioc"].astype(str), hits["Severity"].astype(str), strict=True):
        if ioc not in out or _SEVERITY_RANK.get(sev, 9) < _SEVERITY_RANK.get(out[ioc], 9):
            out[ioc] = sev
    return out


def _status_kind(status: str) -> str:
    if status == OK:
        return "ok"
    if status == NOT_FOUND:
        return "not_found"
    if status == RATE_LIMITED:
        return "rate_limited"
    if status.startswith("skipped"):
        return "skipped"
    return "error"


def provider_status(results: pd.DataFrame) -> pd.DataFrame:
    """Per provider: lookups, hits, not found, errors, rate limits, skips, a state and the main problem."""
    if results.empty:
        return PROVIDER_STATUS.empty()
    rows: list[dict[str, object]] = []
    for provider, group in results.groupby("Provider", sort=False):
        status = group["Status"].fillna("error: no status").astype(str)
        kinds = status.map(_status_kind)
        n = {k: int((kinds == k).sum()) for k in ("ok", "not_found", "rate_limited", "skipped", "error")}
        failed = n["error"] + n["rate_limited"]
        answered = n["ok"] + n["not_found"]
        problems = status[kinds.isin(["error", "rate_limited", "skipped"])]
        rows.append(
            {
                "Provider": provider,
                "Lookups": len(group),
                "Hits": int(group["Result"].fillna(False).astype(bool).sum()),
                "NotFound": n["not_found"],
                "Errors": n["error"],
                "RateLimited": n["rate_limited"],
                "Skipped": n["skipped"],
                "State": "ok" if not failed else ("failing" if not answered else "partly failing"),
                "Message": problems.value_counts().index[0] if len(problems) else "",
            }
        )
    return conform(pd.DataFrame(rows), PROVIDER_STATUS)


_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_text(frame: pd.DataFrame) -> str:
    """CSV for download; log text that a spreadsheet would run as a formula is prefixed with ``'``."""

    from hunting.csvsafe import safe_csv  # the one CSV rule: formulas and bare CRs

    return safe_csv(frame)
