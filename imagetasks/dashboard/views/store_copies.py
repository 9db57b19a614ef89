"""Copying an image to more of its cloud's stores (Glance's ``copy-image``).

Offered where an image is shown (a successful import's task page, the image page) when
the cloud lists ``copy-image`` and has stores the image is not in yet, unless the cloud's
policy refused this account a copy since its capabilities were last asked for. The form posts to
its own page, which reads the image from the cloud again, shows the form again with
what to fix, and submits a new tracked task once (its submission id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from imagetasks.dashboard import access, forms, statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import image_imports
from imagetasks.dashboard.tracking.submission import submit
from imagetasks.dashboard.views.common import Request
from imagetasks.dashboard.views.task_forms import UNCONFIRMED
from imagetasks.openstack import CloudError, NotFound
from imagetasks.openstack.types import Image

COPY_IMAGE = ImageTask.Method.COPY_IMAGE.value
NOT_OFFERED = "The cloud {cloud} does not offer copying an image to more stores (copy-image)."
REFUSED = "This account may not copy images between stores on {cloud} (the cloud's policy)."
IN_ALL = "The image is already in every store of {cloud}."
UNASKED = (
    "The cloud {cloud} could not be asked about the image ({reason}). Try again when it answers."
)


def _names(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def offer(cloud: Cloud, image_id: str, stores_in: list[str]) -> dict[str, Any] | None:
    """The copy form for an image in ``stores_in``, or None when there is nothing to offer
    (the cloud cannot copy, or the image is in every store it lists). Where the cloud's
    policy refused this account a copy, the form's place says so instead."""
    if not image_id or COPY_IMAGE not in (cloud.import_methods or []):
        return None
    choices = [c for c in forms.store_choices(cloud.image_stores) if c[0] not in stores_in]
    if not choices:
        return None
    if cloud.copy_image_refused_at:
        return {"refused": REFUSED.format(cloud=cloud.name)}
    form = forms.StoreCopyForm(
        initial={"cloud": cloud.name, "submission_id": uuid.uuid4()}, choices=choices
    )
    return {
        "form": form,
        "action": reverse("dashboard:copy_to_stores", args=[cloud.name, image_id]),
        "stores_in": stores_in,
    }


def offer_for_task(task: ImageTask) -> dict[str, Any] | None:
    """The copy form on a successful import's page, for its image in the stores the
    dashboard last saw it in (the newest observation of any task on that image); none
    while an import or copy on it is still writing stores."""
    if task.type != ImageTask.Type.IMPORT or task.status != statuses.SUCCESS:
        return None
    image_id = image_imports.image_id_of(task)
    if not task.method or not image_id:
        return None
    results = (
        ImageTask.objects.filter(cloud=task.cloud, result__image_id=image_id)
        .order_by("-changed_at")
        .values_list("result", flat=True)
    )
    for result in results[:20]:
        if isinstance(result, dict) and isinstance(result.get("stores"), list):
            if _names(result.get("importing_to")):
                return None
            return offer(task.cloud, image_id, _names(result["stores"]))
    return None


def _read_image(cloud: Cloud, image_id: str) -> tuple[Image | None, str]:
    try:
        return client_for(cloud).images.get_image(image_id), ""
    except NotFound:
        raise Http404("No such image on this cloud") from None
    except CloudError as error:
        return None, UNASKED.format(cloud=cloud.name, reason=error.message)


def _already_sent(request: Request, cloud: Cloud) -> ImageTask | None:
    """The task this very form already made, when it is sent again."""
    try:
        submission_id = uuid.UUID(request.POST.get("submission_id", ""))
    except ValueError:
        return None
    return ImageTask.objects.filter(
        pk=submission_id, cloud=cloud, submitted_by=request.user, method=COPY_IMAGE
    ).first()


@dataclass
class StoreCopy:
    """An image as the cloud has it now, the stores it may still be copied to, and what
    stands in the way of a copy ("" when nothing: the form may be sent)."""

    image: Image | None
    stores_in: list[str]
    choices: list[tuple[str, str]]
    problem: str


def store_copy(cloud: Cloud, image_id: str) -> StoreCopy:
    """What a copy of the image to more stores would be, read from the cloud again; a 404
    when the cloud has no such image. The page and the API read it here."""
    image, problem = _read_image(cloud, image_id)
    stores_in = list(image.import_state.stores) if image else []
    if image and COPY_IMAGE not in (cloud.import_methods or []):
        problem = NOT_OFFERED.format(cloud=cloud.name)
    elif image and cloud.copy_image_refused_at:
        problem = REFUSED.format(cloud=cloud.name)
    choices = [c for c in forms.store_choices(cloud.image_stores) if c[0] not in stores_in]
    if image and not problem and not choices:
        problem = IN_ALL.format(cloud=cloud.name)
    return StoreCopy(image, stores_in, choices, problem)


def submit_store_copy(form: forms.StoreCopyForm, cloud: Cloud, image: Image, user) -> ImageTask:
    """Submit a valid form's ``copy-image`` import once (its submission id). A refusal is
    the task, rejected with the cloud's words."""
    return submit(
        cloud,
        ImageTask.Type.IMPORT,
        form.task_input(image.id),
        method=COPY_IMAGE,
        name=image.name or image.id,
        user=user,
        submission_id=form.cleaned_data["submission_id"],
    )


@require_http_methods(["GET", "POST"])
def copy_to_stores(request: Request, cloud_name: str, image_id: str) -> HttpResponse:
    """Choose the stores, allow some to fail or not, and submit a ``copy-image`` import."""
    cloud = access.get_cloud_to_submit(request, cloud_name)
    if request.method == "POST" and (sent := _already_sent(request, cloud)):
        # The image has changed since (the copy may be done): the form would not match it.
        return redirect("dashboard:task", task_id=sent.pk)
    offered = store_copy(cloud, image_id)
    image, problem = offered.image, offered.problem
    if request.method == "POST":
        form = forms.StoreCopyForm(request.POST, choices=offered.choices)
        if not problem and form.is_valid() and image is not None:
            task = submit_store_copy(form, cloud, image, request.user)
            if task.status != statuses.REJECTED:
                if task.status == statuses.UNCONFIRMED:
                    messages.warning(request, UNCONFIRMED)
                return redirect("dashboard:task", task_id=task.pk)
            cloud.refresh_from_db(fields=["copy_image_refused_at"])
            if cloud.copy_image_refused_at:
                # Asking again would be refused the same way: the form goes.
                problem = f"{REFUSED.format(cloud=cloud.name)} It said: {task.message}"
            fresh = request.POST.copy()  # corrected, the form is a new submission
            fresh["submission_id"] = str(uuid.uuid4())
            form.data = fresh
            form.add_error(None, f"The cloud refused it: {task.message}")
    else:
        initial = {"cloud": cloud.name, "submission_id": uuid.uuid4()}
        form = forms.StoreCopyForm(initial=initial, choices=offered.choices)
    context = {
        "cloud": cloud,
        "image_id": image_id,
        "image": image,
        "problem": problem,
        "copy": {"form": form, "action": request.path, "stores_in": offered.stores_in},
    }
    return render(request, "dashboard/store_copy.html", context)
