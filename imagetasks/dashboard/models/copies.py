from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models.clouds import Cloud
from imagetasks.dashboard.models.tasks import ImageTask


class Copy(models.Model):
    """One image copied to another cloud or region: export here, transfer, import there.

    The row is the state machine's only state (``imagetasks.dashboard.copies``):
    every step change is a compare-and-set under the lease of the job that
    advances it, and writes a ``CopyEvent`` in the same transaction.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source_cloud = models.ForeignKey(Cloud, on_delete=models.PROTECT, related_name="copies_out")
    source_image_id = models.CharField(max_length=64)
    source_image_name = models.CharField(max_length=255, blank=True)
    source_checksum = models.CharField(max_length=64, blank=True)
    source_disk_format = models.CharField(max_length=16, blank=True)
    target_cloud = models.ForeignKey(Cloud, on_delete=models.PROTECT, related_name="copies_in")
    target_name = models.CharField(max_length=255)
    disk_format = models.CharField(max_length=16, default="vhd")
    status = models.CharField(
        max_length=16, choices=statuses.COPY_CHOICES, default=statuses.COPY_EXPORTING
    )
    error = models.TextField(blank=True, help_text="Why the copy failed; kept after clean-up.")

    export_task = models.ForeignKey(
        ImageTask, null=True, blank=True, on_delete=models.PROTECT, related_name="copy_exports"
    )
    import_task = models.ForeignKey(
        ImageTask, null=True, blank=True, on_delete=models.PROTECT, related_name="copy_imports"
    )
    # The same container and object names are used on both clouds.
    staging_container = models.CharField(max_length=256)
    staging_object = models.CharField(max_length=1024, blank=True)
    object_etag = models.CharField(max_length=64, blank=True)
    target_image_id = models.CharField(max_length=64, blank=True)
    bytes_total = models.BigIntegerField(null=True, blank=True)
    bytes_done = models.BigIntegerField(default=0)

    # Driving state: when the next step is due, who holds it and until when.
    attempts = models.PositiveIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.PositiveBigIntegerField(default=0, help_text="Fencing token of the holder.")
    version = models.PositiveBigIntegerField(default=1)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="image_copies",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "copies"
        indexes = [
            # The sweep's query: copies with a step due (finished ones have none).
            models.Index(
                fields=["next_step_at"],
                condition=Q(next_step_at__isnull=False),
                name="copy_due_step",
            ),
            models.Index(fields=["-created_at"], name="copy_recent"),
        ]

    def __str__(self) -> str:
        return f"copy {self.source_image_name or self.source_image_id} → {self.target_name}"

    @property
    def state(self) -> statuses.CopyStatus:
        """The status's label, badge, step and finality, from the status map."""
        return statuses.copy_status(self.status)

    @property
    def export_md5(self) -> str:
        """The MD5 the exported object has, known before it is read: the source image's
        checksum when the export is the image's own bytes (a VHD image is exported as it
        is; any other format is converted into a VHD whose MD5 nobody knows)."""
        return self.source_checksum if self.source_disk_format == "vhd" else ""

    @property
    def percent_done(self) -> int | None:
        if not self.bytes_total:
            return None
        return min(100, int(self.bytes_done * 100 / self.bytes_total))


class CopyEvent(models.Model):
    """One step of a copy's timeline: append-only, never updated or deleted by the app."""

    copy = models.ForeignKey(Copy, on_delete=models.PROTECT, related_name="events")
    step = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    message = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["copy", "at"], name="copy_event_timeline")]

    def __str__(self) -> str:
        return f"{self.step} {self.status} at {self.at:%Y-%m-%d %H:%M:%S}"
