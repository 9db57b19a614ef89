"""Pacing one job's requests to a cloud under its requests-per-second cap, and counting
them: those sent and those that failed, which the poller adds to the cloud's row.

Thread-safe: a job that sends requests side by side still starts them one gap apart.
"""

from __future__ import annotations

import threading
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
        self._lock = threading.Lock()

    def wait(self, cancelled: threading.Event | None = None) -> bool:
        """Block until the next request may go; count it. False, and not counted, when
        ``cancelled`` is set before the request's turn has come."""
        with self._lock:  # held while sleeping: the next caller's turn is a gap later
            now = self.clock()
            if now < self.next_at and not _is_set(cancelled):
                self.sleep(self.next_at - now)
                now = self.next_at
            if _is_set(cancelled):
                return False
            self.next_at = now + self.gap
            self.sent += 1
            return True

    def failed_request(self) -> None:
        """Count a request that got an error, or no answer at all."""
        with self._lock:
            self.failed += 1


def _is_set(event: threading.Event | None) -> bool:
    return event is not None and event.is_set()
