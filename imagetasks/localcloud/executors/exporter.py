"""Export: an image of the task's project becomes ``<container>/<image_id>.vhd`` (reference §4.2).

How the VHD is made depends on the image's disk format, never reading the
data through Python:

- ``vhd``: the object is a hard link to the image's blob (no copy at all);
- ``raw``: the disk is copied by the kernel and a fixed VHD footer appended;
- ``qcow2``: ``qemu-img convert`` writes a fixed VHD, where qemu-img is installed.

The object's ETag (its MD5) is known at once for a ``vhd`` image: it is the
image checksum. Otherwise the object is created with an empty ETag and a
follow-up job fills it in, so an export takes about the time of a plain
copy; the object store computes a missing ETag on demand meanwhile. With a
rate limit, the export spends its paced time computing the ETag itself.

A VHD larger than one object may be (LOCALCLOUD_MAX_OBJECT_SIZE) becomes a
static large object instead: segments in ``<container>_segments`` and the
manifest at ``<container>/<image_id>.vhd`` (``segmenting.py``), cut straight
from a ``vhd`` or ``raw`` image's file; only a ``qcow2`` image is converted to a
whole VHD first.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from functools import partial
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from imagetasks.localcloud import blobstore, vhd
from imagetasks.localcloud.blobstore import link_as
from imagetasks.localcloud.executors import hashing, lifecycle, segmenting
from imagetasks.localcloud.executors.blobs import attempt_blob_id, discard_earlier_attempts
from imagetasks.localcloud.executors.blocking import call_keeping_alive, run_keeping_alive
from imagetasks.localcloud.executors.dispatch import dispatch_fill_etag
from imagetasks.localcloud.executors.lifecycle import Claim, Superseded
from imagetasks.localcloud.models import Container, Image, Project
from imagetasks.localcloud.objectstore import limits, names, segments, service

logger = logging.getLogger(__name__)

NOT_OWNER = "An image may only be exported by the image owner."
NOT_ACTIVE = "Image cannot be exported: its status is '{status}', not 'active'."
CONTAINER_NOT_FOUND = "Container not found. Container: {container}"
BAD_CONTAINER_NAME = "Container names may not contain '/', '?' or '.'. Container: {container}"
OBJECT_EXISTS = (
    "Object already exists in user's container. Container/Object: {container}/{image_id}.vhd"
)
UNSUPPORTED_FORMAT = "Image cannot be exported: disk format '{disk_format}' cannot become a VHD."
NEEDS_QEMU_IMG = (
    "Image cannot be exported: converting a qcow2 image to VHD needs qemu-img, "
    "which is not installed on this cloud."
)
CONVERSION_FAILED = "Unknown error occurred during image export"
TOO_LARGE = (
    "Image cannot be exported: its VHD of {size} bytes needs more than {count} segments "
    "of {limit} bytes."
)
SEGMENTS_NAME_TOO_LONG = (
    "Image cannot be exported: it needs the segments container {container}, whose name is too long."
)


class ExportRefused(Exception):
    """The export cannot be done; the message is what the task shows."""


def run_export(run: Claim) -> None:
    try:
        image, container = _target(run)
    except ExportRefused as refusal:
        lifecycle.fail(run, str(refusal))
        return
    discard_earlier_attempts(run.task_id, "export", run.attempt)
    blob_id = attempt_blob_id(run.task_id, "export", run.attempt)
    kept = False
    try:
        if image.disk_format in ("vhd", "raw"):
            with open(blobstore.path_of(image.blob_id), "rb", buffering=0) as file:
                source = _vhd_bytes(image, file)
                if source.size > limits.max_object_size():
                    _publish_segmented(run, image, container, source)
                    return
        etag = _write_vhd(run, image, blob_id)
        with open(blobstore.path_of(blob_id), "rb", buffering=0) as file:
            size = os.fstat(file.fileno()).st_size
            if size > limits.max_object_size():  # a qcow2 image, known once converted
                _publish_segmented(run, image, container, segmenting.VhdBytes(file, size))
                return
        kept = _publish(run, image, container, blob_id, _paced_etag(run, blob_id, etag))
    except ExportRefused as refusal:
        lifecycle.fail(run, str(refusal))
    finally:
        if not kept:
            blobstore.delete(blob_id)


def _target(run: Claim) -> tuple[Image, Container]:
    """The image and container of the input, checked in the order the messages imply."""
    image = _owned_image(run.project_id, run.input["image_uuid"])
    if image.status != Image.Status.ACTIVE or not image.blob_id:
        raise ExportRefused(NOT_ACTIVE.format(status=image.status))
    name = run.input["receiving_swift_container"]
    if any(character in name for character in "/?."):
        raise ExportRefused(BAD_CONTAINER_NAME.format(container=name))
    container = service.find_container(Project.objects.get(pk=run.project_id), name)
    if container is None:
        raise ExportRefused(CONTAINER_NOT_FOUND.format(container=name))
    if service.find_object(container, _object_name(image)) is not None:
        raise ExportRefused(OBJECT_EXISTS.format(container=name, image_id=image.id))
    return image, container


def _owned_image(project_id: str, image_uuid: str) -> Image:
    """The image if the project owns it. An unknown id reads the same as someone else's
    image, so the message tells nothing about other projects' images."""
    try:
        image_id = uuid.UUID(image_uuid)
    except ValueError:
        raise ExportRefused(NOT_OWNER) from None
    image = Image.objects.filter(pk=image_id).first()
    if image is None or image.project_id != project_id or image.region:
        # The tasks API is the main region's: another region's images are not its own.
        raise ExportRefused(NOT_OWNER)
    return image


