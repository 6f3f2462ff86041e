"""Azure Log Analytics / Microsoft Sentinel: the same Source, answered by KQL.

Every method renders one constant template from ``queries/kql/`` (values only in
its ``let`` prelude, see :mod:`hunting.queries.kql_render`), runs it with
``LogsQueryClient.query_workspace`` and conforms the answer to :mod:`hunting.schema`,
so pages cannot tell this source from the local one. Parsing of logons, sudo,
cron and account changes happens in KQL, next to the data.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlparse

import pandas as pd
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.monitor.query import LogsQueryClient, LogsQueryPartialResult, LogsTable

from hunting.errors import QueryError, SourceUnavailable
from hunting.queries.kql_render import render_kql, validate_host, validate_table
from hunting.readers.base import FileAccount
from hunting.schema import (
    ACCOUNTS,
    ALERTS,
    AUDIT,
    CRON,
    FLOWS,
    HEARTBEAT,
    HOST_USERS,
    LOGONS,
    SUDO,
    SYSLOG,
    TEXT,
    Table,
    conform,
    to_utc,
)
from hunting.sources.base import HOSTS_COLUMNS, VOLUME_COLUMNS, VolumeKey
from hunting.timerange import TimeRange

log = logging.getLogger(__name__)

PUBLIC_ENDPOINT: Final = "https://api.loganalytics.io/v1"
DEFAULT_ROW_CAP: Final = 50_000
DEFAULT_SERVER_TIMEOUT: Final = 180  # seconds; the service allows up to 600
VOLUME_KEYS: Final = ("Facility", "SeverityLevel", "ProcessName")
# Logical table -> Log Analytics table. Keys are what ``table_names`` may override.
DEFAULT_TABLES: Final = {
    "Syslog": "Syslog",
    "SecurityAlert": "SecurityAlert",
    "Heartbeat": "Heartbeat",
    "AzureNetworkAnalytics_CL": "AzureNetworkAnalytics_CL",
    "AuditLog_CL": "AuditLog_CL",
}
VM_CONNECTION: Final = "VMConnection"  # VM insights' connection table (a fixed Azure table name)
_AUDIT_PATTERN = re.compile(r"audit", re.IGNORECASE)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _cell(kind: str, value: object) -> object:
    """One cell as Python, by the column's declared Kusto type."""
    if value is None:
        return None
    if kind in ("timespan", "guid") and value == "None":  # the SDK's str(None)
        return None
    if kind == "dynamic" and not isinstance(value, str):
        return json.dumps(value)
    return value


def table_frame(table: LogsTable) -> pd.DataFrame:
    """A LogsTable as a DataFrame, each column converted by its declared type."""
    names = list(table.columns)
    kinds = list(table.columns_types)
    rows = [[_cell(k, v) for k, v in zip(kinds, row, strict=False)] for row in table.rows]
    df = pd.DataFrame(rows, columns=names, dtype=object)
    for name, kind in zip(names, kinds, strict=True):
        col = df[name]
        if kind == "datetime":
            df[name] = to_utc(col)
        elif kind in ("int", "long"):
            df[name] = pd.to_numeric(col, errors="coerce").astype("Int64")
        elif kind in ("real", "decimal"):
            df[name] = pd.to_numeric(col, errors="coerce").astype("Float64")
        elif kind == "bool":
            df[name] = col.astype("boolean")
        else:
            df[name] = col.astype("string")
    return df


