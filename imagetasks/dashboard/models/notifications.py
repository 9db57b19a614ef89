from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from imagetasks.dashboard.models.snapshots import TaskSnapshot
from imagetasks.dashboard.models.tasks import ImageTask


class Notification(models.Model):
    """One message owed to someone about one snapshot: the outbox of completion notices.

    Written in the same transaction as the snapshot it is about (or as the
    stale flag), so a change that is recorded is always notified, and a change
    recorded once is notified once: unique on (snapshot, event, channel).
    Delivery jobs claim a row with a compare-and-set of ``claim`` (a fencing
    token) under a lease, so a duplicated job sends nothing and a row held by
    a worker that died is sent again once its lease runs out.
    """

    class Event(models.TextChoices):
        OUTCOME = "outcome", "Finished"
        STALE = "stale", "Flagged stale"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    task = models.ForeignKey(ImageTask, on_delete=models.PROTECT, related_name="notifications")
    snapshot = models.ForeignKey(
        TaskSnapshot, on_delete=models.PROTECT, related_name="notifications"
    )
    event = models.CharField(max_length=16, choices=Event)
    channel = models.CharField(max_length=16, choices=Channel)
    # The address or URL chosen when the change was recorded; the webhook's
    # secret is read from the cloud at sending time and never stored here.
    target = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    claim = models.PositiveBigIntegerField(default=0, help_text="Fencing token of the holder.")
    claimed_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "event", "channel"], name="unique_notification"
            )
        ]
        indexes = [
            # The sweeper's query: only rows still owed are ever looked for.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="notification_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.get_event_display().lower()} ({self.status})"


class Profile(models.Model):
    """A person's own settings. A missing row means the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imagetasks_profile"
    )
    email_on_completion = models.BooleanField(
        default=True,
        help_text="Email me when a task I submitted finishes or is flagged stale.",
    )

    def __str__(self) -> str:
        return f"profile of {self.user}"

    @classmethod
    def wants_email(cls, user) -> bool:
        return not cls.objects.filter(user=user, email_on_completion=False).exists()
