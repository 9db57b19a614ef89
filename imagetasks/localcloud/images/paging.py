"""Glance-style pagination shared by the task and image lists (reference §1.3, §6.1).

Pages are cut by keyset (rows strictly after the marker in the sort order),
so one page costs one query whatever the table size, and a client following
``next`` sees every row once even while rows are being added. Nullable sort
keys are ordered through a sentinel so that NULLs compare like values.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar
from urllib.parse import urlencode

from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict

from imagetasks.localcloud.api import ApiError

LIMIT_DEFAULT = 25
LIMIT_MAX = 1000
SECONDARY_KEYS = ("created_at", "id")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MarkerNotFound(Exception):
    """The marker names no row the caller can see."""


Row = TypeVar("Row", bound=models.Model)


@dataclass(frozen=True)
class Listing(Generic[Row]):
    """What tells one list (``GET /v2/<collection>``) from another: its sort keys, its
    error texts (Glance words them differently for each) and the view of one row."""

    collection: str
    sort_keys: tuple[str, ...]
    invalid_sort_key: str  # may name the key given as ``{sort_key}``
    marker_not_found: str  # names the marker as ``{marker}``
    entry: Callable[[Row], dict]


def list_body(
    listing: Listing[Row], params: QueryDict, filtered: Callable[[], models.QuerySet[Row]]
) -> dict:
    """The list body: a page of entries, ``first``, ``next`` after a full page, ``schema``.

    ``filtered`` (the rows the query's filters leave) is called only once the sort
    direction is checked, so that a query with several errors reports Glance's first.
    """
    descending = parse_sort_dir(params)
    queryset = filtered()
    marker = parse_marker(params)
    limit = parse_limit(params)
    sort_key = params.get("sort_key", "created_at")
    if sort_key not in listing.sort_keys:
        raise ApiError(400, listing.invalid_sort_key.format(sort_key=sort_key))
    column = "project" if sort_key == "owner" else sort_key
    try:
        rows = keyset_page(
            queryset, keys=sort_keys(column), descending=descending, marker=marker, limit=limit
        )
    except MarkerNotFound:
        raise ApiError(400, listing.marker_not_found.format(marker=marker)) from None
    full_page = len(rows) == limit and limit > 0
    path = f"/v2/{listing.collection}"
    body = {
        listing.collection: [listing.entry(row) for row in rows],
        "schema": f"/v2/schemas/{listing.collection}",
    }
    body.update(links(path, params, str(rows[-1].pk) if full_page else None))
    return body


def parse_limit(params: QueryDict) -> int:
    raw = params.get("limit")
    if raw is None:
        return LIMIT_DEFAULT
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, "limit param must be an integer") from None
    if limit < 0:
        raise ApiError(400, "limit param must be positive")
    return min(limit, LIMIT_MAX)


def parse_marker(params: QueryDict) -> uuid.UUID | None:
    raw = params.get("marker")
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApiError(400, "Invalid marker format") from None


def parse_sort_dir(params: QueryDict) -> bool:
    """True for descending, the default."""
    sort_dir = params.get("sort_dir", "desc")
    if sort_dir not in ("asc", "desc"):
        raise ApiError(400, f"Invalid sort direction: {sort_dir}")
    return sort_dir == "desc"


def sort_keys(primary: str) -> list[str]:
    return [primary, *(key for key in SECONDARY_KEYS if key != primary)]


def keyset_page(
    queryset: models.QuerySet,
    *,
    keys: list[str],
    descending: bool,
    marker: uuid.UUID | None,
    limit: int,
) -> list:
    """The ``limit`` rows after ``marker`` in the order of ``keys``, all in one direction."""
    names = [f"_sort{i}" for i in range(len(keys))]
    annotated = queryset.annotate(
        **{name: _sortable(queryset.model, key) for name, key in zip(names, keys, strict=True)}
    )
    if marker is not None:
        row = annotated.filter(pk=marker).values(*names).first()
        if row is None:
            raise MarkerNotFound(str(marker))
        annotated = annotated.filter(_after(names, row, descending))
    ordering = [f"-{name}" if descending else name for name in names]
    return list(annotated.order_by(*ordering)[:limit])


def _sortable(model: type[models.Model], key: str):
    field = model._meta.get_field(key)
    assert isinstance(field, models.Field), f"{key} is a relation, not a column to sort by"
    if not field.null:
        return models.F(key)
    if isinstance(field, models.DateTimeField):
        sentinel = Value(_EPOCH, output_field=models.DateTimeField())
    elif isinstance(field, models.IntegerField):
        sentinel = Value(-1, output_field=field.__class__())
    else:
        sentinel = Value("", output_field=models.CharField())
    return Coalesce(key, sentinel, output_field=field.__class__())


def _after(names: list[str], row: dict, descending: bool) -> Q:
    """Rows strictly after ``row``: (k0 > v0) or (k0 = v0 and k1 > v1) or …"""
    lookup = "lt" if descending else "gt"
    condition = Q()
    for i, name in enumerate(names):
        equal = {previous: row[previous] for previous in names[:i]}
        condition |= Q(**equal, **{f"{name}__{lookup}": row[name]})
    return condition


def links(path: str, params: QueryDict, next_marker: str | None) -> dict:
    """``first`` (all params but marker) and, after a full page, ``next`` (params + marker)."""
    pairs = [(key, value) for key, values in params.lists() if key != "marker" for value in values]
    body = {"first": f"{path}?{urlencode(pairs)}" if pairs else path}
    if next_marker is not None:
        body["next"] = f"{path}?{urlencode([*pairs, ('marker', next_marker)])}"
    return body
