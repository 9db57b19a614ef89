"""gunicorn's hooks: one request-latency histogram for all the web processes.

Each web process measures the requests it answers (``dashboard/metrics/http.py``), and a
scrape of ``/metrics`` reaches one process at a time: kept in memory, the histogram of
each scrape was that process's alone, and Prometheus saw counters jump back and forth
between processes. So the master gives its processes a directory of its own, where
prometheus-client keeps each process's values in a file, and a scrape adds them up.

Loaded with ``--config python:imagetasks.gunicorn_config`` (Procfile, docker compose).
prometheus-client chooses where values live when it is first imported, so the
directory is named before any process imports it, in the master: the processes it
starts inherit it. The master imports nothing of Django: gevent's processes patch
threading after they start, and a Django imported before that would share one database
connection among all their requests. The directory is in the system's temporary folder,
named after the master; it is cleared when the master starts and stops, and so are
those of masters no longer running, so two servers on one machine keep theirs apart.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from imagetasks.processes import process_exists

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "imagetasks-web-metrics-"


def on_starting(server) -> None:
    parent = Path(tempfile.gettempdir())
    for directory in parent.glob(f"{PREFIX}*"):
        pid = directory.name.removeprefix(PREFIX)
        if not pid.isdigit() or not process_exists(int(pid)):
            shutil.rmtree(directory, ignore_errors=True)
    directory = parent / f"{PREFIX}{os.getpid()}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(mode=0o700)
    os.environ[MULTIPROCESS_ENV] = str(directory)


def child_exit(server, worker) -> None:
    """A process that ended keeps its counts (totals must not go down) but no live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    # Taken out of the environment too: whatever this process starts afterwards would
    # otherwise be told to keep its metrics in a directory that no longer exists, and
    # prometheus-client refuses to start without it.
    directory = os.environ.pop(MULTIPROCESS_ENV, None)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
