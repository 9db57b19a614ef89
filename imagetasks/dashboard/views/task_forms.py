"""The import and export forms: validate, check against the cloud, submit once, report.

Nothing the person typed is lost: every failure (a refused submission, a
cloud that does not answer) shows the form again with their input and the
reason. A refused submission gets a fresh ``submission_id`` so it can be
corrected and sent again; an unconfirmed one keeps its id, so sending the same
form again cannot create a second task.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from imagetasks.dashboard import access, forms, jobs, statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking.submission import submit
from imagetasks.dashboard.views import form_warnings, image_picker, region_import
from imagetasks.dashboard.views.browse import listing_for
from imagetasks.dashboard.views.common import Request, live_part, unreachable
from imagetasks.openstack import CloudClient, CloudError, NotFound

UNCONFIRMED = (
    "The cloud did not confirm the submission. It may have been created all the same: the "
    "dashboard looks for it and never sends it twice."
)


def submit_form(
    form,
    cloud: Cloud,
    user,
    task_type: str,
    task_input: dict,
    field_for_message: Callable[[str], str | None],
    name: str | None = None,
    method: str = "",
) -> ImageTask | None:
    """Submit a valid form's task once (its ``submission_id`` is the task's id); None, with
    the cloud's refusal on the form. The pages and the API submit through here.

    A refused form gets a new submission id, so the corrected form is a new submission.
    """
    task = submit(
        cloud,
        task_type,
        task_input,
        name=name,
        method=method,
        user=user,
        submission_id=form.cleaned_data["submission_id"],
        delete_source=form.cleaned_data.get("delete_source", False),
    )
    if task.status == statuses.REJECTED:
        form.data = form.data.copy()
        form.data["submission_id"] = str(uuid.uuid4())
        form.add_error(field_for_message(task.message), f"The cloud refused it: {task.message}")
        return None
    return task


def _submitted(request: Request, task: ImageTask | None) -> HttpResponse | None:
    """The task page of a submitted task (warning when unconfirmed); None if refused."""
    if task is None:
        return None
    if task.status == statuses.UNCONFIRMED:
        messages.warning(request, UNCONFIRMED)
    return redirect("dashboard:task", task_id=task.pk)


def _common(clouds: list[Cloud], cloud: Cloud | None, **extra) -> dict:
    return {"clouds": clouds, "cloud": cloud, **extra}


# Import ------------------------------------------------------------------------------

TASKS_API = "tasks-api"
WEB_DOWNLOAD = ImageTask.Method.WEB_DOWNLOAD.value
GLANCE_DIRECT = ImageTask.Method.GLANCE_DIRECT.value
# The part of the import page that depends on what the cloud offers: the ways and forms.
OFFER = "import-offer"


def import_ways(cloud: Cloud) -> list[tuple[str, str]]:
    """The ways to import this cloud offers, as last discovered, the usual one first.

    The tasks API unless the account is known to be refused it (stock Glance keeps it to
    admins); "From a URL" (web-download) and "Upload from this computer" (glance-direct)
    when the cloud lists those methods; "From another region" (glance-download) when it
    lists the method and its catalog names another region with images.
    """
    ways = []
    if cloud.tasks_api != Cloud.TasksApi.ADMIN_ONLY:
        ways.append((TASKS_API, "Tasks API"))
    methods = cloud.import_methods or []
    if WEB_DOWNLOAD in methods:
        ways.append((WEB_DOWNLOAD, "From a URL"))
    if GLANCE_DIRECT in methods:
        ways.append((GLANCE_DIRECT, "Upload from this computer"))
    if region_import.offered(cloud):
        ways.append((region_import.GLANCE_DOWNLOAD, "From another region"))
    return ways or [(TASKS_API, "Tasks API")]


def _import_page(request: Request, context: dict) -> HttpResponse:
    """The import page, or its offer part alone when the page's poll asks for it."""
    part = "#offer" if live_part(request, OFFER) else ""
    return render(request, f"dashboard/import.html{part}", context)


