"""The per-task requests of one poll round, sent side by side.

When a batch ends, a scan finds several ends at once, and each needs a ``GET
/v2/tasks/{id}`` for its result and message. One after the other, the last end waited for
every answer before it; side by side, each is recorded as soon as its own answer is in.
The requests still start one pacing gap apart (the pacer is shared), so the cloud's cap
holds; only the waiting for answers overlaps.

The threads only ask: what an answer means for the task, and every write, stays with the
caller, in the job's own thread and database connection. An answer is handed back in
the order answers come, with the moment its request was sent (the observation's time).
The same holds for an import's task list (``GET /v2/images/{id}/tasks``), asked when
its image's import state moved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from django.utils import timezone

from imagetasks.dashboard.tracking.ratelimit import Pacer

# Requests of one job in flight at once: enough for the ends of a batch, few enough that
# a job never holds many of the cloud's connections (requests keeps ten per host).
SIDE_BY_SIDE = 8

Item = TypeVar("Item")
Body = TypeVar("Body")


@dataclass(frozen=True)
class Answer(Generic[Body]):
    """What one request brought (what the cloud shows), or why not."""

    asked_at: datetime
    body: Body | None = None
    error: Exception | None = None


class _Round(Generic[Item, Body]):
    """The requests of one round: none starts once the cloud has said to stop."""

    def __init__(
        self,
        request: Callable[[Item], Body],
        pacer: Pacer,
        stop_on: tuple[type[Exception], ...],
    ):
        self.request = request
        self.pacer = pacer
        self.stop_on = stop_on
        self.stopped = threading.Event()

    def ask(self, item: Item) -> Answer[Body] | None:
        """One request in its turn under the pacer; an error is handed back, not raised.
        None: not sent, the round stopped first."""
        if not self.pacer.wait(self.stopped):
            return None
        asked_at = timezone.now()
        try:
            return Answer(asked_at, body=self.request(item))
        except Exception as error:  # judged by the caller, which knows what each one means
            if isinstance(error, self.stop_on):
                self.stopped.set()
            return Answer(asked_at, error=error)


def ask_each(
    items: list[Item],
    request: Callable[[Item], Body],
    pacer: Pacer,
    *,
    stop_on: tuple[type[Exception], ...] = (),
) -> Iterator[tuple[Item, Answer[Body]]]:
    """Each item with the answer to ``request(item)``, as the answers come.

    Once an answer is one of ``stop_on`` ("slow down"), or the caller stops iterating,
    no further request starts; the items not asked about are not handed back. Up to
    ``SIDE_BY_SIDE`` requests were in flight by then: their answers still come.
    ``request`` runs in other threads: it may only talk to the cloud, never to the
    database.
    """
    round_ = _Round(request, pacer, stop_on)
    if len(items) <= 1:  # no thread for a single request
        for item in items:
            answer = round_.ask(item)
            if answer is not None:
                yield item, answer
        return
    pool = ThreadPoolExecutor(max_workers=min(SIDE_BY_SIDE, len(items)))
    try:
        asked: dict[Future[Answer[Body] | None], Item] = {
            pool.submit(round_.ask, item): item for item in items
        }
        for future in as_completed(asked):
            answer = future.result()
            if answer is not None:
                yield asked[future], answer
    finally:
        round_.stopped.set()
        pool.shutdown(wait=True, cancel_futures=True)
