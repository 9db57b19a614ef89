"""What the built-in cloud's Images API answers must hold, for the tests of its tasks and images."""

from __future__ import annotations

# Every field of a task's detail view before it ends; an ended task adds ``expires_at``.
TASK_DETAIL_KEYS = {
    "id",
    "type",
    "status",
    "input",
    "result",
    "owner",
    "message",
    "created_at",
    "updated_at",
    "self",
    "schema",
}


def assert_refused(response, status: int, message: str) -> None:
    """The API refused the request with ``status`` and Glance's ``message``."""
    assert response.status_code == status
    assert response.json()["message"] == message
