"""One task: input, result, timeline, polling state, and the two things people can do."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from imagetasks.dashboard import access, hints, tables
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.notifications import display as notifications
from imagetasks.dashboard.tracking import pollstate
from imagetasks.dashboard.tracking.resubmission import resubmit as resubmit_task
from imagetasks.dashboard.views import store_copies
from imagetasks.dashboard.views.common import Request, live_part, unchanged

NOT_RESUBMITTED = (
    "An upload from a browser cannot be sent again: the file is not kept here. "
    "Upload it again from the import page."
)


def _timeline(task: ImageTask) -> list[dict]:
    """The snapshots in order, each with the time since the one before and how long its
    status lasted (until the next one; until now for the status a task is still in).

    Once retention removed the changes between the first and the last, nobody knows how
    long a status lasted, so that is not said.
    """
    snapshots = list(task.snapshots.all())
    entries, previous = [], task.submitted_at
    whole = task.history_pruned_at is None
    for index, snapshot in enumerate(snapshots):
        entry = {"snapshot": snapshot, "after": snapshot.observed_at - previous, "took": None}
        if whole and index + 1 < len(snapshots):
            entry["took"] = snapshots[index + 1].observed_at - snapshot.observed_at
        elif whole and task.status_info.in_flight:
            entry["took"], entry["ongoing"] = timezone.now() - snapshot.observed_at, True
        entries.append(entry)
        previous = snapshot.observed_at
    return entries


def back_to_table(request: Request) -> tuple[str, bool]:
    """The task table as the person last filtered it (kept in their session)."""
    query = request.session.get(tables.LAST_QUERY_KEY, "")
    return reverse("dashboard:home") + (f"?{query}" if query else ""), bool(query)


def _context(request: Request, task: ImageTask) -> dict:
    back_url, back_filtered = back_to_table(request)
    can_submit = access.can_submit(request.user)
    return {
        "back_url": back_url,
        "back_filtered": back_filtered,
        "task": task,
        "hint": hints.hint_for_task(task),
        "timeline": _timeline(task),
        "resubmissions": list(task.resubmissions.only("id", "status", "submitted_at")),
        "can_submit": can_submit,
        "copy": store_copies.offer_for_task(task) if can_submit else None,
        "refresh": "2s" if task.status_info.in_flight else "",
        "notifications": notifications.for_task(task),
    }


@require_GET
def task_detail(request: Request, task_id: uuid.UUID) -> HttpResponse:
    """The task page; htmx refreshes its status part alone while the task is in flight.

    A refresh names the version it shows: the same version gets an empty 204.
    """
    task = access.get_task_for_user(request, task_id)
    if live_part(request, "task-status"):
        return unchanged(request, str(task.version)) or render(
            request, "dashboard/task_detail.html#status", _context(request, task)
        )
    return render(request, "dashboard/task_detail.html", _context(request, task))


@require_POST
def resubmit(request: Request, task_id: uuid.UUID) -> HttpResponse:
    """A new task with the same input, linked both ways; the old one stays as it was."""
    task = access.get_task_for_user(request, task_id)
    access.require_operator(request)
    if task.method == ImageTask.Method.GLANCE_DIRECT:
        messages.error(request, NOT_RESUBMITTED)
        return redirect("dashboard:task", task_id=task.pk)
    new = resubmit_task(task, user=request.user)
    messages.info(request, f"Resubmitted as a new task ({new.status_info.label}).")
    return redirect("dashboard:task", task_id=new.pk)


@require_POST
def stop_watching(request: Request, task_id: uuid.UUID) -> HttpResponse:
    """Stop polling the task here. It keeps running on the cloud: tasks cannot be cancelled."""
    task = access.get_task_for_user(request, task_id)
    access.require_operator(request)
    if pollstate.stop_watching(task):
        messages.info(
            request,
            "No longer watched here. The task goes on running on the cloud: "
            "tasks cannot be cancelled.",
        )
    elif task.status_info.terminal:
        messages.info(request, f"This task has already ended ({task.status_info.label}).")
    else:
        messages.info(request, "This task was already not watched.")
    return redirect("dashboard:task", task_id=task.pk)
