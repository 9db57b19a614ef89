"""When each task was in a poll job's hands, in which worker process; and how many times two
processes had one task in hand at once.

The tracker benchmark starts every dashboard worker with ``--include bench.poll_windows``.
With ``BENCH_POLL_WINDOWS`` naming a directory, this module then listens, in the process
that runs each ``poll_cloud`` job, to the signals the poller sends
(``imagetasks/dashboard/tracking/trace.py``) and records one *window* per task and job:

- *held*: from when the job read the task under its claim to when a write of the job
  cleared the claim (committed), or to the job's end if none did. A task released early
  (its change recorded from a list scan) is out of the job's hands from then on, while
  the job goes on with its other tasks: the next tick may hand it to another job.
- *asked*: one request about a task the job does not hold, from sending it to its
  answer (a list scan's detail GET of a task another job claimed).

Lines are appended at the job's end to a file of the process's own (``<pid>.log``), so no
two processes write one file and nothing is written to the database. Each job also
records its lease (the end of the claim it was sent with, an argument of the job), so
that an overlap after the earlier job's lease ran out can be told apart. Without the
variable it connects nothing.

Two windows of one task in two processes that overlap in time mean two workers had the
task in hand at once, which the lease is there to prevent. A hand-over (one job releases
the task, a later tick claims it again for a job in another process) gives windows that
touch or lie apart, never overlapping ones.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

POLL_JOB = "imagetasks.dashboard.poll_cloud"
ENV = "BENCH_POLL_WINDOWS"
HELD, ASKED, JOB = "held", "asked", "job"


@dataclass(frozen=True)
class PollWindow:
    """One task in one job's hands: when (epoch seconds) and in which process."""

    task: str
    pid: int
    start: float
    end: float
    worker: str = ""
    lease_until: float = 0.0  # the end of the job's claim (0: unknown)
    held: bool = True  # False: a request about a task the job did not hold


@dataclass(frozen=True)
class JobWindow:
    """One poll job: when, where, how many tasks it was handed and how many it took."""

    pid: int
    start: float
    end: float
    worker: str
    handed: int
    taken: int


def count_overlapping(windows: Iterable[PollWindow]) -> int:
    """Pairs of windows of the same task, in two different processes, that overlap in time.

    Windows that only touch (one ends as the other starts) do not overlap: the first job
    had released the task by then.
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
    """Overlapping pairs whose later window began once the earlier job's lease had run out."""
    return sum(
        1 for first, later in pairs if first.lease_until and later.start >= first.lease_until
    )


def read_windows(directory: Path) -> list[PollWindow]:
    """Every task window the worker processes recorded in ``directory``."""
    return [w for w in _read(directory) if isinstance(w, PollWindow)]


def read_jobs(directory: Path) -> list[JobWindow]:
    """Every poll job the worker processes recorded in ``directory``."""
    return [j for j in _read(directory) if isinstance(j, JobWindow)]


def _read(directory: Path) -> list[PollWindow | JobWindow]:
    found: list[PollWindow | JobWindow] = []
    for path in sorted(directory.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            fields = line.split(" ")
            if len(fields) != 8 or fields[0] not in (HELD, ASKED, JOB):
                continue  # a line cut short by a process that was killed
            kind, start, end, pid, worker, _cloud, lease, detail = fields
            try:
                when = (int(pid), float(start), float(end))
                if kind == JOB:
                    handed, taken = map(int, detail.split("/"))
                    found.append(JobWindow(*when, worker, handed, taken))
                    continue
                found.extend(
                    PollWindow(task, *when, worker, float(lease), held=kind == HELD)
                    for task in filter(None, detail.split(","))
                )
            except ValueError:
                continue  # a line cut short
    return found


@dataclass
class _Job:
    """The poll job running in this process, and what it holds."""

    worker: str
    cloud: str
    lease_until: float
    handed: int
    start: float = field(default_factory=time.time)
    holding: dict[str, float] = field(default_factory=dict)  # task → since
    taken: int = 0
    lines: list[str] = field(default_factory=list)

    def close(self, tasks: list[str], at: float) -> None:
        """The windows of ``tasks`` end at ``at``: one line per moment they were taken."""
        by_start: dict[float, list[str]] = defaultdict(list)
        for task in tasks:
            by_start[self.holding.pop(task)].append(task)
        for start, taken in by_start.items():
            self.line(HELD, start, at, ",".join(taken))

    def line(self, kind: str, start: float, end: float, detail: str) -> None:
        self.lines.append(
            f"{kind} {start:.6f} {end:.6f} {os.getpid()} {self.worker} {self.cloud} "
            f"{self.lease_until:.6f} {detail}\n"
        )


class Recorder:
    """Listens, in one worker process, to the poll job running there and what it holds, and
    appends its windows to ``<pid>.log`` in ``directory`` at the job's end. A prefork child
    runs one job at a time."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.job: _Job | None = None

    def connect(self) -> Recorder:
        from celery.signals import task_postrun, task_prerun

        from imagetasks.dashboard.tracking import trace

        self._signals = [
            (task_prerun, self.started),
            (trace.tasks_taken, self.taken),
            (trace.tasks_released, self.released),
            (trace.task_asked, self.asked),
            (task_postrun, self.ended),
        ]
        for signal, receiver in self._signals:
            signal.connect(receiver, weak=False)
        return self

    def disconnect(self) -> None:
        for signal, receiver in self._signals:
            signal.disconnect(receiver)

    def started(self, task: Any, args: Any = (), **kwargs: Any) -> None:
        self.job = None
        if task.name == POLL_JOB:
            cloud, handed, lease = (*args, None, [], None)[:3]
            worker = (task.request.hostname or "-").replace(" ", "_")
            self.job = _Job(worker, str(cloud), _epoch(lease), len(handed or []))

    def taken(self, task_ids: list[str], at: float, **kwargs: Any) -> None:
        if self.job:
            self.job.holding.update(dict.fromkeys(task_ids, at))
            self.job.taken += len(task_ids)

    def released(self, task_ids: list[str], at: float, **kwargs: Any) -> None:
        """Windows end for the tasks this job held; a release of a task it did not hold (a
        change a scan recorded for another job's task) ends none."""
        if self.job:
            held = [task for task in task_ids if task in self.job.holding]
            self.job.close(held, at)

    def asked(self, task_id: str, started: float, ended: float, **kwargs: Any) -> None:
        if self.job and task_id not in self.job.holding:
            self.job.line(ASKED, started, ended, task_id)

    def ended(self, task: Any, **kwargs: Any) -> None:
        if task.name != POLL_JOB or self.job is None:
            return
        job, end, self.job = self.job, time.time(), None
        # Still held at the end: the job wrote nothing for them (another writer did); their
        # claim lasts until the lease ends, but no one has them in hand any more.
        job.close(list(job.holding), end)
        job.line(JOB, job.start, end, f"{job.handed}/{job.taken}")
        with open(self.directory / f"{os.getpid()}.log", "a") as out:
            out.writelines(job.lines)


def _epoch(lease: str | None) -> float:
    """The job's lease (an ISO 8601 time, as the dispatcher sends it) in epoch seconds."""
    try:
        return datetime.fromisoformat(lease).timestamp() if lease else 0.0
    except ValueError:
        return 0.0


if os.environ.get(ENV):
    Recorder(Path(os.environ[ENV])).connect()
