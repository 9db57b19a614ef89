"""Tasks with their history as CSV or JSON, for auditors (admin actions and the table).

Only task and snapshot fields leave: never a cloud's credentials, only its
name. CSV cells that a spreadsheet would run as a formula are neutralised.
Both are streamed, so a large selection is not built in memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from imagetasks.dashboard.models import ImageTask, TaskSnapshot

MAX_ROWS = 100_000
TASK_FIELDS = [
    "id", "cloud", "remote_id", "type", "name", "status", "message", "origin",
    "resubmitted_from", "submitted_by", "submitted_at", "remote_created_at",
    "remote_updated_at", "expires_at", "remote_gone_at", "input", "result", "dismissed_at",
    "dismissed_by",
]  # fmt: skip
SNAPSHOT_FIELDS = ["observed_at", "status", "message", "remote_updated_at", "expires_at"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell as text; a leading formula character is quoted so it stays text."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, cls=DjangoJSONEncoder)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _task_values(task: ImageTask) -> dict:
    return {
        "id": str(task.pk),
        "cloud": task.cloud.name,
        "remote_id": task.remote_id,
        "type": task.type,
        "name": task.name,
        "status": task.status,
        "message": task.message,
        "origin": task.origin,
        "resubmitted_from": str(task.resubmitted_from_id or ""),
        "submitted_by": task.submitted_by.get_username() if task.submitted_by else "",
        "submitted_at": task.submitted_at,
        "remote_created_at": task.remote_created_at,
        "remote_updated_at": task.remote_updated_at,
        "expires_at": task.expires_at,
        "remote_gone_at": task.remote_gone_at,
        "input": task.input,
        "result": task.result,
        "dismissed_at": task.dismissed_at,
        "dismissed_by": task.dismissed_by.get_username() if task.dismissed_by else "",
    }


def _snapshot_values(snapshot: TaskSnapshot | None) -> dict:
    if snapshot is None:
        return dict.fromkeys(SNAPSHOT_FIELDS)
    return {name: getattr(snapshot, name) for name in SNAPSHOT_FIELDS}


def _with_history(tasks: QuerySet[ImageTask]) -> Iterator[ImageTask]:
    selected = tasks.select_related("cloud", "submitted_by", "dismissed_by")
    selected = selected.prefetch_related("snapshots")
    return selected.iterator(chunk_size=500)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(tasks: QuerySet[ImageTask]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(TASK_FIELDS + [f"snapshot_{name}" for name in SNAPSHOT_FIELDS])
    for task in _with_history(tasks):
        values = _task_values(task)
        snapshots: Iterable[TaskSnapshot | None] = list(task.snapshots.all()) or [None]
        for snapshot in snapshots:
            history = _snapshot_values(snapshot)
            cells = [values[n] for n in TASK_FIELDS] + [history[n] for n in SNAPSHOT_FIELDS]
            yield writer.writerow([safe_cell(cell) for cell in cells])


def csv_response(tasks: QuerySet[ImageTask], filename: str) -> StreamingHttpResponse:
    """One line per observed snapshot (a task never observed gets one line without)."""
    response = StreamingHttpResponse(_csv_lines(tasks), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _json_chunks(tasks: QuerySet[ImageTask]) -> Iterator[str]:
    yield "["
    for index, task in enumerate(_with_history(tasks)):
        entry = _task_values(task)
        entry["snapshots"] = [{**_snapshot_values(s), "body": s.body} for s in task.snapshots.all()]
        yield ("," if index else "") + json.dumps(entry, cls=DjangoJSONEncoder)
    yield "]"


def json_response(tasks: QuerySet[ImageTask], filename: str) -> StreamingHttpResponse:
    """A JSON array of tasks, each with its snapshots and their bodies as received."""
    response = StreamingHttpResponse(_json_chunks(tasks), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
