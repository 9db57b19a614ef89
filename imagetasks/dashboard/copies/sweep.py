"""Finding copies with a step due and claiming them, for beat's periodic job.

The sweep is what makes copies survive: a job lost with its worker (the
filesystem broker does not deliver it again) leaves a lease that runs out,
and the next sweep claims the copy again and sends a new job.
"""

from __future__ import annotations

from datetime import datetime

from imagetasks.dashboard import leases
from imagetasks.dashboard.copies import lease
from imagetasks.dashboard.models import Copy

BATCH = 50


def claim_due(now: datetime) -> list[leases.Claim]:
    """Claim every due copy nobody holds (up to ``BATCH``): (copy id, token) for each job."""
    due = Copy.objects.filter(next_step_at__lte=now).order_by("next_step_at")
    return leases.claim_due(due, now=now, lease=lease.LEASE, limit=BATCH)
