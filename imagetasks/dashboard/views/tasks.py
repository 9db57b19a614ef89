"""The live task table: the page, its rows fragment, and the staff's CSV of the same filter."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from imagetasks.dashboard import access, audit, statuses, tables
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.signin import views as signin
from imagetasks.dashboard.views.common import Request, unchanged
from imagetasks.dashboard.views.copies import copies_context


def _context(request: Request, page: tables.Page) -> dict:
    return {
        "page": page,
        "query": page.query,
        "statuses": statuses.STATUSES.values(),
        "types": ImageTask.Type.values,
        "clouds": access.visible_clouds(request.user).only("name", "region"),
        "sorts": tables.SORT_LABELS,
        "can_submit": access.can_submit(request.user),
        # The counters count what the table shows outside the Dismissed view.
        "counters": None if page.query.dismissed else tables.counters(request.user),
    }


@require_GET
def home(request: Request) -> HttpResponse:
    """The task table. Until the person can see any task it explains how to start one;
    someone the provider signed in with no cloud granted is told to ask for access."""
    if access.granted_nothing(request.user):
        return signin.no_access(request)
    query = tables.TableQuery.from_request(request)
    if request.session.get(tables.LAST_QUERY_KEY, "") != query.querystring():
        request.session[tables.LAST_QUERY_KEY] = query.querystring()
    page = tables.page_of(request.user, query)
    context = {**_context(request, page), **copies_context(request.user)}
    return render(request, "dashboard/tasks.html", context)


@require_GET
def rows(request: Request) -> HttpResponse:
    """The rows fragment the table polls; an empty 204 when nothing it shows changed.

    The poll names the version it shows (``v``); comparing it costs one narrow
    query of ids and versions, so an idle table costs the server almost nothing
    and the browser swaps nothing.
    """
    query = tables.TableQuery.from_request(request)
    if response := unchanged(request, lambda: tables.current_version(request.user, query)):
        return response
    page = tables.page_of(request.user, query)
    context = {**_context(request, page), "fragment": True}
    return render(request, "dashboard/tasks.html#rows", context)


@require_GET
def tasks_csv(request: Request) -> StreamingHttpResponse:
    """The current filter's tasks with their history, as CSV: staff only (auditors)."""
    if not request.user.is_staff:
        raise PermissionDenied("Only staff may export the audit trail.")
    query = tables.TableQuery.from_request(request)
    tasks = tables.filter_tasks(request.user, query)[: audit.MAX_ROWS]
    return audit.csv_response(tasks, "imagetasks-tasks.csv")
