"""GET /v2/tasks: the query rules of reference §1.3, in Glance's order of checks."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict

from imagetasks.localcloud.executors.lifecycle import visible_tasks
from imagetasks.localcloud.images import filters, paging
from imagetasks.localcloud.images.schemas import IMAGE_IMPORT_TASK_TYPE, TASK_STATUSES, TASK_TYPES
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
    queryset = filters.by_choice(queryset, params, "status", TASK_STATUSES)
    queryset = filters.by_choice(queryset, params, "type", [*TASK_TYPES, IMAGE_IMPORT_TASK_TYPE])
    return filters.by_columns(queryset, params, _COLUMN_FILTERS)
