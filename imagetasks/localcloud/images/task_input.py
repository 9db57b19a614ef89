"""POST /v2/tasks: reading and checking the body, in the order of reference §1.2 and §8.1.4.

Only structural problems are refused here (400/415). Whether the object,
container or image exists, who owns it and whether the VHD is valid are
found out by the executor, which fails the task with Rackspace's message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.images.schemas import task_body_problem

REQUIRED = ("type", "input")
EXPORT_FIELDS = ("image_uuid", "receiving_swift_container")
MAX_DEPTH = 32


@dataclass(frozen=True)
class TaskRequest:
    type: str
    input: dict


def parse_task_request(request: HttpRequest) -> TaskRequest:
    _check_media_type(request)
    body = json_body(request)
    if not isinstance(body, dict | list):
        raise ApiError(400, "Unexpected body type. Expected list/dict.")
    for name in REQUIRED:
        if name not in body:  # a list passes when it holds the strings, as in Glance
            raise ApiError(400, f"Task '{name}' is required")
    if problem := task_body_problem(body):
        raise ApiError(400, f"Provided object does not match schema 'task': {problem}")
    assert isinstance(body, dict)  # the schema accepts nothing else
    task_input = body["input"]
    if body["type"] == "import":
        _check_import(task_input)
    else:
        _check_export(task_input)
    return TaskRequest(type=body["type"], input=task_input)


def _check_media_type(request: HttpRequest) -> None:
    media_type = request.content_type
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(415, f"The request media type {media_type} is not supported by this server.")


def json_body(request: HttpRequest) -> object:
    """The body as strict JSON that can be stored and echoed back.

    Python's parser also takes NaN and Infinity, and strings with NUL, which
    PostgreSQL's jsonb refuses; very deep nesting would exhaust the recursion
    of the encoders that store and echo the input. Each is a 400 here rather
    than a server error later.
    """
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "The request body is too large.") from None
    if not raw:
        raise ApiError(400, "Body expected in request.")
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "Malformed JSON in request body.") from None
    if problem := _unstorable(body):
        raise ApiError(400, problem)
    return body


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _unstorable(body: object) -> str | None:
    """Why the parsed body cannot be stored as is (walked without recursion), or None."""
    pending = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return "JSON in request body is nested too deeply."
        if isinstance(value, str) and "\x00" in value:
            return "JSON in request body may not contain NUL characters."
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return None


def _check_import(task_input: dict) -> None:
    """``import_from`` must name ``<container>/<object>``; the object name may contain "/"."""
    location = task_input.get("import_from")
    container, _, name = location.partition("/") if isinstance(location, str) else ("", "", "")
    if not container or not name:
        raise ApiError(400, f"Invalid location: {location}")


def _check_export(task_input: dict) -> None:
    for name in EXPORT_FIELDS:
        if name not in task_input:
            raise ApiError(400, f"Input does not contain '{name}' field")
        if not isinstance(task_input[name], str) or not task_input[name]:
            raise ApiError(400, f"Input field '{name}' must be a non-empty string")
