"""API tokens: made, found for a request, and revoked.

A token is ``itk_`` and 256 random bits; the row keeps its SHA-256 digest
(``imagetasks.bearer``, as the built-in cloud keeps its own tokens). Finding one
costs one indexed read; its ``last_used_at`` is written only when the one stored is
more than a minute old, so a script calling the API in a loop writes once a minute.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from imagetasks.bearer import hash_token, new_token
from imagetasks.dashboard.models import ApiToken

PREFIX = "itk_"
LAST_USED_EVERY = timedelta(minutes=1)
NAME_MAX = 100


def issue(user: User, name: str) -> tuple[str, ApiToken]:
    """A new token for ``user``: its clear value, to be shown once, and its row."""
    value = new_token(PREFIX)
    token = ApiToken.objects.create(user=user, name=name[:NAME_MAX], key_hash=hash_token(value))
    return value, token


def authenticate(value: str) -> ApiToken | None:
    """The live token whose clear value is ``value`` (its person active), else None.

    Marks it used, at most once a minute.
    """
    if not value or "\x00" in value or len(value) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(value), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at <= now - LAST_USED_EVERY:
        # Conditional, so two requests in the same second write once between them.
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY),
            pk=token.pk,
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke(tokens) -> int:
    """Revoke the given tokens (a queryset) that are still live; how many were."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
