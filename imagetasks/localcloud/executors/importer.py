"""Import: a VHD object of the task's project becomes an active image (reference §4.1).

The image's bytes are a hard link to the object's immutable blob, so an
import copies nothing; the one pass over the data is the checksum pass (MD5
and SHA-512 at once), which is also what the rate limit paces. A large
object (SLO or DLO) has no single blob to link: its segments are copied, one
after the other and in constant memory, into the image's blob, and hashed on
the way, so that copy is its one pass. The image row and the task's success
are written in one transaction, so a crash leaves either both or neither.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from imagetasks.localcloud import blobstore, stores, vhd
from imagetasks.localcloud.blobstore import link_as
from imagetasks.localcloud.executors import hashing, lifecycle
from imagetasks.localcloud.executors.blobs import attempt_blob_id, discard_earlier_attempts
from imagetasks.localcloud.executors.lifecycle import Claim, Superseded
from imagetasks.localcloud.models import Image, Project, StoredObject
from imagetasks.localcloud.objectstore import segments, service

logger = logging.getLogger(__name__)

IMAGE_NOT_FOUND = "Image not found for import. Possible invalid location"
UNSUPPORTED_PROPERTIES = (
    "Unsupported element in image_properties, please consult the documentation."
)
MAX_NAME_LENGTH = 255


def run_import(run: Claim) -> None:
    properties = run.input.get("image_properties") or {}
    if not _supported(properties):
        lifecycle.fail(run, UNSUPPORTED_PROPERTIES)
        return
    project = Project.objects.get(pk=run.project_id)
    source = _source_object(run, project)
    if source is None:
        lifecycle.fail(run, IMAGE_NOT_FOUND)
        return
    parts = segments.parts(project, source) if segments.is_large(source) else None
    if parts is not None and sum(part.size for part in parts) > settings.LOCALCLOUD_MAX_IMAGE_SIZE:
        # Refused before the copy, with the message the VHD check would give after it.
        lifecycle.fail(run, vhd.import_failure_message("609"))
        return
    discard_earlier_attempts(run.task_id, "image", run.attempt)
    blob_id = attempt_blob_id(run.task_id, "image", run.attempt)
    kept = False
    try:
        digests = _copy_source(run, project, source, parts, blob_id)
    except (FileNotFoundError, segments.SegmentError):
        # The object, or a segment of it, was deleted or replaced since it was looked up.
        lifecycle.fail(run, IMAGE_NOT_FOUND)
    else:
        kept = _create_image(run, blob_id, properties.get("name"), digests)
    finally:
        if not kept:
            blobstore.delete(blob_id)


def _copy_source(
    run: Claim,
    project: Project,
    source: StoredObject,
    parts: list[segments.Part] | None,
    blob_id: str,
) -> hashing.Digests | None:
    """Give ``blob_id`` the object's bytes; their digests when they were read on the way
    (a large object's segments, joined), None when the blob was linked unread."""
    if parts is None:
        link_as(source.blob_id, blob_id)
        return None
    return _concatenate(run, project, parts, blob_id)


def _concatenate(
    run: Claim, project: Project, parts: list[segments.Part], blob_id: str
) -> hashing.Digests:
    """Write the large object's segments, in order, into the blob ``blob_id``, hashing
    them on the way (paced like the checksum pass of a plain object)."""
    size = sum(part.size for part in parts)
    pieces = segments.pieces(project, parts, 0, size - 1)
    chunks = segments.read(pieces, label=run.input["import_from"])
    stream = hashing.StreamDigests()
    pacer = run.pacer()
    blobstore.write_chunks(stream.through(chunks, pacer), blob_id)
    return stream.digests


def _source_object(run: Claim, project: Project) -> StoredObject | None:
    # The object name may itself contain "/": only the first segment names the container.
    container_name, _, name = run.input["import_from"].partition("/")
    container = service.find_container(project, container_name)
    return None if container is None else service.find_object(container, name)


def _supported(properties: object) -> bool:
    """Only ``name`` may be set, and it must be a string an image name can hold."""
    if not isinstance(properties, dict) or set(properties) - {"name"}:
        return False
    name = properties.get("name")
    return name is None or (isinstance(name, str) and len(name) <= MAX_NAME_LENGTH)


def _create_image(
    run: Claim, blob_id: str, name: str | None, digests: hashing.Digests | None
) -> bool:
    """Validate, hash (unless the ``digests`` are known) and register the image; True
    when the image now owns the blob."""
    path = blobstore.path_of(blob_id)
    limit = settings.LOCALCLOUD_MAX_IMAGE_SIZE
    try:
        info = vhd.inspect_vhd(path, max_virtual_size=limit, max_file_size=limit)
    except vhd.VhdError as error:
        logger.info("task %s: VHD refused with code %s: %s", run.task_id, error.code, error)
        lifecycle.fail(run, vhd.import_failure_message(error.code))
        return False
    if digests is None:
        digests = hashing.digests_of(path, run.pacer())
    with transaction.atomic():
        image = Image.objects.create(
            project_id=run.project_id,
            name=name,
            status=Image.Status.ACTIVE,
            disk_format="vhd",
            container_format="bare",
            size=digests.size,
            virtual_size=info.virtual_size,
            checksum=digests.md5,
            os_hash_algo="sha512",
            os_hash_value=digests.sha512,
            blob_id=blob_id,
            stores=[stores.default_store()],
        )
        if not lifecycle.succeed(run, {"image_id": str(image.id)}):
            raise Superseded(str(run.task_id))  # rolls the image back
    return True
