"""Exports of Sentinel tables (CSV or JSON), as the portal, msticpy or az CLI write them.

The table is recognised from the columns, not the file name. Accounting here is
per record rather than per physical line: an alert's Entities field spans many
lines inside one quoted CSV field.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from collections.abc import Callable

import pandas as pd

from hunting.readers.base import FileAccount, ReadOptions, ReadResult
from hunting.schema import ALERTS, AUDIT, FLOWS, HEARTBEAT, SYSLOG, TIME, Table, conform, to_utc

# Alert Entities fields can be large; the csv module's default limit is 128 KiB.
csv.field_size_limit(64 * 1024 * 1024)

# Log Analytics custom-log column suffixes (VMName_s, DestPort_d, FlowStartTime_t ...).
_SUFFIXES = ("_s", "_d", "_t", "_b", "_g")


def _strip_suffixes(df: pd.DataFrame) -> pd.DataFrame:
    renames = {}
    for col in df.columns:
        for suf in _SUFFIXES:
            if col.endswith(suf) and col[: -len(suf)] not in df.columns:
                renames[col] = col[: -len(suf)]
    return df.rename(columns=renames)


# The portal's CSV export writes the zone after time column names: "TimeGenerated [UTC]",
# "TimeGenerated [Local Time]", "TimeGenerated [UTC+02:00]".
_ZONE_HEADER = re.compile(r"^(?P<name>.*?\S)\s*\[(?P<zone>[^\[\]]{1,40})\]$")
_UTC_ZONE = re.compile(r"^(?:UTC|GMT|Z|UTC[+-]0{1,2}(?::?00)?)$", re.IGNORECASE)
_OFFSET_ZONE = re.compile(r"^(?:UTC|GMT)\s*(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$", re.IGNORECASE)
# Times as the browser's locale writes them: "7/28/2023, 8:07:14.552 PM", "28/07/2023 20:07:14",
# "28.07.2023 20:07", "2023-07-28 20:07:14". Day/month order is decided per column.
_LOCALE_TIME = (
    r"^\s*(?P<a>\d{1,4})(?P<sep>[/.\-])(?P<b>\d{1,2})[/.\-](?P<c>\d{2,4}),?\s+"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?\s*"
    r"(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?\s*$"
)


def _split_zone_headers(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Columns without their "[zone]" suffix, and {column: zone} for those that had one."""
    renames: dict[str, str] = {}
    zones: dict[str, str] = {}
    for col in df.columns:
        m = _ZONE_HEADER.match(str(col))
        if m and m.group("name") not in df.columns:
            renames[col] = m.group("name")
            zones[m.group("name")] = m.group("zone").strip()
    return df.rename(columns=renames), zones


def _zone_offset(zone: str) -> str | None:
    """ "+00:00" style offset for UTC or "UTC+02:00" zones; None for zones that name no offset."""
    if _UTC_ZONE.match(zone):
        return "+00:00"
    m = _OFFSET_ZONE.match(zone)
    if m:
        return f"{m.group('sign')}{int(m.group('h')):02d}:{m.group('m') or '00'}"
    return None


