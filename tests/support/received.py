"""What the live server in this process received: every request's method and path."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.core.signals import request_started


@contextlib.contextmanager
def requests_received() -> Iterator[list[tuple[str, str]]]:
    """``(method, path)`` of each request the live server starts on inside the block.

    The built-in cloud counts as any store would: what arrived, not what a client meant
    to send.
    """
    seen: list[tuple[str, str]] = []

    def record(sender: Any, environ: dict[str, Any], **kwargs: Any) -> None:
        seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))

    request_started.connect(record, weak=False)
    try:
        yield seen
    finally:
        request_started.disconnect(record)
