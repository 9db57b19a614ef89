import uuid

from django.db import models

from imagetasks.localcloud.models.identity import Project


class CloudTask(models.Model):
    """An Images v2 task as the built-in cloud keeps it (reference §2–§4)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        SUCCESS = "success"
        FAILURE = "failure"

    class Type(models.TextChoices):
        IMPORT = "import"
        EXPORT = "export"
        API_IMAGE_IMPORT = "api_image_import"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    type = models.CharField(max_length=16, choices=Type.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    input = models.JSONField(default=dict)
    result = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Glance's own fields, set on the tasks of an image import (api_image_import).
    image_id = models.UUIDField(null=True, blank=True, db_index=True)
    user_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Executor bookkeeping, never shown by the API: when a worker last started
    # this task, and how many times, so a task whose worker died is resumed or
    # failed instead of staying "processing" forever.
    started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["project", "created_at"]),
            models.Index(fields=["project", "updated_at"]),
            models.Index(fields=["status", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id} ({self.status})"
