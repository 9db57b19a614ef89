"""When each poll job ran, in which worker process, and which tasks it held; and how many
polls of one task by two processes overlapped in time.

The tracker benchmark starts every dashboard worker with ``--include bench.poll_windows``.
With ``BENCH_POLL_WINDOWS`` naming a directory, this module then records, from Celery's
``task_prerun``/``task_postrun`` signals in the process that runs the job, one line per
``poll_cloud`` job: start, end, pid, worker name, cloud id and the task ids it was handed,
appended to a file of that process's own (``<pid>.log``), so no two processes write one
file and nothing is written to the database. Without the variable it connects nothing.

A job's window is its whole run: the tasks it was handed are claimed for it (the lease)
from dispatch until it releases them, and it polls only those still claimed. Two windows
of one task in two processes that overlap mean two workers held it at once, which the
lease is there to prevent.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

POLL_JOB = "imagetasks.dashboard.poll_cloud"
ENV = "BENCH_POLL_WINDOWS"


@dataclass(frozen=True)
class PollWindow:
    """One task's poll by one job: when (epoch seconds) and in which process."""

    task: str
    pid: int
    start: float
    end: float
    worker: str = ""


def count_overlapping(windows: Iterable[PollWindow]) -> int:
    """Pairs of windows of the same task, in two different processes, that overlap in time.

    Windows that only touch (one ends as the other starts) do not overlap: the first job
    has released the task by then.
    """
    by_task: dict[str, list[PollWindow]] = defaultdict(list)
    for window in windows:
        by_task[window.task].append(window)
    pairs = 0
    for task_windows in by_task.values():
        task_windows.sort(key=lambda w: w.start)
        for index, first in enumerate(task_windows):
            for later in itertools.islice(task_windows, index + 1, None):
                if later.start >= first.end:
                    break  # sorted by start: no later window reaches back into this one
                pairs += later.pid != first.pid
    return pairs


def read_windows(directory: Path) -> list[PollWindow]:
    """Every task's poll windows the worker processes recorded in ``directory``."""
    windows = []
    for path in sorted(directory.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            fields = line.split(" ")
            if len(fields) != 6:
                continue  # a line cut short by a process that was killed
            start, end, pid, worker, _cloud, tasks = fields
            for task in filter(None, tasks.split(",")):
                windows.append(PollWindow(task, int(pid), float(start), float(end), worker))
    return windows


def _connect(directory: Path) -> None:
    from celery.signals import task_postrun, task_prerun

    started: dict[str, float] = {}

    @task_prerun.connect(weak=False)
    def _started(task_id: str, task, **kwargs) -> None:
        if task.name == POLL_JOB:
            started[task_id] = time.time()

    @task_postrun.connect(weak=False)
    def _ended(task_id: str, task, args=(), **kwargs) -> None:
        if task.name != POLL_JOB or task_id not in started:
            return
        start, end = started.pop(task_id), time.time()
        cloud_id, task_ids = (*args, None, [])[:2]
        worker = (task.request.hostname or "").replace(" ", "_")
        line = f"{start:.6f} {end:.6f} {os.getpid()} {worker} {cloud_id} {','.join(task_ids)}\n"
        with open(directory / f"{os.getpid()}.log", "a") as out:
            out.write(line)


if os.environ.get(ENV):
    _connect(Path(os.environ[ENV]))
