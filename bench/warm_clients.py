"""Worker processes of the tracker benchmark start with a client for every cloud, its token
and the cloud's task schema, as a worker process that has run for a while has them.

A worker process asks a cloud for a token (and its task schema) at its first poll of it:
several seconds each on the loaded built-in cloud, whose token requests hash a password.
Left to the first polls, those waits landed in the measured minutes, as jobs that took
seconds to send their first request, which a worker that runs on (tokens last hours) does
not have. Counting token requests in the cloud's log did not tell which process still
lacked one.

The benchmark starts every dashboard worker with ``--include bench.warm_clients``. With
``BENCH_WARM_CLIENTS`` naming a directory, each pool process, once forked, asks every
enabled cloud for its schema (which takes the token first) in a thread of its own (Celery
gives a forked process seconds to report for work, not minutes), then leaves
``<pid>.warm`` in the directory; the benchmark waits for one per process. Without the
variable it does nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from celery.signals import worker_process_init

ENV = "BENCH_WARM_CLIENTS"

log = logging.getLogger("bench")


def warm(directory: Path) -> None:
    """A client, a token and the schema for every enabled cloud, then this process's mark."""
    from django.db import connection

    from imagetasks.dashboard.clouds.clients import client_for
    from imagetasks.dashboard.models import Cloud

    try:
        for cloud in Cloud.objects.filter(enabled=True):
            try:
                client_for(cloud).tasks_flavour()
            except Exception as error:  # the polls say what is wrong; this saves them a wait
                log.warning("could not warm the client of %s: %s", cloud.name, error)
    finally:
        connection.close()  # this thread's own
    (directory / f"{os.getpid()}.warm").touch()


def warmed(directory: Path) -> int:
    """How many processes have their clients."""
    return len(list(directory.glob("*.warm")))


def _start(**kwargs: object) -> None:
    threading.Thread(target=warm, args=(Path(os.environ[ENV]),), daemon=True).start()


if os.environ.get(ENV):
    worker_process_init.connect(_start, weak=False)
