"""Keystone v3 token requests: which user a body authenticates, and the token body.

Supported: the ``password`` method (user by id, or by name in the ``default``
domain) and the ``application_credential`` method, where a user's API key is
the secret of an application credential whose id is the user's id. A token is
always scoped to the user's own project, the only one it has roles on.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from imagetasks.localcloud.catalog import keystone_catalog
from imagetasks.localcloud.identity import credentials, tokens
from imagetasks.localcloud.identity.errors import KEYSTONE_UNAUTHORIZED, AuthFailure
from imagetasks.localcloud.models import CloudUser, Token


@dataclass(frozen=True)
class Authentication:
    user: CloudUser
    method: str


def authenticate(body: object) -> Authentication:
    """The user a ``POST /v3/auth/tokens`` body proves to be; AuthFailure otherwise."""
    auth = _member(body, "auth", "the request body", dict)
    identity = _member(auth, "identity", "auth", dict)
    methods = _member(identity, "methods", "identity", list)
    if methods == ["password"]:
        user = _password_user(_member(identity, "password", "identity", dict))
        _check_scope(auth.get("scope"), user)
        return Authentication(user, "password")
    if methods == ["application_credential"]:
        if "scope" in auth:
            raise AuthFailure(401, "Application credentials cannot request a scope.")
        credential = _member(identity, "application_credential", "identity", dict)
        return Authentication(_application_credential_user(credential), "application_credential")
    raise AuthFailure(401, KEYSTONE_UNAUTHORIZED)


def token_body(
    request: HttpRequest, token: Token, method: str, *, with_catalog: bool = True
) -> dict:
    """The ``{"token": …}`` body Keystone answers with when it issues or validates a token."""
    user, project = token.user, token.project
    body = {
        "methods": [method],
        "expires_at": tokens.keystone_time(token.expires_at),
        "issued_at": tokens.keystone_time(token.issued_at),
        "audit_ids": [tokens.audit_id(token)],
        "user": {
            "domain": credentials.DEFAULT_DOMAIN,
            "id": user.id,
            "name": user.name,
            "password_expires_at": None,
        },
        "project": {"domain": credentials.DEFAULT_DOMAIN, "id": project.id, "name": project.name},
        "is_domain": False,
        "roles": list(credentials.ROLES),
    }
    if method == "application_credential":
        body["application_credential"] = {"id": user.id, "name": user.name, "restricted": True}
    if with_catalog:
        body["catalog"] = keystone_catalog(request, project)
    return {"token": body}


def _member(container: object, key: str, where: str, kind: type):
    """``container[key]`` when it has the expected JSON type; a 400 naming it otherwise."""
    if not isinstance(container, dict) or not isinstance(container.get(key), kind):
        raise AuthFailure(400, f"Expecting to find {key} in {where}.")
    return container[key]


def _password_user(password: dict) -> CloudUser:
    spec = _member(password, "user", "password", dict)
    secret = _member(spec, "password", "user", str)
    user = _user_of(spec)
    verified = credentials.verified(user, secret, "password")
    if verified is None:
        raise AuthFailure(401, KEYSTONE_UNAUTHORIZED)
    return verified


def _application_credential_user(credential: dict) -> CloudUser:
    secret = _member(credential, "secret", "application_credential", str)
    if "id" in credential:
        user = credentials.user_with_id(credential["id"])
    else:
        user = _user_of(_member(credential, "user", "application_credential", dict))
    verified = credentials.verified(user, secret, "api_key")
    if verified is None:
        raise AuthFailure(401, KEYSTONE_UNAUTHORIZED)
    return verified


def _user_of(spec: dict) -> CloudUser | None:
    """The user a ``{"id"}`` or ``{"name", "domain"}`` object names, if it exists."""
    if "id" in spec:
        return credentials.user_with_id(spec["id"])
    if "name" not in spec:
        raise AuthFailure(400, "Expecting to find id or name in user.")
    domain = _member(spec, "domain", "user", dict)
    if not credentials.is_default_domain(domain):
        return None
    return credentials.user_named(spec["name"])


def _check_scope(scope: object, user: CloudUser) -> None:
    """An unscoped request gets the user's project; any other scope must name that project."""
    if scope is None or scope == "unscoped":
        return
    if not isinstance(scope, dict):
        raise AuthFailure(400, "Expecting to find a project in scope.")
    project = scope.get("project")
    if not isinstance(project, dict):
        # Domain, system and trust scopes: the user holds no role there.
        raise AuthFailure(401, KEYSTONE_UNAUTHORIZED)
    if "id" in project:
        matches = project["id"] == user.project.id
    elif "name" in project:
        domain = project.get("domain", credentials.DEFAULT_DOMAIN)
        matches = credentials.is_default_domain(domain) and project["name"] == user.project.name
    else:
        raise AuthFailure(400, "Expecting to find id or name in project.")
    if not matches:
        raise AuthFailure(401, KEYSTONE_UNAUTHORIZED)
