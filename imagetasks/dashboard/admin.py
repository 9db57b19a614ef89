"""Django admin: clouds (secret write-only) and a read-only audit of tasks and snapshots."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from imagetasks.dashboard import access, audit
from imagetasks.dashboard.api import tokens
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import (
    ApiToken,
    Cloud,
    Copy,
    CopyEvent,
    Heartbeat,
    ImageTask,
    ProviderIdentity,
    TaskSnapshot,
)
from imagetasks.dashboard.tracking.resubmission import resubmit

admin.site.site_header = "imagetasks audit"
admin.site.site_title = "imagetasks audit"
admin.site.index_title = "Task history, clouds and access"
admin.site.site_url = "/"  # "View site" leads back to the task table


def _secret_field(what: str) -> forms.CharField:
    """A field for a secret that is typed in and never shown; left empty, it keeps the
    stored one."""
    return forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"{what} Leave empty to keep the stored one; it is never shown.",
    )


class CloudForm(forms.ModelForm):
    """The secret is typed in, never shown: an empty field keeps the stored one."""

    secret = _secret_field("Password, API key, application credential secret or token.")
    webhook_secret = _secret_field("Key of the HMAC-SHA256 signature sent with every webhook.")

    class Meta:
        model = Cloud
        fields = [
            "name", "description", "enabled", "auth_type", "auth_url", "region", "interface",
            "username", "user_domain", "project_name", "project_id", "project_domain",
            "application_credential_id", "verify_tls", "timeout", "image_endpoint",
            "object_store_endpoint", "segment_size", "poll_min_interval", "poll_max_interval",
            "max_requests_per_second", "stale_after", "discover_tasks", "auto_resubmit_396",
            "users", "groups", "webhook_url",
        ]  # fmt: skip

    @method_decorator(sensitive_variables())
    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        has_secret = bool(cleaned.get("webhook_secret")) or self.instance.has_webhook_secret
        if cleaned.get("webhook_url") and not has_secret:
            self.add_error("webhook_secret", "A webhook needs a secret: nothing is sent unsigned.")
        return cleaned

    @method_decorator(sensitive_variables())
    def save(self, commit=True):
        cloud = super().save(commit=False)
        if self.cleaned_data.get("secret"):
            cloud.set_secret(self.cleaned_data["secret"])
        if self.cleaned_data.get("webhook_secret"):
            cloud.set_webhook_secret(self.cleaned_data["webhook_secret"])
        if commit:
            cloud.save()
            self.save_m2m()
        return cloud


class ScopedToClouds(admin.ModelAdmin):
    """A staff user sees in the admin only what they may see outside it (access.py).

    Every list, change page, filter, date drill-down, search, export and action starts
    from ``get_queryset``, so narrowing it to the person's clouds narrows them all;
    filters on related rows list only what that queryset refers to. Superusers see all.
    """

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return self.visible(rows, request.user)

    def visible(self, rows, user):
        raise NotImplementedError


def related_only(*fields: str) -> list:
    """List filters whose choices are only the rows the (scoped) list refers to."""
    return [(name, admin.RelatedOnlyFieldListFilter) for name in fields]


@admin.register(Cloud)
class CloudAdmin(ScopedToClouds, admin.ModelAdmin):
    form = CloudForm
    list_display = ["name", "auth_type", "auth_url", "region", "enabled", "secret_set"]
    list_filter = ["auth_type", "enabled"]
    search_fields = ["name", "auth_url", "username", "project_name"]
    filter_horizontal = ["users", "groups"]
    actions = ["refresh_capabilities"]
    capabilities = [
        "images_api_version",
        "offered_import_methods",
        "offered_stores",
        "other_image_regions",
        "tasks_api",
        "copy_image_refused_at",
        "capabilities_checked_at",
        "capabilities_error",
    ]
    readonly_fields = [*capabilities, "discovery_error"]
    fieldsets = [
        (None, {"fields": ["name", "description", "enabled"]}),
        (
            "Account",
            {
                "fields": [
                    "auth_type",
                    "auth_url",
                    "region",
                    "interface",
                    "username",
                    "user_domain",
                    "project_name",
                    "project_id",
                    "project_domain",
                    "application_credential_id",
                    "secret",
                    "verify_tls",
                    "timeout",
                ]
            },
        ),
        ("Endpoint overrides", {"fields": ["image_endpoint", "object_store_endpoint"]}),
        ("Object storage", {"fields": ["segment_size"]}),
        (
            "Polling",
            {
                "fields": [
                    "poll_min_interval",
                    "poll_max_interval",
                    "max_requests_per_second",
                    "stale_after",
                    "discover_tasks",
                    "discovery_error",
                    "auto_resubmit_396",
                ]
            },
        ),
        ("Access", {"fields": ["users", "groups"]}),
        ("Notifications", {"fields": ["webhook_url", "webhook_secret"]}),
        (
            "Capabilities",
            {
                "fields": tuple(capabilities),
                "description": "What the cloud offers for imports, as last discovered. "
                "Refresh it with the action of the cloud list.",
            },
        ),
    ]

    @admin.display(boolean=True, description="secret")
    def secret_set(self, cloud: Cloud) -> bool:
        return cloud.has_secret

    @method_decorator(sensitive_post_parameters("secret", "webhook_secret"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The form that takes secrets: an error report of its POST shows them as stars."""
        return super().changeform_view(request, object_id, form_url, extra_context)

    def visible(self, rows, user):
        return rows.filter(pk__in=access.visible_cloud_ids(user))

    @admin.display(description="import methods")
    def offered_import_methods(self, cloud: Cloud) -> str:
        return capabilities.methods_text(cloud)

    @admin.display(description="stores")
    def offered_stores(self, cloud: Cloud) -> str:
        return capabilities.stores_text(cloud)

    @admin.display(description="other image regions")
    def other_image_regions(self, cloud: Cloud) -> str:
        return capabilities.regions_text(cloud)

    @admin.action(description="Refresh capabilities", permissions=["change"])
    def refresh_capabilities(self, request, queryset):
        """Ask each selected cloud what it offers; a cloud that does not say is recorded as
        unknown with the reason, and reported here."""
        for cloud in queryset:
            found = capabilities.refresh(cloud)
            if found.errors:
                self.message_user(
                    request,
                    f"Capabilities of {cloud.name}: {capabilities.summary(cloud)}. "
                    f"Not answered: {'; '.join(found.errors)}",
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    f"Capabilities of {cloud.name}: {capabilities.summary(cloud)}",
                    messages.SUCCESS,
                )


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is evidence: nobody, superusers included, adds, edits or deletes it here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """A timeline shown under its task or copy: as read-only as the page it is on."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SnapshotInline(ReadOnlyInline):
    model = TaskSnapshot
    fields = readonly_fields = (
        "observed_at",
        "status",
        "message",
        "remote_updated_at",
        "expires_at",
    )
    show_change_link = True


@admin.register(ImageTask)
class ImageTaskAdmin(ScopedToClouds, ReadOnlyAdmin):
    list_display = [
        "name", "type", "status", "cloud", "submitted_by", "submitted_at", "origin", "dismissed_at",
    ]  # fmt: skip
    readonly_fields = ["on_the_dashboard"]
    list_filter = [
        "status",
        "type",
        *related_only("cloud"),
        "origin",
        *related_only("submitted_by"),
        ("dismissed_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["cloud", "submitted_by"]
    search_fields = ["name", "=id", "=remote_id", "message"]
    date_hierarchy = "submitted_at"
    show_full_result_count = False
    inlines = [SnapshotInline]
    actions = ["export_csv", "export_json", "resubmit_selected"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "on_the_dashboard",
                    "id",
                    "cloud",
                    "remote_id",
                    "type",
                    "name",
                    "status",
                    "origin",
                ]
            },
        ),
        ("Input", {"fields": ["input", "submitted_by", "submitted_at", "resubmitted_from"]}),
        ("Result", {"fields": ["result", "message"]}),
        (
            "Timing",
            {
                "fields": [
                    "remote_created_at",
                    "remote_updated_at",
                    "expires_at",
                    "remote_gone_at",
                    "history_pruned_at",
                ]
            },
        ),
        (
            "Polling",
            {
                "fields": [
                    "watching",
                    "next_poll_at",
                    "last_polled_at",
                    "poll_interval",
                    "poll_errors",
                    "last_error",
                    "last_error_at",
                    "stale_since",
                ]
            },
        ),
        # Who took it out of the table's default view once it was dealt with, and when.
        ("Dismissal", {"fields": ["dismissed_at", "dismissed_by"]}),
    ]

    def visible(self, rows, user):
        return rows.filter(cloud_id__in=access.visible_cloud_ids(user))

    @admin.display(description="Dashboard")
    def on_the_dashboard(self, task: ImageTask) -> str:
        """The task's own page, where its timeline reads best (and back again)."""
        return format_html(
            '<a href="{}">Open this task on the dashboard</a>',
            reverse("dashboard:task", args=[task.pk]),
        )

    @admin.action(description="Export selected with their history (CSV)")
    def export_csv(self, request, queryset):
        return audit.csv_response(queryset, "imagetasks-audit.csv")

    @admin.action(description="Export selected with their history (JSON)")
    def export_json(self, request, queryset):
        return audit.json_response(queryset, "imagetasks-audit.json")

    @admin.action(description="Resubmit selected (a new task each, same input)")
    def resubmit_selected(self, request, queryset):
        """Each becomes a new task linked to the old one; the old rows stay untouched."""
        if not access.can_submit(request.user):
            self.message_user(request, "Only operators may resubmit.", messages.ERROR)
            return None
        made = [resubmit(task, user=request.user) for task in queryset.select_related("cloud")]
        refused = sum(1 for task in made if task.status_info.terminal)
        self.message_user(
            request,
            f"Resubmitted {len(made)} task(s); {refused} refused at once.",
            messages.WARNING if refused else messages.SUCCESS,
        )


