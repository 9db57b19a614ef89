"""Waiting in tests for something a worker does in its own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T],
    timeout: float = 120.0,
    interval: float = 0.2,
    what: str = "condition",
) -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something true; that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
