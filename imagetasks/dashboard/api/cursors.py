"""Paging the task table's orders by cursor, for the API.

The table pages by number for people; a script walking every task wants a page that
starts after the last row it saw, so that a task submitted meanwhile neither repeats a
row nor skips one, and a deep page costs what the first does. Every order in
``tables.SORTS`` ends on the primary key, so the last row's values of the order's
columns say exactly where the next page starts, and the order's index serves it.

A cursor is opaque to the caller: the order it belongs to and those values, in
URL-safe base64 JSON. One made for another order, or altered, is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from django.db.models import Q, QuerySet

from imagetasks.dashboard import tables
from imagetasks.dashboard.models import ImageTask

_DATES = {"submitted_at", "changed_at"}


class BadCursor(ValueError):
    """The cursor was not made by this API for this order."""


def _columns(sort: str) -> list[tuple[str, bool]]:
    """The order's columns, each with whether it is descending."""
    return [(part.lstrip("-"), part.startswith("-")) for part in tables.SORTS[sort]]


def cursor_after(task: ImageTask, sort: str) -> str:
    """The cursor of the page that follows ``task`` in the order ``sort``."""
    values = []
    for column, _ in _columns(sort):
        value = getattr(task, column)
        values.append(value.isoformat() if isinstance(value, datetime) else str(value))
    raw = json.dumps({"sort": sort, "after": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after(tasks: QuerySet[ImageTask], sort: str, cursor: str) -> QuerySet[ImageTask]:
    """The rows of ``tasks`` (in the order ``sort``) that come after the cursor's row."""
    columns = _columns(sort)
    values = _decode(cursor, sort, len(columns))
    condition = Q()
    for index, (column, descending) in enumerate(columns):
        # Equal on every earlier column, then past the cursor on this one.
        step = Q(**{f"{column}__{'lt' if descending else 'gt'}": values[index]})
        for earlier in range(index):
            step &= Q(**{columns[earlier][0]: values[earlier]})
        condition |= step
    return tasks.filter(condition)


def _decode(cursor: str, sort: str, count: int) -> list[object]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor("The cursor is not one this API made.") from None
    if not isinstance(data, dict) or data.get("sort") != sort:
        raise BadCursor("The cursor belongs to another order: page with the sort it came with.")
    after = data.get("after")
    if not isinstance(after, list) or len(after) != count:
        raise BadCursor("The cursor is not one this API made.")
    values: list[object] = []
    for (column, _), value in zip(_columns(sort), after, strict=True):
        if not isinstance(value, str) or "\x00" in value:
            raise BadCursor("The cursor is not one this API made.")
        try:
            if column in _DATES:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    raise ValueError(value)
                values.append(moment)
            elif column == "id":
                values.append(uuid.UUID(value))
            else:
                values.append(value)
        except ValueError:
            raise BadCursor("The cursor is not one this API made.") from None
    return values
