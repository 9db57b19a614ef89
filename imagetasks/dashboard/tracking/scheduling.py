"""When to look at a task next.

Adaptive: the minimum interval right after a change, doubling while nothing
changes up to the cloud's maximum, with jitter so that tasks submitted
together do not stay in lock-step. A cloud's ``Retry-After`` wins when longer.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from imagetasks.dashboard.models import Cloud

JITTER = 0.2
# After a task ends the remote record is checked once more when it expires;
# a cloud that purges lazily (Glance) may still show it, so look again later.
EXPIRY_GRACE = timedelta(seconds=5)
EXPIRED_RECHECK = timedelta(hours=1)
# A finished task whose cloud gave no expiry: assume the usual 48 hours.
DEFAULT_TTL = timedelta(hours=48)


def jittered(seconds: float, rng: random.Random | None = None) -> float:
    spread = seconds * JITTER
    return max(0.0, seconds + (rng or random).uniform(-spread, spread))


def interval_after_change(cloud: Cloud) -> float:
    return cloud.poll_min_interval


def interval_after_no_change(cloud: Cloud, current: float) -> float:
    return min(cloud.poll_max_interval, max(cloud.poll_min_interval, current * 2))


def interval_after_error(cloud: Cloud, current: float, retry_after: float | None) -> float:
    backoff = interval_after_no_change(cloud, current)
    return max(backoff, retry_after or 0.0)


def next_poll(now: datetime, interval: float) -> datetime:
    return now + timedelta(seconds=jittered(interval))


def expiry_check_at(now: datetime, expires_at: datetime | None) -> datetime:
    """When to confirm that a finished task is gone from the cloud."""
    if expires_at is None:
        return now + DEFAULT_TTL
    return max(now, expires_at) + EXPIRY_GRACE
