"""What a person's claims say, read as hostile: whatever does not fit is ignored.

A claim can be any JSON: a string where a list belongs, objects inside the list,
thousands of values, text with control characters. Nothing here raises on any of them;
a value of the wrong kind reads as absent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from imagetasks.dashboard.access import OPERATORS, VIEWERS

MAX_GROUP = 255  # longer values of the groups claim cannot be one of ours
MAX_CLOUDS = 1000  # cloud names looked up at one sign-in, at most
USERNAME_LENGTH = 140  # Django's 150, less room for a "-NN" that makes it unique
CLOUD_NAME = re.compile(r"[-a-zA-Z0-9_]{1,64}")  # a Cloud.name (a slug)
NOT_IN_USERNAME = re.compile(r"[^\w.@+-]")  # Django's user name validator's complement


@dataclass(frozen=True)
class Granted:
    """What the groups claim gives: role groups (``operators``, ``viewers``) and clouds."""

    roles: frozenset[str]
    clouds: frozenset[str]


def granted(claims: dict[str, Any]) -> Granted:
    """The roles and cloud names the configured groups claim gives.

    The claim is a list of strings; a single string counts as a list of one (some
    providers send one group that way); anything else in it is skipped.
    """
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    roles: set[str] = set()
    clouds: set[str] = set()
    prefix = settings.OIDC_CLOUD_GROUP_PREFIX
    for item in values:
        if not isinstance(item, str) or len(item) > MAX_GROUP:
            continue
        if item == settings.OIDC_OPERATORS_GROUP:
            roles.add(OPERATORS)
        elif item == settings.OIDC_VIEWERS_GROUP:
            roles.add(VIEWERS)
        elif prefix and item.startswith(prefix) and len(clouds) < MAX_CLOUDS:
            name = item[len(prefix) :]
            if CLOUD_NAME.fullmatch(name):
                clouds.add(name)
    return Granted(frozenset(roles), frozenset(clouds))


def text(claims: dict[str, Any], name: str, limit: int) -> str:
    """A string claim, trimmed, without control characters, cut to ``limit``; else ""."""
    value = claims.get(name)
    if not isinstance(value, str):
        return ""
    cleaned = "".join(c for c in value if unicodedata.category(c)[0] != "C")
    return cleaned.strip()[:limit]


def email(claims: dict[str, Any]) -> str:
    """The email claim if it is an address; else ""."""
    value = text(claims, "email", 254)
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def username(claims: dict[str, Any]) -> str:
    """A user name to start from: ``preferred_username``, else the email, made safe.

    Only the characters Django's user names take are kept; the caller makes it unique.
    """
    for name in ("preferred_username", "email"):
        value = text(claims, name, 1000)
        cleaned = NOT_IN_USERNAME.sub("", unicodedata.normalize("NFKC", value))
        cleaned = cleaned[:USERNAME_LENGTH].strip(".")
        if cleaned:
            return cleaned
    return "user"
