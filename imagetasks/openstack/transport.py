"""What a request that got no HTTP answer means.

The distinction that matters to callers is whether the request reached the server: a
refused connection means nothing happened, while a read timeout or a dropped connection
after sending leaves the outcome unknown, and a submitted task must then be reconciled,
never posted again.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from imagetasks.openstack.errors import CloudError, CloudTimeout, Unavailable

# (connect, read) seconds, or one number for both, as ``requests`` takes them.
Timeout = float | tuple[float, float]


def where(url: str) -> str:
    """A URL for logs and messages: no query string, which may carry markers or filters."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _timeouts(timeout: Timeout) -> tuple[float, float]:
    return timeout if isinstance(timeout, tuple) else (float(timeout), float(timeout))


def _reason(exc: requests.RequestException) -> tuple[str, Any]:
    """A short reason and the root cause, urllib3's wrapping and object reprs removed."""
    cause = exc.args[0] if exc.args else exc
    cause = getattr(cause, "reason", cause)
    text = re.sub(r"^\w+\([^)]*\):\s*", "", str(cause)) or type(cause).__name__
    return text, cause


def transport_error(
    method: str, url: str, exc: requests.RequestException, timeout: Timeout
) -> tuple[CloudError, bool]:
    """The CloudError for a request that got no HTTP answer, and whether a retry may help.

    ``outcome_unknown`` is false only when the request certainly never reached the server
    (no connection was made), which is what lets a submitter tell "refused" from "maybe".
    """
    target = f"{method} {where(url)}"
    connect, read = _timeouts(timeout)
    reason, cause = _reason(exc)
    if isinstance(exc, requests.ConnectTimeout):
        message = f"{target}: no connection within {connect:g} s"
        return CloudTimeout(message, outcome_unknown=False), True
    if isinstance(exc, requests.Timeout):
        message = f"{target}: no answer within {read:g} s, the outcome is unknown"
        return CloudTimeout(message, outcome_unknown=True), True
    if isinstance(exc, requests.exceptions.SSLError):
        # A bad certificate does not heal by itself.
        return Unavailable(f"{target}: TLS failed: {reason}", outcome_unknown=False), False
    if isinstance(exc, requests.ConnectionError):
        if isinstance(cause, NewConnectionError):
            message = f"{target}: could not connect: {reason}"
            return Unavailable(message, outcome_unknown=False), True
        return Unavailable(f"{target}: the connection failed: {reason}", outcome_unknown=True), True
    # Invalid URLs and the like: a configuration problem, nothing was sent.
    return CloudError(f"{target}: {type(exc).__name__}: {reason}", outcome_unknown=False), False
