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
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from imagetasks.dashboard import leases
from imagetasks.dashboard.models import ImageTask

LEASE = timedelta(seconds=60)
BATCH = 500


def lease_end(now: datetime) -> datetime:
    """When a claim made at ``now`` runs out: its ``claimed_until``."""
    return now + LEASE


def claim_due(now: datetime, *, limit: int = BATCH) -> dict[int, list[str]]:
    """Claim up to ``limit`` due tasks; return their ids grouped by cloud id."""
    due = ImageTask.objects.filter(next_poll_at__lte=now, cloud__enabled=True).order_by(
        "next_poll_at"
    )
    claims = leases.claim_due(due, now=now, lease=LEASE, limit=limit, fenced=False)
    if not claims:
        return {}
    ids = [str(claim.pk) for claim in claims]
    clouds = ImageTask.objects.filter(pk__in=ids).order_by().values_list("pk", "cloud_id")
    cloud_of = {str(pk): cloud_id for pk, cloud_id in clouds}
    by_cloud: dict[int, list[str]] = defaultdict(list)
    for task_id in ids:  # in the order they came due
        by_cloud[cloud_of[task_id]].append(task_id)
    return dict(by_cloud)
