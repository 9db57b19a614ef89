"""What the dashboard's views share: the request type, the unreachable-cloud message, and
the empty answer to a poll of a part that has not changed."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from imagetasks.dashboard.models import Cloud
from imagetasks.openstack import CloudError


class Request(HttpRequest):
    """A request as our middleware leaves it: ``request.htmx`` says whether htmx sent it,
    and ``request.user`` is someone signed in (``LoginRequiredMiddleware`` turns everyone
    else away before a dashboard view runs)."""

    htmx: HtmxDetails
    user: User


def unreachable(cloud: Cloud, error: CloudError, *, nothing: str = "submitted") -> str:
    """Why a form could not go ahead: the cloud did not answer. The input is kept."""
    return (
        f"The cloud {cloud.name} could not be reached ({error.message}). Nothing was "
        f"{nothing} and your input is kept: try again when it answers."
    )


def unchanged(request: HttpRequest, version: str | Callable[[], str]) -> HttpResponse | None:
    """An empty 204 when a live part's poll names the version it already shows.

    ``version`` may be a callable, so that it is computed only for a poll that names one.
    """
    shown = request.GET.get("v", "")
    if not shown:
        return None
    current = version() if callable(version) else version
    return HttpResponse(status=204) if shown == current else None


def live_part(request: Request, target: str) -> bool:
    """Whether htmx asks for the live part ``target`` alone (its element's id)."""
    return bool(request.htmx) and request.htmx.target == target
