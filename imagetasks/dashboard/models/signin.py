from __future__ import annotations

from django.conf import settings
from django.db import models

from imagetasks.dashboard.models.clouds import Cloud


class ProviderIdentity(models.Model):
    """A person as the OpenID Connect provider knows them, and what the provider granted.

    A person who signs in with the provider is found by the provider's ``sub`` for its
    issuer, never by a user name or an email address the provider lets people choose.
    ``granted_groups`` and ``granted_clouds`` are the roles and cloud grants the provider
    gave: each sign-in adds what the claims give and takes away what they no longer do,
    and leaves alone whatever an administrator gave by hand (dashboard/signin/grants.py).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_identity"
    )
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    granted_groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="+",
        help_text="Roles that came from the provider's groups claim.",
    )
    granted_clouds = models.ManyToManyField(
        Cloud,
        blank=True,
        related_name="+",
        help_text="Cloud grants that came from the provider's groups claim.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    signed_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "provider identity"
        verbose_name_plural = "provider identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="unique_provider_subject")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
