import uuid

from django.conf import settings
from django.db import models

from imagetasks.localcloud.models.identity import Project


def region_key(region: str) -> str:
    """``Image.region`` of the images at the endpoint of the region named ``region``."""
    return "" if region == settings.LOCALCLOUD_REGION else region


class Image(models.Model):
    """An Images v2 image (reference §6.1). Bytes are the blob ``blob_id``."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SAVING = "saving"
        UPLOADING = "uploading"
        IMPORTING = "importing"
        ACTIVE = "active"
        KILLED = "killed"
        DELETED = "deleted"
        DEACTIVATED = "deactivated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="images")
    # The region whose Images endpoint holds the image; blank is LOCALCLOUD_REGION.
    region = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    disk_format = models.CharField(max_length=16, null=True, blank=True)
    container_format = models.CharField(max_length=16, null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    virtual_size = models.BigIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=32, null=True, blank=True)
    os_hash_algo = models.CharField(max_length=16, null=True, blank=True)
    os_hash_value = models.CharField(max_length=128, null=True, blank=True)
    visibility = models.CharField(max_length=16, default="private")
    protected = models.BooleanField(default=False)
    min_disk = models.IntegerField(default=0)
    min_ram = models.IntegerField(default=0)
    tags = models.JSONField(default=list, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    blob_id = models.CharField(max_length=64, blank=True)
    # The stores holding the bytes (``stores`` of the API), and data staged for a
    # glance-direct import, kept until an import takes it or the image goes.
    stores = models.JSONField(default=list, blank=True)
    staged_blob_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "created_at"]),
            models.Index(fields=["project", "region"]),
        ]

    def __str__(self) -> str:
        return self.name or str(self.id)
