"""A fake Log Analytics query endpoint on 127.0.0.1 for LogsQueryClient.

It executes nothing: each request is recognised by the ``// hunting:<template>``
marker line that :func:`hunting.queries.kql_render.render_kql` writes first, and
answered with the canned table (or error) registered for that template. Requests
are recorded so tests can look at the query text, timespan and headers.

Wire format as the service speaks it: ``POST /v1/workspaces/{id}/query`` with JSON
``{"query", "timespan"}``; the answer ``{"tables": [{"name": "PrimaryResult",
"columns": [{"name", "type"}], "rows": [[...]]}]}``, plus ``"error"`` for a
partial result; errors as ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken

TOKEN = "fake-la-token"
_MARKER = re.compile(r"^// hunting:([a-z][a-z0-9_]*)\n")
_PATH = re.compile(r"^/v1/workspaces/([^/?]+)/query$")

Columns = list[tuple[str, str]]
EMPTY_BY_DEFAULT = ("agent_process_events", "audit_user_events")


class StaticTokenCredential:
    """A TokenCredential that hands out one fixed token and counts the calls."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3600)


@dataclass
class Answer:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Request:
    workspace_id: str
    template: str | None
    query: str
    timespan: str | None
    headers: dict[str, str]


def table_json(columns: Columns, rows: list[list[Any]]) -> dict[str, Any]:
    return {
        "name": "PrimaryResult",
        "columns": [{"name": n, "type": t} for n, t in columns],
        "rows": rows,
    }


class FakeLogAnalytics:
    """Start with ``with FakeLogAnalytics() as fake:``; ``fake.endpoint`` is the client's endpoint."""

    def __init__(self) -> None:
        # Templates a source sends beside another one (agent rows read from Syslog with the audit
        # events) answer an empty table unless a test registers a canned answer for them.
        self.answers: dict[str, Answer] = {
            t: Answer(200, {"tables": [table_json([], [])]}) for t in EMPTY_BY_DEFAULT
        }
        self.requests: list[Request] = []
        self.token = TOKEN
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- canned answers ---------------------------------------------------------------

    def answer(self, template: str, columns: Columns, rows: list[list[Any]]) -> None:
        self.answers[template] = Answer(200, {"tables": [table_json(columns, rows)]})

    def partial(
        self, template: str, columns: Columns, rows: list[list[Any]], code: str, message: str
    ) -> None:
        error = {
            "code": "PartialError",
            "message": "There were some errors when processing your query.",
            "details": [{"code": code, "message": message, "innererror": {"code": code, "message": message}}],
        }
        self.answers[template] = Answer(200, {"tables": [table_json(columns, rows)], "error": error})

    def fail(self, template: str, status: int, code: str, message: str, delay: float = 0.0) -> None:
        self.answers[template] = Answer(status, {"error": {"code": code, "message": message}}, delay)

    def slow(self, template: str, delay: float) -> None:
        """Answer (with an empty table) only after ``delay`` seconds: a client read timeout."""
        self.answers[template] = Answer(200, {"tables": [table_json([], [])]}, delay)

    # --- server -------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeLogAnalytics:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                m = _PATH.match(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not m:
                    return self._send(404, {"error": {"code": "PathNotFoundError", "message": self.path}})
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._send(
                        401, {"error": {"code": "AuthorizationRequiredError", "message": "bad token"}}
                    )
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._send(
                        400, {"error": {"code": "BadArgumentError", "message": "body is not JSON"}}
                    )
                query = str(body.get("query", ""))
                marker = _MARKER.match(query)
                template = marker.group(1) if marker else None
                fake.requests.append(
                    Request(m.group(1), template, query, body.get("timespan"), dict(self.headers))
                )
                ans = fake.answers.get(template or "")
                if ans is None:
                    msg = f"fake: no canned answer for template {template!r}"
                    return self._send(400, {"error": {"code": "BadArgumentError", "message": msg}})
                if ans.delay:
                    time.sleep(ans.delay)
                self._send(ans.status, ans.body)

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# --- rows that look like the real tables (from /work/shared/data exports) -------------------


