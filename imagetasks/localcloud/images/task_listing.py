"""GET /v2/tasks: the query rules of reference §1.3, in Glance's order of checks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.executors.lifecycle import visible_tasks
from imagetasks.localcloud.images import paging
from imagetasks.localcloud.images.schemas import TASK_STATUSES, TASK_TYPES
from imagetasks.localcloud.images.serialize import task_list_entry
from imagetasks.localcloud.models import CloudTask, Project

SORT_KEYS = ("id", "type", "status", "owner", "expires_at", "created_at", "updated_at")
# Other parameters naming a task column are equality filters; unknown names are ignored.
_COLUMN_FILTERS = {"id": "id", "owner": "project_id"}


LISTING = paging.Listing(
    collection="tasks",
    sort_keys=SORT_KEYS,
    invalid_sort_key="Sort key supplied was not valid.",
    # Unknown, expired and other projects' markers read the same: nothing leaks.
    marker_not_found="Task with the given id {marker} was not found",
    entry=task_list_entry,
)


def list_tasks(project: Project, params: QueryDict) -> dict:
    """The list body: sparse task views, ``first``, ``next`` after a full page, ``schema``."""
    return paging.list_body(LISTING, params, lambda: _filtered(visible_tasks(project), params))


def _filtered(queryset: QuerySet[CloudTask], params: QueryDict) -> QuerySet[CloudTask]:
    status = params.get("status")
    if status:
        if status not in TASK_STATUSES:
            raise ApiError(400, f"Invalid status value: {status}")
        queryset = queryset.filter(status=status)
    task_type = params.get("type")
    if task_type:
        if task_type not in TASK_TYPES:
            raise ApiError(400, f"Invalid type value: {task_type}")
        queryset = queryset.filter(type=task_type)
    for name, column in _COLUMN_FILTERS.items():
        value = params.get(name)
        if value is not None:
            valid = _valid(column, value)
            queryset = queryset.filter(**{column: value}) if valid else queryset.none()
    return queryset


def _valid(column: str, value: str) -> bool:
    """A value no task can have matches nothing, rather than erroring in the database
    (PostgreSQL refuses NUL in text, and a malformed UUID)."""
    if "\x00" in value:
        return False
    if column != "id":
        return True
    try:
        CloudTask._meta.get_field("id").to_python(value)
    except ValidationError:
        return False
    return True
