"""Finding copies with a step due and claiming them, for beat's periodic job.

The sweep is what makes copies survive: a job lost with its worker (the
filesystem broker does not deliver it again) leaves a lease that runs out,
and the next sweep claims the copy again and sends a new job.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from imagetasks.dashboard.copies.lease import claim
from imagetasks.dashboard.models import Copy

BATCH = 50


def claim_due(now: datetime) -> list[tuple[str, str]]:
    """(copy id, lease token) of every due copy this sweep could claim."""
    due = (
        Copy.objects.filter(next_step_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_step_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    claimed = []
    for copy_id in list(due):
        token = claim(copy_id, now)
        if token:
            claimed.append((str(copy_id), token))
    return claimed
