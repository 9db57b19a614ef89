"""Finding the remote task of a submission whose POST went unanswered.

A timeout or a 5xx does not mean the cloud did nothing. Instead of POSTing
again (which could create the task twice), look for a remote task of the same
type and input created around the submission time that no other row has
adopted, and adopt it. If none turns up before the deadline, the submission is
marked ``lost``: the person can resubmit knowingly.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import F

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking import observations, trace
from imagetasks.openstack import CloudClient, CloudError
from imagetasks.openstack.types import Task as RemoteTask

log = logging.getLogger("imagetasks.tracking")

# Clocks of the dashboard and the cloud differ; search this far either side.
CLOCK_MARGIN = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(minutes=15)
RETRY_EVERY = timedelta(seconds=30)
SCAN_LIMIT = 500


def reconcile(client: CloudClient, task: ImageTask, now: datetime) -> bool:
    """Adopt the submission's remote task if it can be found; return whether it was."""
    try:
        remote = _find(client, task)
    except CloudError as error:
        log.warning("reconcile failed task=%s error=%s", task.pk, error)
        remote = None
    if remote is not None and observations.record(task, remote, now):
        log.info("reconciled task=%s remote_id=%s", task.pk, remote.id)
        return True
    if now - task.submitted_at > GIVE_UP_AFTER:
        given_up = ImageTask.objects.filter(pk=task.pk, version=task.version).update(
            status=statuses.LOST,
            message=(
                "The cloud did not confirm this submission and no matching task was found on it. "
                "Nothing is running for it; resubmit if you still need it."
            ),
            watching=False,
            next_poll_at=None,
            claimed_until=None,
            changed_at=now,
            version=F("version") + 1,
        )
        if given_up:
            trace.released([task.pk])
        log.warning("submission lost task=%s", task.pk)
        return False
    if ImageTask.objects.filter(pk=task.pk, version=task.version).update(
        status=statuses.UNCONFIRMED,
        next_poll_at=now + RETRY_EVERY,
        claimed_until=None,
        version=F("version") + (0 if task.status == statuses.UNCONFIRMED else 1),
    ):
        trace.released([task.pk])
    return False


def _find(client: CloudClient, task: ImageTask) -> RemoteTask | None:
    earliest = task.submitted_at - CLOCK_MARGIN
    latest = task.submitted_at + CLOCK_MARGIN + GIVE_UP_AFTER
    adopted = set(
        ImageTask.objects.filter(cloud=task.cloud, remote_id__isnull=False).values_list(
            "remote_id", flat=True
        )
    )
    for entry in client.images.list_tasks(
        sort_key="created_at", sort_dir="desc", page_size=100, limit=SCAN_LIMIT
    ):
        if entry.created_at and entry.created_at < earliest:
            break
        if entry.id in adopted or entry.type != task.type:
            continue
        if entry.created_at and entry.created_at > latest:
            continue
        detail = client.images.get_task(entry.id)
        if detail.input == task.input:
            return detail
    return None
