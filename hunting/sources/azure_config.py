"""Where the Log Analytics workspaces and the Azure sign-in come from.

Three places, first wins for a given workspace id: a mapping (the app passes the
``[loganalytics]`` part of ``st.secrets``), environment variables, and an existing
msticpyconfig.yaml (``AzureSentinel: Workspaces:``), so analysts who already use
msticpy need no new settings. Secrets live only in :class:`AuthSettings` and never
show in its repr, in exceptions or in logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from azure.core.credentials import TokenCredential

from hunting.errors import SourceUnavailable

AuthMethod = Literal["default", "browser", "device_code", "client_secret"]
AUTH_METHODS: Final = ("default", "browser", "device_code", "client_secret")

# Cloud name (msticpy's Azure.cloud values) -> (query endpoint, sign-in authority host).
CLOUDS: Final = {
    "global": ("https://api.loganalytics.io/v1", "login.microsoftonline.com"),
    "usgov": ("https://api.loganalytics.us/v1", "login.microsoftonline.us"),
    "cn": ("https://api.loganalytics.azure.cn/v1", "login.chinacloudapi.cn"),
}
ENV_WORKSPACE: Final = "HUNTING_LA_WORKSPACE_ID"
ENV_ENDPOINT: Final = "HUNTING_LA_ENDPOINT"
SECRETS_SECTION: Final = "loganalytics"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _guid(value: object, what: str, where: str) -> str:
    text = str(value or "").strip()
    if not _GUID.match(text):
        raise SourceUnavailable(f"{what} in {where} must be a GUID like 00000000-0000-0000-0000-000000000000")
    return text


def _endpoint(value: object, where: str) -> str | None:
    text = str(value or "").strip().rstrip("/")
    if not text:
        return None
    loopback = re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)", text)
    if not text.startswith("https://") and not loopback:  # plain http only to a local test endpoint
        raise SourceUnavailable(
            f"endpoint in {where} must start with https:// (for example {CLOUDS['cn'][0]})"
        )
    return text


@dataclass(frozen=True)
class Workspace:
    """A workspace the analyst can pick: a display name, its id and where to reach it."""

    name: str
    workspace_id: str
    tenant_id: str | None = None
    endpoint: str | None = None  # None: the public cloud
    authority: str | None = None  # sign-in host for sovereign clouds
    origin: str = ""  # where it was configured (shown in the picker)


@dataclass(frozen=True)
class AuthSettings:
    """How to sign in. ``client_secret`` is kept out of repr, str and equality."""

    method: AuthMethod = "default"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False, compare=False)
    authority: str | None = None

    def __post_init__(self) -> None:
        if self.method not in AUTH_METHODS:
            raise SourceUnavailable(
                f"unknown sign-in method {self.method!r}; use one of {', '.join(AUTH_METHODS)}"
            )
        if self.method == "client_secret" and not (self.tenant_id and self.client_id and self.client_secret):
            raise SourceUnavailable(
                "sign-in with a client secret needs tenant_id, client_id and client_secret "
                "(or AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)"
            )

    def __repr__(self) -> str:
        secret = "set" if self.client_secret else "unset"
        return (
            f"AuthSettings(method={self.method!r}, tenant_id={self.tenant_id!r}, "
            f"client_id={self.client_id!r}, client_secret=<{secret}>, authority={self.authority!r})"
        )

    __str__ = __repr__


def workspaces_from_mapping(mapping: Mapping[str, Any] | None, where: str = "secrets") -> list[Workspace]:
    """Workspaces from ``{"loganalytics": {...}}`` or the section itself.

    One workspace at the top level (``workspace_id``, ``tenant_id``, ``endpoint``,
    ``cloud``) and/or named ones under ``workspaces.<Name>``.
    """
    if not mapping:
        return []
    section = mapping.get(SECRETS_SECTION, mapping)
    if not isinstance(section, Mapping):
        return []
    out: list[Workspace] = []
    entries: list[tuple[str, Mapping[str, Any]]] = []
    if section.get("workspace_id"):
        entries.append((str(section.get("name") or "Default"), section))
    named = section.get("workspaces") or {}
    if isinstance(named, Mapping):
        entries += [(str(k), v) for k, v in named.items() if isinstance(v, Mapping)]
    for name, entry in entries:
        place = f"{where} ({name})"
        cloud = str(entry.get("cloud") or section.get("cloud") or "global")
        if cloud not in CLOUDS:
            raise SourceUnavailable(f"cloud {cloud!r} in {place} is unknown; use one of {', '.join(CLOUDS)}")
        endpoint = _endpoint(entry.get("endpoint") or section.get("endpoint"), place)
        out.append(
            Workspace(
                name=name,
                workspace_id=_guid(entry.get("workspace_id"), "workspace_id", place),
                tenant_id=_optional_guid(
                    entry.get("tenant_id") or section.get("tenant_id"), "tenant_id", place
                ),
                endpoint=endpoint or (CLOUDS[cloud][0] if cloud != "global" else None),
                authority=CLOUDS[cloud][1] if cloud != "global" else None,
                origin=where,
            )
        )
    return out


def _optional_guid(value: object, what: str, where: str) -> str | None:
    return _guid(value, what, where) if value else None


def workspaces_from_env(environ: Mapping[str, str] | None = None) -> list[Workspace]:
    env = os.environ if environ is None else environ
    if not env.get(ENV_WORKSPACE):
        return []
    where = "environment"
    return [
        Workspace(
            name="Environment",
            workspace_id=_guid(env[ENV_WORKSPACE], ENV_WORKSPACE, where),
            tenant_id=_optional_guid(env.get("AZURE_TENANT_ID"), "AZURE_TENANT_ID", where),
            endpoint=_endpoint(env.get(ENV_ENDPOINT), where),
            origin=where,
        )
    ]


def msticpyconfig_path(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The msticpyconfig.yaml to read: the given path, else $MSTICPYCONFIG, else ./msticpyconfig.yaml."""
    env = os.environ if environ is None else environ
    for candidate in (path, env.get("MSTICPYCONFIG"), "msticpyconfig.yaml"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def workspaces_from_msticpyconfig(path: str | Path) -> list[Workspace]:
    """``AzureSentinel: Workspaces: {Name: {WorkspaceId, TenantId}}``; ``Azure: cloud`` picks the cloud."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SourceUnavailable(f"cannot read msticpy settings {path}: {type(exc).__name__}") from None
    if not isinstance(doc, Mapping):
        return []
    azure = doc.get("Azure") if isinstance(doc.get("Azure"), Mapping) else {}
    cloud = str((azure or {}).get("cloud") or "global").lower()
    cloud = {"public": "global", "azurechinacloud": "cn", "china": "cn", "gov": "usgov"}.get(cloud, cloud)
    sentinel = doc.get("AzureSentinel") if isinstance(doc.get("AzureSentinel"), Mapping) else {}
    spaces = (sentinel or {}).get("Workspaces") or {}
    out: list[Workspace] = []
    for name, entry in spaces.items() if isinstance(spaces, Mapping) else []:
        if not isinstance(entry, Mapping) or not entry.get("WorkspaceId"):
            continue
        where = f"{path} (AzureSentinel.Workspaces.{name})"
        endpoint, authority = CLOUDS.get(cloud, CLOUDS["global"])
        out.append(
            Workspace(
                name=str(name),
                workspace_id=_guid(entry.get("WorkspaceId"), "WorkspaceId", where),
                tenant_id=_optional_guid(entry.get("TenantId"), "TenantId", where),
                endpoint=None if cloud == "global" else endpoint,
                authority=None if cloud == "global" else authority,
                origin=str(path),
            )
        )
    return out


def discover_workspaces(
    mapping: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    msticpyconfig: str | Path | None = None,
) -> list[Workspace]:
    """Every configured workspace for a picker, de-duplicated by id (first place wins)."""
    found = workspaces_from_mapping(mapping) + workspaces_from_env(environ)
    mp = msticpyconfig_path(msticpyconfig, environ)
    if mp is not None:
        found += workspaces_from_msticpyconfig(mp)
    seen: set[str] = set()
    out = []
    for ws in found:
        if ws.workspace_id.lower() not in seen:
            seen.add(ws.workspace_id.lower())
            out.append(ws)
    return out


def auth_settings(
    mapping: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    workspace: Workspace | None = None,
) -> AuthSettings:
    """Sign-in settings: ``auth``/``tenant_id``/``client_id``/``client_secret`` from the mapping, else AZURE_*.

    Without an explicit ``auth`` method, a complete client-secret triple means
    ``client_secret`` and anything else ``default`` (DefaultAzureCredential).
    """
    env = os.environ if environ is None else environ
    section = (mapping or {}).get(SECRETS_SECTION, mapping or {})
    section = section if isinstance(section, Mapping) else {}
    tenant = (
        section.get("tenant_id") or (workspace.tenant_id if workspace else None) or env.get("AZURE_TENANT_ID")
    )
    client_id = section.get("client_id") or env.get("AZURE_CLIENT_ID")
    secret = section.get("client_secret") or env.get("AZURE_CLIENT_SECRET")
    method = section.get("auth") or ("client_secret" if tenant and client_id and secret else "default")
    return AuthSettings(
        method=str(method),  # type: ignore[arg-type]
        tenant_id=str(tenant) if tenant else None,
        client_id=str(client_id) if client_id else None,
        client_secret=str(secret) if secret else None,
        authority=workspace.authority if workspace else None,
    )


def build_credential(settings: AuthSettings) -> TokenCredential:
    """An azure-identity credential for the settings; nothing is requested until the first query."""
    from azure.identity import (
        ClientSecretCredential,
        DefaultAzureCredential,
        DeviceCodeCredential,
        InteractiveBrowserCredential,
    )

    extra: dict[str, Any] = {"authority": settings.authority} if settings.authority else {}
    try:
        if settings.method == "client_secret":
            return ClientSecretCredential(
                str(settings.tenant_id), str(settings.client_id), str(settings.client_secret), **extra
            )
        # Unset ids keep azure-identity's defaults (organizations tenant, its own public client).
        ids: dict[str, Any] = {
            k: v for k, v in (("tenant_id", settings.tenant_id), ("client_id", settings.client_id)) if v
        }
        if settings.method == "browser":
            return InteractiveBrowserCredential(**ids, **extra)
        if settings.method == "device_code":
            return DeviceCodeCredential(**ids, **extra)
        kwargs = dict(extra)
        if settings.tenant_id:  # DefaultAzureCredential takes no tenant_id; az CLI uses `az login --tenant`
            for key in (
                "interactive_browser",
                "shared_cache",
                "visual_studio_code",
                "workload_identity",
                "broker",
            ):
                kwargs[f"{key}_tenant_id"] = settings.tenant_id
        return DefaultAzureCredential(**kwargs)
    except ValueError as exc:
        # azure-identity validates ids; say which setting, never echo values.
        raise SourceUnavailable(
            f"invalid Azure sign-in settings ({settings.method}): {type(exc).__name__}"
        ) from None


def connect(workspace: Workspace, settings: AuthSettings, **options: Any) -> Any:
    """A LogAnalyticsSource for the picked workspace (options go to its constructor)."""
    from hunting.sources.loganalytics import LogAnalyticsSource

    return LogAnalyticsSource(
        workspace.workspace_id,
        build_credential(settings),
        endpoint=workspace.endpoint,
        name=options.pop("name", f"Log Analytics: {workspace.name}"),
        **options,
    )
