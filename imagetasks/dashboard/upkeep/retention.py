"""Retention: removing the history that piles up, as far as the settings say and no further.

Nothing is removed unless a setting asks for it: the audit is the product. What goes:

- **Snapshots** of tasks that ended (a terminal status, last changed) more than
  ``KEEP_SNAPSHOTS_DAYS`` ago, except each task's first and last, so its page still tells
  the story from submission to end, and any snapshot a notification is still about (the
  notice goes first, under its own setting). A task in flight is never touched. The task
  is stamped ``history_pruned_at``, so its page says the timeline has a gap.
- **Notifications** created more than ``KEEP_NOTIFICATIONS_DAYS`` ago that were sent or
  finally failed; their attempts are counted on the row and go with it. A pending one is
  still owed and stays, however old.
- **Rejected submissions** (tasks the cloud refused, ``rejected``) that ended more than
  ``KEEP_REJECTED_DAYS`` ago, with any snapshot or notice of theirs, unless a copy names
  the task (the copy's page links it).

A copy stages an object in the clouds, not rows here, and its own clean-up step removes
it; its two tasks are ordinary tasks, under the snapshot rule.

The work is done in batches of at most ``batch_size`` rows a transaction, chosen by
primary key, so no table is locked for long and the pages stay responsive while it runs.
Beat's hourly job (``run_scheduled``) holds a lease on an ``Upkeep`` row while it works,
so two beats never prune at once, and stops after a time budget: a large backlog is
worked off over several runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from imagetasks.dashboard import leases, statuses
from imagetasks.dashboard.models import Copy, ImageTask, Notification, TaskSnapshot, Upkeep

log = logging.getLogger(__name__)

CHORE = "retention"
# A scheduled run stops starting batches after this long; the rest waits for the next hour.
BUDGET = 60.0
# Longer than any one batch takes: the run renews it after each batch.
LEASE = timedelta(minutes=2)
# Ended tasks looked at together when picking snapshots to remove.
TASKS_AT_ONCE = 200
DONE = (Notification.Status.SENT, Notification.Status.FAILED)

SNAPSHOTS = "snapshots"
NOTIFICATIONS = "notifications"
REJECTED = "rejected submissions"
SETTING = {
    SNAPSHOTS: "IMAGETASKS_KEEP_SNAPSHOTS_DAYS",
    NOTIFICATIONS: "IMAGETASKS_KEEP_NOTIFICATIONS_DAYS",
    REJECTED: "IMAGETASKS_KEEP_REJECTED_DAYS",
}


@dataclass(frozen=True)
class Policy:
    """How long each kind of history is kept; None keeps it forever."""

    snapshots: timedelta | None = None
    notifications: timedelta | None = None
    rejected: timedelta | None = None

    @classmethod
    def from_settings(cls) -> Policy:
        def days(value: int | None) -> timedelta | None:
            return None if value is None else timedelta(days=value)

        return cls(
            snapshots=days(settings.KEEP_SNAPSHOTS_DAYS),
            notifications=days(settings.KEEP_NOTIFICATIONS_DAYS),
            rejected=days(settings.KEEP_REJECTED_DAYS),
        )

    @property
    def keeps_everything(self) -> bool:
        return self.snapshots is None and self.notifications is None and self.rejected is None

    def cutoffs(self, now: datetime) -> dict[str, datetime | None]:
        """For each kind, the moment before which it goes (None: kept forever), in the
        order they are pruned: notices first, as they hold on to their snapshots."""
        return {
            NOTIFICATIONS: None if self.notifications is None else now - self.notifications,
            REJECTED: None if self.rejected is None else now - self.rejected,
            SNAPSHOTS: None if self.snapshots is None else now - self.snapshots,
        }


@dataclass
class Tally:
    """Rows of one kind removed (or that would be), and of how many tasks for snapshots."""

    kind: str
    cutoff: datetime | None
    rows: int = 0
    tasks: int = 0

    def __str__(self) -> str:
        if self.cutoff is None:
            return f"{self.kind}: kept forever ({SETTING[self.kind]} is not set)"
        if self.kind == SNAPSHOTS:
            return f"{self.kind}: {self.rows:,} of {self.tasks:,} tasks"
        return f"{self.kind}: {self.rows:,}"


@dataclass
class Report:
    tallies: list[Tally] = field(default_factory=list)
    finished: bool = True  # False when the time budget ran out first

    @property
    def removed(self) -> int:
        return sum(tally.rows for tally in self.tallies)

    def as_json(self) -> dict:
        """What the ``Upkeep`` row keeps of the last run: rows removed by kind (and the
        tasks whose snapshots were thinned), and whether it finished."""
        removed = {tally.kind: tally.rows for tally in self.tallies if tally.cutoff is not None}
        tasks = sum(tally.tasks for tally in self.tallies)
        return {"finished": self.finished, "removed": removed, "tasks_thinned": tasks}


# What each rule selects ------------------------------------------------------------------


def ended_tasks(cutoff: datetime) -> QuerySet[ImageTask]:
    """Tasks whose status is final and that last changed before ``cutoff``."""
    return ImageTask.objects.filter(status__in=statuses.TERMINAL, changed_at__lt=cutoff)


def removable_snapshots(
    tasks: QuerySet[ImageTask] | list, notices: QuerySet[Notification]
) -> QuerySet[TaskSnapshot]:
    """The snapshots of ``tasks`` but each one's first and last, and but those one of
    ``notices`` (the notifications that stay) is about."""
    timeline = TaskSnapshot.objects.filter(task=OuterRef("task")).values("pk")
    first = timeline.order_by("observed_at", "id")[:1]
    last = timeline.order_by("-observed_at", "-id")[:1]
    return (
        TaskSnapshot.objects.filter(task__in=tasks)
        .exclude(pk=Subquery(first))
        .exclude(pk=Subquery(last))
        .exclude(Exists(notices.filter(snapshot=OuterRef("pk"))))
    )


def finished_notifications(cutoff: datetime) -> QuerySet[Notification]:
    """Notices made before ``cutoff`` that were sent or given up on; never a pending one."""
    return Notification.objects.filter(status__in=DONE, created_at__lt=cutoff)


def staying_notifications(cutoff: datetime | None) -> QuerySet[Notification]:
    """The notices a run with this cutoff for notifications leaves in place."""
    if cutoff is None:
        return Notification.objects.all()
    return Notification.objects.exclude(status__in=DONE, created_at__lt=cutoff)


def rejected_submissions(cutoff: datetime) -> QuerySet[ImageTask]:
    """Tasks the cloud refused before ``cutoff`` that no copy names and no notice is
    still owed about."""
    copies = Copy.objects.filter(Q(export_task=OuterRef("pk")) | Q(import_task=OuterRef("pk")))
    owed = Notification.objects.filter(task=OuterRef("pk"), status=Notification.Status.PENDING)
    return (
        ImageTask.objects.filter(status=statuses.REJECTED, changed_at__lt=cutoff)
        .exclude(Exists(copies))
        .exclude(Exists(owed))
    )


# Counting (the dry run) -------------------------------------------------------------------


def count(policy: Policy, now: datetime) -> list[Tally]:
    """What ``prune`` would remove now, by kind, without removing anything."""
    tallies = []
    cutoffs = policy.cutoffs(now)
    for kind, cutoff in cutoffs.items():
        tally = Tally(kind, cutoff)
        if cutoff is not None:
            if kind == SNAPSHOTS:
                # Counted as the run removes them: after the notices it removes first.
                notices = staying_notifications(cutoffs[NOTIFICATIONS])
                removable = removable_snapshots(ended_tasks(cutoff), notices)
                counted = removable.aggregate(rows=Count("pk"), tasks=Count("task", distinct=True))
                tally.rows, tally.tasks = counted["rows"], counted["tasks"]
            elif kind == NOTIFICATIONS:
                tally.rows = finished_notifications(cutoff).count()
            else:
                tally.rows = rejected_submissions(cutoff).count()
        tallies.append(tally)
    return tallies


# Removing, in batches ---------------------------------------------------------------------


class OutOfTime(Exception):
    """The time budget ran out between two batches."""


def prune(
    policy: Policy,
    now: datetime,
    *,
    batch_size: int,
    deadline: float | None = None,
    after_batch: Callable[[Tally], None] | None = None,
) -> Report:
    """Remove what ``policy`` no longer keeps, at most ``batch_size`` rows a transaction.

    ``deadline`` (a ``time.monotonic()`` value): no batch starts after it, and the report
    says the work was not finished. ``after_batch`` is called after each committed batch
    with the tally so far (progress, renewing a lease; what it raises stops the run).
    """
    report = Report()
    steps = {NOTIFICATIONS: _notification_batches, REJECTED: _rejected_batches}
    try:
        for kind, cutoff in policy.cutoffs(now).items():
            tally = Tally(kind, cutoff)
            report.tallies.append(tally)
            if cutoff is None:
                continue
            batches = steps.get(kind, _snapshot_batches)(cutoff, batch_size, now)
            for rows, tasks in batches:
                tally.rows += rows
                tally.tasks += tasks
                if after_batch:
                    after_batch(tally)
                if deadline is not None and time.monotonic() >= deadline:
                    raise OutOfTime
    except OutOfTime:
        report.finished = False
    return report


def _notification_batches(cutoff: datetime, size: int, now: datetime) -> Iterator[tuple[int, int]]:
    done = finished_notifications(cutoff).order_by("pk").values_list("pk", flat=True)
    for ids in _pages(done, size):
        # The status again: only what is still sent or failed as it is removed.
        removed, _ = Notification.objects.filter(pk__in=ids, status__in=DONE).delete()
        yield removed, 0


def _rejected_batches(cutoff: datetime, size: int, now: datetime) -> Iterator[tuple[int, int]]:
    rejected = rejected_submissions(cutoff).order_by("pk").values_list("pk", flat=True)
    for ids in _pages(rejected, size):
        with transaction.atomic():
            # A refused submission has, as a rule, no snapshot and no notice; should a
            # step have recorded one, it goes with the task (none still owed: see above).
            Notification.objects.filter(task__in=ids).delete()
            theirs = TaskSnapshot.objects.filter(task__in=ids).values_list("pk", flat=True)
            _delete_snapshots(list(theirs))
            # The ORM's delete: a resubmission of the task keeps its row, unlinked.
            deleted = ImageTask.objects.filter(pk__in=ids, status=statuses.REJECTED).delete()
        yield deleted[1].get(ImageTask._meta.label, 0), 0


def _snapshot_batches(cutoff: datetime, size: int, now: datetime) -> Iterator[tuple[int, int]]:
    # Only tasks with a third snapshot can have one to remove: a task pruned before is
    # passed over after reading two index entries.
    third = TaskSnapshot.objects.filter(task=OuterRef("pk")).order_by()[2:3]
    tasks = ended_tasks(cutoff).filter(Exists(third)).order_by("pk").values_list("pk", flat=True)
    for chunk in _pages(tasks, TASKS_AT_ONCE):
        removable = removable_snapshots(chunk, Notification.objects.all())
        seen: set = set()
        while rows := list(removable.order_by("pk").values_list("pk", "task")[:size]):
            pruned = {task for _, task in rows}
            with transaction.atomic():
                removed = _delete_snapshots([pk for pk, _ in rows])
                ImageTask.objects.filter(pk__in=pruned).update(history_pruned_at=now)
            yield removed, len(pruned - seen)
            seen |= pruned
            if len(rows) < size or not removed:
                break


def _pages(ids: QuerySet, size: int) -> Iterator[list]:
    """The primary keys ``ids`` reads, in their order, ``size`` at a time: each page starts
    after the last one's end, so what the caller removed meanwhile moves nothing."""
    after = None
    while page := list((ids if after is None else ids.filter(pk__gt=after))[:size]):
        after = page[-1]
        yield page


