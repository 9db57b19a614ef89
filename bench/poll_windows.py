"""When each poll job ran, in which worker process, and which tasks it held; and how many
polls of one task by two processes overlapped in time.

The tracker benchmark starts every dashboard worker with ``--include bench.poll_windows``.
With ``BENCH_POLL_WINDOWS`` naming a directory, this module then records, from Celery's
``task_prerun``/``task_postrun`` signals in the process that runs the job, one line per
``poll_cloud`` job: start, end, pid, worker name, cloud id and the task ids it was handed,
appended to a file of that process's own (``<pid>.log``), so no two processes write one
file and nothing is written to the database. It also reads, once per job as it starts, when
the lease on those tasks runs out (the earliest ``claimed_until`` among them), so that an
overlap can be told apart: the later job started after the earlier one's lease had run out
(the job outlived its lease), or before (the earlier job had released the task and was
finishing its other work). Without the variable it connects nothing.

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
    lease_until: float = 0.0  # when the job's claim ran out, as read at its start (0: unknown)


def count_overlapping(windows: Iterable[PollWindow]) -> int:
    """Pairs of windows of the same task, in two different processes, that overlap in time.

    Windows that only touch (one ends as the other starts) do not overlap: the first job
    has released the task by then.
    """
    return len(overlapping_pairs(windows))


def overlapping_pairs(windows: Iterable[PollWindow]) -> list[tuple[PollWindow, PollWindow]]:
    """The pairs ``count_overlapping`` counts, the one that started first first."""
    by_task: dict[str, list[PollWindow]] = defaultdict(list)
    for window in windows:
        by_task[window.task].append(window)
    pairs = []
    for task_windows in by_task.values():
        task_windows.sort(key=lambda w: w.start)
        for index, first in enumerate(task_windows):
            for later in itertools.islice(task_windows, index + 1, None):
                if later.start >= first.end:
                    break  # sorted by start: no later window reaches back into this one
                if later.pid != first.pid:
                    pairs.append((first, later))
    return pairs


def after_lease(pairs: list[tuple[PollWindow, PollWindow]]) -> int:
    """Overlapping pairs whose later job started once the earlier one's lease had run out."""
    return sum(
        1 for first, later in pairs if first.lease_until and later.start >= first.lease_until
    )


def read_windows(directory: Path) -> list[PollWindow]:
    """Every task's poll windows the worker processes recorded in ``directory``."""
    windows = []
    for path in sorted(directory.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            fields = line.split(" ")
            if len(fields) not in (6, 7):
                continue  # a line cut short by a process that was killed
            start, end, pid, worker, _cloud, tasks, *lease = fields
            lease_until = float(lease[0]) if lease else 0.0
            for task in filter(None, tasks.split(",")):
                window = PollWindow(task, int(pid), float(start), float(end), worker, lease_until)
                windows.append(window)
    return windows


def _connect(directory: Path) -> None:
    from celery.signals import task_postrun, task_prerun

    started: dict[str, tuple[float, float]] = {}

    @task_prerun.connect(weak=False)
    def _started(task_id: str, task, args=(), **kwargs) -> None:
        if task.name == POLL_JOB:
            started[task_id] = (time.time(), _lease_until((*args, None, [])[1]))

    @task_postrun.connect(weak=False)
    def _ended(task_id: str, task, args=(), **kwargs) -> None:
        if task.name != POLL_JOB or task_id not in started:
            return
        (start, lease_until), end = started.pop(task_id), time.time()
        cloud_id, task_ids = (*args, None, [])[:2]
        worker = (task.request.hostname or "").replace(" ", "_")
        line = (
            f"{start:.6f} {end:.6f} {os.getpid()} {worker} {cloud_id} {','.join(task_ids)} "
            f"{lease_until:.6f}\n"
        )
        with open(directory / f"{os.getpid()}.log", "a") as out:
            out.write(line)


def _lease_until(task_ids: list[str]) -> float:
    """When the claim on the job's tasks runs out (epoch seconds); 0 if none is held."""
    try:
        from django.db.models import Min

        from imagetasks.dashboard.models import ImageTask

        held = ImageTask.objects.filter(pk__in=task_ids).aggregate(Min("claimed_until"))
        until = held["claimed_until__min"]
        return until.timestamp() if until else 0.0
    except Exception:  # measuring must never stop a poll
        return 0.0


if os.environ.get(ENV):
    _connect(Path(os.environ[ENV]))
