"""Browsing a cloud: its containers, a container's objects, its images.

Read-only, for whoever may see the cloud (a 404 for anyone else), through what the
pages use: ``clouds/listings.py`` as the import form's object browser, and the image
picker's search (``views/image_picker.py``). Whatever the cloud lists comes back as it
named it, as JSON strings; a cloud that fails, refuses our credentials or answers
nonsense is a 502 that says so.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms as django_forms
from django.http import Http404
from django.urls import reverse
from ninja import Query, Router
from ninja.errors import HttpError

from imagetasks.dashboard import access, forms
from imagetasks.dashboard.api import schemas
from imagetasks.dashboard.api.errors import ASKS_CLOUD
from imagetasks.dashboard.clouds import listings
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud
from imagetasks.dashboard.views import image_picker, region_import
from imagetasks.openstack import CloudError, NotFound

router = Router(tags=["browsing"])


def _failed(cloud: Cloud, error: CloudError) -> HttpError:
    return HttpError(502, f"The cloud {cloud.name} could not list this: {error.message}")


@router.get(
    "/{cloud}/containers",
    response={200: schemas.ContainerList, **ASKS_CLOUD},
    url_name="containers",
    operation_id="listContainers",
)
def list_containers(request, cloud: str, filters: Query[schemas.ContainerFilters]):
    """The containers of the cloud's object storage (the account's), by name; at most 500,
    and `truncated` says whether more match the prefix."""
    found = access.get_cloud_for_user(request, cloud)
    try:
        listed = listings.containers(client_for(found), filters.prefix)
    except CloudError as error:
        raise _failed(found, error) from None
    items = [
        schemas.StoredContainer(
            name=entry.name, count=entry.count, bytes=entry.bytes, last_modified=entry.last_modified
        )
        for entry in listed.entries
    ]
    return schemas.ContainerList(items=items, truncated=listed.truncated)


@router.get(
    "/{cloud}/containers/{container}/objects",
    response={200: schemas.ObjectPage, **ASKS_CLOUD},
    url_name="objects",
    operation_id="listObjects",
)
def list_objects(request, cloud: str, container: str, filters: Query[schemas.ObjectFilters]):
    """A container's objects by name, 50 at a time: follow `next` (or pass `next_marker`
    as `marker`, with the same prefix) for the next page. A container the cloud does not
    have is a 404."""
    found = access.get_cloud_for_user(request, cloud)
    try:
        forms.validate_container_name(container)
        page = listings.objects(client_for(found), container, filters.prefix, filters.marker)
    except (django_forms.ValidationError, ValueError, NotFound):
        raise Http404(f"No container {container!r}") from None
    except CloudError as error:
        raise _failed(found, error) from None
    items = [
        schemas.StoredObject(
            name=entry.name,
            bytes=entry.bytes,
            hash=entry.hash,
            content_type=entry.content_type,
            last_modified=entry.last_modified,
        )
        for entry in page.entries
    ]
    next_url = None
    if page.next_marker:
        here = reverse("api:objects", kwargs={"cloud": found.name, "container": container})
        params = {"prefix": filters.prefix, "marker": page.next_marker}
        next_url = f"{here}?{urlencode({k: v for k, v in params.items() if v})}"
    return schemas.ObjectPage(items=items, next_marker=page.next_marker or None, next=next_url)


@router.get(
    "/{cloud}/images",
    response={200: schemas.ImagePage, **ASKS_CLOUD},
    url_name="images",
    operation_id="listImages",
)
def list_images(request, cloud: str, filters: Query[schemas.ImageFilters]):
    """The images an export or a copy picks from (the account's own, active or not), or
    with `region` those a glance-download picks from in another region: searched by `q`
    as the dashboard's image picker searches, 20 to a page, by name."""
    found = access.get_cloud_for_user(request, cloud)
    purpose = "export"
    if filters.region:
        if filters.region not in region_import.regions(found):
            raise Http404("The cloud lists no such region.")
        purpose = image_picker.OTHER_REGION
    choices = image_picker.image_choices(
        found, purpose=purpose, q=filters.q, page=filters.page, region=filters.region
    )
    if choices.error:
        raise HttpError(502, choices.error)
    next_url = None
    if choices.has_next:
        params = {"q": choices.q, "page": choices.page + 1, "region": filters.region}
        query = urlencode({key: value for key, value in params.items() if value})
        next_url = f"{reverse('api:images', kwargs={'cloud': found.name})}?{query}"
    return schemas.ImagePage(
        items=[_image(image) for image in choices.images],
        matched=choices.matched,
        page=choices.page,
        truncated=choices.truncated,
        next=next_url,
    )


def _image(image) -> schemas.CloudImage:
    return schemas.CloudImage(
        id=image.id,
        name=image.name,
        status=image.status,
        disk_format=image.disk_format,
        container_format=image.container_format,
        size=image.size,
        owner=image.owner,
        visibility=image.visibility,
        created_at=image.created_at,
        updated_at=image.updated_at,
        stores=list(image.import_state.stores),
    )
