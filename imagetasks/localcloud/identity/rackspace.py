"""Identity v2.0 token requests as Rackspace serves them: password or API key credentials.

The answer carries Rackspace's service names (``cloudImages``, ``cloudFiles``)
and says how the user authenticated (``RAX-AUTH:authenticatedBy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.http import HttpRequest

from imagetasks.localcloud.catalog import rackspace_catalog
from imagetasks.localcloud.identity import credentials, tokens
from imagetasks.localcloud.identity.errors import (
    RACKSPACE_BAD_BODY,
    RACKSPACE_UNAUTHORIZED,
    AuthFailure,
)
from imagetasks.localcloud.models import CloudUser, Token

# credentials key in the request → (secret key, kind of secret, authenticatedBy value)
# Each method: the field holding the secret, the kind of secret, the name of the method.
_METHODS: dict[str, tuple[str, Literal["password", "api_key"], str]] = {
    "passwordCredentials": ("password", "password", "PASSWORD"),
    "RAX-KSKEY:apiKeyCredentials": ("apiKey", "api_key", "APIKEY"),
}


@dataclass(frozen=True)
class Authentication:
    user: CloudUser
    authenticated_by: str


def authenticate(body: object) -> Authentication:
    """The user a ``POST /v2.0/tokens`` body proves to be; AuthFailure otherwise."""
    auth = body.get("auth") if isinstance(body, dict) else None
    if not isinstance(auth, dict):
        raise AuthFailure(400, RACKSPACE_BAD_BODY)
    if "tenantId" in auth and "tenantName" in auth:
        raise AuthFailure(400, "Give tenantId or tenantName, not both.")
    given = [key for key in _METHODS if key in auth]
    if len(given) != 1:
        raise AuthFailure(400, RACKSPACE_BAD_BODY)
    secret_key, kind, authenticated_by = _METHODS[given[0]]
    spec = auth[given[0]]
    if not isinstance(spec, dict):
        raise AuthFailure(400, RACKSPACE_BAD_BODY)
    username, secret = spec.get("username"), spec.get(secret_key)
    if not isinstance(username, str) or not isinstance(secret, str):
        raise AuthFailure(400, RACKSPACE_BAD_BODY)
    user = credentials.verified(credentials.user_named(username), secret, kind)
    if user is None or not _tenant_matches(auth, user):
        raise AuthFailure(401, RACKSPACE_UNAUTHORIZED)
    return Authentication(user, authenticated_by)


def access_body(request: HttpRequest, value: str, token: Token, authenticated_by: str) -> dict:
    """The ``{"access": …}`` body of a v2.0 token (reference §5.1)."""
    user, project = token.user, token.project
    return {
        "access": {
            "token": {
                "id": value,
                "issued_at": tokens.rackspace_time(token.issued_at),
                "expires": tokens.rackspace_time(token.expires_at),
                "tenant": {"id": project.id, "name": project.name},
                "RAX-AUTH:authenticatedBy": [authenticated_by],
            },
            "serviceCatalog": rackspace_catalog(request, project),
            "user": {
                "id": user.id,
                "name": user.name,
                "username": user.name,
                "RAX-AUTH:defaultRegion": settings.LOCALCLOUD_REGION,
                "roles": [{**role, "tenantId": project.id} for role in credentials.ROLES],
            },
            "metadata": {"is_admin": 0, "roles": [role["id"] for role in credentials.ROLES]},
        }
    }


def _tenant_matches(auth: dict, user: CloudUser) -> bool:
    """A tenant named in the request must be the user's own project."""
    if "tenantId" in auth:
        return auth["tenantId"] == user.project.id
    if "tenantName" in auth:
        return auth["tenantName"] == user.project.name
    return True