def parse_export_times(values: pd.Series, zone: str | None, default_tz: str) -> tuple[pd.Series, str]:
    """A time column of an export as UTC, and a note on what had to be assumed ("" if nothing).

    ``zone`` is the header's suffix ("UTC", "Local Time", ...) or None. Locale-formatted
    values (``7/28/2023, 8:07:14.552 PM``) are parsed here, day/month order decided from
    the whole column: a first number above 12 means day first, a second above 12 month
    first; when no value decides, month first is assumed for "/" (the portal's en-US
    default) and day first for "." and "-", and the note says so.
    """
    notes: list[str] = []
    offset = _zone_offset(zone) if zone else None
    tz = default_tz
    if zone and offset is None:
        notes.append(
            f"times marked [{zone}] were read in {default_tz} (set the time zone under Reading options)"
        )
    text = values.astype("string")
    parts = text.str.extract(_LOCALE_TIME)
    is_locale = parts["a"].notna()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if is_locale.any():
        p = parts.loc[is_locale]
        a = pd.to_numeric(p["a"]).astype("int64")
        b = pd.to_numeric(p["b"]).astype("int64")
        c = pd.to_numeric(p["c"]).astype("int64")
        ymd = p["a"].str.len() == 4
        day_first_votes = bool(((a > 12) & ~ymd).any())
        month_first_votes = bool(((b > 12) & ~ymd).any())
        if day_first_votes and month_first_votes:
            notes.append(
                "day/month order differs between rows: rows that contradict the first order are unread"
            )
        if day_first_votes:
            day_first = True
        elif month_first_votes:
            day_first = False
        else:
            seps = set(p.loc[~ymd, "sep"].dropna())
            day_first = bool(seps) and "/" not in seps
            if bool((~ymd).any()) and bool(((a <= 12) & (b <= 12) & (a != b) & ~ymd).any()):
                order = "day/month" if day_first else "month/day"
                notes.append(f"no date in the file decides day/month order: read as {order}")
        year = c.where(~ymd, a)
        year = year.where(year >= 100, year + 2000)
        month = b.where(ymd, b if day_first else a)
        day = c.where(ymd, a if day_first else b)
        hour = pd.to_numeric(p["H"]).astype("int64")
        ampm = p["ampm"].fillna("").str.upper().str.replace(r"[.\s]", "", regex=True)
        hour = hour.where(ampm != "PM", (hour % 12) + 12).where(ampm != "AM", hour % 12)
        frac = p["f"].fillna("").str.ljust(9, "0").str[:9]
        iso = (
            year.astype(str).str.zfill(4) + "-" + month.astype(str).str.zfill(2) + "-" + day.astype(str).str.zfill(2)
            + "T" + hour.astype(str).str.zfill(2) + ":" + p["M"] + ":" + p["S"].fillna("00") + "." + frac
        )  # fmt: skip
        naive = pd.to_datetime(iso, format="%Y-%m-%dT%H:%M:%S.%f", errors="coerce")
        if offset is not None:
            local = naive.dt.tz_localize(_fixed(offset))
        else:
            local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        out.loc[is_locale] = local.dt.tz_convert("UTC")
    rest = ~is_locale & values.notna()
    if rest.any():
        parsed = to_utc(values.loc[rest])
        if offset is not None or tz != "UTC":
            # offset-less ISO text in a "[Local Time]"/"[UTC+02:00]" column is in that zone
            naive_text = ~text.loc[rest].str.contains(r"(?:Z|[+-]\d{2}:?\d{2})\s*$", regex=True).fillna(False)
            if naive_text.any():
                base = pd.to_datetime(values.loc[rest][naive_text], errors="coerce", format="mixed")
                zone_of = _fixed(offset) if offset is not None else tz
                parsed.loc[naive_text] = base.dt.tz_localize(
                    zone_of, ambiguous="NaT", nonexistent="NaT"
                ).dt.tz_convert("UTC")
        out.loc[rest] = parsed
    return out, "; ".join(notes)


def _fixed(offset: str) -> object:
    from datetime import datetime as _dt

    return _dt.strptime(offset.replace(":", ""), "%z").tzinfo


def _rest_rows(doc: dict[str, object]) -> list[dict[str, object]] | None:
    """Rows of the query API's answer ``{"tables": [{"columns": [...], "rows": [[...]]}]}``."""
    tables = doc.get("tables")
    if not isinstance(tables, list):
        return None
    rows: list[dict[str, object]] = []
    for t in tables:
        if not isinstance(t, dict) or not isinstance(t.get("columns"), list):
            return None
        names = [str(c.get("name") if isinstance(c, dict) else c) for c in t["columns"]]
        for r in t.get("rows") or []:
            rows.append(dict(zip(names, r, strict=False)) if isinstance(r, list) else {"": r})
    return rows


# VM insights' VMConnection: one aggregated connection per row, read into NetworkFlows.
VMCONNECTION = "VMConnection"


def _which_table(columns: set[str]) -> Table | None:
    cols = {c[:-2] if c[-2:] in _SUFFIXES else c for c in columns}
    cols = {m.group("name") if (m := _ZONE_HEADER.match(c)) else c for c in cols}
    if "SyslogMessage" in cols:
        return SYSLOG
    if "AuditdMessage" in cols or "RawData" in cols:
        return AUDIT
    if {"DestinationPort", "LinksEstablished"} <= cols or {"RemoteIp", "Direction", "DestinationIp"} <= cols:
        return FLOWS
    if "AlertName" in cols or "AlertDisplayName" in cols:
        return ALERTS
    if "OSType" in cols and ("ComputerIP" in cols or "Computer" in cols):
        return HEARTBEAT
    if "FlowDirection" in cols or "L4Protocol" in cols:
        return FLOWS
    return None


