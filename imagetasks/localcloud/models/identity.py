from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models

from imagetasks.bearer import hash_token, new_token


def _new_project_id() -> str:
    return uuid.uuid4().hex


def _default_tasks_api() -> str:
    return settings.LOCALCLOUD_TASKS_API


class Project(models.Model):
    """A tenant: owns containers, images and tasks; another project's are invisible (404)."""

    class TasksApi(models.TextChoices):
        # Rackspace's flavour: members use /v2/tasks. Stock Glance: only admins may.
        MEMBERS = "members", "members"
        ADMIN = "admin", "admin only"

    id = models.CharField(max_length=32, primary_key=True, default=_new_project_id)
    name = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    tasks_api = models.CharField(max_length=8, choices=TasksApi.choices, default=_default_tasks_api)
    # Regions besides LOCALCLOUD_REGION this project's tokens list in their catalog, each
    # with an Images endpoint of its own images (the object store is shared).
    extra_regions = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.name

    def regions(self) -> list[str]:
        """Every region in the project's catalog, the main one first."""
        main = settings.LOCALCLOUD_REGION
        extra = self.extra_regions if isinstance(self.extra_regions, list) else []
        named = (name for name in extra if isinstance(name, str) and name and name != main)
        return [main, *dict.fromkeys(named)]

    def has_region(self, region: str) -> bool:
        """Whether ``region`` ("" is the main region) is in the project's catalog."""
        return not region or region in self.regions()


class CloudUser(models.Model):
    """A user of the built-in Identity. Password and API key are stored only as hashes."""

    id = models.CharField(max_length=32, primary_key=True, default=_new_project_id)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="users")
    name = models.CharField(max_length=64, unique=True)
    password_hash = models.CharField(max_length=200, blank=True)
    api_key_hash = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def set_password(self, password: str) -> None:
        self.password_hash = make_password(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password(password, self.password_hash)

    def set_api_key(self, api_key: str) -> None:
        self.api_key_hash = make_password(api_key)

    def check_api_key(self, api_key: str) -> bool:
        return bool(self.api_key_hash) and check_password(api_key, self.api_key_hash)


class TokenQuerySet(models.QuerySet["Token"]):
    def issue(self, user: CloudUser, expires_at) -> tuple[str, Token]:
        """Create a token; the clear value is returned once and never stored."""
        value = new_token("lc")
        token = self.create(
            key_hash=hash_token(value), user=user, project=user.project, expires_at=expires_at
        )
        return value, token


class Token(models.Model):
    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(CloudUser, on_delete=models.CASCADE, related_name="tokens")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tokens")
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    objects = TokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"token of {self.user_id} until {self.expires_at:%Y-%m-%d %H:%M}"
