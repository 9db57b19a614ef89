"""Choosing a handler by HTTP method, with Glance's 405 for the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from imagetasks.localcloud.api import ApiError

R = TypeVar("R", bound=HttpResponseBase)


def by_method(request: HttpRequest, handlers: dict[str, Callable[..., R]], *args, **kwargs) -> R:
    """Run the handler of the request's method; any other method is a 405 naming those."""
    handler = handlers.get(request.method or "")
    if handler is None:
        raise ApiError(
            405,
            f"The method {request.method} is not allowed for this resource.",
            {"Allow": ", ".join(handlers)},
        )
    return handler(request, *args, **kwargs)