def _host_from_entities(text: object) -> str:
    """The first host entity's name in an alert's Entities JSON (Sentinel's own shape)."""
    if not isinstance(text, str) or not text.strip():
        return ""
    try:
        entities = json.loads(text)
    except ValueError:
        return ""
    for ent in entities if isinstance(entities, list) else []:
        if isinstance(ent, dict) and str(ent.get("Type", "")).lower() == "host":
            name = ent.get("HostName") or ent.get("NetBiosName") or ""
            return str(name)
    return ""


def _list_text(value: object) -> str | None:
    """PublicIPs arrive as "['1.2.3.4', ...]" (a Python literal from pandas) or JSON."""
    if not isinstance(value, str) or not value.startswith("["):
        return None if value is None or pd.isna(value) else str(value)  # type: ignore[return-value]
    try:
        items = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value
    return ",".join(str(i) for i in items) if isinstance(items, list) else value


def _prepare_alerts(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    computer = df["Computer"] if "Computer" in df.columns else pd.Series("", index=df.index)
    if "CompromisedEntity" in df.columns:
        computer = computer.where(
            computer.notna() & (computer.astype("string") != ""), df["CompromisedEntity"]
        )
    if "Entities" in df.columns:
        from_entities = df["Entities"].map(_host_from_entities)
        computer = computer.where(computer.notna() & (computer.astype("string") != ""), from_entities)
    df["Computer"] = computer
    return df


def _prepare_vmconnection(df: pd.DataFrame) -> pd.DataFrame:
    """VMConnection rows as NetworkFlows: Direction outbound/inbound, Protocol tcp/udp.

    Each row sums one minute of connections between the same ends; the established
    (or, failing that, failed) link counts go to the allowed/denied flow counts.
    """
    out = pd.DataFrame(index=df.index)
    col = lambda name: df[name] if name in df.columns else pd.Series(pd.NA, index=df.index)  # noqa: E731
    out["TimeGenerated"] = df["TimeGenerated"]
    out["FlowStartTime"] = col("TimeGenerated")
    out["FlowEndTime"] = col("TimeGenerated")
    out["Computer"] = col("Computer")
    out["FlowType"] = "VMConnection"
    outbound = col("Direction").astype("string").str.lower().eq("outbound").fillna(False)
    out["SrcIP"] = col("SourceIp")
    out["DestIP"] = col("DestinationIp")
    out["VMIPAddress"] = out["SrcIP"].where(outbound, out["DestIP"])
    remote = col("RemoteIp").astype("string")
    out["PublicIPs"] = remote.where(remote.map(_is_global, na_action="ignore").fillna(False).astype(bool))
    proto = col("Protocol").astype("string").str.lower()
    out["L4Protocol"] = proto.map({"tcp": "T", "udp": "U"}).fillna(proto)
    out["DestPort"] = col("DestinationPort")
    out["FlowDirection"] = outbound.map({True: "O", False: "I"})
    links = pd.to_numeric(col("LinksEstablished"), errors="coerce").fillna(0).astype("int64")
    failed = pd.to_numeric(col("LinksFailed"), errors="coerce").fillna(0).astype("int64")
    out["AllowedOutFlows"] = links.where(outbound, 0)
    out["AllowedInFlows"] = links.where(~outbound, 0)
    out["DeniedOutFlows"] = failed.where(outbound, 0)
    out["DeniedInFlows"] = failed.where(~outbound, 0)
    return out


def _is_global(ip: object) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(str(ip)).is_global
    except ValueError:
        return False


def _prepare_flows(df: pd.DataFrame) -> pd.DataFrame:
    if "LinksEstablished" in df.columns or "RemoteIp" in df.columns:
        return _prepare_vmconnection(df)
    df = df.copy()
    if "Computer" not in df.columns and "VMName" in df.columns:
        df["Computer"] = df["VMName"]
    if "PublicIPs" in df.columns:
        df["PublicIPs"] = df["PublicIPs"].map(_list_text)
    return df


def _prepare_heartbeat(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("OSMajorVersion", "OSMinorVersion"):
        if col in df.columns:
            # "04" must stay "04": the CSV was read as text.
            df[col] = df[col].astype("string")
    return df


_PREPARE: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    ALERTS.name: _prepare_alerts,
    FLOWS.name: _prepare_flows,
    HEARTBEAT.name: _prepare_heartbeat,
}


class SentinelExportReader:
    """CSV or JSON exports of Syslog, SecurityAlert, Heartbeat, AuditLog_CL, AzureNetworkAnalytics_CL."""

    format = "sentinel-export"

    def sniff(self, head: list[str]) -> bool:
        if not head:
            return False
        first = head[0].lstrip("\ufeff").strip()
        if first.startswith(("[", "{")):
            return any("TimeGenerated" in h for h in head)
        try:
            header = next(csv.reader([first]))
        except csv.Error:
            return False
        names = {m.group("name") if (m := _ZONE_HEADER.match(h.strip())) else h.strip() for h in header}
        return "TimeGenerated" in names and _which_table(names) is not None

    def read(self, data: bytes, path: str, mtime: float, options: ReadOptions) -> ReadResult:
        account = FileAccount(path=path, format=self.format)
        text = data.decode("utf-8-sig", errors="replace")
        stripped = text.lstrip()
        if stripped.startswith(("[", "{")):
            df = self._read_json(stripped, account)
            account.format = "sentinel-export-json"
        else:
            df = self._read_csv(text, account)
            account.format = "sentinel-export-csv"
        if df is None:
            return ReadResult(tables={}, account=account)
        df = df.drop(
            columns=[c for c in df.columns if not c or str(c).startswith("Unnamed")], errors="ignore"
        )
        df, zones = _split_zone_headers(df)
        df = _strip_suffixes(df)
        table = _which_table(set(df.columns))
        if table is None:
            account.error = "columns match no known Sentinel table"
            for i in range(len(df)):  # records not already counted as unparsed
                account.reject(i + 1, "unknown table", "")
            return ReadResult(tables={}, account=account)
        account.format += f":{table.name}"
        notes = self._convert_times(df, table, zones, options)
        if notes:
            account.notes.append(notes)
        if table is AUDIT and "AuditdMessage" not in df.columns:
            out = self._audit_rawdata(df, account)
        elif table is AUDIT:
            from hunting.readers import auditd  # the AuditLog_CL shape is the audit reader's job

            events, counts = auditd.audit_events_from_auditlog_cl(df)
            account.parsed += counts.parsed
            account.unparsed += counts.unparsed
            account.reasons.update(counts.reasons)
            account.examples.extend(counts.examples)
            out = conform(events, AUDIT)
        else:
            df = _PREPARE.get(table.name, lambda d: d)(df)
            times = df["TimeGenerated"] if "TimeGenerated" in df.columns else None
            if times is None:
                account.error = "no TimeGenerated column"
                for i in range(len(df)):
                    account.reject(i + 1, "no TimeGenerated", "")
                return ReadResult(tables={}, account=account)
            bad = times.isna()
            for i in bad[bad].index[:1000]:
                account.reject(int(i) + 2, "bad TimeGenerated", str(df.loc[i, "TimeGenerated"]))
            if bad.sum() > 1000:  # count the rest without keeping examples
                extra = int(bad.sum()) - 1000
                account.unparsed += extra
                account.reasons["bad TimeGenerated"] += extra
            df = df.loc[~bad].copy()
            df["TimeGenerated"] = times[~bad]
            out = conform(df, table)
            account.parsed += len(out)
        account.rows[table.name] = len(out)
        if len(out):
            account.first_time = out["TimeGenerated"].min().to_pydatetime()
            account.last_time = out["TimeGenerated"].max().to_pydatetime()
        return ReadResult(tables={table.name: out}, account=account)

    @staticmethod
    def _convert_times(df: pd.DataFrame, table: Table, zones: dict[str, str], options: ReadOptions) -> str:
        """Parse the table's time columns in place (locale formats, header zones); notes to report."""
        notes: list[str] = []
        time_cols = {c for c, kind in table.columns if kind == TIME} | set(zones) | {"TimeGenerated"}
        for col in sorted(c for c in time_cols if c in df.columns):
            if isinstance(df[col].dtype, pd.DatetimeTZDtype):
                continue
            times, note = parse_export_times(df[col], zones.get(col), options.tz)
            df[col] = times
            if note and note not in notes:
                notes.append(note)
        return "; ".join(notes)

    def _audit_rawdata(self, df: pd.DataFrame, account: FileAccount) -> pd.DataFrame:
        """A custom audit table with one record per row in RawData: AUOMS records or audit.log lines."""
        from hunting.readers import auditd, auoms

        raw = df["RawData"].astype("string").fillna("")
        computers = (
            df["Computer"].astype("string").fillna("")
            if "Computer" in df.columns
            else pd.Series("", index=df.index)
        )
        is_auoms = raw.str.contains(r"^\s*(?:node=\S+\s+)?type=\S+\s+audit\(", regex=True)
        frames: list[pd.DataFrame] = []
        if is_auoms.any():
            events, counts = auoms.audit_events_from_messages(
                raw[is_auoms].tolist(), computers[is_auoms].tolist()
            )
            positions = list(is_auoms[is_auoms].index)
            account.parsed += counts.parsed
            for i, text in counts.unparsed:
                account.reject(int(positions[i - 1]) + 2, "not an AUOMS record", text)
            frames.append(events)
        rest = ~is_auoms
        for host in computers[rest].unique():
            sel = rest & (computers == host)
            data = "\n".join(raw[sel].tolist()).encode()
            res = auditd.parse_audit(data, account.path, 0.0, ReadOptions(), host=str(host))
            account.parsed += res.account.parsed
            account.unparsed += res.account.unparsed
            account.reasons.update(res.account.reasons)
            account.examples.extend(res.account.examples[:5])
            frames.extend(res.tables.values())
        frames = [f for f in frames if len(f)]
        return conform(pd.concat(frames, ignore_index=True), AUDIT) if frames else AUDIT.empty()

    def _read_csv(self, text: str, account: FileAccount) -> pd.DataFrame | None:
        try:
            records = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:  # e.g. a NUL byte: say so, counting every line
            account.error = f"CSV cannot be read: {exc}"
            lines = text.split("\n")
            account.lines = max(len(lines) - 1, 0)
            for i, line in enumerate(lines[1:], start=2):
                if i - 1 <= account.lines:
                    account.reject(i, "unreadable CSV", line)
            return None
        if not records:
            return None
        width = len(records[0])
        account.lines = len(records) - 1
        bad = [i for i, r in enumerate(records[1:], start=2) if len(r) != width]
        for i in bad:
            account.reject(i, f"expected {width} fields", ",".join(records[i - 1])[:300])
        good = [r for r in records[1:] if len(r) == width]
        return pd.DataFrame(good, columns=records[0], dtype="string").replace({"": pd.NA})

    def _read_json(self, text: str, account: FileAccount) -> pd.DataFrame | None:
        rows: list[dict[str, object]] = []
        try:
            doc = json.loads(text)
            rest = _rest_rows(doc) if isinstance(doc, dict) else None
            items = (
                rest
                if rest is not None
                else doc
                if isinstance(doc, list)
                else (doc.get("value") or doc.get("rows") or [doc])
                if isinstance(doc, dict)
                else [doc]
            )
            if not isinstance(items, list):
                items = [items]
            account.lines = len(items)
            for i, item in enumerate(items, start=1):
                if isinstance(item, dict):
                    rows.append(item)
                else:
                    account.reject(i, "not a JSON object", json.dumps(item)[:300])
        except ValueError:
            lines = [ln for ln in text.splitlines() if ln.strip()]
            account.lines = len(lines)
            for i, line in enumerate(lines, start=1):
                try:
                    item = json.loads(line)
                except ValueError:
                    account.reject(i, "invalid JSON", line)
                    continue
                if isinstance(item, dict):
                    rows.append(item)
                else:
                    account.reject(i, "not a JSON object", line)
        if not rows:
            return None
        df = pd.DataFrame(rows).drop(columns=["TableName"], errors="ignore")  # az CLI adds it to every row
        df = df.replace({"": pd.NA})  # Kusto strings are never null: "" is an absent value, as in CSV
        for col in df.columns:
            if df[col].map(lambda v: isinstance(v, (dict, list))).any():
                df[col] = df[col].map(lambda v: json.dumps(v) if isinstance(v, (dict, list)) else v)
        return df


SENTINEL_READER = SentinelExportReader()