def _empty_text_to_na(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """KQL strings are never null: a parsed field that is absent arrives as "".

    The local parsers give NA there, so derived tables map "" back to NA.
    """
    for col, kind in table.columns:
        if kind == TEXT:
            df[col] = df[col].mask(df[col] == "")
    return df


class LogAnalyticsSource:
    """Hunting in a Log Analytics workspace (Microsoft Sentinel or plain Azure Monitor)."""

    def __init__(
        self,
        workspace_id: str,
        credential: TokenCredential,
        *,
        endpoint: str | None = None,
        server_timeout: int = DEFAULT_SERVER_TIMEOUT,
        row_cap: int = DEFAULT_ROW_CAP,
        table_names: Mapping[str, str] | None = None,
        audit_table: str | None = None,
        name: str | None = None,
        tables_lookback: timedelta = timedelta(days=7),
        retries: int = 3,
        read_timeout: float | None = None,
    ) -> None:
        if not isinstance(workspace_id, str) or not _GUID.match(workspace_id):
            raise SourceUnavailable(
                "the workspace id must be a GUID (Log Analytics workspace → Overview → Workspace ID)"
            )
        if not 1 <= row_cap <= 500_000:
            raise ValueError(f"row_cap must be between 1 and 500000, not {row_cap}")
        if not 1 <= server_timeout <= 600:
            raise ValueError(f"server_timeout must be between 1 and 600 seconds, not {server_timeout}")
        self.workspace_id = workspace_id
        self.endpoint = (endpoint or PUBLIC_ENDPOINT).rstrip("/")
        url = urlparse(self.endpoint)
        self._call_options: dict[str, Any] = {}
        if url.scheme == "http" and _loopback(url.hostname):
            self._call_options["enforce_https"] = False  # a local fake; a token never leaves the machine
        elif url.scheme != "https":
            raise SourceUnavailable(
                f"endpoint {self.endpoint!r} is not https: a token is only sent over TLS "
                "(for example https://api.loganalytics.azure.cn/v1)"
            )
        if read_timeout is not None:
            self._call_options["read_timeout"] = read_timeout
        self.server_timeout = server_timeout
        self.row_cap = row_cap
        unknown = set(table_names or {}) - set(DEFAULT_TABLES)
        if unknown:
            raise ValueError(f"unknown table keys {sorted(unknown)}; use {sorted(DEFAULT_TABLES)}")
        self.table_names = {
            k: validate_table(v) for k, v in {**DEFAULT_TABLES, **(table_names or {})}.items()
        }
        self._audit_table = validate_table(audit_table) if audit_table else None
        if audit_table:
            self.table_names["AuditLog_CL"] = self._audit_table  # type: ignore[assignment]
        self.tables_lookback = tables_lookback
        self.name = name or f"Log Analytics {workspace_id[:8]}…"
        self._present: set[str] | None = None
        self._client = LogsQueryClient(credential, endpoint=self.endpoint, retry_total=retries)

    def __repr__(self) -> str:
        return f"LogAnalyticsSource(workspace_id={self.workspace_id!r}, endpoint={self.endpoint!r})"

    # --- running queries -------------------------------------------------------------

    def _query(self, template: str, tr: TimeRange | None, **params: object) -> pd.DataFrame:
        """Run a template; the frame carries ``attrs["partial"]`` when the service said so."""
        return self._run(template, render_kql(template, **params), tr)

    def _run(self, template: str, text: str, tr: TimeRange | None) -> pd.DataFrame:
        """Run query ``text`` (``template`` names it in messages): a rendered template, or a
        Sigma rule's query from :meth:`sigma_rows`."""
        timespan = (tr.start, tr.end) if tr else None
        log.debug("Log Analytics query %s", template)  # never the workspace id
        try:
            result = self._client.query_workspace(
                self.workspace_id,
                text,
                timespan=timespan,
                server_timeout=self.server_timeout,
                **self._call_options,
            )
        except ClientAuthenticationError as exc:
            raise SourceUnavailable(
                "could not sign in to Azure for Log Analytics: "
                f"{_first_line(exc)}. Sign in again (az login, or the browser/device code prompt), "
                "or check the tenant id, client id and client secret in the settings."
            ) from None
        except HttpResponseError as exc:
            raise self._http_error(exc, template) from None
        except ServiceResponseError:
            raise QueryError(
                f"Log Analytics did not answer the {template} query in time: "
                "narrow the time range or try again later."
            ) from None
        except ServiceRequestError as exc:
            raise SourceUnavailable(
                f"cannot reach Log Analytics at {self.endpoint}: {_first_line(exc)}. "
                "Check the network, proxy and the endpoint setting for your cloud."
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # A proxy's HTML page or a malformed body: the client fails while decoding.
            raise QueryError(
                f"Log Analytics sent an answer to the {template} query that is not a query result "
                f"({type(exc).__name__}); a proxy or gateway may be in the way."
            ) from None
        try:
            if isinstance(result, LogsQueryPartialResult):
                tables = result.partial_data or []
                note = _partial_note(result.partial_error)
                df = table_frame(tables[0]) if tables else pd.DataFrame()
                df.attrs["partial"] = note
                return df
            return table_frame(result.tables[0]) if result.tables else pd.DataFrame()
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise QueryError(
                f"Log Analytics answered the {template} query with a table that cannot be read "
                f"({type(exc).__name__})."
            ) from None

    def _http_error(self, exc: HttpResponseError, template: str) -> Exception:
        status = exc.status_code
        detail = _first_line(exc)
        if status == 401:
            return SourceUnavailable(
                f"Log Analytics refused the sign-in (HTTP 401): {detail}. Sign in again or check the tenant."
            )
        if status == 403:
            return SourceUnavailable(
                f"no permission to read workspace {self.workspace_id} (HTTP 403). Ask for the "
                "'Log Analytics Reader' (or 'Microsoft Sentinel Reader') role on the workspace."
            )
        if status == 404:
            return SourceUnavailable(
                f"workspace {self.workspace_id} was not found at {self.endpoint} (HTTP 404): check the "
                "workspace id and the endpoint for your cloud."
            )
        if status == 429:
            return QueryError(
                "Log Analytics is throttling requests (HTTP 429): wait a minute and retry, "
                "or narrow the time range."
            )
        if status in (408, 504) or "timeout" in detail.lower():
            return QueryError(
                f"the {template} query timed out (HTTP {status}): narrow the time range or the host, "
                f"or raise the server timeout (now {self.server_timeout} s, at most 600)."
            )
        if status == 400:
            return QueryError(f"Log Analytics rejected the {template} query (HTTP 400): {detail}")
        return QueryError(f"Log Analytics failed on the {template} query (HTTP {status}): {detail}")

    def _rows(self, template: str, table: Table, tr: TimeRange, cap: int, **params: object) -> pd.DataFrame:
        """A capped row query: one row more than ``cap`` is asked for to know it was reached."""
        df = self._query(template, tr, start=tr.start, end=tr.end, row_cap=cap + 1, **params)
        partial = df.attrs.get("partial")
        truncated = len(df) > cap
        out = conform(df.iloc[:cap], table)
        if table in (LOGONS, SUDO, CRON, ACCOUNTS):
            out = _empty_text_to_na(out, table)
        if truncated:
            out.attrs["truncated"] = f"only the first {cap:,} rows are shown; narrow the time range"
        if partial:
            out.attrs["partial"] = partial
        return out

    def _host_rows(self, template: str, table: Table, host: str, tr: TimeRange, key: str) -> pd.DataFrame:
        if not host:
            return table.empty()
        return self._rows(
            template, table, tr, self.row_cap, host=validate_host(host), **{key: self.table_names[_KEYS[key]]}
        )

    # --- the Source protocol ---------------------------------------------------------

    def tables(self) -> set[str]:
        now = datetime.now(UTC)
        since = now - self.tables_lookback
        df = self._query(
            "tables",
            TimeRange(since, now + timedelta(minutes=5)),
            syslog_table=self.table_names["Syslog"],
            alert_table=self.table_names["SecurityAlert"],
            heartbeat_table=self.table_names["Heartbeat"],
            flow_table=self.table_names["AzureNetworkAnalytics_CL"],
            since=since,
        )
        found = set(df["SourceTable"].dropna().astype(str)) if "SourceTable" in df.columns else set()
        self._present = found
        present: set[str] = set()
        if self.table_names["Syslog"] in found:
            present |= {SYSLOG.name, LOGONS.name, SUDO.name, CRON.name, ACCOUNTS.name}
        if self.table_names["SecurityAlert"] in found:
            present.add(ALERTS.name)
        if self.table_names["Heartbeat"] in found:
            present.add(HEARTBEAT.name)
        if self.table_names["AzureNetworkAnalytics_CL"] in found or VM_CONNECTION in found:
            present.add(FLOWS.name)
        audit = self._find_audit_table(found)
        if audit:  # its user records give logons, sudo and account changes too
            present |= {AUDIT.name, LOGONS.name, SUDO.name, ACCOUNTS.name}
        return present

    def _find_audit_table(self, found: set[str]) -> str | None:
        """The configured audit table, else AuditLog_CL, else the first ``*audit*_CL`` table."""
        if self._audit_table:
            return self._audit_table if self._audit_table in found else None
        if self.table_names["AuditLog_CL"] in found:
            return self.table_names["AuditLog_CL"]
        for name in sorted(found):
            if name.endswith("_CL") and _AUDIT_PATTERN.search(name):
                self.table_names["AuditLog_CL"] = name
                return name
        return None

    def hosts(self, contains: str = "", tr: TimeRange | None = None) -> pd.DataFrame:
        start, end = (tr.start, tr.end) if tr else (_EPOCH, datetime.now(UTC) + timedelta(days=1))
        df = self._query(
            "hosts",
            tr,
            syslog_table=self.table_names["Syslog"],
            audit_table=self.table_names["AuditLog_CL"],
            alert_table=self.table_names["SecurityAlert"],
            heartbeat_table=self.table_names["Heartbeat"],
            flow_table=self.table_names["AzureNetworkAnalytics_CL"],
            name_contains=contains or "",
            start=start,
            end=end,
            row_cap=self.row_cap + 1,
        )
        df = df.iloc[: self.row_cap + 1]
        out = pd.DataFrame(index=df.index)
        for col in HOSTS_COLUMNS:
            values = df[col] if col in df.columns else pd.Series(pd.NA, index=df.index)
            if col == "Computer":
                out[col] = values.astype("string")
            elif col in ("FirstSeen", "LastSeen"):
                out[col] = to_utc(values)
            else:
                out[col] = pd.to_numeric(values, errors="coerce").astype("Int64")
        out = out.iloc[: self.row_cap].reset_index(drop=True)
        if len(df) > self.row_cap:
            out.attrs["truncated"] = f"only the first {self.row_cap:,} hosts are shown; type part of a name"
        if "partial" in df.attrs:
            out.attrs["partial"] = df.attrs["partial"]
        return out

    def syslog(self, host: str, tr: TimeRange, *, limit: int | None = None) -> pd.DataFrame:
        if not host:
            return SYSLOG.empty()
        cap = min(limit or self.row_cap, self.row_cap)
        return self._rows(
            "syslog", SYSLOG, tr, cap, host=validate_host(host), syslog_table=self.table_names["Syslog"]
        )

    def syslog_volume(self, host: str, tr: TimeRange, *, bucket_seconds: int, by: VolumeKey) -> pd.DataFrame:
        if by not in VOLUME_KEYS:
            raise QueryError(f"cannot count messages by {by!r}; choose one of {', '.join(VOLUME_KEYS)}")
        if isinstance(bucket_seconds, bool) or not isinstance(bucket_seconds, int) or bucket_seconds <= 0:
            raise QueryError("time bucket must be a positive whole number of seconds")
        empty = pd.DataFrame(
            {
                "TimeGenerated": pd.Series(dtype="datetime64[ns, UTC]"),
                "Key": pd.Series(dtype="string"),
                "Count": pd.Series(dtype="Int64"),
            }
        )
        if not host:
            return empty
        df = self._query(
            "syslog_volume",
            tr,
            syslog_table=self.table_names["Syslog"],
            host=validate_host(host),
            start=tr.start,
            end=tr.end,
            bucket=timedelta(seconds=bucket_seconds),
            volume_key=by,
            row_cap=self.row_cap + 1,
        )
        out = (
            empty
            if df.empty and "Key" not in df.columns
            else pd.DataFrame(
                {
                    "TimeGenerated": to_utc(df["TimeGenerated"]),
                    "Key": df["Key"].astype("string"),
                    "Count": pd.to_numeric(df["Count"], errors="coerce").astype("Int64"),
                }
            )
        )
        out = out[VOLUME_COLUMNS].iloc[: self.row_cap].reset_index(drop=True)
        if len(df) > self.row_cap:
            out.attrs["truncated"] = f"only the first {self.row_cap:,} buckets are shown; use larger buckets"
        if "partial" in df.attrs:
            out.attrs["partial"] = df.attrs["partial"]
        return out

    def logon_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._with_audit_user_events(
            self._syslog_derived("logon_events", LOGONS, host, tr), LOGONS, host, tr
        )

    def sudo_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._with_audit_user_events(
            self._syslog_derived("sudo_events", SUDO, host, tr), SUDO, host, tr
        )

    def cron_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._host_rows("cron_events", CRON, host, tr, "syslog_table")

    def account_changes(self, host: str, tr: TimeRange) -> pd.DataFrame:
        rows = self._syslog_derived("account_changes", ACCOUNTS, host, tr)
        return self._with_audit_user_events(rows, ACCOUNTS, host, tr)

    def _syslog_derived(self, template: str, table: Table, host: str, tr: TimeRange) -> pd.DataFrame:
        """A derived table's syslog part; empty, unasked, when the workspace is known to lack Syslog."""
        if self._present is not None and self.table_names["Syslog"] not in self._present:
            return table.empty()
        return self._host_rows(template, table, host, tr, "syslog_table")

    def audit_user_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        """The audit table's user, account and PAM records (``audit_user_events.kql``) as AuditEvents rows.

        Asked only once the workspace's tables are known (``tables()``, which the app runs
        first) or an audit table was named: a workspace without one is never asked for it.
        """
        from hunting.analysis.audit_events import PARSER_RECORDS

        if not host:
            return AUDIT.empty()
        validate_host(host)
        if self._audit_table is None and self._present is None:
            return AUDIT.empty()
        if self._present is not None and self._find_audit_table(self._present) is None:
            return AUDIT.empty()
        out = self._rows(
            "audit_user_events", AUDIT, tr, self.row_cap, host=host,
            audit_table=self.table_names["AuditLog_CL"], record_types=list(PARSER_RECORDS),
        )  # fmt: skip
        return _empty_text_to_na(out, AUDIT)

    def _with_audit_user_events(
        self, rows: pd.DataFrame, table: Table, host: str, tr: TimeRange
    ) -> pd.DataFrame:
        """Syslog-derived ``rows`` plus the same table from audit records, one row per event."""
        from hunting.analysis.events import with_audit_events

        audit = self.audit_user_events(host, tr)
        if audit.empty:
            return rows
        out = with_audit_events(table.name, rows, audit)
        for key in ("truncated", "partial"):
            notes = [f.attrs[key] for f in (rows, audit) if f.attrs.get(key)]
            if notes:
                out.attrs[key] = "; ".join(dict.fromkeys(notes))
        return out

    def audit_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        if not host:
            return AUDIT.empty()
        validate_host(host)  # before the table look-up: a bad name never reaches the service
        if self._audit_table is None and self._present is None:
            self.tables()  # find the audit table once: AuditLog_CL or a *audit*_CL custom log
        if self._present is not None and self._find_audit_table(self._present) is None:
            out = AUDIT.empty()
            out.attrs["missing"] = (
                "this workspace has no audit table (AuditLog_CL or a *audit*_CL custom log)"
            )
        else:
            out = self._host_rows("audit_events", AUDIT, host, tr, "audit_table")
        return self._with_agent_events(out, host, tr)

    def _with_agent_events(self, audit: pd.DataFrame, host: str, tr: TimeRange) -> pd.DataFrame:
        """``audit`` plus the AUOMS / Sysmon for Linux events of the Syslog table (when it is present)."""
        if self._present is not None and self.table_names["Syslog"] not in self._present:
            return audit
        agents = self.agent_audit_events(host, tr)
        if agents.empty:
            return audit
        out = conform(pd.concat([audit, agents], ignore_index=True), AUDIT) if len(audit) else agents
        for key in ("truncated", "partial"):
            notes = [f.attrs[key] for f in (audit, agents) if f.attrs.get(key)]
            if notes:
                out.attrs[key] = "; ".join(dict.fromkeys(notes))
        return out

    def agent_audit_events(self, host: str, tr: TimeRange) -> pd.DataFrame:
        """AUOMS records and Sysmon for Linux process creations stored in Syslog, as AuditEvents rows.

        Rendered from ``agent_process_events.kql``; read locally by hunting.readers.agents.
        """
        if not host:
            return AUDIT.empty()
        out = self._host_rows("agent_process_events", AUDIT, host, tr, "syslog_table")
        return _empty_text_to_na(out, AUDIT)

    def vm_connection_flows(self, host: str, tr: TimeRange) -> pd.DataFrame:
        """VM insights' VMConnection rows of one computer as NetworkFlows (``vm_connection_flows.kql``)."""
        if not host:
            return FLOWS.empty()
        out = self._rows("vm_connection_flows", FLOWS, tr, self.row_cap, host=validate_host(host))
        return _empty_text_to_na(out, FLOWS)

    def alerts(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._host_rows("alerts", ALERTS, host, tr, "alert_table")

    def heartbeat(self, host: str, tr: TimeRange) -> pd.DataFrame:
        return self._host_rows("heartbeat", HEARTBEAT, host, tr, "heartbeat_table")

    def network_flows(self, host: str, tr: TimeRange) -> pd.DataFrame:
        """Traffic Analytics flows (``network_flows.kql``) and VM insights' VMConnection rows, by time.

        VMConnection is asked only once the workspace's tables are known (``tables()``, which
        the app runs first) and hold it; Traffic Analytics unless they are known to lack it.
        """
        if not host:
            return FLOWS.empty()
        validate_host(host)
        known = self._present
        parts = []
        if known is None or self.table_names["AzureNetworkAnalytics_CL"] in known:
            parts.append(self._host_rows("network_flows", FLOWS, host, tr, "flow_table"))
        if known is not None and VM_CONNECTION in known:
            parts.append(self.vm_connection_flows(host, tr))
        if not parts:
            return FLOWS.empty()
        if len(parts) == 1:
            return parts[0]
        nonempty = [f for f in parts if len(f)]
        out = (
            conform(pd.concat(nonempty, ignore_index=True), FLOWS).sort_values("TimeGenerated", kind="stable")
            if nonempty
            else FLOWS.empty()
        )
        out = out.reset_index(drop=True)
        for key in ("truncated", "partial"):
            notes = [f.attrs[key] for f in parts if f.attrs.get(key)]
            if notes:
                out.attrs[key] = "; ".join(dict.fromkeys(notes))
        return out

    def sigma_rows(self, kql: str, tr: TimeRange) -> pd.DataFrame:
        """Syslog rows matching one Sigma rule, from :meth:`hunting.sigma.kql.KqlRule.query` (the
        condition from a trusted rule file; host and range as typed ``let`` literals there)."""
        if not kql.startswith("// hunting:sigma\n"):
            raise QueryError("not a Sigma rule query built by hunting.sigma.kql")
        return conform(self._run("Sigma rule", kql, tr), SYSLOG)

    def host_users(self, host: str) -> pd.DataFrame:
        """Empty: a workspace holds no passwd data (account names come from the logs themselves)."""
        return HOST_USERS.empty()

    def ingest_report(self) -> list[FileAccount]:
        return []


_KEYS: Final = {
    "syslog_table": "Syslog",
    "alert_table": "SecurityAlert",
    "heartbeat_table": "Heartbeat",
    "flow_table": "AzureNetworkAnalytics_CL",
    "audit_table": "AuditLog_CL",
}


def _first_line(exc: BaseException) -> str:
    """The first line of an SDK error, short: enough to act on, no request dump."""
    text = str(getattr(exc, "message", None) or exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line[:300]


def _partial_note(err: object) -> str:
    """ "code: message" for a partial result; the reason sits in the innermost detail.

    The service's top-level message is the generic "There were some errors when
    processing your query."; details[].innererror says which limit was hit.
    """
    code = str(getattr(err, "code", "") or "PartialError")
    message = str(getattr(err, "message", "") or "partial result")
    for detail in getattr(err, "details", None) or []:
        inner = detail
        while isinstance(inner, Mapping) and isinstance(inner.get("innererror"), Mapping):
            inner = inner["innererror"]
        if isinstance(inner, Mapping) and inner.get("message"):
            message = str(inner["message"])
            break
    return f"{code}: {message}"
