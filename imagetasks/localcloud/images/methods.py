"""Choosing a handler by HTTP method, with Glance's 405 for the others."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from imagetasks.localcloud.api import ApiError


def by_method(
    request: HttpRequest, handlers: dict[str, Callable[..., HttpResponse]], *args, **kwargs
) -> HttpResponse:
    """Run the handler of the request's method; any other method is a 405 naming those."""
    handler = handlers.get(request.method)
    if handler is None:
        raise ApiError(
            405,
            f"The method {request.method} is not allowed for this resource.",
            {"Allow": ", ".join(handlers)},
        )
    return handler(request, *args, **kwargs)
