"""Admin for the built-in cloud: manage projects and users, look at storage and tokens.

Secrets are write-only here: a user's password and API key can be set
through the form (and are stored only as hashes) but are never shown, not
even hashed. Objects and tokens are read-only: objects change through the
Object Storage API, which keeps rows and blobs together, and a token's
digest is of no use to a person.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, Sum

from imagetasks.localcloud.models import CloudUser, Container, Project, StoredObject, Token


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewing only: no add, change or delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "tasks_api", "extra_regions", "created_at")
    list_filter = ("tasks_api",)
    search_fields = ("name", "id")
    readonly_fields = ("id", "created_at")


class CloudUserForm(forms.ModelForm):
    """Sets a new password or API key when one is typed; a blank field keeps the old one."""

    new_password = forms.CharField(
        required=False, strip=False, widget=forms.PasswordInput(render_value=False)
    )
    new_api_key = forms.CharField(
        required=False, strip=False, widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = CloudUser
        fields = ("name", "project", "enabled")

    def save(self, commit: bool = True) -> CloudUser:
        user = super().save(commit=False)
        if self.cleaned_data["new_password"]:
            user.set_password(self.cleaned_data["new_password"])
        if self.cleaned_data["new_api_key"]:
            user.set_api_key(self.cleaned_data["new_api_key"])
        if commit:
            user.save()
        return user


@admin.register(CloudUser)
class CloudUserAdmin(admin.ModelAdmin):
    form = CloudUserForm
    list_display = ("name", "project", "enabled", "has_password", "has_api_key", "created_at")
    list_filter = ("enabled",)
    list_select_related = ("project",)
    search_fields = ("name", "id", "project__name")
    readonly_fields = ("id", "created_at")
    fields = ("id", "name", "project", "enabled", "new_password", "new_api_key", "created_at")

    @admin.display(boolean=True, description="password set")
    def has_password(self, user: CloudUser) -> bool:
        return bool(user.password_hash)

    @admin.display(boolean=True, description="API key set")
    def has_api_key(self, user: CloudUser) -> bool:
        return bool(user.api_key_hash)


@admin.register(Container)
class ContainerAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "object_count", "bytes_used", "created_at")
    list_select_related = ("project",)
    search_fields = ("name", "project__name")
    readonly_fields = ("project", "name", "created_at")

    def get_queryset(self, request):
        # Usage in the list query itself, not one query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(object_count=Count("stored_objects"), bytes_used=Sum("stored_objects__size"))
        )

    @admin.display(ordering="object_count", description="objects")
    def object_count(self, container: Container) -> int:
        return container.object_count  # type: ignore[attr-defined]  # get_queryset's annotation

    @admin.display(ordering="bytes_used", description="bytes")
    def bytes_used(self, container: Container) -> int:
        return container.bytes_used or 0  # type: ignore[attr-defined]  # get_queryset's annotation

    def has_add_permission(self, request) -> bool:
        # A container is created through the API, where its name is checked against Swift's rules.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting here would orphan the objects' bytes; the API deletes empty containers.
        return False


@admin.register(StoredObject)
class StoredObjectAdmin(ReadOnlyAdmin):
    list_display = ("name", "container", "size", "content_type", "last_modified", "delete_at")
    list_select_related = ("container", "container__project")
    list_filter = ("content_type",)
    search_fields = ("name", "container__name", "container__project__name")
    date_hierarchy = "last_modified"
    show_full_result_count = False
    fields = (
        "container",
        "name",
        "size",
        "etag",
        "content_type",
        "last_modified",
        "delete_at",
        "metadata",
        "manifest",
        "object_manifest",
    )


@admin.register(Token)
class TokenAdmin(ReadOnlyAdmin):
    list_display = ("user", "project", "issued_at", "expires_at")
    list_select_related = ("user", "project")
    search_fields = ("user__name", "project__name")
    date_hierarchy = "issued_at"
    show_full_result_count = False
    fields = ("user", "project", "issued_at", "expires_at")
