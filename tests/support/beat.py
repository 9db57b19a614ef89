"""Beat's part in tests: a thread that does periodic work while a test runs.

Tests drive the dispatchers from the test process rather than run celery beat,
so they choose what is sent, how often, and onto which queue.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)


@contextlib.contextmanager
def ticking(*work: Callable[[], object], interval: float = 0.5) -> Iterator[None]:
    """Call each of ``work`` every ``interval`` seconds until the block ends.

    A tick that fails (the broker restarting, the database busy for a moment)
    is logged and the next one tries again, as with beat.
    """
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            for call in work:
                try:
                    call()
                except Exception as error:
                    log.warning("test beat tick failed: %s", error)
            stop.wait(interval)

    thread = threading.Thread(target=tick, name="test-beat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
