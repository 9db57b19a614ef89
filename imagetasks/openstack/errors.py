"""One error hierarchy for every cloud call.

Callers decide from the class alone what a failure means: show the cloud's message on a
form (``BadRequest``, ``TasksForbidden``), try again later (``Unavailable``,
``RateLimited``), or record a submission as unconfirmed because the cloud may have acted on
it without telling us (``outcome_unknown``). The cloud's own words are kept in
``message``, cleaned of markup, so they can be shown as they are.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from imagetasks.openstack import jsonbody
from imagetasks.openstack.retry import parse_retry_after

if TYPE_CHECKING:
    from requests import Response

MESSAGE_LIMIT = 500
BODY_LIMIT = 2000


class CloudError(Exception):
    """Anything that went wrong talking to a cloud.

    ``outcome_unknown`` is true when the cloud may have carried out the request even though
    we got no usable answer (a read timeout, a lost connection, a 5xx, an unreadable body).
    For a POST that means "do not post again, reconcile later"; otherwise it means
    "refused, nothing happened".
    """

    outcome_unknown = False

    def __init__(
        self,
        message: str,
        status: int | None = None,
        request_id: str | None = None,
        body: str | None = None,
        *,
        outcome_unknown: bool | None = None,
    ):
        # Only the message goes into args, so every subclass pickles and unpickles through
        # BaseException.__reduce__ (args plus __dict__) without a custom reducer.
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.body = body
        if outcome_unknown is not None:
            self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, "
            f"request_id={self.request_id!r})"
        )


class AuthError(CloudError):
    """The identity service refused the credentials, or a service kept answering 401."""


class Forbidden(CloudError):
    """403: the account is known but may not do this."""


class TasksForbidden(Forbidden):
    """403 from the tasks API: Glance keeps it admin-only unless its policy says otherwise."""


class NotFound(CloudError):
    """404: unknown, another project's, or (for tasks) expired."""


class Conflict(CloudError):
    """409, e.g. deleting a container that still holds objects."""


class BadRequest(CloudError):
    """400: the cloud rejected the request as malformed or invalid."""


class UnsupportedMediaType(CloudError):
    """415: a strict server wants ``application/json``."""


class Unprocessable(CloudError):
    """422, e.g. Swift's answer to an upload whose ETag does not match its body."""


class RateLimited(CloudError):
    """429 after the retries allowed for the request; ``retry_after`` is in seconds."""

    retry_after: float | None = None


class Unavailable(CloudError):
    """502/503/504 or a connection problem that outlived the retries."""

    outcome_unknown = True
    retry_after: float | None = None


class CloudTimeout(Unavailable):
    """No answer in time.

    A subclass of ``Unavailable`` because a poller treats both alike (back off, try again);
    a submitter reads ``outcome_unknown``: false when the connection was never made,
    true when the request went out and no answer came back.
    """


class ServerError(CloudError):
    """500 or another 5xx that is not a gateway problem."""

    outcome_unknown = True


class MalformedResponse(CloudError):
    """The cloud answered, but not with anything this client can read.

    ``body`` holds the text received (truncated) so the caller can record it.
    """

    outcome_unknown = True


class EndpointNotFound(CloudError):
    """The catalog has no endpoint for the service, region and interface asked for."""


_BY_STATUS: dict[int, type[CloudError]] = {
    400: BadRequest,
    401: AuthError,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    415: UnsupportedMediaType,
    422: Unprocessable,
    429: RateLimited,
    500: ServerError,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}


def error_class(status: int) -> type[CloudError]:
    """The class for an HTTP error status; unlisted 5xx are server errors."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else CloudError


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_PHRASES = {status.value: status.phrase for status in HTTPStatus}
_HIDDEN_BLOCKS = re.compile(r"<(head|script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def plain_text(text: str) -> str:
    """Markup and runs of whitespace out: Glance pads its messages with ``<br />`` and newlines."""
    text = _HIDDEN_BLOCKS.sub(" ", text)
    text = html.unescape(_TAG.sub(" ", text))
    return _SPACE.sub(" ", text).strip()


def _message_in_json(body: Any) -> str | None:
    """Find the human message in the JSON error shapes OpenStack services use."""
    if not isinstance(body, dict):
        return None
    if isinstance(message := body.get("message"), str):
        return message
    # Keystone {"error": {...}}, Nova-style {"badRequest": {...}}, Rackspace {"unauthorized": {...}}
    for value in body.values():
        if isinstance(value, dict) and isinstance(message := value.get("message"), str):
            return message
    for key in ("error", "detail", "description", "title"):
        if isinstance(message := body.get(key), str):
            return message
    return None


def _drop_status_titles(text: str, status: int, reason: str) -> str:
    """Drop the leading "404 Not Found" that HTML and plain error pages repeat."""
    titles = {f"{status} {reason}".strip(), f"{status} {_PHRASES.get(status, reason)}".strip()}
    leading = re.compile("|".join(rf"{re.escape(t)}\b" for t in titles), re.IGNORECASE)
    while match := leading.match(text):
        text = text[match.end() :].lstrip(" :-")
    return text


def cloud_message(text: str, status: int, reason: str = "") -> str:
    """The cloud's own message from an error body, whatever shape it came in."""
    found: str | None = None
    if text.lstrip().startswith("{"):
        with contextlib.suppress(ValueError):
            found = _message_in_json(jsonbody.parse(text))
    message = _drop_status_titles(plain_text(text if found is None else found), status, reason)
    return truncate(message or f"{status} {reason}".strip(), MESSAGE_LIMIT)


def error_from_response(response: Response, scrub: Callable[[str], str]) -> CloudError:
    """The error for an HTTP error response, carrying the cloud's message and request id.

    ``scrub`` removes this client's secrets from the text first: a misbehaving server or
    proxy may echo request headers or bodies back in its error page.
    """
    status = response.status_code
    text = scrub(body_text(response))
    error = error_class(status)(
        cloud_message(text, status, response.reason or ""),
        status=status,
        request_id=request_id_of(response),
        body=truncate(text, BODY_LIMIT),
    )
    if isinstance(error, RateLimited | Unavailable):
        error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return error


def request_id_of(response: Response) -> str | None:
    """OpenStack's request id; older Swift only sends its transaction id."""
    headers = response.headers
    return headers.get("x-openstack-request-id") or headers.get("x-trans-id")


_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)


def body_text(response: Response) -> str:
    """The body as text: the declared charset, else UTF-8 (what OpenStack services send),
    never a guess, and never the Latin-1 that HTTP/1.1 once implied for ``text/*``."""
    declared = _CHARSET.search(response.headers.get("Content-Type", ""))
    try:
        return response.content.decode(declared.group(1) if declared else "utf-8", "replace")
    except LookupError:
        return response.content.decode("utf-8", "replace")
