"""Every status change of a task, and the rules that keep tasks from getting stuck.

Transitions are those of reference §3 only (pending → processing | failure,
processing → success | failure), each a compare-and-set on the row, so a
duplicated Celery delivery, a second beat or a slow worker can never move a
task twice. ``attempts`` is a fencing token: each run that claims a task
bumps it, and every later write of that run names the value it claimed, so a
run that another one has taken over cannot write anything.

A running job renews its claim (``started_at``) every few seconds. The
recovery job treats a ``processing`` task whose claim is older than the lease
as orphaned by a dead worker and sends its job again, or fails it after
``MAX_ATTEMPTS`` runs; a ``pending`` task nobody picked up is sent again too.
Expired tasks are invisible at once and deleted later by the purge job.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from imagetasks.localcloud.executors import import_state
from imagetasks.localcloud.executors.dispatch import dispatch_task
from imagetasks.localcloud.executors.throttle import Pacer
from imagetasks.localcloud.models import CloudTask, Project

logger = logging.getLogger(__name__)

Status = CloudTask.Status
TERMINAL = (Status.SUCCESS, Status.FAILURE)

# A claim older than the lease (LOCALCLOUD_TASK_LEASE) means the run is gone. A run
# renews its claim this many times a lease, so that a run a busy machine delays through
# one renewal still keeps its task. Renewed every 2 s, 2,000 running imports wrote 1,000
# renewals a second to SQLite, and some waited past its 20 s lock timeout and failed.
RENEWALS_PER_LEASE = 3
_clock = time.monotonic  # tests move it instead of waiting
# A pending task whose job has not started after this long gets its job sent again
# (lost message, broker down at submission).
PENDING_GRACE = timedelta(minutes=2)
MAX_ATTEMPTS = 3
RECOVERY_BATCH = 200

EXHAUSTED_MESSAGE = (
    "Task failed after {attempts} attempts: the worker running it stopped before it finished."
)


class Superseded(Exception):
    """This run no longer owns its task (another run claimed it, or it was failed)."""


@dataclass
class Claim:
    """One run's ownership of a task: the task's facts plus the attempt number it holds."""

    task_id: uuid.UUID
    attempt: int
    type: str
    project_id: str
    input: dict
    _renewed_at: float = field(default_factory=lambda: _clock())

    def keep_alive(self) -> None:
        """Renew the claim when due; raise Superseded when another run owns the task now."""
        if _clock() - self._renewed_at < renewal_interval():
            return
        renewed = _owned(self).update(started_at=timezone.now())
        if not renewed:
            raise Superseded(str(self.task_id))
        self._renewed_at = _clock()

    def pacer(self, **timing: Any) -> Pacer:
        """This run's pace (LOCALCLOUD_RATE_LIMIT), keeping its claim alive while it waits.

        A paced wait wakes twice a renewal interval, so a renewal is never more than half
        an interval late: waking every half second, 2,000 paced imports woke their
        worker's threads 4,000 times a second, most of them to find nothing due, and took
        most of a core from everything else on the machine. ``timing``: the pacer's clock
        and sleep, for tests.
        """
        every = renewal_interval() / 2
        return Pacer(settings.LOCALCLOUD_RATE_LIMIT, self.keep_alive, every=every, **timing)


def visible_tasks(project: Project) -> QuerySet[CloudTask]:
    """The project's tasks the API may show: past ``expires_at`` a task is gone (§8.1.6)."""
    return CloudTask.objects.filter(project=project).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )


def submit(project: Project, task_type: str, task_input: dict, **glance_fields) -> CloudTask:
    """Store a new pending task and send its job once the row is committed.

    ``glance_fields`` are an image import's ``image_id``, ``user_id`` and ``request_id``.
    """
    now = timezone.now()
    task = CloudTask.objects.create(
        project=project,
        type=task_type,
        input=task_input,
        created_at=now,
        updated_at=now,
        **glance_fields,
    )
    transaction.on_commit(lambda: dispatch_task(task.id, 0))
    return task


def claim(task_id: str | uuid.UUID, expected_attempts: int) -> Claim | None:
    """Take the task for this run, or None when there is nothing for this run to do.

    A job carries the attempt count it was sent for. A message redelivered after
    its run already claimed the task finds a newer count and stops, unless that
    run's claim has gone stale (its worker died), in which case it takes over.
    """
    row = (
        CloudTask.objects.filter(pk=task_id)
        .values("status", "attempts", "started_at", "type", "project_id", "input")
        .first()
    )
    if row is None or row["status"] in TERMINAL:
        return None
    now = timezone.now()
    if row["attempts"] != expected_attempts and not _stale(row, now):
        return None
    if row["attempts"] >= MAX_ATTEMPTS:
        _fail_exhausted(task_id, row["status"], row["attempts"], now)
        return None
    changes = {"status": Status.PROCESSING, "attempts": row["attempts"] + 1, "started_at": now}
    if row["status"] == Status.PENDING:
        changes["updated_at"] = now  # updated_at moves on status changes only
    claimed = CloudTask.objects.filter(
        pk=task_id, status=row["status"], attempts=row["attempts"]
    ).update(**changes)
    if not claimed:
        return None
    return Claim(
        task_id=uuid.UUID(str(task_id)),
        attempt=row["attempts"] + 1,
        type=row["type"],
        project_id=row["project_id"],
        input=row["input"],
    )


