"""Claiming due tasks so that each is polled by one worker at a time.

Beat runs ``dispatch`` every second. It claims the tasks whose ``next_poll_at``
has come and whose previous claim (a lease) has run out, with row locks that
other dispatchers skip (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
SQLite the IMMEDIATE transaction serialises dispatchers instead), and returns
them grouped by cloud so that one job per cloud can use list requests.
A worker that dies mid-poll only delays its tasks until the lease ends.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from imagetasks.dashboard.models import ImageTask

LEASE = timedelta(seconds=60)
BATCH = 500


def claim_due(now: datetime, *, limit: int = BATCH) -> dict[int, list[str]]:
    """Claim up to ``limit`` due tasks; return their ids grouped by cloud id."""
    with transaction.atomic():
        due = list(
            ImageTask.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_poll_at__lte=now, cloud__enabled=True)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_poll_at")
            .values_list("pk", "cloud_id")[:limit]
        )
        if not due:
            return {}
        ImageTask.objects.filter(pk__in=[pk for pk, _ in due]).update(claimed_until=now + LEASE)
    by_cloud: dict[int, list[str]] = defaultdict(list)
    for pk, cloud_id in due:
        by_cloud[cloud_id].append(str(pk))
    return dict(by_cloud)