def _iso(text: str) -> str | None:
    """An export's time ("7/8/2019 16:08", "2019-07-10T15:13:25.813Z", ...) as the service writes it."""
    text = text.strip()
    if not text or text.lower() in ("nan", "null", "none"):
        return None
    for fmt in ("%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            continue
    return text  # already ISO 8601 with Z


def _blank(text: str) -> str | None:
    return None if text.strip().lower() in ("", "nan", "null") else text


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


SYSLOG_COLUMNS: Columns = [
    ("TimeGenerated", "datetime"), ("Computer", "string"), ("HostName", "string"), ("Facility", "string"),
    ("SeverityLevel", "string"), ("ProcessName", "string"), ("ProcessID", "int"), ("SyslogMessage", "string"),
    ("HostIP", "string"),
]  # fmt: skip


def syslog_rows(path: Path) -> list[list[Any]]:
    """Rows of a Syslog export as the syslog template projects them."""
    out = []
    for r in read_csv(path):
        pid = _blank(r.get("ProcessID", ""))
        out.append([
            _iso(r["TimeGenerated"]), r["Computer"], r["HostName"], r["Facility"], r["SeverityLevel"],
            r["ProcessName"], int(float(pid)) if pid else None, r["SyslogMessage"], _blank(r["HostIP"]),
        ])  # fmt: skip
    return out


HEARTBEAT_COLUMNS: Columns = [
    ("TimeGenerated", "datetime"), ("Computer", "string"), ("ComputerIP", "string"), ("OSType", "string"),
    ("OSName", "string"), ("OSMajorVersion", "string"), ("OSMinorVersion", "string"), ("Version", "string"),
    ("ComputerEnvironment", "string"), ("RemoteIPCountry", "string"), ("RemoteIPLatitude", "real"),
    ("RemoteIPLongitude", "real"), ("ResourceId", "string"),
]  # fmt: skip


def heartbeat_rows(path: Path) -> list[list[Any]]:
    out = []
    for r in read_csv(path):
        out.append(
            [_iso(r["TimeGenerated"])]
            + [r[c] for c, _ in HEARTBEAT_COLUMNS[1:10]]
            + [float(r["RemoteIPLatitude"]), float(r["RemoteIPLongitude"]), r["ResourceId"]]
        )
    return out


FLOW_COLUMNS: Columns = [
    ("TimeGenerated", "datetime"), ("FlowStartTime", "datetime"), ("FlowEndTime", "datetime"),
    ("Computer", "string"), ("FlowType", "string"), ("VMIPAddress", "string"), ("SrcIP", "string"),
    ("DestIP", "string"), ("PublicIPs", "string"), ("L4Protocol", "string"), ("L7Protocol", "string"),
    ("DestPort", "long"), ("FlowDirection", "string"), ("AllowedOutFlows", "long"), ("AllowedInFlows", "long"),
    ("DeniedInFlows", "long"), ("DeniedOutFlows", "long"),
]  # fmt: skip


def flow_rows(path: Path, computer: str) -> list[list[Any]]:
    """msticpy's flow export (PublicIPs a Python list literal) as the network_flows template projects it."""

    def num(text: str) -> int | None:
        return int(float(text)) if _blank(text) else None

    out = []
    for r in read_csv(path):
        if r["VMName"].lower() != computer.lower():
            continue
        ips = ast.literal_eval(r["PublicIPs"]) if r["PublicIPs"].startswith("[") else []
        out.append([
            _iso(r["TimeGenerated"]), _iso(r["FlowStartTime"]), _iso(r["FlowEndTime"]), r["VMName"], r["FlowType"],
            r["VMIPAddress"], r["SrcIP"], r["DestIP"], ",".join(ips), r["L4Protocol"], r["L7Protocol"],
            num(r["DestPort"]), r["FlowDirection"], num(r["AllowedOutFlows"]), num(r["AllowedInFlows"]),
            num(r["DeniedInFlows"]), num(r["DeniedOutFlows"]),
        ])  # fmt: skip
    return out


ALERT_COLUMNS: Columns = [
    ("TimeGenerated", "datetime"), ("StartTimeUtc", "datetime"), ("EndTimeUtc", "datetime"),
    ("Computer", "string"), ("AlertName", "string"), ("AlertDisplayName", "string"), ("AlertType", "string"),
    ("Description", "string"), ("Severity", "string"), ("ProviderName", "string"), ("SystemAlertId", "string"),
    ("CompromisedEntity", "string"), ("Tactics", "string"), ("Techniques", "string"), ("Entities", "string"),
    ("ExtendedProperties", "string"),
]  # fmt: skip


def alert_rows(path: Path, computer: str) -> list[list[Any]]:
    """SecurityAlert export rows whose CompromisedEntity is ``computer``, as the alerts template projects them."""
    out = []
    for r in read_csv(path):
        if (r.get("CompromisedEntity") or "").lower() != computer.lower():
            continue
        out.append([
            _iso(r["TimeGenerated"]), _iso(r["StartTimeUtc"]), _iso(r["EndTimeUtc"]), r["CompromisedEntity"],
            r["AlertName"], r["AlertDisplayName"], r["AlertType"] or r["AlertName"], r["Description"],
            r["Severity"], r["ProviderName"], r["SystemAlertId"], r["CompromisedEntity"], "", "",
            r["Entities"], r["ExtendedProperties"],
        ])  # fmt: skip
    return out
