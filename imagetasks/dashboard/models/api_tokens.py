from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A person's key to the JSON API (``Authorization: Bearer <token>``).

    Only the digest of the token is stored (``imagetasks.bearer``); the clear value is
    shown once, when it is made. A token acts as its person, with their clouds and
    groups as they are at each request. Revoking keeps the row, so the profile page and
    the admin still say when it was last used.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, to tell it apart.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Written at most once a minute per token, never on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
