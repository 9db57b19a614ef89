from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Concat, Lower

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models.clouds import Cloud

TEXT = models.TextField()
# Besides the name, the fields the task table's search matches (ids, container/object).
SEARCHED_FIELDS = (
    "remote_id",
    KT("input__import_from"),
    KT("input__image_uuid"),
    KT("input__receiving_swift_container"),
    KT("result__image_id"),
    KT("result__export_location"),
)


class ImageTask(models.Model):
    """One image task, as this dashboard knows it: submitted here or discovered.

    The row outlives the remote task (clouds delete finished tasks after
    ``expires_at``); its snapshots are the timeline. State changes are
    compare-and-set on ``version``, which also tells the live table whether
    anything it shows has changed.
    """

    class Type(models.TextChoices):
        IMPORT = "import"
        EXPORT = "export"

    class Origin(models.TextChoices):
        SUBMITTED = "submitted"
        RESUBMITTED = "resubmitted"
        DISCOVERED = "discovered"

    class Method(models.TextChoices):
        """How an import is done: blank for the tasks API, else an interoperable import
        method (``POST /v2/images/{id}/import``), followed through its image."""

        TASKS_API = "", "Tasks API"
        WEB_DOWNLOAD = "web-download", "From a URL"
        GLANCE_DIRECT = "glance-direct", "Upload"
        COPY_IMAGE = "copy-image", "Copy to more stores"
        GLANCE_DOWNLOAD = "glance-download", "From another region"
        # An import found on the cloud whose task did not say its method.
        UNKNOWN = "unknown", "Unknown import"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cloud = models.ForeignKey(Cloud, on_delete=models.PROTECT, related_name="tasks")
    # Null until the cloud confirms the task: many unconfirmed rows must not
    # collide in the (cloud, remote_id) unique constraint, as "" would.
    remote_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    type = models.CharField(max_length=16, choices=Type)
    # An interoperable import keeps its image's id in ``result["image_id"]`` from the
    # moment the image is created, where the table's search and the image page find it.
    method = models.CharField(max_length=32, choices=Method, blank=True, default="")
    input = models.JSONField(default=dict)
    name = models.CharField(
        max_length=255, blank=True, help_text="What the task is about: image name or id."
    )
    status = models.CharField(max_length=16, choices=statuses.CHOICES, default=statuses.SUBMITTING)
    result = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True)
    origin = models.CharField(max_length=16, choices=Origin, default=Origin.SUBMITTED)
    resubmitted_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resubmissions"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="image_tasks",
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    remote_created_at = models.DateTimeField(null=True, blank=True)
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    remote_gone_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True, help_text="Last observed change.")

    # Polling state. ``next_poll_at`` is null when nothing more is due.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_interval = models.FloatField(default=2.0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    poll_errors = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    stale_since = models.DateTimeField(null=True, blank=True)
    watching = models.BooleanField(default=True)
    version = models.PositiveBigIntegerField(default=1)
    # An import's source object, deleted once the import succeeded (when asked for):
    # the image then holds the bytes, and a second copy in object storage costs money.
    delete_source_after_import = models.BooleanField(default=False)
    source_deleted_at = models.DateTimeField(null=True, blank=True)
    source_cleanup_error = models.TextField(blank=True)
    # Whether an import's source carries a VHD footer, looked at once when the import
    # failed with Rackspace's 396 (null: not looked at, or the store would not say).
    source_is_vhd = models.BooleanField(null=True, blank=True)
    # Dismissed: a task that ended badly (or went stale) and was dealt with, out of the
    # table's default view; kept whole, and restored by clearing both (see dismissal.py).
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When retention removed the snapshots between the first and the last (and those no
    # notification is about), so the page can say the timeline has a gap.
    history_pruned_at = models.DateTimeField(null=True, blank=True)
    # What the table's free-text search looks in, kept by the database itself (every
    # write path included), lowercased, with a trigram index (see upkeep/search_index.py).
    search_text = models.GeneratedField(
        expression=Lower(
            Concat(
                "name",
                *(
                    part
                    for field in SEARCHED_FIELDS
                    for part in (Value(" "), Coalesce(field, Value(""), output_field=TEXT))
                ),
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cloud", "remote_id"],
                condition=Q(remote_id__isnull=False),
                name="unique_remote_task_per_cloud",
            )
        ]
        indexes = [
            # The dispatcher's query: due tasks only (most rows have no next poll).
            models.Index(
                fields=["next_poll_at"], condition=Q(next_poll_at__isnull=False), name="due_poll"
            ),
            # One index per order of the task table (tables.SORTS), each ending on
            # the primary key like the ORDER BY, so a page is read straight off the
            # index and stops after its rows instead of sorting every visible task.
            models.Index(fields=["-submitted_at", "-id"], name="task_recent"),
            models.Index(fields=["-changed_at", "-id"], name="task_recent_change"),
            models.Index(fields=["status", "-submitted_at", "-id"], name="task_status_recent"),
            # The counters above the table: failed or succeeded in the last 24 hours.
            models.Index(fields=["status", "-changed_at"], name="task_status_changed"),
            models.Index(fields=["type", "-submitted_at", "-id"], name="task_type_recent"),
            models.Index(fields=["name", "-submitted_at", "-id"], name="task_name_recent"),
            models.Index(fields=["cloud", "-submitted_at", "-id"], name="task_cloud_recent"),
            models.Index(fields=["submitted_by", "-submitted_at", "-id"], name="task_owner_recent"),
            # Dismissed tasks (dismissal.py). The default view's pages keep walking the
            # indexes above; its count ("1–50 of …", which selects the id) reads the first
            # partial index alone, as it read task_cloud_recent before. The Dismissed
            # view's pages and count read the other two. Each is partial, so the planner's
            # numbers for it are true: a plain index on (cloud, dismissed_at) made SQLite,
            # which averages rows per value, take "dismissed_at IS NULL" for a few rows and
            # sort every undismissed task.
            models.Index(
                fields=["cloud", "dismissed_at", "id"],
                condition=Q(dismissed_at__isnull=True),
                name="task_cloud_undismissed",
            ),
            models.Index(
                fields=["-submitted_at", "-id"],
                condition=Q(dismissed_at__isnull=False),
                name="task_dismissed_recent",
            ),
            models.Index(
                fields=["cloud", "dismissed_at", "id"],
                condition=Q(dismissed_at__isnull=False),
                name="task_cloud_dismissed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.name or self.remote_id or self.id}"

    @property
    def status_info(self) -> statuses.Status:
        return statuses.get(self.status)
