"""Sending the built-in cloud's jobs to its Celery queue.

Jobs are sent by name, so this module needs none of the job code, and the
``imagetasks.localcloud.*`` route puts them on the ``localcloud`` queue. A
broker that cannot be reached is logged, not raised: the task row is already
stored and the recovery job sends its job again later; a missing ETag is
computed by the object store on demand anyway.
"""

from __future__ import annotations

import logging
import uuid

from kombu.exceptions import OperationalError

from imagetasks.celery import app

logger = logging.getLogger(__name__)

RUN_TASK = "imagetasks.localcloud.run_task"
FILL_OBJECT_ETAG = "imagetasks.localcloud.fill_object_etag"


def dispatch_task(task_id: uuid.UUID | str, expected_attempts: int) -> bool:
    """Ask a worker to run the task; it acts only if the task still has that attempt count."""
    return _send(RUN_TASK, [str(task_id), expected_attempts])


def dispatch_fill_etag(object_id: int, blob_id: str) -> bool:
    return _send(FILL_OBJECT_ETAG, [object_id, blob_id])


def _send(name: str, args: list) -> bool:
    try:
        app.send_task(name, args=args)
    except OperationalError as error:
        logger.warning("could not send %s%r to the broker: %s", name, args, error)
        return False
    return True
