"""Claiming due tasks so that each is polled by one worker at a time.

Beat runs ``dispatch`` every second. It claims, under a lease (``leases``), the
tasks whose ``next_poll_at`` has come and whose previous claim has run out, and
returns them grouped by cloud so that one job per cloud can use list requests.
Tasks carry no fencing token: the claim's end (``lease_end``) stands for one. A poll
job is sent with it and polls only the tasks whose ``claimed_until`` is still that very
end, and not past it: a job that starts after its lease ran out would otherwise poll
tasks a later tick has claimed again for another job, and the cloud would be asked
twice. Its writes are compare-and-set on the task's ``version``.
A worker that dies mid-poll only delays its tasks until the lease ends.

A cloud has one poll job out at a time: the tick claims the cloud too, under the same
lease (``poll_claimed_until``), and the job gives it back when it ends (``release``).
Without it, a tick sent a cloud a new job while the last one still waited in the queue;
under load several jobs of one cloud ran back to back, each scanning it again, while
other clouds waited for a worker.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from imagetasks.dashboard import leases
from imagetasks.dashboard.models import Cloud, ImageTask

LEASE = timedelta(seconds=60)
BATCH = 500
CLOUD_LEASE = "poll_claimed_until"
# More clouds than any deployment has: every cloud with due tasks may get a job each tick.
CLOUDS_PER_TICK = 10_000


def lease_end(now: datetime) -> datetime:
    """When a claim made at ``now`` runs out: its ``claimed_until``."""
    return now + LEASE


def claim_due(now: datetime, *, limit: int = BATCH) -> dict[int, list[str]]:
    """Claim up to ``limit`` due tasks of the clouds with no poll job out, and those clouds;
    return the tasks' ids grouped by cloud id."""
    due = ImageTask.objects.filter(next_poll_at__lte=now, cloud__enabled=True)
    waiting = Cloud.objects.filter(pk__in=due.values("cloud_id")).order_by("pk")
    clouds = leases.claim_due(
        waiting, now=now, lease=LEASE, limit=CLOUDS_PER_TICK, fenced=False, until=CLOUD_LEASE,
    )  # fmt: skip
    if not clouds:
        return {}
    cloud_ids = [int(claim.pk) for claim in clouds]
    mine = due.filter(cloud_id__in=cloud_ids).order_by("next_poll_at")
    claims = leases.claim_due(mine, now=now, lease=LEASE, limit=limit, fenced=False)
    ids = [str(claim.pk) for claim in claims]
    rows = ImageTask.objects.filter(pk__in=ids).order_by().values_list("pk", "cloud_id")
    cloud_of = {str(pk): cloud_id for pk, cloud_id in rows}
    by_cloud: dict[int, list[str]] = defaultdict(list)
    for task_id in ids:  # in the order they came due
        by_cloud[cloud_of[task_id]].append(task_id)
    # A cloud whose due tasks went to another claimer meanwhile, or past the batch, gets
    # no job this tick: it is free again for the next.
    unsent = [pk for pk in cloud_ids if pk not in by_cloud]
    for pk in unsent:
        release(pk, lease_end(now))
    return dict(by_cloud)


def release(cloud_id: int, claimed_until: datetime) -> bool:
    """The poll job sent under the claim ending ``claimed_until`` has ended: the cloud may
    have the next. A claim made since (the job ended after its lease) is left alone."""
    return bool(
        Cloud.objects.filter(pk=cloud_id, **{CLOUD_LEASE: claimed_until}).update(
            **{CLOUD_LEASE: None}
        )
    )
