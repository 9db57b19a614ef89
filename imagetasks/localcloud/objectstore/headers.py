"""Swift's header conventions: user metadata, expiry headers and timestamp formats.

Header values reach Django as Latin-1 text (WSGI's rule), while Swift clients
send metadata as UTF-8 bytes. Values are therefore re-read as UTF-8 on the
way in and written back as the same bytes on the way out, so metadata such
as ``X-Object-Meta-Title: Grüße`` survives a round trip.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import http_date

from imagetasks.localcloud.api import ApiError

OBJECT_META = "X-Object-Meta-"
CONTAINER_META = "X-Container-Meta-"
# Swift's default constraints.
MAX_META_COUNT = 90
MAX_META_NAME_LENGTH = 128
MAX_META_VALUE_LENGTH = 256
MAX_META_OVERALL_SIZE = 4096
MAX_DELETE_AT = 9_999_999_999

R = TypeVar("R", bound=HttpResponseBase)


def metadata_from(request: HttpRequest, prefix: str) -> dict[str, str]:
    """The request's ``<prefix>*`` headers as {lower-case name: value}; empty values included.

    Empty values matter to POST, where they remove an item; PUT drops them.
    """
    metadata = {}
    for header, value in request.headers.items():
        if header.lower().startswith(prefix.lower()) and len(header) > len(prefix):
            metadata[header[len(prefix) :].lower()] = utf8_value(value, header)
    _check_limits(metadata)
    return metadata


def metadata_headers(metadata: dict[str, str], prefix: str) -> dict[str, str]:
    return {f"{prefix}{name.title()}": wire_value(value) for name, value in metadata.items()}


def delete_at_from(request: HttpRequest) -> datetime | None:
    """When the object should expire: ``X-Delete-After`` (seconds) wins over ``X-Delete-At``."""
    after = request.headers.get("X-Delete-After")
    if after is not None:
        seconds = whole_number(after.strip(), cap=MAX_DELETE_AT)
        if seconds is None:
            raise ApiError(400, "Non-integer X-Delete-After")
        return _expiry(timezone.now().timestamp() + seconds)
    at = request.headers.get("X-Delete-At")
    if at is None:
        return None
    when = whole_number(at.strip(), cap=MAX_DELETE_AT)
    if when is None:
        raise ApiError(400, "Non-integer X-Delete-At")
    moment = _expiry(when)
    if moment <= timezone.now():
        raise ApiError(400, "X-Delete-At in past")
    return moment


def is_whole_number(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts "²", which ``int`` refuses."""
    return text.isascii() and text.isdigit()


def whole_number(text: str, cap: int) -> int | None:
    """ASCII digits as a number no larger than ``cap``; None when they are not digits.

    A longer number is ``cap`` without being read: Python refuses to read one of over
    4,300 digits, and no float holds one of a few hundred.
    """
    if not is_whole_number(text):
        return None
    if len(text.lstrip("0")) > len(str(cap)):
        return cap
    return min(int(text), cap)


def listing_time(moment: datetime) -> str:
    """Swift's listing form: UTC, microseconds, no zone (``2014-01-15T16:41:49.390270``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def x_timestamp(moment: datetime) -> str:
    return f"{moment.timestamp():.5f}"


def last_modified(moment: datetime) -> str:
    return http_date(moment.timestamp())


def _expiry(timestamp: float) -> datetime:
    """A Unix time as a datetime, capped like Swift's at ten digits (year 2286)."""
    return datetime.fromtimestamp(min(timestamp, MAX_DELETE_AT), UTC)


def _check_limits(metadata: dict[str, str]) -> None:
    if len(metadata) > MAX_META_COUNT:
        raise ApiError(400, f"Too many metadata items; max {MAX_META_COUNT}")
    overall = 0
    for name, value in metadata.items():
        if len(name.encode()) > MAX_META_NAME_LENGTH:
            raise ApiError(400, f"Metadata name too long; max {MAX_META_NAME_LENGTH}")
        if len(value.encode()) > MAX_META_VALUE_LENGTH:
            raise ApiError(400, f"Metadata value longer than {MAX_META_VALUE_LENGTH}")
        overall += len(name.encode()) + len(value.encode())
    if overall > MAX_META_OVERALL_SIZE:
        raise ApiError(400, f"Total metadata too large; max {MAX_META_OVERALL_SIZE}")


def utf8_value(value: str, header: str) -> str:
    """A header value as the UTF-8 text the client meant (Django hands it on as Latin-1)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise ApiError(400, f"{header} is not valid UTF-8.") from None


def wire_value(value: str) -> str:
    """``value``'s UTF-8 bytes as Latin-1 text: what Django sends as those same bytes."""
    return value.encode().decode("latin-1")


def apply(response: R, values: dict[str, str]) -> R:
    for name, value in values.items():
        response[name] = value
    return response
