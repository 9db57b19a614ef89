"""glance-download: an image's data and metadata from the Images endpoint of another region.

Glance runs this import by calling the other region's Glance with the token of the
user who asked for it, kept with the task. The built-in cloud keeps no token: the
task acts with the rights of its project, which the caller's token proved when the
import was accepted. So, when the task runs, the region must be in the project's
catalog (the main region or one of its extra regions), and the image must be one the
project sees at that region's endpoint (its own, public or community), ``active``
with data. The data is copied into the import's own blob and checked against the
image's checksum; the image's formats and extra properties come along, except the
ones the importing image already has and those Glance reserves (``os_glance_*``,
``stores``, the checksums).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from imagetasks.localcloud import blobstore, sparse
from imagetasks.localcloud.catalog import INTERFACES
from imagetasks.localcloud.images.image_listing import visible_images
from imagetasks.localcloud.models import Image, Project
from imagetasks.localcloud.models.images import region_key

# Glance's GlanceEndpointNotFound, for a region (or interface) the catalog does not have.
ENDPOINT_NOT_FOUND = "{interface} glance endpoint not found for region {region}"
IMAGE_NOT_FOUND = "Image {image_id} not found in region {region}"
NOT_ACTIVE = (
    "Image {image_id} in region {region} is {status}: only an active image can be downloaded"
)
CHECKSUM_MISMATCH = (
    "The data downloaded from region {region} does not match the checksum of image {image_id}"
)
# Never copied: the import's own state, where the data is, and what the import computes.
RESERVED = frozenset({"stores", "checksum", "os_hash_algo", "os_hash_value"})
RESERVED_PREFIX = "os_glance_"
FORMATS = ("disk_format", "container_format")


class Refused(Exception):
    """The remote image cannot be downloaded; the message is the task's failure message."""


@dataclass(frozen=True)
class Source:
    """The image to copy, found with the rights of the task's project."""

    image: Image
    region: str
    formats: dict[str, str] = field(default_factory=dict)
    properties: dict[str, object] = field(default_factory=dict)

    @property
    def checksum(self) -> str:
        return self.image.checksum or ""


def find_source(project_id: str, method: dict) -> Source:
    """The image a glance-download ``method`` names, as the project may see it; Refused
    with Glance's kind of message otherwise."""
    region = str(method.get("glance_region", ""))
    image_id = str(method.get("glance_image_id", ""))
    interface = str(method.get("glance_service_interface", "public"))
    project = Project.objects.filter(pk=project_id).first()
    if project is None or region not in project.regions() or interface not in INTERFACES:
        raise Refused(ENDPOINT_NOT_FOUND.format(interface=interface[:64], region=region[:64]))
    try:
        key = uuid.UUID(image_id)
    except ValueError:
        key = None
    image = visible_images(project, region_key(region)).filter(pk=key).first() if key else None
    if image is None:
        raise Refused(IMAGE_NOT_FOUND.format(image_id=image_id[:64], region=region))
    if image.status != Image.Status.ACTIVE or not image.blob_id:
        raise Refused(NOT_ACTIVE.format(image_id=image.id, region=region, status=image.status))
    formats = {name: getattr(image, name) for name in FORMATS if getattr(image, name)}
    properties = {
        key: value
        for key, value in image.properties.items()
        if key not in RESERVED and not key.startswith(RESERVED_PREFIX)
    }
    return Source(image=image, region=region, formats=formats, properties=properties)


def copy_data(source: Source, blob_id: str) -> None:
    """Copy the source image's bytes into the new blob ``blob_id`` (holes stay holes)."""
    try:
        sparse.copy_file(blobstore.path_of(source.image.blob_id), blobstore.create_path(blob_id))
    except FileNotFoundError:
        # The image was deleted since it was found: its bytes went with it.
        raise Refused(
            IMAGE_NOT_FOUND.format(image_id=source.image.id, region=source.region)
        ) from None


def check_checksum(source: Source, md5: str) -> str | None:
    """The task's failure message when the copied data is not the source image's."""
    if source.checksum and md5 != source.checksum:
        return CHECKSUM_MISMATCH.format(region=source.region, image_id=source.image.id)
    return None


def adopt(image: Image, source: Source) -> None:
    """Give ``image`` (not saved here) the source's formats and extra properties that it
    does not set itself."""
    for name, value in source.formats.items():
        if not getattr(image, name):
            setattr(image, name, value)
    image.properties = {**source.properties, **image.properties}