def _vhd_bytes(image: Image, file: BinaryIO) -> segmenting.VhdBytes:
    """The VHD of a ``vhd`` or ``raw`` image whose file is open as ``file``, unwritten:
    the VHD itself, or the raw disk followed by its padding and footer."""
    size = os.fstat(file.fileno()).st_size
    if image.disk_format == "vhd":
        return segmenting.VhdBytes(file, size)
    return segmenting.VhdBytes(file, size, vhd.fixed_vhd_footer_for(size))


def _write_vhd(run: Claim, image: Image, blob_id: str) -> str:
    """Write the VHD into ``blob_id``; returns its MD5 when already known, else ""."""
    source = blobstore.path_of(image.blob_id)
    target = blobstore.create_path(blob_id)
    if image.disk_format == "vhd":
        link_as(image.blob_id, blob_id)
        etag = image.checksum or ""
    elif image.disk_format == "raw":
        target.unlink(missing_ok=True)
        call_keeping_alive(run.keep_alive, partial(vhd.write_fixed_vhd, source, target))
        etag = ""
    elif image.disk_format == "qcow2":
        _convert_qcow2(run, source, target)
        etag = ""
    else:
        raise ExportRefused(UNSUPPORTED_FORMAT.format(disk_format=image.disk_format))
    return etag


def _paced_etag(run: Claim, blob_id: str, etag: str) -> str:
    """With a rate limit, the export spends its paced time computing the ETag."""
    if not settings.LOCALCLOUD_RATE_LIMIT:
        return etag
    path = blobstore.path_of(blob_id)
    return hashing.md5_of(path, run.pacer())


def _convert_qcow2(run: Claim, source, target) -> None:
    qemu_img = shutil.which("qemu-img")
    if qemu_img is None:
        raise ExportRefused(NEEDS_QEMU_IMG)
    # Named by JSON with "backing": null, so a qcow2 that names a backing file can never
    # make qemu-img read a file of this host into the export.
    spec = {"driver": "qcow2", "file": {"driver": "file", "filename": str(source)}, "backing": None}
    target.unlink(missing_ok=True)
    status, errors = run_keeping_alive(
        run.keep_alive,
        [
            qemu_img,
            "convert",
            "-q",
            "-O",
            "vpc",
            "-o",
            "subformat=fixed,force_size=on",
            "json:" + json.dumps(spec),
            str(target),
        ],
    )
    if status != 0:
        logger.error("task %s: qemu-img convert failed (%s): %s", run.task_id, status, errors)
        raise ExportRefused(CONVERSION_FAILED)


def _publish(run: Claim, image: Image, container: Container, blob_id: str, etag: str) -> bool:
    """Create the object and mark the task done, together; True when the object owns the blob."""
    name = _object_name(image)
    size = blobstore.path_of(blob_id).stat().st_size
    try:
        with transaction.atomic():
            stored = service.save_object(
                container,
                name,
                blob_id,
                size,
                etag=etag,
                content_type="application/octet-stream",
                replace=False,
            )
            location = f"{container.name}/{name}"
            if not lifecycle.succeed(run, {"export_location": location}):
                raise Superseded(str(run.task_id))  # rolls the object back
    except service.ObjectExists:  # the user uploaded an object of that name meanwhile
        raise ExportRefused(
            OBJECT_EXISTS.format(container=container.name, image_id=image.id)
        ) from None
    except service.ContainerGone:
        raise ExportRefused(CONTAINER_NOT_FOUND.format(container=container.name)) from None
    if not etag:
        transaction.on_commit(partial(dispatch_fill_etag, stored.pk, blob_id))
    return True


def _publish_segmented(
    run: Claim, image: Image, container: Container, source: segmenting.VhdBytes
) -> None:
    """Store the VHD ``source`` as segments plus a manifest, and mark the task done with
    the manifest."""
    size = source.size
    segment_size = segmenting.segment_size_for(size)
    if segment_size is None:
        raise ExportRefused(
            TOO_LARGE.format(
                size=size, count=limits.max_manifest_segments(), limit=limits.max_object_size()
            )
        )
    segments_name = segmenting.segments_container_name(container)
    if len(segments_name.encode()) > names.MAX_CONTAINER_NAME_LENGTH:
        raise ExportRefused(SEGMENTS_NAME_TOO_LONG.format(container=segments_name))
    segments_container, _ = service.create_container(container.project, segments_name)
    name = _object_name(image)
    stamp = f"{image.created_at.timestamp():.6f}"
    prefix = segmenting.segment_prefix(name, stamp, size, segment_size)
    try:
        manifest = segmenting.write_segments(run, source, segments_container, prefix, segment_size)
    except service.ContainerGone:
        raise ExportRefused(CONTAINER_NOT_FOUND.format(container=segments_name)) from None
    etag = segments.etag_of_hashes(entry["hash"] for entry in manifest)
    try:
        with transaction.atomic():
            service.save_manifest(
                container,
                name,
                manifest,
                size,
                etag,
                content_type="application/octet-stream",
                replace=False,
            )
            location = f"{container.name}/{name}"
            if not lifecycle.succeed(run, {"export_location": location}):
                raise Superseded(str(run.task_id))  # rolls the manifest back
    except service.ObjectExists:
        segmenting.discard_segments(segments_container, manifest)
        raise ExportRefused(
            OBJECT_EXISTS.format(container=container.name, image_id=image.id)
        ) from None
    except service.ContainerGone:
        segmenting.discard_segments(segments_container, manifest)
        raise ExportRefused(CONTAINER_NOT_FOUND.format(container=container.name)) from None


def _object_name(image: Image) -> str:
    return f"{image.id}.vhd"
