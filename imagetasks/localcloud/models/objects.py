from django.db import models

from imagetasks.localcloud.models.identity import Project


class Container(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="containers")
    name = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unique_container_name")
        ]

    def __str__(self) -> str:
        return self.name


class StoredObject(models.Model):
    """An object's name and facts; its bytes are the blob ``blob_id`` in the blob store.

    ``etag`` (MD5 hex of the content, as Swift defines it) may be empty for a
    moment after a fast server-side write; readers fill it in on demand.

    A static large object (SLO) has no blob of its own: ``manifest`` lists its
    segments as Swift stores them ({"name": "/<container>/<object>", "hash",
    "bytes", "content_type", "last_modified"}), ``size`` is their total and
    ``etag`` the MD5 of their ETags. A dynamic large object (DLO) is an
    ordinary, usually empty, object whose ``object_manifest`` names
    ``<container>/<prefix>``.
    """

    container = models.ForeignKey(
        Container, on_delete=models.CASCADE, related_name="stored_objects"
    )
    name = models.CharField(max_length=1024)
    size = models.BigIntegerField()
    etag = models.CharField(max_length=32, blank=True)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    last_modified = models.DateTimeField()
    metadata = models.JSONField(default=dict, blank=True)
    delete_at = models.DateTimeField(null=True, blank=True)
    blob_id = models.CharField(max_length=64, blank=True)
    manifest = models.JSONField(null=True, blank=True)
    object_manifest = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["container", "name"], name="unique_object_name")
        ]

    def __str__(self) -> str:
        return f"{self.container.name}/{self.name}"

    @property
    def is_static_large_object(self) -> bool:
        return self.manifest is not None