def _delete_snapshots(ids: list[int]) -> int:
    """Delete these snapshots, but any a notification has come to be about meanwhile.

    In SQL: the ORM's delete would first read every row whole (a notification protects
    them), body included, to delete what one statement can.
    """
    if not ids:
        return 0
    table = connection.ops.quote_name(TaskSnapshot._meta.db_table)
    notices = connection.ops.quote_name(Notification._meta.db_table)
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN ({marks}) AND NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {notices} WHERE {notices}.snapshot_id = {table}.id)",
            ids,
        )
        return cursor.rowcount


# The scheduled run ------------------------------------------------------------------------


def run_scheduled(now: datetime, *, budget: float = BUDGET) -> Report | None:
    """Beat's hourly run: apply the settings for at most ``budget`` seconds, alone.

    None when the settings keep everything, or another run holds the lease.
    """
    policy = Policy.from_settings()
    if policy.keeps_everything:
        return None
    Upkeep.objects.get_or_create(name=CHORE)
    claims = leases.claim_due(Upkeep.objects.filter(name=CHORE), now=now, lease=LEASE, limit=1)
    if not claims:
        log.info("retention: another run is pruning")
        return None
    lease = leases.Lease(Upkeep.objects.all(), claims[0])
    try:
        report = prune(
            policy,
            now,
            batch_size=settings.PRUNE_BATCH_SIZE,
            deadline=time.monotonic() + budget,
            after_batch=lambda tally: lease.renew(LEASE),
        )
    except leases.Superseded:
        log.warning("retention: the lease ran out during the run; another run goes on")
        return None
    except Exception:
        lease.release()  # the next hour's run tries again
        raise
    lease.release(last_finished_at=timezone.now(), last_report=report.as_json())
    log.info(
        "retention: removed %s%s",
        "; ".join(str(tally) for tally in report.tallies if tally.cutoff is not None),
        "" if report.finished else " (out of time, going on next hour)",
    )
    return report