@admin.register(TaskSnapshot)
class TaskSnapshotAdmin(ScopedToClouds, ReadOnlyAdmin):
    list_display = ["task", "status", "observed_at", "remote_updated_at"]
    list_filter = ["status"]
    list_select_related = ["task"]
    date_hierarchy = "observed_at"
    show_full_result_count = False
    search_fields = ["=task__id", "=task__remote_id"]

    def visible(self, rows, user):
        return rows.filter(task__cloud_id__in=access.visible_cloud_ids(user))


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["part", "last_seen", "detail"]


# Copies to another cloud ---------------------------------------------------------------


class CopyEventInline(ReadOnlyInline):
    model = CopyEvent
    fields = readonly_fields = ("at", "step", "status", "message")


@admin.register(Copy)
class CopyAdmin(ScopedToClouds, ReadOnlyAdmin):
    """Copies to another cloud: a read-only audit of each with its timeline."""

    list_display = [
        "source_image_name", "source_cloud", "target_cloud", "target_name", "status",
        "created_by", "created_at",
    ]  # fmt: skip
    list_filter = ["status", *related_only("source_cloud", "target_cloud", "created_by")]
    list_select_related = ["source_cloud", "target_cloud", "created_by"]
    search_fields = ["=id", "=source_image_id", "source_image_name", "target_name", "error"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [CopyEventInline]
    fieldsets = [
        (None, {"fields": ["id", "status", "error", "created_by"]}),
        ("Input", {"fields": [
            "source_cloud", "source_image_id", "source_image_name", "source_checksum",
            "source_disk_format", "target_cloud", "target_name", "disk_format",
        ]}),
        ("Result", {"fields": [
            "export_task", "staging_container", "staging_object", "object_etag",
            "bytes_total", "bytes_done", "import_task", "target_image_id",
        ]}),
        ("Timing", {"fields": [
            "created_at", "updated_at", "finished_at", "next_step_at", "claimed_until",
            "attempts",
        ]}),
    ]  # fmt: skip

    def visible(self, rows, user):
        return rows.filter(pk__in=access.visible_copies(user).values("pk"))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens, without their secret (only its digest is kept, and not shown): a
    superuser sees and revokes everyone's here; any other staff member only their own, as
    on their profile page, since a token acts on its person's clouds. People make theirs
    on their profile page."""

    list_display = ("name", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    fields = readonly_fields = ("name", "user", "created_at", "last_used_at", "revoked_at")
    date_hierarchy = "created_at"
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows if request.user.is_superuser else rows.filter(user=request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the row says when it was last used

    def has_revoke_permission(self, request):
        return request.user.has_perm("dashboard.change_apitoken")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        revoked = tokens.revoke(queryset)
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)


@admin.register(ProviderIdentity)
class ProviderIdentityAdmin(ReadOnlyAdmin):
    """Who signs in with the OpenID Connect provider, and which roles and clouds the
    provider gave them (the rest of their grants were given by hand). Kept by the
    sign-ins themselves: what the provider gives is changed at the provider."""

    list_display = ("user", "subject", "issuer", "signed_in_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "subject")
    fields = readonly_fields = (
        "user", "issuer", "subject", "provider_roles", "provider_clouds", "created_at",
        "signed_in_at",
    )  # fmt: skip

    @admin.display(description="Roles from the provider")
    def provider_roles(self, identity):
        return ", ".join(group.name for group in identity.granted_groups.all()) or "—"

    @admin.display(description="Clouds from the provider")
    def provider_clouds(self, identity):
        return ", ".join(cloud.name for cloud in identity.granted_clouds.all()) or "—"
