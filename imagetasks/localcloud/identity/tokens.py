"""Issuing, finding and revoking tokens, and the timestamp formats they are shown in.

Only a digest of each token is stored (see ``Token``); the clear value exists
in the answer to the request that created it and nowhere else.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from imagetasks.bearer import hash_token
from imagetasks.localcloud.models import CloudUser, Token


def issue(user: CloudUser) -> tuple[str, Token]:
    """A new token for ``user``'s project, valid for LOCALCLOUD_TOKEN_TTL seconds."""
    expires_at = timezone.now() + timedelta(seconds=settings.LOCALCLOUD_TOKEN_TTL)
    return Token.objects.issue(user, expires_at)


def find_live(value: str) -> Token | None:
    """The unexpired token whose clear value is ``value``, with its user and project."""
    if not value:
        return None
    return (
        Token.objects.select_related("user", "project")
        .filter(key_hash=hash_token(value), expires_at__gt=timezone.now())
        .first()
    )


def audit_id(token: Token) -> str:
    """Keystone's audit id: names a token in logs without revealing it (derived from the digest)."""
    return base64.urlsafe_b64encode(bytes.fromhex(token.key_hash)[:16]).decode().rstrip("=")


def keystone_time(moment: datetime) -> str:
    """Keystone's form: microseconds and a ``Z`` (``2015-11-09T01:42:57.527363Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rackspace_time(moment: datetime) -> str:
    """Rackspace's form: milliseconds and a ``Z`` (``2014-11-24T22:05:39.115Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
