"""Creating projects and users from the command line (``localcloud_user``, ``localcloud_seed``)."""

from __future__ import annotations

import secrets

from django.db import transaction

from imagetasks.localcloud.models import CloudUser, Project


class WrongProject(Exception):
    """The user exists, but in another project; users never move between projects."""


def ensure_user(project_name: str, user_name: str) -> tuple[CloudUser, bool]:
    """The user, created (True) with its project if missing. Secrets are the caller's business."""
    with transaction.atomic():
        project, _ = Project.objects.get_or_create(name=project_name)
        user = CloudUser.objects.select_related("project").filter(name=user_name).first()
        if user is None:
            return CloudUser.objects.create(project=project, name=user_name), True
    if user.project_id != project.id:
        raise WrongProject(f"User {user_name!r} belongs to project {user.project.name!r}.")
    return user, False


def generate_secret() -> str:
    return secrets.token_urlsafe(18)
