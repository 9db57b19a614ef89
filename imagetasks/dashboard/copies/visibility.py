"""Who sees which copy: whoever may see both of its clouds, as for tasks (a 404 otherwise)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from imagetasks.dashboard import access
from imagetasks.dashboard.models import Copy


def visible_copies(user) -> QuerySet[Copy]:
    if not user.is_authenticated:
        return Copy.objects.none()
    if user.is_superuser:
        return Copy.objects.all()
    ids = access.visible_cloud_ids(user)
    return Copy.objects.filter(source_cloud_id__in=ids, target_cloud_id__in=ids)


def get_copy_for_user(request, copy_id: uuid.UUID | str) -> Copy:
    copies = visible_copies(request.user).select_related(
        "source_cloud", "target_cloud", "created_by", "export_task", "import_task"
    )
    return get_object_or_404(copies, pk=copy_id)


def recent_copies(user, limit: int = 5) -> list[Copy]:
    return list(
        visible_copies(user)
        .select_related("source_cloud", "target_cloud", "created_by")
        .order_by("-created_at")[:limit]
    )
