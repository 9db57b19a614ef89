"""Finding users and checking their secrets, the same way for both identity APIs.

Every failure looks the same to the caller (unknown user, wrong secret,
disabled user), and an unknown user costs one password hash just like a known
one, so neither the answer nor its timing tells which user names exist.
"""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.hashers import make_password

from imagetasks.localcloud.models import CloudUser

DEFAULT_DOMAIN = {"id": "default", "name": "Default"}


def user_named(name: object) -> CloudUser | None:
    if not isinstance(name, str) or not name:
        return None
    return CloudUser.objects.select_related("project").filter(name=name).first()


def user_with_id(user_id: object) -> CloudUser | None:
    if not isinstance(user_id, str) or not user_id:
        return None
    return CloudUser.objects.select_related("project").filter(id=user_id).first()


def is_default_domain(domain: object) -> bool:
    """Only Keystone's ``default`` domain exists here; it may be named by id or by name."""
    if not isinstance(domain, dict):
        return False
    if "id" in domain:
        return domain["id"] == DEFAULT_DOMAIN["id"]
    name = domain.get("name")
    return isinstance(name, str) and name.lower() == DEFAULT_DOMAIN["name"].lower()


def verified(
    user: CloudUser | None, secret: str, kind: Literal["password", "api_key"]
) -> CloudUser | None:
    """``user`` when ``secret`` is its password (or API key) and the user is enabled."""
    if user is None:
        make_password(secret)  # spend the time a real check takes
        return None
    matches = user.check_password(secret) if kind == "password" else user.check_api_key(secret)
    if matches and user.enabled:
        return user
    return None


# Every user holds the same roles in its own project; nothing here is admin-only.
ROLES = (
    {"id": "4f8b5c0e6d3a4f0c9a1e2b7d5c3f1a90", "name": "member"},
    {"id": "9a2d6e1f4b7c4e3a8f5d0c2b1a6e7f34", "name": "reader"},
)
