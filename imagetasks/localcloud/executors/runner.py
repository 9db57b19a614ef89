"""One run of a task: claim it, do the work of its type, and always end it.

Whatever goes wrong inside the work, the task does not stay ``processing``:
an expected refusal fails it with the reference's message (inside the
executors), an unexpected error is logged and fails it with a generic one,
and a run that lost its claim to another run just stops.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from imagetasks.localcloud.executors import import_state, lifecycle
from imagetasks.localcloud.executors.exporter import CONVERSION_FAILED, run_export
from imagetasks.localcloud.executors.image_import import run_image_import
from imagetasks.localcloud.executors.importer import run_import
from imagetasks.localcloud.executors.lifecycle import Claim, Superseded
from imagetasks.localcloud.executors.web_download import GLANCE_FAILURE

logger = logging.getLogger(__name__)

EXECUTORS: dict[str, Callable[[Claim], None]] = {
    "import": run_import,
    "export": run_export,
    "api_image_import": run_image_import,
}
# Glance's wording for an import; Rackspace's for an export (cloudcafe's constant).
INTERNAL_ERROR = {
    "import": GLANCE_FAILURE,
    "export": CONVERSION_FAILED,
    "api_image_import": GLANCE_FAILURE,
}


def execute(task_id: str | uuid.UUID, expected_attempts: int) -> None:
    run = lifecycle.claim(task_id, expected_attempts)
    if run is None:
        return
    try:
        EXECUTORS[run.type](run)
    except Superseded:
        logger.info("task %s: attempt %d was taken over by another run", task_id, run.attempt)
    except Exception:
        logger.exception("task %s: attempt %d failed unexpectedly", task_id, run.attempt)
        if lifecycle.fail(run, INTERNAL_ERROR[run.type]):
            import_state.release_after_task(run.task_id)
