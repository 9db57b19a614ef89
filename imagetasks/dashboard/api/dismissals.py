"""Dismissing a task that was dealt with, and restoring it, as the task's page does.

Only operators (403 for the others), on the tasks they can see (404 for any other). A
task still in flight that is not stale, or one that succeeded, is a 409: only a task
that failed, was rejected or not submitted, vanished or went stale is dismissed
(``dismissal.py``). Dismissing a dismissed task, or restoring one that is not, changes
nothing and answers the task as it is.
"""

from __future__ import annotations

import uuid

from ninja import Router
from ninja.errors import HttpError

from imagetasks.dashboard import access, dismissal
from imagetasks.dashboard.api import schemas
from imagetasks.dashboard.api.errors import ERRORS, Error
from imagetasks.dashboard.api.tasks import task_fields

router = Router(tags=["tasks"])
ANSWERS = {200: schemas.Task, 409: Error, **ERRORS}


@router.post(
    "/{uuid:task_id}/dismiss", response=ANSWERS, url_name="dismiss", operation_id="dismissTask"
)
def dismiss(request, task_id: uuid.UUID):
    """Take a task that was dealt with out of the default list and the table: it is then
    listed with `dismissed=true`, with who dismissed it and when. 409 for a task in
    flight (unless flagged stale) or one that succeeded."""
    task = access.get_task_for_user(request, task_id)
    access.require_operator(request)
    dismissal.dismiss_task(task, request.user)
    if task.dismissed_at is None:
        raise HttpError(409, dismissal.why_not(task))
    return 200, schemas.Task(**task_fields(task))


@router.post(
    "/{uuid:task_id}/restore", response=ANSWERS, url_name="restore", operation_id="restoreTask"
)
def restore(request, task_id: uuid.UUID):
    """Bring a dismissed task back into the default list and the table."""
    task = access.get_task_for_user(request, task_id)
    access.require_operator(request)
    dismissal.restore_task(task)
    return 200, schemas.Task(**task_fields(task))
