"""Copying an image of another region of the same cloud into a new image (glance-download).

The import page offers it when the cloud lists the method and its catalog names other
regions with an Images API. The region is chosen first, by a small GET form of its own
(htmx reloads the page for it; without JavaScript its button does); the image picker then
lists that region's images, through the region's endpoint and the same account. The
cloud does the copying: it checks the image when its task runs, so an image removed in
the meantime ends the task in failure with the cloud's reason, as on Glance.
"""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import render

from imagetasks.dashboard import forms
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.views import image_picker
from imagetasks.dashboard.views.common import Request, unreachable
from imagetasks.openstack import CloudError, NotFound

GLANCE_DOWNLOAD = ImageTask.Method.GLANCE_DOWNLOAD.value


def offered(cloud: Cloud) -> bool:
    """Whether the cloud lists glance-download and another region to copy from."""
    return GLANCE_DOWNLOAD in (cloud.import_methods or []) and bool(regions(cloud))


def regions(cloud: Cloud) -> list[str]:
    """The other regions of the cloud's catalog, as its capabilities last recorded them."""
    listed = cloud.image_regions if isinstance(cloud.image_regions, list) else []
    return [region for region in listed if isinstance(region, str) and region]


def _region_asked(request: Request, cloud: Cloud) -> str:
    """The region of the page: the one asked for when the cloud lists it, else its first."""
    known = regions(cloud)
    wanted = request.POST.get("glance_region") or request.GET.get("region") or ""
    return wanted if wanted in known else known[0]


def message_field(message: str) -> str | None:
    """Which field a refusal is about, judged from the cloud's words (None: the whole form)."""
    lowered = message.lower()
    if "region" in lowered:
        return "glance_region"
    if "image" in lowered and "properties" not in lowered:
        return "image_id"
    return None


def name_of(cloud: Cloud, form: forms.RegionImportForm) -> str | None:
    """The new image's name: the one typed, else the copied image's (None, with the reason
    on the form, when that image cannot be read)."""
    data = form.cleaned_data
    if data["name"]:
        return data["name"]
    region, image_id = data["glance_region"], data["image_id"]
    try:
        image = client_for(cloud).images_in(region).get_image(image_id)
    except NotFound:
        form.add_error("image_id", f"There is no image {image_id} in region {region}.")
        return None
    except CloudError as error:
        form.add_error(None, unreachable(cloud, error))
        return None
    return (image.name or image.id)[: forms.IMAGE_NAME_MAX]


def glance_download(
    request: Request,
    cloud: Cloud,
    clouds: list[Cloud],
    ways: list[tuple[str, str]],
    submit,
) -> HttpResponse:
    """The "From another region" form; ``submit`` is the import page's way of sending the
    valid form once (``task_forms.submit_region_import``) and going to its task, or None
    with the refusal on the form."""
    region = _region_asked(request, cloud)
    known, stores = regions(cloud), cloud.image_stores
    if request.method == "POST":
        form = forms.RegionImportForm(request.POST, regions=known, image_stores=stores)
        if form.is_valid() and (response := submit(request, form, cloud)):
            return response
    else:
        initial = {
            "cloud": cloud.name,
            "submission_id": uuid.uuid4(),
            "glance_region": region,
            "image_id": request.GET.get("image", ""),
        }
        form = forms.RegionImportForm(initial=initial, regions=known, image_stores=stores)
    chosen = str(form["image_id"].value() or "")
    choices = image_picker.choices_from(request, cloud, image_picker.OTHER_REGION, chosen, region)
    if request.method == "GET" and choices.selected:
        form.initial["name"] = choices.selected.name or ""
    context = {
        "clouds": clouds, "cloud": cloud, "form": form, "ways": ways, "how": GLANCE_DOWNLOAD,
        "style": "", "choices": choices, "region": region, "regions": known,
    }  # fmt: skip
    return render(request, "dashboard/import.html", context)
