"""Recording what a cloud says about a task: a snapshot on change, and the task row updated.

A snapshot is written only when the body differs from every earlier one
(unique on a fingerprint), in the same transaction as a compare-and-set of the
task row, so a duplicated or concurrent poll changes nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import CharField

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask, TaskSnapshot
from imagetasks.dashboard.models.snapshots import fingerprint
from imagetasks.dashboard.notifications import outbox
from imagetasks.dashboard.tracking import pollstate, scheduling, storable
from imagetasks.openstack.types import Task as RemoteTask

log = logging.getLogger("imagetasks.tracking")


def _max_length(name: str) -> int:
    field = ImageTask._meta.get_field(name)
    assert isinstance(field, CharField) and field.max_length is not None
    return field.max_length


STATUS_LENGTH = _max_length("status")
REMOTE_ID_LENGTH = _max_length("remote_id")


def fingerprint_of(remote: RemoteTask) -> str:
    """What makes an observation new: the fields that say what happened.

    A list entry lacks ``input``, ``result`` and ``message``; for a task in
    flight those say nothing anyway, so a list entry and a full view of the
    same state are the same observation and are stored once.
    """
    return fingerprint(
        {
            "id": remote.id,
            "status": remote.status,
            "updated_at": remote.updated_at,
            "expires_at": remote.expires_at,
            "result": remote.result,
            "message": remote.message,
        }
    )


def record(task: ImageTask, remote: RemoteTask, observed_at: datetime) -> ImageTask | None:
    """Store ``remote`` if it is new; return ``task`` as written, or None if nothing changed.

    ``remote`` is a full view, or a list entry of a task still in flight.

    ``task`` is the row as the caller read it: the update only applies if its
    version is still current, otherwise another observer got there first. When
    it applies, ``task`` is brought up to what was stored (the new version
    included), so the caller can go on with it without reading the row again.
    """
    remote_id = task.remote_id or remote.id  # a known task keeps the id it was asked by
    if len(remote_id) > REMOTE_ID_LENGTH or storable.NUL in remote_id:
        log.warning("task=%s: the cloud's task id cannot be kept: %.80r", task.pk, remote_id)
        return None
    status_code = storable.text(remote.status, STATUS_LENGTH)
    status = statuses.get(status_code)
    if status.terminal:
        interval = task.poll_interval
        next_poll_at = scheduling.expiry_check_at(observed_at, remote.expires_at)
    else:
        interval = scheduling.interval_after_change(task.cloud)
        next_poll_at = scheduling.next_poll(observed_at, interval)
    fields = {
        "remote_id": remote_id,
        "status": status_code,
        "result": storable.json_value(remote.result),
        "message": storable.text(remote.message),
        "remote_created_at": remote.created_at or task.remote_created_at,
        "remote_updated_at": remote.updated_at,
        "expires_at": remote.expires_at,
        "changed_at": observed_at,
        "last_polled_at": observed_at,
        "poll_interval": interval,
        "next_poll_at": next_poll_at if task.watching else None,
        "poll_errors": 0,
        "stale_since": None,
        "version": task.version + 1,
    }
    body = storable.json_value(remote.raw)
    if not store_change(task, fields, observed_at, body, fingerprint_of(remote)):
        return None
    log.info(
        "task changed task=%s cloud=%s remote_id=%s status=%s",
        task.pk,
        task.cloud.name,
        remote_id,
        status_code,
    )
    return pollstate.written(task, fields)


def store_change(
    task: ImageTask, fields: dict[str, Any], observed_at: datetime, body: Any, mark: str
) -> bool:
    """Apply ``fields`` to the row if ``task``'s version is still current, and keep the
    snapshot of ``body`` beside it, in one transaction; False when another observer got
    there first or the same observation was recorded already."""
    try:
        with transaction.atomic():
            if not pollstate.compare_and_set(task, fields):
                return False
            snapshot = TaskSnapshot.objects.create(
                task_id=task.pk,
                observed_at=observed_at,
                status=fields["status"],
                message=fields["message"],
                result=fields["result"],
                remote_updated_at=fields["remote_updated_at"],
                expires_at=fields["expires_at"],
                body=body,
                fingerprint=mark,
            )
            # In this transaction: a recorded ending is always notified, and only once.
            # ``task`` is still the row before the change, which the notices compare with.
            outbox.after_observation(task, snapshot)
    except IntegrityError:
        # The same body was recorded already (a duplicated delivery): nothing changed.
        return False
    return True


def is_new(task: ImageTask, remote: RemoteTask) -> bool:
    """Whether an observation differs from every one recorded (cheap pre-check)."""
    return not TaskSnapshot.objects.filter(task=task, fingerprint=fingerprint_of(remote)).exists()
