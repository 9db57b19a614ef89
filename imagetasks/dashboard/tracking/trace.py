"""What a poll job holds, and when it asks a cloud about one task, as signals.

The lease says that no two workers poll one task at once; these signals let that be
checked from outside, in each worker process, without a write to the database or a
line in the log per task. Nothing in the project listens to them: the tracker
benchmark's recorder does (``bench/poll_windows.py``). With no receiver, sending one
costs a check.

- ``tasks_taken``: the job read these rows under its claim and will poll them
  (``task_ids``), at ``at`` (epoch seconds).
- ``tasks_released``: a write of this job cleared the claim on these rows
  (``task_ids``), at ``at``. The next tick may claim them again from then on.
- ``task_asked``: one request about one task (``task_id``) went from ``started`` to
  ``ended``, whether the job holds the task or not (a list scan's detail GETs cover
  every task the scan watches).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.dispatch import Signal

tasks_taken = Signal()
tasks_released = Signal()
task_asked = Signal()


def taken(task_ids: Iterable[Any]) -> None:
    if tasks_taken.has_listeners():
        tasks_taken.send(__name__, task_ids=[str(pk) for pk in task_ids], at=time.time())


def released(task_ids: Iterable[Any]) -> None:
    """Sent once the write is committed: inside a transaction that is rolled back, the
    claim was never cleared."""
    if tasks_released.has_listeners():
        ids = [str(pk) for pk in task_ids]
        transaction.on_commit(
            lambda: tasks_released.send(__name__, task_ids=ids, at=time.time()), robust=True
        )


@contextmanager
def asking(task_id: Any) -> Iterator[None]:
    """Around one request about ``task_id``: ``task_asked`` when it has ended, however."""
    if not task_asked.has_listeners():
        yield
        return
    started = time.time()
    try:
        yield
    finally:
        task_asked.send(__name__, task_id=str(task_id), started=started, ended=time.time())
