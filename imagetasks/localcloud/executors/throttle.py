"""Pacing work to LOCALCLOUD_RATE_LIMIT bytes per second per task.

Demos and tests use a rate limit to make imports and exports last seconds or
minutes, so that ``processing`` can be seen and workers can be killed
mid-task. Waiting happens in slices that keep the task's claim alive, so a slow
task is never mistaken for a dead one; a running task's slices are sized to its
claim (``Claim.pacer``), since every waking thread costs the worker a turn of the GIL.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_CHUNK = 4 * 1024 * 1024  # bytes held per buffer: memory stays flat whatever the size
MIN_CHUNK = 64 * 1024
SLICE = 0.5  # seconds between keep-alive calls while waiting, unless told otherwise


class Pacer:
    """Tells how fast to go: call ``advance(n)`` after each ``n`` bytes of work.

    ``keep_alive`` is called on every step and at least every ``every`` seconds between
    sleeps; it may raise to stop the work (the task was taken over).
    """

    def __init__(
        self,
        rate: int,
        keep_alive: Callable[[], None] = lambda: None,
        *,
        every: float = SLICE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.rate = rate
        self.keep_alive = keep_alive
        self.every = every
        self._clock = clock
        self._sleep = sleep
        self._started = clock()
        self._done = 0

    @property
    def chunk_size(self) -> int:
        """Big chunks when unpaced; a quarter second of work when paced, so progress is even."""
        if not self.rate:
            return MAX_CHUNK
        return max(MIN_CHUNK, min(MAX_CHUNK, self.rate // 4))

    def advance(self, nbytes: int) -> None:
        self.keep_alive()
        if not self.rate:
            return
        self._done += nbytes
        due = self._started + self._done / self.rate
        while (delay := due - self._clock()) > 0:
            self._sleep(min(delay, self.every))
            self.keep_alive()
