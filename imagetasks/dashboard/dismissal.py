"""Dismissing tasks that were dealt with, and restoring them.

A task that ended badly (failure, rejected, not submitted, vanished) or was flagged
stale stays in front of everyone in the task table until someone says it was dealt
with. Dismissing writes who and when on the row and nothing else: status, snapshots and
notifications are untouched, the audit keeps the task, and the table's Dismissed view
lists it until someone restores it. A task in flight that is not stale, or one that
succeeded, is never dismissed, whatever a request names: the rule is part of every
UPDATE here, not a check before it, so a task that changed meanwhile is left alone.

Who may dismiss is decided by the callers with ``access.py`` (operators, on the tasks
they can see); each write bumps ``version``, so the live table and rendered rows
redraw.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask

WHAT_CAN_BE = "only a task that failed, was rejected or not submitted, vanished or went stale"


def dismissable(as_of: datetime | None = None) -> Q:
    """The tasks that may be dismissed: ended badly, or in flight and flagged stale.

    With ``as_of``, only those that were so at that moment: a dismissal of everything
    a person was shown leaves alone a task that failed while they confirmed.
    """
    failed = Q(status__in=statuses.FAILED)
    stale = Q(status__in=statuses.IN_FLIGHT, stale_since__isnull=False)
    if as_of is not None:
        failed &= Q(changed_at__lte=as_of)
        stale &= Q(stale_since__lte=as_of)
    return failed | stale


def can_dismiss(task: ImageTask) -> bool:
    """Whether ``task`` may be dismissed now (the row-level form of ``dismissable``)."""
    if task.status in statuses.FAILED:
        return True
    return task.status in statuses.IN_FLIGHT and task.stale_since is not None


def why_not(task: ImageTask) -> str:
    """Why ``task`` cannot be dismissed, for a person (and the API's 409)."""
    label = task.status_info.label
    if task.status in statuses.SUCCEEDED:
        return f"This task succeeded ({label}): {WHAT_CAN_BE} can be dismissed."
    return f"This task is still in flight ({label}): {WHAT_CAN_BE} can be dismissed."


def dismiss(tasks: QuerySet[ImageTask], user, *, as_of: datetime | None = None) -> int:
    """Dismiss those of ``tasks`` that may be and are not yet, as ``user``; how many."""
    return (
        tasks.filter(dismissable(as_of), dismissed_at__isnull=True)
        .order_by()
        .update(dismissed_at=timezone.now(), dismissed_by=user, version=F("version") + 1)
    )


def restore(tasks: QuerySet[ImageTask]) -> int:
    """Bring the dismissed ones of ``tasks`` back into the table; how many."""
    return (
        tasks.filter(dismissed_at__isnull=False)
        .order_by()
        .update(dismissed_at=None, dismissed_by=None, version=F("version") + 1)
    )


def dismiss_task(task: ImageTask, user) -> bool:
    """Dismiss one task; whether this call did. ``task`` is read again either way, so a
    caller tells "already dismissed" (``dismissed_at`` set) from "may not be" (not)."""
    done = dismiss(ImageTask.objects.filter(pk=task.pk), user) == 1
    _reread(task)
    return done


def restore_task(task: ImageTask) -> bool:
    """Restore one task; whether this call did. ``task`` is read again either way."""
    done = restore(ImageTask.objects.filter(pk=task.pk)) == 1
    _reread(task)
    return done


_REREAD = ["status", "stale_since", "dismissed_at", "dismissed_by", "version"]


def _reread(task: ImageTask) -> None:
    task.refresh_from_db(fields=_REREAD)


def counted(number: int) -> str:
    """ "1 task", "12 tasks"."""
    return f"{number:,} task{'' if number == 1 else 's'}"
