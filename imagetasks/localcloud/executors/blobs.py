"""Blobs an executor run makes, named after the task and the attempt.

Names a run can compute mean a later attempt can remove what a killed one
left half-made, and two runs of one task never write the same file.
"""

from __future__ import annotations

import uuid

from imagetasks.localcloud import blobstore


def attempt_blob_id(task_id: uuid.UUID, purpose: str, attempt: int) -> str:
    return uuid.uuid5(task_id, f"{purpose}/{attempt}").hex


def discard_earlier_attempts(task_id: uuid.UUID, purpose: str, attempt: int) -> None:
    """Remove what earlier, dead attempts of this task may have left behind."""
    for earlier in range(1, attempt):
        blobstore.delete(attempt_blob_id(task_id, purpose, earlier))
