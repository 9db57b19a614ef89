"""Submitting a task: saved first, POSTed once, its outcome recorded whatever happens.

The row is created before the POST, so nothing is lost if the web process
dies mid-request. A 4xx (or anything that means nothing was sent) makes it
``rejected`` with the cloud's message. A timeout, a lost connection or a 5xx
means the cloud may have created the task anyway: the row becomes
``unconfirmed`` and the reconcile step looks for it later. The app never POSTs
the same submission twice; a form that is sent twice carries the same id.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.clouds.secretbox import SecretUnreadable
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import observations, storable
from imagetasks.openstack import CloudError, TasksForbidden

log = logging.getLogger("imagetasks.tracking")

# How soon to start looking for a task whose submission went unanswered.
RECONCILE_DELAY = 10.0
ORPHAN_AFTER = 120.0
# How a refusal of the tasks API reads (the client words it; Glance forbids it by default).
TASKS_FORBIDDEN = "This account may not use the tasks API"
CLOUD_OFF = "Not sent: the cloud {cloud} is switched off in the dashboard."


def describe(task_type: str, task_input: object) -> str:
    """A short name for the table: the image name for imports, the image id for exports.

    A discovered task's input is whatever the cloud sent: any shape reads as a name or "".
    """
    data = task_input if isinstance(task_input, dict) else {}
    if task_type == "import":
        properties = data.get("image_properties")
        name = properties.get("name") if isinstance(properties, dict) else None
        return storable.text(str(name or data.get("import_from") or ""), 255)
    return storable.text(str(data.get("image_uuid") or ""), 255)


def submit(
    cloud: Cloud,
    task_type: str,
    task_input: dict[str, Any],
    *,
    user: User | None = None,
    submission_id: uuid.UUID | None = None,
    origin: str = ImageTask.Origin.SUBMITTED,
    resubmitted_from: ImageTask | None = None,
    delete_source: bool = False,
    name: str | None = None,
) -> ImageTask:
    """Create the task row, POST it once, and return the row in its resulting state.

    ``delete_source`` (imports): delete the source object once the import succeeded.
    ``name``: what the table calls the task (an export's image name), when the caller
    knows better than the input does.
    """
    if submission_id is not None and _taken_by_another(submission_id, cloud, user):
        # The id names someone else's task (or another cloud's): it is no key of this
        # person's, so this is a new submission, and nothing of the other task is shown.
        submission_id = None
    try:
        with transaction.atomic():  # a savepoint: a duplicate must not spoil a caller's atomic
            task = ImageTask.objects.create(
                id=submission_id or uuid.uuid4(),
                cloud=cloud,
                type=task_type,
                input=task_input,
                name=(name or describe(task_type, task_input))[:255],
                status=statuses.SUBMITTING,
                submitted_by=user,
                origin=origin,
                resubmitted_from=resubmitted_from,
                delete_source_after_import=delete_source and task_type == ImageTask.Type.IMPORT,
                poll_interval=cloud.poll_min_interval,
                # Should this process die before the POST's outcome is stored, the
                # poller finds the row due and reconciles it like an unconfirmed one.
                next_poll_at=timezone.now() + timedelta(seconds=ORPHAN_AFTER),
            )
    except IntegrityError:
        if submission_id is None:
            raise  # a fresh id cannot collide: the row itself was refused
        # The same form arrived twice: the first submission stands.
        return ImageTask.objects.get(pk=submission_id, cloud=cloud, submitted_by=user)
    if not cloud.enabled:
        # The CLI, a resubmission or a copy may name a cloud switched off since: nothing
        # is sent, and the row says why (the poller would never look at it).
        return _finish(task, statuses.REJECTED, message=CLOUD_OFF.format(cloud=cloud.name))
    log.info("submitting task=%s cloud=%s type=%s", task.pk, cloud.name, task_type)
    try:
        remote = client_for(cloud).images.create_task(task_type, task_input)
    except CloudError as error:
        return _not_confirmed(task, error)
    except SecretUnreadable as error:
        return _finish(task, statuses.REJECTED, message=str(error))
    observations.record(task, remote, timezone.now())
    task.refresh_from_db()
    log.info("submitted task=%s remote_id=%s status=%s", task.pk, task.remote_id, task.status)
    return task


def _taken_by_another(submission_id: uuid.UUID, cloud: Cloud, user: User | None) -> bool:
    """Whether a task with this id exists that is not this person's on this cloud."""
    return (
        ImageTask.objects.filter(pk=submission_id).exclude(cloud=cloud, submitted_by=user).exists()
    )


def _not_confirmed(task: ImageTask, error: CloudError) -> ImageTask:
    if error.outcome_unknown:
        now = timezone.now()
        log.warning("submission unconfirmed task=%s error=%s", task.pk, error)
        return _finish(
            task,
            statuses.UNCONFIRMED,
            last_error=f"{type(error).__name__}: {error}",
            last_error_at=now,
            next_poll_at=now + timedelta(seconds=RECONCILE_DELAY),
        )
    message = error.message
    if isinstance(error, TasksForbidden):
        # The client already says "this account may not use the tasks API: …".
        message = message[:1].upper() + message[1:]
    log.info("submission rejected task=%s status=%s message=%s", task.pk, error.status, message)
    return _finish(task, statuses.REJECTED, message=message)


def _finish(task: ImageTask, status: str, **fields: Any) -> ImageTask:
    if status in statuses.TERMINAL:
        fields.update(watching=False, next_poll_at=None)
    ImageTask.objects.filter(pk=task.pk, version=task.version).update(
        status=status, changed_at=timezone.now(), version=F("version") + 1, **fields
    )
    task.refresh_from_db()
    return task
