"""Dismissing tasks that were dealt with, and restoring them (``dismissal.py``): one from
its row or its page, or every one of the table's current filter after a confirmation.

Only operators act, on the tasks they can see (a viewer gets a 403, a task of another
cloud a 404). The forms work without JavaScript; in the table htmx sends them and swaps
in the rows of the page the person is on.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from imagetasks.dashboard import access, dismissal, tables
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.templatetags.tasks import display_name
from imagetasks.dashboard.views.common import Request

# The field of the table's row forms that names the table's filters (its query string).
TABLE = "table"


@require_POST
def dismiss(request: Request, task_id: uuid.UUID) -> HttpResponse:
    """Dismiss one task that failed or went stale; a task in flight is refused."""
    task = access.get_task_for_user(request, task_id)
    access.require_operator(request)
    if dismissal.dismiss_task(task, request.user):
        messages.success(
            request,
            f"Dismissed “{display_name(task)}”. It is kept under Dismissed, "
            "where it can be restored.",
        )
    elif task.dismissed_at:
        messages.info(request, f"“{display_name(task)}” was already dismissed.")
    else:
        messages.error(request, dismissal.why_not(task))
    return _back(request, task)


@require_POST
def restore(request: Request, task_id: uuid.UUID) -> HttpResponse:
    """Bring a dismissed task back into the table."""
    task = access.get_task_for_user(request, task_id)
    access.require_operator(request)
    if dismissal.restore_task(task):
        messages.success(request, f"Restored “{display_name(task)}” to the table.")
    else:
        messages.info(request, f"“{display_name(task)}” was not dismissed.")
    return _back(request, task)


def _back(request: Request, task: ImageTask) -> HttpResponse:
    """To the table as it was filtered, when the form came from a row; else to the task."""
    if TABLE in request.POST:
        query = tables.TableQuery.from_params(QueryDict(request.POST[TABLE]))
        return redirect(_table_url(query))
    return redirect("dashboard:task", task_id=task.pk)


def _table_url(query: tables.TableQuery, **changes) -> str:
    qs = query.querystring(**changes)
    return reverse("dashboard:home") + (f"?{qs}" if qs else "")


@require_http_methods(["GET", "POST"])
def dismiss_all(request: Request) -> HttpResponse:
    """Every task of the table's filter (the URL's) that may be dismissed, after a page that
    says how many. The POST dismisses only those that could be when that page was drawn
    (``shown_at``): a task that fails meanwhile was not in the count, and stays."""
    access.require_operator(request)
    query = tables.TableQuery.from_request(request)
    tasks = tables.filter_tasks(request.user, query)
    now = timezone.now()
    if request.method == "POST":
        shown_at = _moment(request.POST.get("shown_at", ""), now)
        if shown_at is None:
            return HttpResponseBadRequest("shown_at is not a time this page wrote.")
        done = dismissal.dismiss(tasks, request.user, as_of=shown_at)
        if done:
            messages.success(request, f"Dismissed {dismissal.counted(done)}.")
        else:
            messages.info(request, "Nothing was dismissed: no task of this filter could be.")
        return redirect(_table_url(query, page=1))
    count = 0 if query.dismissed else tasks.filter(dismissal.dismissable(now)).count()
    context = {
        "query": query,
        "count": count,
        "total": tables.capped_count(tasks),
        "cap": tables.COUNT_CAP,
        "shown_at": now.isoformat(),
        "table_url": _table_url(query),
        "dismissed_url": _table_url(tables.TableQuery(dismissed=True)),
    }
    return render(request, "dashboard/dismiss_all.html", context)


def _moment(value: str, now: datetime) -> datetime | None:
    """The time the confirmation page wrote (no later than now); None if it is not one."""
    if not value:
        return now
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return min(moment, now)
