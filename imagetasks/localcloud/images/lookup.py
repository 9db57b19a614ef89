"""One task or image by the id in a URL, among those the caller may see."""

from __future__ import annotations

import uuid
from typing import TypeVar

from django.db import models

from imagetasks.localcloud.api import ApiError

M = TypeVar("M", bound=models.Model)


def visible_by_id(visible: models.QuerySet[M], raw_id: str, not_found: str) -> M:
    """The row of ``visible`` whose id is ``raw_id``; else a 404 with ``not_found``.

    A malformed id is a 404 like an unknown one (never a 400): the caller cannot tell an
    id that does not exist from one it may not see.
    """
    try:
        key = uuid.UUID(raw_id)
    except ValueError:
        key = None
    found = visible.filter(pk=key).first() if key else None
    if found is None:
        raise ApiError(404, not_found)
    return found
