from __future__ import annotations

import hashlib
import json

from django.db import models

from imagetasks.dashboard.models.tasks import ImageTask


def fingerprint(body: object) -> str:
    """A stable digest of (the meaningful part of) a task body, so an observation is stored once."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class TaskSnapshot(models.Model):
    """One observed state of a remote task: append-only, never updated by the app.

    Deleted only by retention (``upkeep/retention.py``), when a setting says so, and
    never a task's first or last. The whole body is kept as received. Unique on
    (task, fingerprint), so a duplicated poll cannot write the same observation twice.
    """

    task = models.ForeignKey(ImageTask, on_delete=models.PROTECT, related_name="snapshots")
    observed_at = models.DateTimeField()
    status = models.CharField(max_length=16)
    message = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    body = models.JSONField()
    fingerprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["observed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "fingerprint"], name="unique_observation")
        ]
        indexes = [models.Index(fields=["task", "observed_at"], name="snapshot_timeline")]

    def __str__(self) -> str:
        return f"{self.status} at {self.observed_at:%Y-%m-%d %H:%M:%S}"
