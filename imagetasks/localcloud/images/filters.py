"""The equality filters of the image and task lists (reference §1.3, §6.1)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from imagetasks.localcloud.api import ApiError

M = TypeVar("M", bound=models.Model)


def by_choice(
    queryset: models.QuerySet[M], params: QueryDict, name: str, choices: Collection[str]
) -> models.QuerySet[M]:
    """Rows whose column ``name`` equals the parameter ``name``, if given and not empty;
    a value outside ``choices`` is a 400, as Glance words it."""
    value = params.get(name)
    if not value:
        return queryset
    if value not in choices:
        raise ApiError(400, f"Invalid {name} value: {value}")
    return queryset.filter(**{name: value})


def by_columns(
    queryset: models.QuerySet[M], params: QueryDict, columns: Mapping[str, str]
) -> models.QuerySet[M]:
    """Rows equal to each given parameter in the column ``columns`` maps it to.

    A value no row can have (a malformed UUID, or NUL, which PostgreSQL refuses in text)
    matches nothing, rather than erroring in the database.
    """
    for name, column in columns.items():
        value = params.get(name)
        if value is not None:
            storable = _storable(queryset.model, column, value)
            queryset = queryset.filter(**{column: value}) if storable else queryset.none()
    return queryset


def _storable(model: type[models.Model], column: str, value: str) -> bool:
    if "\x00" in value:
        return False
    field = model._meta.get_field(column)
    if not isinstance(field, models.Field):  # a relation's reverse side holds no value
        return False
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


def by_ids(queryset: models.QuerySet[M], params: QueryDict) -> models.QuerySet[M]:
    """Rows whose id is the ``id`` parameter, or one of ``id=in:<id>,<id>,…`` (Glance's "in"
    operator, how a poller asks for many images in one request; values may be quoted).

    An id no row can have (not a UUID) matches nothing, as in ``by_columns``.
    """
    value = params.get("id")
    if value is None:
        return queryset
    wanted = value[3:].split(",") if value.startswith("in:") else [value]
    ids = [one.strip().strip('"') for one in wanted]
    return queryset.filter(pk__in=[one for one in ids if _storable(queryset.model, "id", one)])


# Glance's comparison operators of the time filters (``updated_at=gte:<ISO 8601 time>``).
_TIME_OPERATORS = {"eq": "", "neq": "", "gt": "__gt", "gte": "__gte", "lt": "__lt", "lte": "__lte"}


def by_times(
    queryset: models.QuerySet[M], params: QueryDict, names: Collection[str]
) -> models.QuerySet[M]:
    """Rows whose time column compares as asked: ``created_at=gte:2026-05-05T17:15:10Z``, as
    Glance reads it (no operator, or a bare ISO time, is ``eq``; a naive time is UTC), so a
    client asks for what changed since a moment in one request."""
    for name in names:
        value = params.get(name)
        if value is None:
            continue
        operator, moment = "eq", _parse_time(value)
        if moment is None:
            operator, _, text = value.partition(":")
            if operator not in _TIME_OPERATORS:
                raise ApiError(400, "Unable to filter on a unknown operator.")
            moment = _parse_time(text)
        if moment is None:
            raise ApiError(
                400, f'Bad "{name}" query filter format. Use ISO 8601 DateTime notation.'
            )
        condition = {f"{name}{_TIME_OPERATORS[operator]}": moment}
        queryset = (
            queryset.exclude(**condition) if operator == "neq" else queryset.filter(**condition)
        )
    return queryset


def _parse_time(text: str) -> datetime | None:
    try:
        moment = parse_datetime(text.strip())
    except ValueError:
        return None
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
