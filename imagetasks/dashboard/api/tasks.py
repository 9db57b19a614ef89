"""The tasks: the table's list (same filters and orders, paged by cursor) and one task.

Access is the dashboard's (``access.py``): the tasks of the caller's clouds, and a
404 for any other, so an id tells an outsider nothing.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.urls import reverse
from ninja import Query, Router
from ninja.errors import HttpError

from imagetasks.dashboard import access, tables
from imagetasks.dashboard.api import cursors, schemas
from imagetasks.dashboard.api.errors import ERRORS
from imagetasks.dashboard.models import ImageTask

router = Router(tags=["tasks"])


def task_fields(task: ImageTask) -> dict:
    info = task.status_info
    return {
        "id": task.pk,
        "url": reverse("api:task", kwargs={"task_id": task.pk}),
        "page": reverse("dashboard:task", kwargs={"task_id": task.pk}),
        "cloud": task.cloud.name,
        "type": task.type,
        "method": task.method,
        "name": task.name,
        "status": task.status,
        "status_label": info.label,
        "phase": info.phase,
        "message": task.message,
        "input": task.input,
        "result": task.result,
        "origin": task.origin,
        "submitted_by": task.submitted_by.get_username() if task.submitted_by else None,
        "submitted_at": task.submitted_at,
        "changed_at": task.changed_at,
        "remote_id": task.remote_id,
        "remote_created_at": task.remote_created_at,
        "remote_updated_at": task.remote_updated_at,
        "expires_at": task.expires_at,
        "remote_gone_at": task.remote_gone_at,
        "watching": task.watching,
        "last_error": task.last_error,
        "resubmitted_from": task.resubmitted_from_id,
        "dismissed_at": task.dismissed_at,
        "dismissed_by": task.dismissed_by.get_username() if task.dismissed_by else None,
        "history_pruned_at": task.history_pruned_at,
        "version": task.version,
    }


def task_detail(task: ImageTask) -> schemas.TaskDetail:
    snapshots = [
        schemas.Snapshot(
            observed_at=snapshot.observed_at,
            status=snapshot.status,
            message=snapshot.message,
            result=snapshot.result,
            remote_updated_at=snapshot.remote_updated_at,
            expires_at=snapshot.expires_at,
            body=snapshot.body,
        )
        for snapshot in task.snapshots.all()
    ]
    return schemas.TaskDetail(**task_fields(task), snapshots=snapshots)


@router.get(
    "", response={200: schemas.TaskPage, **ERRORS}, url_name="tasks", operation_id="listTasks"
)
def list_tasks(request, filters: Query[schemas.TaskFilters]):
    """The tasks of the caller's clouds that match the filters, a page at a time.

    The same filters and orders as the dashboard's table. Follow `next` (or pass
    `next_cursor` as `cursor` with the same filters) for the next page; a task
    submitted meanwhile neither repeats nor skips a row.
    """
    query = filters.table_query()
    tasks = tables.filter_tasks(request.user, query)
    if filters.cursor:
        try:
            tasks = cursors.after(tasks, query.sort, filters.cursor)
        except cursors.BadCursor as error:
            raise HttpError(400, str(error)) from None
    rows = list(tasks.select_related("cloud", "submitted_by", "dismissed_by")[: query.size + 1])
    page = rows[: query.size]
    next_cursor = cursors.cursor_after(page[-1], query.sort) if len(rows) > query.size else None
    next_url = None
    if next_cursor:
        params = [*query.params(page=1), ("cursor", next_cursor)]
        next_url = f"{reverse('api:tasks')}?{urlencode(params)}"
    return schemas.TaskPage(
        items=[schemas.Task(**task_fields(task)) for task in page],
        next_cursor=next_cursor,
        next=next_url,
    )


@router.get(
    "/{uuid:task_id}",
    response={200: schemas.TaskDetail, **ERRORS},
    url_name="task",
    operation_id="getTask",
)
def get_task(request, task_id: uuid.UUID):
    """One task with its timeline (every observed state, oldest first)."""
    return task_detail(access.get_task_for_user(request, task_id))
