from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.views.decorators.debug import sensitive_variables

from imagetasks.dashboard.clouds import secretbox

SEGMENT_SIZE = 1024**3
MIN_SEGMENT_SIZE = 1024**2


class Cloud(models.Model):
    """A named account on an Images v2 cloud, as in an OpenStack ``clouds.yaml`` entry.

    The secret (password, API key, application credential secret or token) is
    stored encrypted and is write-only everywhere: no page, log, snapshot or
    export ever shows it.
    """

    class AuthType(models.TextChoices):
        V3_PASSWORD = "v3password", "Keystone v3 password"
        V3_APPLICATION_CREDENTIAL = "v3applicationcredential", "Keystone v3 application credential"
        V2_PASSWORD = "v2password", "Identity v2.0 password"
        RACKSPACE_APIKEY = "rackspace_apikey", "Rackspace API key"
        TOKEN = "token", "Fixed token"
        NONE = "none", "No authentication (endpoint overrides)"

    class TasksApi(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        PERMITTED = "permitted", "Permitted"
        ADMIN_ONLY = "admin-only", "Admin only"

    class Interface(models.TextChoices):
        PUBLIC = "public"
        INTERNAL = "internal"
        ADMIN = "admin"

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True)
    auth_type = models.CharField(max_length=32, choices=AuthType, default=AuthType.V3_PASSWORD)
    auth_url = models.URLField(max_length=500, blank=True)
    region = models.CharField(max_length=64, blank=True)
    interface = models.CharField(max_length=16, choices=Interface, default=Interface.PUBLIC)
    username = models.CharField(max_length=255, blank=True)
    user_domain = models.CharField(max_length=255, blank=True, default="Default")
    project_name = models.CharField(max_length=255, blank=True)
    project_id = models.CharField(max_length=255, blank=True)
    project_domain = models.CharField(max_length=255, blank=True, default="Default")
    application_credential_id = models.CharField(max_length=255, blank=True)
    secret_encrypted = models.TextField(blank=True, editable=False)
    verify_tls = models.BooleanField(default=True)
    image_endpoint = models.URLField(
        max_length=500, blank=True, help_text="Overrides the catalog's image endpoint."
    )
    object_store_endpoint = models.URLField(
        max_length=500, blank=True, help_text="Overrides the catalog's object-store endpoint."
    )
    timeout = models.FloatField(default=20.0, validators=[MinValueValidator(1.0)])
    segment_size = models.BigIntegerField(
        default=SEGMENT_SIZE,
        validators=[MinValueValidator(MIN_SEGMENT_SIZE)],
        help_text=(
            "Bytes per segment when an object is stored in this cloud's object storage in "
            "parts (a static large object): objects above it are cut. At least 1 MiB; the "
            "store's own limits can raise or lower it."
        ),
    )

    # Polling: start fast, back off while nothing changes, never exceed the cap.
    poll_min_interval = models.FloatField(default=2.0, validators=[MinValueValidator(0.2)])
    poll_max_interval = models.FloatField(default=60.0, validators=[MinValueValidator(1.0)])
    max_requests_per_second = models.FloatField(
        default=30.0,
        validators=[MinValueValidator(0.1)],
        help_text="Cap on the requests the poller sends to this cloud.",
    )
    stale_after = models.DurationField(
        default=timedelta(hours=6),
        help_text="A task processing longer than this without change is flagged stale.",
    )
    discover_tasks = models.BooleanField(
        default=False, help_text="Adopt tasks created elsewhere (CLI, SDK) for the audit trail."
    )
    auto_resubmit_396 = models.BooleanField(
        default=False,
        help_text="Resubmit imports that fail with Rackspace's transient error code 396.",
    )
    enabled = models.BooleanField(default=True)
    # Bookkeeping of the poller and of discovery (remote timestamps, not local ones).
    list_watermark = models.DateTimeField(null=True, blank=True, editable=False)
    discovered_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Interoperable imports are found through their images: how far (the images'
    # ``updated_at``) discovery has read, and what it could not read on its last run.
    imports_discovered_until = models.DateTimeField(null=True, blank=True, editable=False)
    discovery_error = models.TextField(blank=True, editable=False)
    scan_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The lease of the poll job sent for this cloud and not finished yet
    # (tracking/dispatcher.py): while it holds, a tick sends this cloud no second one.
    poll_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    # What the poller asked this cloud, for /metrics: added once per poll job, not per
    # request, so counting costs one write a round. They only grow (Prometheus counters).
    poll_requests = models.PositiveBigIntegerField(default=0, editable=False)
    poll_request_errors = models.PositiveBigIntegerField(
        default=0,
        editable=False,
        help_text="Poll requests answered with an error (a task's 404 aside) or not answered.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="clouds",
        help_text="People who may see and use this cloud.",
    )  # fmt: skip
    groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="clouds",
        help_text="Groups whose members may see and use this cloud.",
    )  # fmt: skip
    # Notifications: finished and stale tasks are POSTed here as signed JSON.
    webhook_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Receives a signed JSON POST when a task of this cloud finishes or goes stale.",
    )
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)

    # What the cloud offers for imports, as last discovered (clouds/capabilities.py).
    # "Unknown" is a blank version, a null list, tasks_api "unknown": a probe that got no
    # readable answer, its error in capabilities_error.
    images_api_version = models.CharField(
        max_length=16, blank=True, editable=False, help_text="Highest Images API version."
    )
    import_methods = models.JSONField(
        null=True, blank=True, editable=False, help_text="Interoperable import methods offered."
    )
    image_stores = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="Stores an import may target: id, description, default.",
    )
    image_regions = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The catalog's other regions with an Images API (glance-download's sources).",
    )
    tasks_api = models.CharField(
        max_length=16,
        choices=TasksApi,
        default=TasksApi.UNKNOWN,
        editable=False,
        help_text="Whether this account may use /v2/tasks.",
    )
    capabilities_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    capabilities_error = models.TextField(blank=True, editable=False)
    # The lease of a check queued or running (clouds/capability_checks.py), so that beat's
    # sweeps and the import page's requests never send a second one meanwhile.
    capabilities_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Glance's default policy keeps copy-image to admins; the refusal is only learnt by
    # asking, so the first one is kept and the offer withdrawn until the next refresh.
    copy_image_refused_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the cloud last refused this account a copy-image (its policy).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Cloud {self.name} {self.auth_type} {self.auth_url or self.image_endpoint}>"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    @sensitive_variables("clear")
    def set_secret(self, clear: str) -> None:
        self.secret_encrypted = secretbox.encrypt(clear)

    def reveal_secret(self) -> str:
        """The clear secret, for building a client only. Never render or log it."""
        return secretbox.decrypt(self.secret_encrypted)

    @property
    def has_webhook_secret(self) -> bool:
        return bool(self.webhook_secret_encrypted)

    @sensitive_variables("clear")
    def set_webhook_secret(self, clear: str) -> None:
        self.webhook_secret_encrypted = secretbox.encrypt(clear)

    def reveal_webhook_secret(self) -> str:
        """The clear signing key, for signing a webhook only. Never render or log it."""
        return secretbox.decrypt(self.webhook_secret_encrypted)
