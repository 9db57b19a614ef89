"""Swift listings of containers and objects: paging by name, prefixes and pseudo-folders.

Names are listed in the byte order of their UTF-8 encoding, as Swift does, so
that a client paging with ``marker`` sees every name exactly once. SQLite
compares text that way already; PostgreSQL is told to with the "C" collation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.functions import Collate, Left
from django.http import HttpRequest, HttpResponse, JsonResponse

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.models import Container, StoredObject
from imagetasks.localcloud.objectstore.headers import whole_number
from imagetasks.localcloud.objectstore.names import query_params

LISTING_LIMIT = 10_000
# With a delimiter, many rows can fold into one pseudo-folder, so a page needs
# more rows than entries; reading at least this many per query saves round trips.
_DELIMITED_BATCH = 500
# Media types a listing is served as, in Swift's order of preference for "Accept: */*".
_MEDIA_TYPES = {"text/plain": "plain", "application/json": "json"}

# What a listing lists: the account's containers, or a container's objects.
Listed = TypeVar("Listed", Container, StoredObject)


@dataclass(frozen=True)
class ListingQuery:
    prefix: str = ""
    delimiter: str = ""
    marker: str = ""
    end_marker: str = ""
    limit: int = LISTING_LIMIT
    format: str = "json"


@dataclass(frozen=True)
class Subdir:
    """A pseudo-folder: every name that continues ``name`` (which ends in the delimiter)."""

    name: str


def parse_query(request: HttpRequest) -> ListingQuery:
    """The listing parameters, with Swift's answers to bad ones (412 for limit and delimiter)."""
    params = query_params(request)
    limit = LISTING_LIMIT
    asked = whole_number(params.get("limit", ""), cap=LISTING_LIMIT + 1)
    if asked is not None:
        limit = asked
        if limit > LISTING_LIMIT:
            raise ApiError(412, f"Maximum limit is {LISTING_LIMIT}")
    delimiter = params.get("delimiter", "")
    # One character, below U+00FF: skipping past a folder needs the next character up.
    if delimiter and (len(delimiter) > 1 or ord(delimiter) > 254):
        raise ApiError(412, "Bad delimiter")
    return ListingQuery(
        prefix=params.get("prefix", ""),
        delimiter=delimiter,
        marker=params.get("marker", ""),
        end_marker=params.get("end_marker", ""),
        limit=limit,
        format=_format(request, params.get("format", "")),
    )


def page(rows: QuerySet[Listed], query: ListingQuery) -> list[Listed | Subdir]:
    """One page of ``rows`` (models with a ``name``), folded by the delimiter.

    Without a delimiter this is a single query. With one, rows inside a folder
    already listed are skipped by restarting the query past the folder, as
    Swift does, so a folder of a million objects costs one query, not a scan.
    """
    rows = _window(rows, query)
    entries: list[Listed | Subdir] = []
    after, inclusive = query.marker, False
    folder = None
    if query.marker and _subdir(query.marker, query) == query.marker:
        # The client stopped at a folder: start past everything inside it.
        after, inclusive, folder = _past(query.marker), True, query.marker
    while len(entries) < query.limit:
        batch_size = query.limit - len(entries)
        if query.delimiter:
            batch_size = max(batch_size, _DELIMITED_BATCH)
        lookup = "sort_name__gte" if inclusive else "sort_name__gt"
        batch = list(rows.filter(**{lookup: after})[:batch_size])
        for row in batch:
            subdir = _subdir(row.name, query)
            if subdir is None:
                entries.append(row)
            elif subdir != folder:
                folder = subdir
                # A client paging by the folder it saw last must not see it again.
                if subdir != query.marker:
                    entries.append(Subdir(subdir))
            if len(entries) >= query.limit:
                return entries
        if len(batch) < batch_size:
            return entries
        after, inclusive = batch[-1].name, False
        if folder is not None and after.startswith(folder):
            after, inclusive = _past(folder), True
    return entries


def ordered(rows: QuerySet[Listed], prefix: str = "") -> QuerySet[Listed]:
    """``rows`` whose names start with ``prefix``, in listing order (no paging)."""
    return _window(rows, ListingQuery(prefix=prefix))


def respond(
    entries: Sequence[Listed | Subdir],
    query: ListingQuery,
    render: Callable[[Listed], dict[str, Any]],
    headers: dict[str, str],
) -> HttpResponse:
    """The listing as JSON (``render`` turns a row into a dict) or as plain names."""
    if query.format == "json":
        body = [
            {"subdir": entry.name} if isinstance(entry, Subdir) else render(entry)
            for entry in entries
        ]
        response: HttpResponse = JsonResponse(body, safe=False)
        response["Content-Type"] = "application/json; charset=utf-8"
    elif entries:
        text = "".join(f"{entry.name}\n" for entry in entries)
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    else:
        response = HttpResponse(status=204)
    for name, value in headers.items():
        response[name] = value
    return response


def _format(request: HttpRequest, requested: str) -> str:
    """``format=`` wins; otherwise the Accept header chooses, plain text first (as Swift)."""
    requested = requested.lower()
    if requested == "xml":
        raise ApiError(406, "XML listings are not served; ask for format=json or format=plain.")
    if requested:
        return "json" if requested == "json" else "plain"
    preferred = request.get_preferred_type(list(_MEDIA_TYPES))
    if preferred is None:
        raise ApiError(406, "Listings are served as application/json or text/plain.")
    return _MEDIA_TYPES[preferred]


def _window(rows: QuerySet[Listed], query: ListingQuery) -> QuerySet[Listed]:
    """``rows`` ordered by name in byte order, limited to the prefix and the end marker."""
    if connections[rows.db].vendor == "postgresql":
        rows = rows.alias(sort_name=Collate("name", "C"))
    else:
        rows = rows.alias(sort_name=F("name"))
    if query.prefix:
        # Not startswith: SQLite's LIKE ignores case, and a prefix is exact.
        rows = rows.alias(head=Left("name", len(query.prefix))).filter(
            sort_name__gte=query.prefix, head=query.prefix
        )
    if query.end_marker:
        rows = rows.filter(sort_name__lt=query.end_marker)
    return rows.order_by("sort_name")


def _subdir(name: str, query: ListingQuery) -> str | None:
    if not query.delimiter:
        return None
    cut = name.find(query.delimiter, len(query.prefix))
    return None if cut < 0 else name[: cut + 1]


def _past(folder: str) -> str:
    """The smallest name after every name inside ``folder`` (which ends in the delimiter)."""
    return folder[:-1] + chr(ord(folder[-1]) + 1)
