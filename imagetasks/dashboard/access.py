"""Who sees which cloud, task and copy, and who may change anything.

Two groups, checked by name: ``operators`` submit, resubmit and upload;
``viewers`` only look. Which clouds a person sees is granted on the cloud
itself (``Cloud.users`` and ``Cloud.groups``); superusers see every cloud.
A task of a cloud someone cannot see does not exist for them (404), so
URLs never tell an outsider what is there; a copy is seen by whoever may see
both of its clouds. A viewer who tries to change something they can see gets
a 403.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from imagetasks.dashboard.models import Cloud, Copy, ImageTask, ProviderIdentity

OPERATORS = "operators"
VIEWERS = "viewers"

M = TypeVar("M", bound=Model)


def _group_names(user) -> frozenset[str]:
    """The user's group names, read once per request (cached on the user object)."""
    cached = getattr(user, "_imagetasks_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._imagetasks_groups = cached
    return cached


def visible_clouds(user) -> QuerySet[Cloud]:
    """The clouds granted to the user or to one of their groups (all of them for superusers)."""
    if not user.is_authenticated:
        return Cloud.objects.none()
    if user.is_superuser:
        return Cloud.objects.all()
    return Cloud.objects.filter(Q(users=user) | Q(groups__user=user)).distinct()


def visible_cloud_ids(user) -> list[int]:
    """Ids of the visible clouds, read once per request.

    The task table filters on ``cloud_id IN (…)`` with these literal ids
    rather than joining the access tables, so the query keeps using the
    task indexes however many tasks there are.
    """
    cached = getattr(user, "_imagetasks_cloud_ids", None)
    if cached is None:
        cached = list(visible_clouds(user).order_by().values_list("pk", flat=True))
        user._imagetasks_cloud_ids = cached
    return cached


def _on_visible_clouds(user, rows: QuerySet[M], *cloud_fields: str) -> QuerySet[M]:
    """The rows whose every named cloud the user may see (all of them for superusers)."""
    if not user.is_authenticated:
        return rows.none()
    if user.is_superuser:
        return rows
    ids = visible_cloud_ids(user)
    return rows.filter(**{f"{field}__in": ids for field in cloud_fields})


def visible_tasks(user) -> QuerySet[ImageTask]:
    """Every task of a cloud the user may see, whoever submitted it."""
    return _on_visible_clouds(user, ImageTask.objects.all(), "cloud_id")


def visible_copies(user) -> QuerySet[Copy]:
    """Every copy whose two clouds the user may see, whoever started it."""
    return _on_visible_clouds(user, Copy.objects.all(), "source_cloud_id", "target_cloud_id")


def granted_nothing(user) -> bool:
    """Signed in with the provider, and no cloud granted yet (superusers see them all).

    Such a person is told so ("no access yet") rather than shown an empty table. Accounts
    made here are left as they are: an administrator gives them their clouds.
    """
    return (
        user.is_authenticated
        and not user.is_superuser
        and not visible_cloud_ids(user)
        and ProviderIdentity.objects.filter(user=user).exists()
    )


def can_submit(user) -> bool:
    """Operators (and superusers) submit, resubmit and upload; everybody else only looks."""
    return user.is_authenticated and (user.is_superuser or OPERATORS in _group_names(user))


def get_task_for_user(request: HttpRequest, task_id: uuid.UUID | str) -> ImageTask:
    """The task, if its cloud is visible to the user; a 404 otherwise, never a 403."""
    tasks = visible_tasks(request.user).select_related("cloud", "submitted_by", "dismissed_by")
    return get_object_or_404(tasks, pk=task_id)


def get_copy_for_user(request: HttpRequest, copy_id: uuid.UUID | str) -> Copy:
    """The copy, if both its clouds are visible to the user; a 404 otherwise, never a 403."""
    copies = visible_copies(request.user).select_related(
        "source_cloud", "target_cloud", "created_by", "export_task", "import_task"
    )
    return get_object_or_404(copies, pk=copy_id)


def recent_copies(user, limit: int = 5) -> list[Copy]:
    """The user's view of the latest copies, newest first, for the home page."""
    return list(
        visible_copies(user)
        .select_related("source_cloud", "target_cloud", "created_by")
        .order_by("-created_at")[:limit]
    )


def get_cloud_for_user(request: HttpRequest, name: str) -> Cloud:
    """The cloud by name, if visible to the user; a 404 otherwise."""
    if "\x00" in name:  # no cloud has one, and PostgreSQL refuses it even in a query
        raise Http404("No such cloud")
    cloud = visible_clouds(request.user).filter(name=name).first()
    if cloud is None:
        raise Http404("No such cloud")
    return cloud


def switched_off(cloud: Cloud) -> str:
    """What to tell someone who tries to submit to a cloud an administrator switched off."""
    return (
        f"The cloud {cloud.name} is switched off: nothing can be submitted or uploaded to it, "
        "and its tasks are not followed. An administrator can switch it on again."
    )


@dataclass(frozen=True)
class CloudChoice:
    """The clouds a form offers (the person's enabled ones) and the one it works on."""

    offered: list[Cloud]
    chosen: Cloud | None  # None: ask which


def choose_cloud(request: HttpRequest) -> CloudChoice:
    """Where every form that starts work begins: a 403 for anyone but operators, then the
    person's enabled clouds and the one the form names (see ``_chosen_cloud``)."""
    require_operator(request)
    offered = list(clouds_to_submit(request.user))
    return CloudChoice(offered, _chosen_cloud(request, offered))


def clouds_to_submit(user) -> QuerySet[Cloud]:
    """The clouds a form offers the person: the visible ones, switched on."""
    return visible_clouds(user).filter(enabled=True)


def _chosen_cloud(request: HttpRequest, offered: list[Cloud]) -> Cloud | None:
    """The cloud a form names (a 404 if not visible), or the only one offered; None to ask.

    A form never works on a switched-off cloud: naming one is a 403 that says so.
    """
    name = request.POST.get("cloud") or request.GET.get("cloud")
    if not name:
        return offered[0] if len(offered) == 1 else None
    cloud = get_cloud_for_user(request, name)
    if not cloud.enabled:
        raise PermissionDenied(switched_off(cloud))
    return cloud


def get_cloud_to_submit(request: HttpRequest, name: str) -> Cloud:
    """The named cloud, for an operator who sees it (else 403/404), while it is switched on
    (a 403 that says so)."""
    require_operator(request)
    cloud = get_cloud_for_user(request, name)
    if not cloud.enabled:
        raise PermissionDenied(switched_off(cloud))
    return cloud


def require_operator(request: HttpRequest) -> None:
    """A 403 for anyone who may look but not change (viewers, people without a group)."""
    if not can_submit(request.user):
        raise PermissionDenied(
            "Only operators submit imports, exports and copies, upload files and resubmit or "
            "stop tasks. Your account can look at the tasks of its clouds; ask an "
            "administrator to add you to the operators group if you need to do more."
        )
