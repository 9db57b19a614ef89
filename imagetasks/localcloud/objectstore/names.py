"""Swift paths and names, taken from the bytes the client sent.

Django decodes the path before routing and turns invalid UTF-8 into percent
escapes, so a name with a stray byte would look like a valid name containing
``%``. Where the server passes the request line on (gunicorn's ``RAW_URI``,
``REQUEST_URI`` elsewhere), names are split from those raw bytes instead, and
refused (400) unless they are UTF-8 without NUL and within Swift's length
limits. Servers that pass nothing of the kind (wsgiref: runserver and the
test server) leave only Django's text, in which such a byte reads as ``%XX``.
Names are database keys only, never file paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urlsplit

from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.http import HttpRequest
from django.utils.encoding import repercent_broken_unicode

from imagetasks.localcloud.api import ApiError

MAX_CONTAINER_NAME_LENGTH = 256  # bytes of UTF-8, as Swift counts
MAX_OBJECT_NAME_LENGTH = 1024


@dataclass(frozen=True)
class SwiftPath:
    """The parts of ``/v1/<account>[/<container>[/<object>]]``; empty when absent."""

    account: bytes
    container: bytes
    object: bytes


def split_path(request: HttpRequest, routed_rest: str) -> SwiftPath:
    """Split the path after ``/v1/``; ``routed_rest`` is that part as Django routed it."""
    rest = _raw_rest(request, routed_rest)
    account, _, remainder = rest.partition(b"/")
    container, _, obj = remainder.partition(b"/")
    return SwiftPath(account, container, obj)


def container_name(raw: bytes) -> str:
    return _name(raw, "Container name", MAX_CONTAINER_NAME_LENGTH)


def object_name(raw: bytes) -> str:
    return _name(raw, "Object name", MAX_OBJECT_NAME_LENGTH)


def query_params(request: HttpRequest) -> dict[str, str]:
    """The query string as text, decoded strictly (the last of repeated keys wins).

    Django leaves the raw query string in place, so every server gives the bytes sent.
    """
    raw = get_bytes_from_wsgi(request.META, "QUERY_STRING", "")
    params = {}
    for pair in raw.split(b"&"):
        if pair:
            key, _, value = pair.replace(b"+", b" ").partition(b"=")
            params[_text(unquote_to_bytes(key), "Query parameter")] = _text(
                unquote_to_bytes(value), "Query parameter"
            )
    return params


def _text(raw: bytes, what: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, f"{what} is not valid UTF-8.") from None
    if "\x00" in text:
        raise ApiError(400, f"{what} contains a NUL character.")
    return text


def _name(raw: bytes, what: str, max_length: int) -> str:
    """A container or object name: not empty, UTF-8 without NUL, at most ``max_length`` bytes."""
    if not raw:
        raise ApiError(400, f"{what} cannot be empty.")
    name = _text(raw, what)
    if len(raw) > max_length:
        raise ApiError(400, f"{what} length of {len(raw)} longer than {max_length}")
    return name


def _raw_rest(request: HttpRequest, routed_rest: str) -> bytes:
    """The bytes the client sent for ``routed_rest``, the end of the path Django routed.

    What precedes it (script name, ``/localcloud/object/v1/``) is ASCII, so it
    is as long in the raw path as in Django's text. If the raw path does not
    decode to what Django routed (a rewriting proxy, say), Django's text wins.
    """
    raw_uri = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if not raw_uri:
        return routed_rest.encode()
    absolute = raw_uri.startswith(("http://", "https://"))
    target = urlsplit(raw_uri).path if absolute else raw_uri.partition("?")[0]
    routed_prefix = request.path_info[: len(request.path_info) - len(routed_rest)]
    start = len(request.META.get("SCRIPT_NAME", "").encode()) + len(routed_prefix)
    candidate = unquote_to_bytes(target)[start:]
    if repercent_broken_unicode(candidate).decode() != routed_rest:
        return routed_rest.encode()
    return candidate
