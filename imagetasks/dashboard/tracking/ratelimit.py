"""Pacing one job's requests to a cloud under its requests-per-second cap, and counting
them: those sent and those that failed, which the poller adds to the cloud's row."""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.gap = 1.0 / per_second
        self.clock = clock
        self.sleep = sleep
        self.next_at = 0.0
        self.sent = 0
        self.failed = 0

    def wait(self) -> None:
        """Block until the next request may go; count it."""
        now = self.clock()
        if now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.gap
        self.sent += 1

    def failed_request(self) -> None:
        """Count a request that got an error, or no answer at all."""
        self.failed += 1
