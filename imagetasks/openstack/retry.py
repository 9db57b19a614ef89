"""How long to wait before trying an idempotent request again.

The cloud's ``Retry-After`` wins when it sends one (it knows its own load); otherwise the
wait grows exponentially with jitter so many workers hitting one busy cloud spread out
instead of retrying in step. Every wait is capped so a hostile header cannot park a worker.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` retries after the first try; waits never exceed ``max_wait`` seconds."""

    attempts: int = 3
    max_wait: float = 30.0
    base_delay: float = 0.5

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """The wait before retry number ``attempt`` (0-based)."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(asked, self.max_wait)
        ceiling = min(self.max_wait, self.base_delay * 2.0**attempt)
        # "Equal jitter": never less than half the ceiling, so backoff still grows.
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - not cryptographic