def _checking(request: Request, cloud: Cloud, clouds: list[Cloud]) -> HttpResponse:
    """A cloud never asked what it offers: a job asks it, and the page says so meanwhile.

    The cloud is never asked from here, so one that stalls holds no web worker. The page
    polls its offer part, which stays an empty 204 until the answer is on the row; every
    request sends the check again only once the last one's lease has run out.
    """
    jobs.check_capabilities_soon(cloud)
    if live_part(request, OFFER):
        return HttpResponse(status=204)
    context = _common(clouds, cloud, checking=True, offer_url=request.get_full_path())
    return render(request, "dashboard/import.html", context)


def _offer_error(cloud: Cloud) -> str:
    """Why the cloud's import methods are unknown after a check: its error, or nothing."""
    return cloud.capabilities_error if cloud.import_methods is None else ""


def _chosen_way(request: Request, ways: list[tuple[str, str]]) -> str:
    wanted = request.POST.get("how") or request.GET.get("how") or ""
    keys = [key for key, _label in ways]
    return wanted if wanted in keys else keys[0]


def import_style(cloud: Cloud) -> tuple[str, str]:
    """("rackspace" | "glance", error text) — a cloud that does not answer reads as Rackspace."""
    try:
        return client_for(cloud).tasks_flavour().import_style, ""
    except CloudError as error:
        return "rackspace", unreachable(cloud, error)


def import_form_class(style: str):
    return forms.GlanceImportForm if style == "glance" else forms.RackspaceImportForm


def _import_message_field(message: str) -> str | None:
    """Which field a refusal is about, judged from the cloud's words (None: the whole form)."""
    lowered = message.lower()
    if "image_properties" in lowered:
        return "name"
    if "object" in lowered or "location" in lowered:
        return "object"
    if "container" in lowered:
        return "container"
    return None


def _check_source(client: CloudClient, form) -> None:
    """The container and the object exist (a HEAD of each through the client)."""
    container, name = form.cleaned_data["container"], form.cleaned_data["object"]
    try:
        client.objects.head_container(container)
    except NotFound:
        form.add_error("container", f"There is no container “{container}” in this account.")
        return
    try:
        client.objects.head_object(container, name)
    except NotFound:
        form.add_error("object", f"There is no object “{name}” in “{container}”.")


@require_http_methods(["GET", "POST"])
def import_task(request: Request) -> HttpResponse:
    """Pick a cloud, then the source (the object browser or a URL) and the image name."""
    choice = access.choose_cloud(request)
    cloud, clouds = choice.chosen, choice.offered
    if cloud is None:
        return render(request, "dashboard/import.html", _common(clouds, None))
    if request.method == "GET" and cloud.capabilities_checked_at is None:
        return _checking(request, cloud, clouds)
    ways = import_ways(cloud)
    how = _chosen_way(request, ways)
    if how == WEB_DOWNLOAD:
        return _web_download(request, cloud, clouds, ways)
    if how == GLANCE_DIRECT:
        return _glance_direct(request, cloud, clouds, ways)
    if how == region_import.GLANCE_DOWNLOAD:
        return region_import.glance_download(request, cloud, clouds, ways, _region_import_and_go)
    style, cloud_error = import_style(cloud)
    form_class = import_form_class(style)
    if request.method == "POST":
        form = form_class(request.POST)
        warnings = form_warnings.for_import(
            cloud, style, form.data.get("container", ""), form.data.get("object", "")
        )
        if cloud_error:
            form.is_valid()
            form.add_error(None, cloud_error)
        elif (
            form.is_valid()
            and warnings.seen_in(request.POST)
            and (response := _submitted(request, submit_import(form, cloud, style, request.user)))
        ):
            return response
    else:
        initial: dict[str, Any] = {"cloud": cloud.name, "submission_id": uuid.uuid4()}
        given = ("container", "object", "name")
        initial.update({k: request.GET[k] for k in given if k in request.GET})
        if "object" in request.GET and "name" not in request.GET:
            initial["name"] = request.GET["object"].rsplit("/", 1)[-1].removesuffix(".vhd")[:255]
        form = form_class(initial=initial)
        warnings = form_warnings.for_import(
            cloud, style, initial.get("container", ""), initial.get("object", "")
        )
    listing = listing_for(request, cloud) if style == "rackspace" and not cloud_error else None
    context = _common(
        clouds, cloud, form=form, style=style, cloud_error=cloud_error, listing=listing,
        upload_plan=_upload_plan(cloud) if listing else "", warnings=warnings,
        ways=ways, how=how, offer_error=_offer_error(cloud),
    )  # fmt: skip
    return _import_page(request, context)


