"""Copies to another cloud or region: the form that starts one, its page, the home list.

Starting a copy checks what only the clouds can tell (the image is the
account's own and active, the source exports, the target imports from object
storage) and then submits the export at once; the rest is done by jobs, and
the copy's page follows it live.
"""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from imagetasks.dashboard import access
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.copies.forms import NO_TARGETS, CopyForm
from imagetasks.dashboard.copies.service import start_copy
from imagetasks.dashboard.models import Cloud, Copy
from imagetasks.dashboard.views import image_picker
from imagetasks.dashboard.views.common import Request, live_part, unchanged, unreachable
from imagetasks.openstack import CloudError

REFRESH = "2s"


def _image(source: Cloud, image_id: str):
    """The image, and an error for the image field ("" when it may be copied)."""
    client = client_for(source)
    if not client.tasks_flavour().offers_export:
        return None, f"The cloud {source.name} offers no export task: its images cannot be copied."
    return image_picker.exportable(client, image_id, source.name)


def _check_target(form: CopyForm, target: Cloud) -> None:
    try:
        style = client_for(target).tasks_flavour().import_style
    except CloudError as error:
        form.add_error("target", unreachable(target, error, nothing="started"))
        return
    if style != "rackspace":
        form.add_error(
            "target",
            f"{target.name} imports only from URLs; a copy needs a cloud that imports "
            "from its object storage.",
        )


def copy_targets(offered: list[Cloud], source: Cloud) -> list[Cloud]:
    """Where a copy from ``source`` may go: the other clouds offered to the person."""
    return [cloud for cloud in offered if cloud.pk != source.pk]


def _picker(request, source: Cloud, form: CopyForm) -> tuple[image_picker.ImageChoices | None, str]:
    """The image picker of the source, or why its images cannot be copied."""
    try:
        offers_export = client_for(source).tasks_flavour().offers_export
    except CloudError as error:
        return None, unreachable(source, error, nothing="started")
    if not offers_export:
        return None, f"The cloud {source.name} offers no export task: its images cannot be copied."
    chosen = str(form["image_id"].value() or "")
    return image_picker.choices_from(request, source, "copy", chosen), ""


@require_http_methods(["GET", "POST"])
def copy_image(request: Request) -> HttpResponse:
    """Pick the image, the target cloud and the name; one submit starts the whole copy."""
    choice = access.choose_cloud(request)
    source, clouds = choice.chosen, choice.offered
    if source is None:
        return render(request, "dashboard/copy_form.html", {"clouds": clouds, "cloud": None})
    targets = copy_targets(clouds, source)
    if request.method == "POST":
        form = CopyForm(request.POST, source=source, targets=targets)
        if form.is_valid():
            response = _start(request, form, source)
            if response:
                return response
    else:
        form = CopyForm(
            source=source,
            targets=targets,
            initial={
                "cloud": source.name,
                "copy_id": uuid.uuid4(),
                "image_id": request.GET.get("image", ""),
            },
        )
    choices, source_error = _picker(request, source, form)
    if request.method == "GET" and choices and choices.selected:
        form.initial["name"] = choices.selected.name or ""
    context = {
        "clouds": clouds, "cloud": source, "form": form, "choices": choices,
        "source_error": source_error, "no_targets": NO_TARGETS if not targets else "",
    }  # fmt: skip
    return render(request, "dashboard/copy_form.html", context)


def _start(request, form: CopyForm, source: Cloud):
    copy = start(form, source, request.user)
    return redirect("dashboard:copy", copy_id=copy.pk) if copy else None


def start(form: CopyForm, source: Cloud, user) -> Copy | None:
    """Check a valid copy form against both clouds, then start the copy once (its
    ``copy_id``); None, with the problem on the form. The page and the API start here."""
    data = form.cleaned_data
    try:
        image, image_error = _image(source, data["image_id"])
    except CloudError as error:
        form.add_error(None, unreachable(source, error, nothing="started"))
        return None
    if image_error:
        form.add_error("image_id", image_error)
        return None
    _check_target(form, data["target"])
    if form.errors or image is None:
        return None
    return start_copy(
        source=source,
        image=image,
        target=data["target"],
        name=data["name"] or image.name or image.id,
        user=user,
        copy_id=data["copy_id"],
    )


def _timeline(copy) -> list[dict]:
    entries, previous = [], copy.created_at
    for entry in copy.events.all():
        entries.append({"event": entry, "after": entry.at - previous})
        previous = entry.at
    return entries


@require_GET
def copy_detail(request: Request, copy_id: uuid.UUID) -> HttpResponse:
    """The copy's page; htmx refreshes its status part alone while the copy is in flight."""
    copy = access.get_copy_for_user(request, copy_id)
    context = {
        "copy": copy,
        "timeline": _timeline(copy),
        "refresh": "" if copy.state.final else REFRESH,
    }
    if live_part(request, "copy-status"):
        return unchanged(request, str(copy.version)) or render(
            request, "dashboard/copy.html#status", context
        )
    return render(request, "dashboard/copy.html", context)


def copies_context(user) -> dict:
    """What the home page's list of recent copies needs."""
    copies = access.recent_copies(user)
    in_flight = any(not copy.state.final for copy in copies)
    version = ",".join(f"{copy.pk}:{copy.version}" for copy in copies)
    return {"copies": copies, "copies_refresh": REFRESH if in_flight else "", "copies_v": version}


@require_GET
def copies_rows(request: Request) -> HttpResponse:
    """The home page's list of recent copies; an empty 204 when nothing in it changed."""
    context = copies_context(request.user)
    return unchanged(request, context["copies_v"]) or render(
        request, "dashboard/_copies.html", context
    )
