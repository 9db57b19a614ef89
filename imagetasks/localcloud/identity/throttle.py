"""Slowing down password and API-key guessing at the built-in Identity service.

Failed token requests are counted per client address and account (the user or key
the body names) for ``LOCALCLOUD_LOGIN_WINDOW`` seconds; past
``LOCALCLOUD_LOGIN_FAILURE_LIMIT`` the pair gets 429 with ``Retry-After`` until the
window has passed, whatever it sends. A success clears the count. Counting by the pair
keeps one client's typos from locking out the dashboard, which signs in from the same
address for every cloud. Counts live in the cache (per process with the default local
memory cache: with several web processes the limit applies to each).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from imagetasks.localcloud.identity.errors import AuthFailure


def _mapping(value: object) -> dict[str, Any]:
    """A JSON object of the body, or an empty one for any other shape."""
    return value if isinstance(value, dict) else {}


def _principal(body: object) -> str:
    """Who a token request is for, as far as its body says (never the secret itself)."""
    if not isinstance(body, dict) or not isinstance(body.get("auth"), dict):
        return "?"
    auth = body["auth"]
    identity = _mapping(auth.get("identity"))
    password = _mapping(identity.get("password"))
    user = _mapping(password.get("user"))
    credential = _mapping(identity.get("application_credential"))
    names = [user.get("id"), user.get("name"), credential.get("id"), credential.get("name")]
    for key in ("passwordCredentials", "RAX-KSKEY:apiKeyCredentials"):
        if isinstance(auth.get(key), dict):
            names.append(auth[key].get("username"))
    return json.dumps([name for name in names if isinstance(name, str)])


def _key(request: HttpRequest, body: object) -> str:
    who = f"{request.META.get('REMOTE_ADDR', '')}|{_principal(body)}"
    return "localcloud-login:" + hashlib.sha256(who.encode()).hexdigest()


def check(request: HttpRequest, body: object) -> None:
    """Refuse at once (429) a client and account that failed too often of late."""
    if cache.get(_key(request, body), 0) >= settings.LOCALCLOUD_LOGIN_FAILURE_LIMIT:
        window = settings.LOCALCLOUD_LOGIN_WINDOW
        raise AuthFailure(
            429,
            f"Too many failed authentication attempts; try again in {window} seconds.",
            headers={"Retry-After": str(window)},
        )


def failed(request: HttpRequest, body: object) -> None:
    key = _key(request, body)
    if not cache.add(key, 1, settings.LOCALCLOUD_LOGIN_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, settings.LOCALCLOUD_LOGIN_WINDOW)


def succeeded(request: HttpRequest, body: object) -> None:
    cache.delete(_key(request, body))