def _web_download(
    request: Request, cloud: Cloud, clouds: list[Cloud], ways: list[tuple[str, str]]
) -> HttpResponse:
    """The cloud fetches a URL into a new image (an interoperable import)."""
    if request.method == "POST":
        form = forms.WebDownloadForm(request.POST, image_stores=cloud.image_stores)
        if form.is_valid() and (
            response := _submitted(request, submit_web_download(form, cloud, request.user))
        ):
            return response
    else:
        initial = {"cloud": cloud.name, "submission_id": uuid.uuid4()}
        form = forms.WebDownloadForm(initial=initial, image_stores=cloud.image_stores)
    context = _common(clouds, cloud, form=form, ways=ways, how=WEB_DOWNLOAD, style="")
    return _import_page(request, context)


def _glance_direct(
    request: Request, cloud: Cloud, clouds: list[Cloud], ways: list[tuple[str, str]]
) -> HttpResponse:
    """A file from this computer into a new image: the page's script sends it (with the
    form's fields) to ``upload_image``; without JavaScript there is nothing to send."""
    initial = {"cloud": cloud.name, "submission_id": uuid.uuid4()}
    form = forms.GlanceDirectForm(initial=initial, image_stores=cloud.image_stores)
    upload_url = reverse("dashboard:upload_image", args=[cloud.name])
    context = _common(
        clouds, cloud, form=form, ways=ways, how=GLANCE_DIRECT, style="", upload_url=upload_url
    )
    return _import_page(request, context)


def submit_web_download(form, cloud: Cloud, user) -> ImageTask | None:
    """Submit a valid web-download form once; None, with the refusal on the form."""
    return submit_form(
        form,
        cloud,
        user,
        ImageTask.Type.IMPORT,
        form.task_input(),
        _web_download_message_field,
        method=WEB_DOWNLOAD,
    )


def _web_download_message_field(message: str) -> str | None:
    lowered = message.lower()
    if "uri" in lowered or "url" in lowered:
        return "url"
    if "format" in lowered:
        return "disk_format"
    return None


def submit_region_import(form, cloud: Cloud, user) -> ImageTask | None:
    """Submit a valid "From another region" form once, the new image named after the one
    it copies unless a name was given; None, with the problem on the form."""
    name = region_import.name_of(cloud, form)
    if name is None:
        return None
    return submit_form(
        form,
        cloud,
        user,
        ImageTask.Type.IMPORT,
        form.task_input(name),
        region_import.message_field,
        method=region_import.GLANCE_DOWNLOAD,
    )


def _region_import_and_go(request: Request, form, cloud: Cloud) -> HttpResponse | None:
    return _submitted(request, submit_region_import(form, cloud, request.user))


def _upload_plan(cloud: Cloud) -> str:
    """Where the upload form asks how to send a file: this prefix, then ``<container>/<object>``."""
    return reverse("dashboard:upload_plan", args=[cloud.name, "c", "o"]).removesuffix("c/o")