def succeed(run: Claim, result: dict) -> bool:
    """processing → success; False when this run no longer owns the task."""
    return _finish(run, Status.SUCCESS, result=result, message="")


def fail(run: Claim, message: str) -> bool:
    """processing → failure with the message the API shows."""
    return _finish(run, Status.FAILURE, result=None, message=message)


def owned(run: Claim) -> bool:
    """Whether this run still owns its task. Inside a transaction the row stays locked
    (PostgreSQL) until it ends, so writes made with this answer cannot race a takeover."""
    return _owned(run).select_for_update().exists()


def purge_expired() -> int:
    """Delete the rows of tasks past ``expires_at`` (already invisible); images and objects stay."""
    deleted, _ = CloudTask.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def lease() -> timedelta:
    """How long a running task's claim lasts without a renewal."""
    return timedelta(seconds=settings.LOCALCLOUD_TASK_LEASE)


def renewal_interval() -> float:
    """Seconds between renewals of a running task's claim."""
    return lease().total_seconds() / RENEWALS_PER_LEASE


def recover_stuck(*, pending_grace: timedelta = PENDING_GRACE) -> int:
    """Send again the jobs of tasks whose run died or never started; fail exhausted ones.

    Each re-send first moves ``started_at`` forward (compare-and-set), so
    overlapping recovery runs send one job per task per lease, not one each.
    For a pending task ``started_at`` thus records when its job was last sent.
    Returns how many tasks were acted on.
    """
    now = timezone.now()
    acted = 0
    stale = (
        CloudTask.objects.filter(status=Status.PROCESSING)
        .filter(Q(started_at__lt=now - lease()) | Q(started_at__isnull=True))
        .values_list("id", "attempts", "started_at")[:RECOVERY_BATCH]
    )
    for task_id, attempts, started_at in stale:
        if attempts >= MAX_ATTEMPTS:
            acted += _fail_exhausted(task_id, Status.PROCESSING, attempts, now)
        elif _mark_resent(task_id, Status.PROCESSING, started_at, now):
            logger.warning("task %s: run %d stopped; sending its job again", task_id, attempts)
            dispatch_task(task_id, attempts)
            acted += 1
    orphans = (
        CloudTask.objects.filter(status=Status.PENDING)
        .alias(since=Coalesce("started_at", "created_at"))
        .filter(since__lt=now - pending_grace)
        .values_list("id", "attempts", "started_at")[:RECOVERY_BATCH]
    )
    for task_id, attempts, started_at in orphans:
        if _mark_resent(task_id, Status.PENDING, started_at, now):
            logger.warning("task %s: still pending; sending its job again", task_id)
            dispatch_task(task_id, attempts)
            acted += 1
    return acted


def expiry_from(moment: datetime) -> datetime:
    return moment + timedelta(seconds=settings.LOCALCLOUD_TASK_TTL)


def _owned(run: Claim) -> QuerySet[CloudTask]:
    return CloudTask.objects.filter(pk=run.task_id, status=Status.PROCESSING, attempts=run.attempt)


def _finish(run: Claim, status: str, *, result: dict | None, message: str) -> bool:
    now = timezone.now()
    return bool(
        _owned(run).update(
            status=status,
            result=result,
            message=message,
            updated_at=now,
            expires_at=expiry_from(now),
        )
    )


def _stale(row: Mapping[str, Any], now: datetime) -> bool:
    started_at = row["started_at"]
    return row["status"] == Status.PROCESSING and (started_at is None or started_at < now - lease())


def _fail_exhausted(task_id, status: str, attempts: int, now: datetime) -> int:
    failed = CloudTask.objects.filter(pk=task_id, status=status, attempts=attempts).update(
        status=Status.FAILURE,
        result=None,
        message=EXHAUSTED_MESSAGE.format(attempts=attempts),
        updated_at=now,
        expires_at=expiry_from(now),
    )
    if failed:
        logger.error("task %s failed: its run stopped %d times", task_id, attempts)
        import_state.release_after_task(task_id)
    return failed


def _mark_resent(task_id, status: str, started_at: datetime | None, now: datetime) -> bool:
    return bool(
        CloudTask.objects.filter(pk=task_id, status=status, started_at=started_at).update(
            started_at=now
        )
    )
