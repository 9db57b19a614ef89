"""Fault injection for the built-in cloud's service APIs (Images and Object Storage).

It lets the dashboard's resilience be tested against a real server that
misbehaves the way clouds do: slow answers, 500/503 errors, tokens suddenly
refused, bodies cut off mid-way. Identity is left alone, so a client can
always authenticate again. The settings are read on every request, so tests
(and an operator) can change them while the server runs; all are 0 by default.

``check_store_write`` is called by the image import's executor: writes to a store
named in LOCALCLOUD_FAULT_FAILING_STORES fail, as a full or broken backend would.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from imagetasks.localcloud.api import error_response

FAULTY_PATHS = ("/localcloud/image/", "/localcloud/object/")
# Not for security: only decides which requests misbehave.
_dice = random.Random()  # noqa: S311


class FaultInjectionMiddleware:
    """Apply the LOCALCLOUD_FAULT_* settings to requests under FAULTY_PATHS.

    In order: wait LOCALCLOUD_FAULT_LATENCY seconds; then, at
    LOCALCLOUD_FAULT_ERROR_RATE, answer 500 or 503 (``Retry-After: 1``) without
    running the view; at LOCALCLOUD_FAULT_UNAUTHORIZED_RATE, answer 401; and at
    LOCALCLOUD_FAULT_MALFORMED_RATE, cut a JSON 200 or 201 body in half (for a 201
    the work was done and only the answer is lost, as when a connection drops).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(FAULTY_PATHS):
            return self.get_response(request)
        if settings.LOCALCLOUD_FAULT_LATENCY > 0:
            time.sleep(settings.LOCALCLOUD_FAULT_LATENCY)
        if _happens(settings.LOCALCLOUD_FAULT_ERROR_RATE):
            return _server_error()
        if _happens(settings.LOCALCLOUD_FAULT_UNAUTHORIZED_RATE):
            return error_response(
                401,
                "The request you have made requires authentication.",
                {"WWW-Authenticate": 'Keystone uri="/localcloud/identity"'},
            )
        response = self.get_response(request)
        if _is_json_success(response) and _happens(settings.LOCALCLOUD_FAULT_MALFORMED_RATE):
            _truncate(response)
        return response


class StoreWriteFailed(Exception):
    """A write to an image store failed."""


def check_store_write(store: str) -> None:
    """Raise ``StoreWriteFailed`` when LOCALCLOUD_FAULT_FAILING_STORES names ``store``."""
    if store in settings.LOCALCLOUD_FAULT_FAILING_STORES:
        raise StoreWriteFailed(f"the store {store!r} refused the write")


def _happens(rate: float) -> bool:
    return rate > 0 and _dice.random() < rate


def _server_error() -> HttpResponse:
    if _dice.random() < 0.5:
        return error_response(500, "The server has either erred or is incapable of performing.")
    return error_response(
        503, "The server is currently unavailable. Please try again later.", {"Retry-After": "1"}
    )


def _is_json_success(response: HttpResponse) -> bool:
    return (
        response.status_code in (200, 201)
        and not response.streaming
        and response.get("Content-Type", "").startswith("application/json")
    )


def _truncate(response: HttpResponse) -> None:
    """Leave the first half of the body, as a dropped connection would."""
    content = response.content[: len(response.content) // 2]
    if _parses(content):
        # Half of a short number ("12" → "1") still parses; make sure it does not.
        content += b"{"
    response.content = content
    response["Content-Length"] = str(len(content))


def _parses(content: bytes) -> bool:
    try:
        json.loads(content)
    except (ValueError, RecursionError):
        return False
    return True
