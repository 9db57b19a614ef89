"""Identity plugins: turn an account's credentials into a token and a catalog.

Plugins only build the identity request and read its answer; the session sends it, so
timeouts, retries, logging and secret scrubbing are the same for identity as for every
other call. Each ``auth_type`` of ``CloudConfig`` has one plugin.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from imagetasks.openstack.catalog import Catalog
from imagetasks.openstack.config import CloudConfig
from imagetasks.openstack.types import ShapeError, parse_timestamp

# keystoneauth's MIN_TOKEN_LIFE_SECONDS: a token this close to expiry is renewed first,
# so a request never sets out with a token that dies on the way.
MIN_TOKEN_LIFE = timedelta(minutes=2)

# Sends a JSON body to an identity URL; returns the response headers and the parsed body.
PostJson = Callable[[str, dict[str, Any]], tuple[Mapping[str, str], Any]]


@dataclass(frozen=True)
class Token:
    """A token with what came with it. ``value`` is "" for clouds that take no token."""

    value: str = field(repr=False)
    expires_at: datetime | None
    project_id: str
    catalog: Catalog = field(repr=False)

    def usable_at(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at - now > MIN_TOKEN_LIFE


class IdentityPlugin(ABC):
    """Gets a token for one account."""

    # False when a 401 cannot be cured by asking again (a given token, no auth at all).
    reauthenticates = True

    def __init__(self, config: CloudConfig):
        self._config = config

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._config.auth_url or '(no identity service)'}>"

    @abstractmethod
    def authenticate(self, post: PostJson) -> Token:
        """A fresh token; identity errors propagate from ``post``."""

    def _token(
        self, value: str, expires_at: datetime | None, project: Any, catalog: Catalog
    ) -> Token:
        """The token as the answer gives it; the project is the one the answer names
        (``project`` or ``tenant``), else the configured one."""
        project_id = project.get("id") if isinstance(project, dict) else None
        return Token(
            value=value,
            expires_at=expires_at,
            project_id=str(project_id or self._config.project_id),
            catalog=catalog,
        )


def _identity_root(auth_url: str, version: str) -> str:
    """Accept the auth URL with or without its version suffix, as clouds.yaml files vary."""
    root = auth_url.rstrip("/")
    return root[: -len(version)].rstrip("/") if root.endswith(version) else root


def _domain(value: str) -> dict[str, str]:
    """Keystone's built-in domain has the id "default" (its name is "Default"), and other
    ids are 32 hex digits; anything else is taken as a domain name."""
    if value == "default" or re.fullmatch(r"[0-9a-f]{32}", value):
        return {"id": value}
    return {"name": value}


def _member(body: Any, key: str, what: str) -> dict[str, Any]:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise ShapeError(f"{what} has no {key!r} object")
    return value


class _KeystoneV3(IdentityPlugin):
    @abstractmethod
    def _identity(self) -> dict[str, Any]: ...

    def _scope(self) -> dict[str, Any] | None:
        return None

    def authenticate(self, post: PostJson) -> Token:
        url = _identity_root(self._config.auth_url, "/v3") + "/v3/auth/tokens"
        auth: dict[str, Any] = {"identity": self._identity()}
        if scope := self._scope():
            auth["scope"] = scope
        headers, body = post(url, {"auth": auth})
        value = headers.get("X-Subject-Token")
        if not value:
            raise ShapeError("Keystone answered without an X-Subject-Token header")
        token = _member(body, "token", "the Keystone v3 answer")
        return self._token(
            value,
            parse_timestamp(token.get("expires_at"), "expires_at"),
            token.get("project"),
            Catalog.from_v3(token.get("catalog") or []),
        )


class V3Password(_KeystoneV3):
    def _identity(self) -> dict[str, Any]:
        user = {
            "name": self._config.username,
            "domain": _domain(self._config.user_domain or "default"),
            "password": self._config.secret,
        }
        return {"methods": ["password"], "password": {"user": user}}

    def _scope(self) -> dict[str, Any] | None:
        config = self._config
        if config.project_id:
            return {"project": {"id": config.project_id}}
        if config.project_name:
            domain = _domain(config.project_domain or config.user_domain or "default")
            return {"project": {"name": config.project_name, "domain": domain}}
        return None


class V3ApplicationCredential(_KeystoneV3):
    """An application credential is scoped when created, so the request names no scope."""

    def _identity(self) -> dict[str, Any]:
        credential = {"id": self._config.app_credential_id, "secret": self._config.secret}
        return {"methods": ["application_credential"], "application_credential": credential}


class _IdentityV2(IdentityPlugin):
    @abstractmethod
    def _credentials(self) -> dict[str, Any]: ...

    def authenticate(self, post: PostJson) -> Token:
        auth = self._credentials()
        # Rackspace refuses both at once (400), so the id, being exact, wins.
        if self._config.project_id:
            auth["tenantId"] = self._config.project_id
        elif self._config.project_name:
            auth["tenantName"] = self._config.project_name
        url = _identity_root(self._config.auth_url, "/v2.0") + "/v2.0/tokens"
        _, body = post(url, {"auth": auth})
        access = _member(body, "access", "the identity v2.0 answer")
        token = _member(access, "token", "the identity v2.0 answer")
        value = token.get("id")
        if not isinstance(value, str) or not value:
            raise ShapeError("the identity v2.0 answer has no token id")
        return self._token(
            value,
            parse_timestamp(token.get("expires"), "expires"),
            token.get("tenant"),
            Catalog.from_v2(access.get("serviceCatalog") or []),
        )


class V2Password(_IdentityV2):
    def _credentials(self) -> dict[str, Any]:
        credentials = {"username": self._config.username, "password": self._config.secret}
        return {"passwordCredentials": credentials}


class RackspaceApiKey(_IdentityV2):
    def _credentials(self) -> dict[str, Any]:
        credentials = {"username": self._config.username, "apiKey": self._config.secret}
        return {"RAX-KSKEY:apiKeyCredentials": credentials}


class GivenToken(IdentityPlugin):
    """A token obtained elsewhere; endpoints must come from ``endpoint_overrides``."""

    reauthenticates = False

    def authenticate(self, post: PostJson) -> Token:
        return Token(self._config.secret, None, self._config.project_id, Catalog())


class NoAuth(IdentityPlugin):
    """A cloud without identity (Glance with the noauth paste flavour): no token is sent."""

    reauthenticates = False

    def authenticate(self, post: PostJson) -> Token:
        return Token("", None, self._config.project_id, Catalog())


_PLUGINS: dict[str, type[IdentityPlugin]] = {
    "v3password": V3Password,
    "v3applicationcredential": V3ApplicationCredential,
    "v2password": V2Password,
    "rackspace_apikey": RackspaceApiKey,
    "token": GivenToken,
    "none": NoAuth,
}


def plugin_for(config: CloudConfig) -> IdentityPlugin:
    return _PLUGINS[config.auth_type](config)