def submit_import(form, cloud: Cloud, style: str, user) -> ImageTask | None:
    """Check a valid import form's source against the cloud, then submit it once; None,
    with the problem on the form."""
    client = client_for(cloud)
    try:
        if style == "rackspace":
            _check_source(client, form)
            if form.errors:
                return None
            formats = {}
        else:
            formats = {
                "disk_format": form.cleaned_data["disk_format"],
                "container_format": form.cleaned_data["container_format"],
            }
        task_input = client.import_input(
            source=form.source(), name=form.cleaned_data["name"], **formats
        )
    except CloudError as error:
        form.add_error(None, unreachable(cloud, error))
        return None
    except ValueError as error:
        form.add_error(None, str(error))
        return None
    return submit_form(form, cloud, user, ImageTask.Type.IMPORT, task_input, _import_message_field)


# Export ------------------------------------------------------------------------------


def _export_message_field(message: str) -> str | None:
    lowered = message.lower()
    if "container" in lowered:
        return "container"
    if "image" in lowered:
        return "image_id"
    return None


def _check_export(client: CloudClient, form) -> str:
    """The image exists, is the account's own and active, and the container exists unless
    it is to be created. Returns the image's name, for the table to show instead of its id.

    It only looks: the container is created when the export is submitted.
    """
    image_id, container = form.cleaned_data["image_id"], form.cleaned_data["container"]
    image, problem = image_picker.exportable(client, image_id, "this account")
    if problem:
        form.add_error("image_id", problem)
    if not form.cleaned_data["create_container"]:
        try:
            client.objects.head_container(container)
        except NotFound:
            form.add_error("container", f"There is no container “{container}” in this account.")
    return (image.name or "") if image else ""


@require_http_methods(["GET", "POST"])
def export_task(request: Request) -> HttpResponse:
    """Pick one of the account's images and the container to receive <image id>.vhd."""
    choice = access.choose_cloud(request)
    cloud, clouds = choice.chosen, choice.offered
    if cloud is None:
        return render(request, "dashboard/export.html", _common(clouds, None))
    client = client_for(cloud)
    form = (
        forms.ExportForm(request.POST)
        if request.method == "POST"
        else forms.ExportForm(
            initial={
                "cloud": cloud.name,
                "submission_id": uuid.uuid4(),
                "image_id": request.GET.get("image", ""),
                "container": request.GET.get("container", "exports"),
            }
        )
    )
    containers, cloud_error, offers_export = [], "", True
    try:
        offers_export = client.tasks_flavour().offers_export
        if offers_export:
            containers = [c.name for c in client.objects.list_containers(limit=500)]
    except CloudError as error:
        cloud_error = unreachable(cloud, error)
    warnings = form_warnings.Warnings("export", cloud.name)
    if offers_export and not cloud_error:
        warnings = form_warnings.for_export(
            cloud, str(form["image_id"].value() or ""), str(form["container"].value() or "")
        )
    if request.method == "POST" and form.is_valid() and warnings.seen_in(request.POST):
        if cloud_error or not offers_export:
            form.add_error(None, cloud_error or "This cloud offers no export task.")
        elif response := _submitted(request, submit_export(form, cloud, client, request.user)):
            return response
    choices = None
    if offers_export and not cloud_error:
        chosen = str(form["image_id"].value() or "")
        choices = image_picker.choices_from(request, cloud, "export", chosen)
    context = _common(
        clouds, cloud, form=form, choices=choices, containers=containers,
        cloud_error=cloud_error, offers_export=offers_export, warnings=warnings,
    )  # fmt: skip
    return render(request, "dashboard/export.html", context)


def submit_export(form, cloud: Cloud, client: CloudClient, user) -> ImageTask | None:
    """Check a valid export form's image and container, then submit it once; None, with
    the problem on the form."""
    try:
        image_name = _check_export(client, form)
        if form.errors:
            return None
        container = form.cleaned_data["container"]
        if form.cleaned_data["create_container"]:
            client.objects.create_container(container)  # a PUT: nothing if it exists
        task_input = client.export_input(
            image_id=form.cleaned_data["image_id"], container=container
        )
    except CloudError as error:
        form.add_error(None, unreachable(cloud, error))
        return None
    return submit_form(
        form, cloud, user, ImageTask.Type.EXPORT, task_input, _export_message_field,
        name=image_name,
    )  # fmt: skip
