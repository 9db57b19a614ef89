"""Writes of polling state that are not observations: no change, an error, gone, expired.

Each is a compare-and-set on the row's version, so a stale worker cannot
overwrite what a newer observation wrote. Only writes that change what a
person sees (an error, the stale flag, the remote record gone) bump the
version; a quiet "no change" does not, so the live table stays untouched.
Each hands back the task as written (or None when another writer got there
first), so a poller keeps its row current without reading it again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.notifications import outbox
from imagetasks.dashboard.tracking import scheduling, trace

log = logging.getLogger("imagetasks.tracking")

MAX_ERROR_TEXT = 2000


def compare_and_set(task: ImageTask, fields: dict[str, Any]) -> bool:
    """Store ``fields`` and release the claim if the row is still at ``task.version``;
    return whether it was.

    ``fields`` holds values, not expressions (a new version is ``task.version + 1``,
    which the filter makes the same as ``F("version") + 1``), so that :func:`written`
    can apply them to ``task`` without reading the row back.
    """
    if not ImageTask.objects.filter(pk=task.pk, version=task.version).update(
        claimed_until=None, **fields
    ):
        return False
    trace.released([task.pk])
    return True


def written(task: ImageTask, fields: dict[str, Any]) -> ImageTask:
    """``task`` brought up to what :func:`compare_and_set` stored for ``fields``."""
    task.claimed_until = None
    for name, value in fields.items():
        setattr(task, name, value)
    return task


def _apply(task: ImageTask, *, bump: bool, **fields: Any) -> ImageTask | None:
    if bump:
        fields["version"] = task.version + 1
    return written(task, fields) if compare_and_set(task, fields) else None


def unchanged(task: ImageTask, now: datetime) -> ImageTask | None:
    """Nothing new: back off, and flag a task that has been processing for too long."""
    interval = scheduling.interval_after_no_change(task.cloud, task.poll_interval)
    fields = {
        "last_polled_at": now,
        "poll_interval": interval,
        "poll_errors": 0,
        "next_poll_at": scheduling.next_poll(now, interval) if task.watching else None,
    }
    becomes_stale = (
        task.stale_since is None
        and task.status == statuses.PROCESSING
        and task.changed_at is not None
        and now - task.changed_at > task.cloud.stale_after
    )
    if becomes_stale:
        fields["stale_since"] = now
        log.warning("task stale task=%s cloud=%s since=%s", task.pk, task.cloud.name, now)
        with transaction.atomic():  # the flag and its notices are stored together
            flagged = _apply(task, bump=True, **fields)
            if flagged:
                outbox.after_stale([task.pk], now)
        return flagged
    return _apply(task, bump=task.poll_errors > 0, **fields)


def deferred(task: ImageTask, due: datetime) -> ImageTask | None:
    """Seen to change, but left for the next round (this one spent its requests)."""
    return _apply(task, bump=False, next_poll_at=due if task.watching else None)


def failed_poll(
    task: ImageTask, now: datetime, error: str, retry_after: float | None
) -> ImageTask | None:
    """The cloud did not answer usefully: record why, back off, never fail the task."""
    interval = scheduling.interval_after_error(task.cloud, task.poll_interval, retry_after)
    log.warning(
        "poll error task=%s cloud=%s errors=%d error=%s",
        task.pk,
        task.cloud.name,
        task.poll_errors + 1,
        error,
    )
    return _apply(
        task,
        bump=True,
        last_polled_at=now,
        poll_interval=interval,
        poll_errors=task.poll_errors + 1,
        last_error=error[:MAX_ERROR_TEXT],
        last_error_at=now,
        next_poll_at=scheduling.next_poll(now, interval) if task.watching else None,
    )


def remote_gone(task: ImageTask, now: datetime) -> ImageTask | None:
    """The cloud answers 404 for a finished task: its record expired; ours stays."""
    log.info("task expired on cloud task=%s cloud=%s", task.pk, task.cloud.name)
    return _apply(task, bump=True, remote_gone_at=now, last_polled_at=now, next_poll_at=None)


def vanished(task: ImageTask, now: datetime) -> ImageTask | None:
    """An unfinished task the cloud keeps answering 404 for: it expired or was lost
    before its end was observed. Stop polling; say so rather than show it in flight."""
    log.warning("task vanished task=%s cloud=%s", task.pk, task.cloud.name)
    return _apply(
        task,
        bump=True,
        status=statuses.VANISHED,
        message=(
            "The cloud no longer knows this task and its outcome was not observed. "
            "Check whether its result (the image or the exported object) exists."
        ),
        remote_gone_at=now,
        last_polled_at=now,
        changed_at=now,
        watching=False,
        next_poll_at=None,
    )


def still_there_after_expiry(task: ImageTask, now: datetime) -> ImageTask | None:
    """Glance purges lazily: an expired task may still answer. Look again later."""
    return _apply(
        task,
        bump=False,
        last_polled_at=now,
        next_poll_at=now + scheduling.EXPIRED_RECHECK if task.watching else None,
    )


def stop_watching(task: ImageTask) -> bool:
    """Stop polling a task in flight (a person's choice: it goes on running on the cloud,
    since tasks cannot be cancelled); whether this call stopped it."""
    return bool(
        ImageTask.objects.filter(pk=task.pk, watching=True, status__in=statuses.IN_FLIGHT).update(
            watching=False, next_poll_at=None, version=F("version") + 1
        )
    )
