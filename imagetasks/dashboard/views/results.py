"""What tasks made: an imported image and an exported object, read through the client.

These pages are the only ones that ask the cloud on each view, because the
image or object is the cloud's, not ours; the download streams the object's
bytes through the dashboard without holding them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from imagetasks.dashboard import access
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.views import store_copies
from imagetasks.dashboard.views.common import Request
from imagetasks.openstack import CloudClient, CloudError, NotFound
from imagetasks.openstack.types import Image

DOWNLOAD_CHUNK = 256 * 1024


def _related_tasks(cloud, **input_or_result):
    """Tasks of this cloud that made or used the thing, newest first (one query)."""
    return list(
        ImageTask.objects.filter(cloud=cloud, **input_or_result)
        .select_related("cloud", "submitted_by")
        .order_by("-submitted_at")[:20]
    )


def _asked(key: str, ask: Callable[[], object], *, missing: str) -> dict[str, object]:
    """The cloud's answer under ``key``, and under ``error`` why the cloud could not be
    asked; a 404 saying ``missing`` when the cloud has no such thing."""
    try:
        return {key: ask(), "error": ""}
    except NotFound:
        raise Http404(missing) from None
    except CloudError as failure:
        return {key: None, "error": f"The cloud could not be asked: {failure.message}"}


def _offers_export(client: CloudClient) -> bool:
    """Whether the cloud has an export task (Rackspace-style clouds; Glance has none).

    Unknown (the schema unreadable) counts as no: the export form would refuse anyway.
    """
    try:
        return client.tasks_flavour().offers_export
    except CloudError:
        return False


@require_GET
def image_detail(request: Request, cloud_name: str, image_id: str) -> HttpResponse:
    cloud = access.get_cloud_for_user(request, cloud_name)
    client = client_for(cloud)
    context = {
        "cloud": cloud,
        "image_id": image_id,
        **_asked(
            "image",
            lambda: client.images.get_image(image_id),
            missing="No such image on this cloud",
        ),
        "tasks": _related_tasks(cloud, result__image_id=image_id),
        "can_submit": access.can_submit(request.user),
    }
    image = context["image"]
    can_submit = context["can_submit"]
    context["offers_export"] = can_submit and image is not None and _offers_export(client)
    if context["can_submit"] and isinstance(image, Image) and image.status == "active":
        state = image.import_state
        if not state.importing_to:
            context["copy"] = store_copies.offer(cloud, image.id, list(state.stores))
    return render(request, "dashboard/image.html", context)


@require_GET
def object_detail(request: Request, cloud_name: str, container: str, name: str) -> HttpResponse:
    cloud = access.get_cloud_for_user(request, cloud_name)
    context = {
        "cloud": cloud,
        "container": container,
        "name": name,
        **_asked(
            "metadata",
            lambda: client_for(cloud).objects.head_object(container, name),
            missing="No such object on this cloud",
        ),
        "tasks": _related_tasks(cloud, result__export_location=f"{container}/{name}"),
    }
    return render(request, "dashboard/object.html", context)


def _chunks(download):
    try:
        yield from download.iter_content(DOWNLOAD_CHUNK)
    finally:
        download.close()


@require_GET
def object_download(
    request: Request, cloud_name: str, container: str, name: str
) -> HttpResponse | StreamingHttpResponse:
    """The object's bytes streamed from the cloud to the browser, a chunk at a time."""
    cloud = access.get_cloud_for_user(request, cloud_name)
    try:
        download = client_for(cloud).objects.get_object(container, name)
    except NotFound:
        raise Http404("No such object on this cloud") from None
    except CloudError as failure:
        context = {"cloud": cloud, "container": container, "name": name, "tasks": []}
        context["error"] = f"The cloud could not send the object: {failure.message}"
        return render(request, "dashboard/object.html", context, status=502)
    response = StreamingHttpResponse(_chunks(download), content_type="application/octet-stream")
    if download.metadata.content_length is not None:
        response["Content-Length"] = str(download.metadata.content_length)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=name.rsplit("/", 1)[-1]
    )
    return response
