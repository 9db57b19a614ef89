"""The detail GETs of one poll round, sent side by side.

When a batch ends, a scan finds several ends at once, and each needs a ``GET
/v2/tasks/{id}`` for its result and message. One after the other, the last end waited for
every answer before it; side by side, each is recorded as soon as its own answer is in.
The requests still start one pacing gap apart (the pacer is shared), so the cloud's cap
holds; only the waiting for answers overlaps.

The threads only ask: what an answer means for the task, and every write, stays with the
caller, in the job's own thread and database connection. An answer is handed back in
the order answers come, with the moment its request was sent (the observation's time).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking import trace
from imagetasks.dashboard.tracking.ratelimit import Pacer
from imagetasks.openstack import CloudClient
from imagetasks.openstack.types import Task as RemoteTask

# Requests of one job in flight at once: enough for the ends of a batch, few enough that
# a job never holds many of the cloud's connections (requests keeps ten per host).
SIDE_BY_SIDE = 8


@dataclass(frozen=True)
class Answer:
    """What one GET brought: the task as the cloud shows it, or why not."""

    asked_at: datetime
    remote: RemoteTask | None = None
    error: Exception | None = None


class _Round:
    """The requests of one round: none starts once the cloud has said to stop."""

    def __init__(self, client: CloudClient, pacer: Pacer, stop_on: tuple[type[Exception], ...]):
        self.client = client
        self.pacer = pacer
        self.stop_on = stop_on
        self.stopped = threading.Event()

    def ask(self, task: ImageTask) -> Answer | None:
        """``GET`` one task in its turn under the pacer; an error is handed back, not
        raised. None: not sent, the round stopped first."""
        if not self.pacer.wait(self.stopped):
            return None
        asked_at = timezone.now()
        try:
            if task.remote_id is None:
                raise ValueError(f"task {task.pk} has no remote id to ask the cloud about")
            with trace.asking(task.pk):
                return Answer(asked_at, remote=self.client.images.get_task(task.remote_id))
        except Exception as error:  # judged by the caller, which knows what each one means
            if isinstance(error, self.stop_on):
                self.stopped.set()
            return Answer(asked_at, error=error)


def ask_each(
    client: CloudClient,
    tasks: list[ImageTask],
    pacer: Pacer,
    *,
    stop_on: tuple[type[Exception], ...] = (),
) -> Iterator[tuple[ImageTask, Answer]]:
    """Each task with its answer, as the answers come.

    Once an answer is one of ``stop_on`` ("slow down"), or the caller stops iterating,
    no further request starts; the tasks not asked are not handed back. Up to
    ``SIDE_BY_SIDE`` requests were in flight by then: their answers still come.
    """
    round_ = _Round(client, pacer, stop_on)
    if len(tasks) <= 1:  # no thread for a single request
        for task in tasks:
            answer = round_.ask(task)
            if answer is not None:
                yield task, answer
        return
    pool = ThreadPoolExecutor(max_workers=min(SIDE_BY_SIDE, len(tasks)))
    try:
        asked: dict[Future[Answer | None], ImageTask] = {
            pool.submit(round_.ask, task): task for task in tasks
        }
        for future in as_completed(asked):
            answer = future.result()
            if answer is not None:
                yield asked[future], answer
    finally:
        round_.stopped.set()
        pool.shutdown(wait=True, cancel_futures=True)
