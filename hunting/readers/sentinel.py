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
from collections.abc import Callable

import pandas as pd

from hunting.readers.base import FileAccount, ReadOptions, ReadResult
from hunting.schema import ALERTS, AUDIT, FLOWS, HEARTBEAT, SYSLOG, Table, conform, to_utc

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


def _which_table(columns: set[str]) -> Table | None:
    cols = {c[:-2] if c[-2:] in _SUFFIXES else c for c in columns}
    if "SyslogMessage" in cols:
        return SYSLOG
    if "AuditdMessage" in cols:
        return AUDIT
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


def _list_text(value: object) -> str:
    """PublicIPs arrive as "['1.2.3.4', ...]" (a Python literal from pandas) or JSON."""
    if not isinstance(value, str) or not value.startswith("["):
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
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


def _prepare_flows(df: pd.DataFrame) -> pd.DataFrame:
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
            return "TimeGenerated" in first or any("TimeGenerated" in h for h in head[:5])
        try:
            header = next(csv.reader([first]))
        except csv.Error:
            return False
        return "TimeGenerated" in header and _which_table(set(header)) is not None

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
        df = _strip_suffixes(df)
        table = _which_table(set(df.columns))
        if table is None:
            account.error = "columns match no known Sentinel table"
            for i in range(len(df)):  # records not already counted as unparsed
                account.reject(i + 1, "unknown table", "")
            return ReadResult(tables={}, account=account)
        account.format += f":{table.name}"
        if table is AUDIT:
            from hunting.readers import auditd  # the AuditLog_CL shape is the audit reader's job

            events, counts = auditd.audit_events_from_auditlog_cl(df)
            account.parsed += counts.parsed
            account.unparsed += counts.unparsed
            account.reasons.update(counts.reasons)
            account.examples.extend(counts.examples)
            out = conform(events, AUDIT)
        else:
            df = _PREPARE.get(table.name, lambda d: d)(df)
            times = to_utc(df["TimeGenerated"]) if "TimeGenerated" in df.columns else None
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
            items = (
                doc
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
        df = pd.DataFrame(rows)
        for col in df.columns:
            if df[col].map(lambda v: isinstance(v, (dict, list))).any():
                df[col] = df[col].map(lambda v: json.dumps(v) if isinstance(v, (dict, list)) else v)
        return df


SENTINEL_READER = SentinelExportReader()
