"""An interoperable image import (``api_image_import``): data in, then each store.

The task's input is Glance's: ``image_id``, ``import_req`` (the body of
``POST /v2/images/<id>/import``) and ``backend`` (the stores to write). The
API already marked the image (``import_state.begin``); this run

1. gets the data into a blob of its own: web-download fetches the URL
   (``web_download``), glance-direct links the staged blob, copy-image uses
   the image's own blob, glance-download copies another region's image
   (``glance_download``);
2. hashes it once (size, MD5, SHA-512), in constant memory (glance-download
   compares the MD5 with the image it copied);
3. writes each store in turn: a store write reads the blob again and checks it
   against the checksum, and fault injection can make it fail. A success adds
   the store to ``stores``; with ``all_stores_must_succeed`` false, a failure
   lists the store in ``os_glance_failed_import`` and goes on, else it undoes
   the stores this run wrote and fails the task;
4. ends the task and drops the image's lock in one transaction.

Every image write is made under the task's claim (``lifecycle.owned``), so a
run taken over by another writes nothing. A run sent again after its worker
died finds the stores already written in ``stores`` and skips them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction

from imagetasks.localcloud import blobstore, faults
from imagetasks.localcloud.executors import (
    glance_download,
    hashing,
    import_state,
    lifecycle,
    web_download,
)
from imagetasks.localcloud.executors.blobs import attempt_blob_id, discard_earlier_attempts
from imagetasks.localcloud.executors.hashing import Digests
from imagetasks.localcloud.executors.lifecycle import Claim, Superseded
from imagetasks.localcloud.executors.throttle import Pacer
from imagetasks.localcloud.images.creation import NotAnImage, virtual_size_of
from imagetasks.localcloud.models import Image

logger = logging.getLogger(__name__)

IMAGE_DELETED = "Image has been deleted, aborting import."
LOCK_LOST = "Another import of this image took it over; this one stopped."
NOT_STAGED = "Image data is not staged: PUT it to /v2/images/{image_id}/stage first."
NO_STORE = "None of the uploads finished!"
STORE_FAILED = "Writing the image to store '{store}' failed: {reason}."
CHECKSUM_CHANGED = "the data read back does not match the image's checksum"


class _Gone(Exception):
    """The image was deleted while the import ran."""


@dataclass
class _Import:
    run: Claim
    image_id: uuid.UUID
    method: str
    stores: list[str]
    must_succeed: bool
    # glance-download: the image copied, whose checksum and metadata the import takes.
    source: glance_download.Source | None = field(default=None)

    @property
    def copying(self) -> bool:
        return self.method == "copy-image"


def run_image_import(run: Claim) -> None:
    request = run.input["import_req"]
    job = _Import(
        run=run,
        image_id=uuid.UUID(run.input["image_id"]),
        method=request["method"]["name"],
        stores=list(run.input["backend"]),
        must_succeed=request.get("all_stores_must_succeed", True),
    )
    try:
        _run(job)
    except _Gone:
        lifecycle.fail(run, IMAGE_DELETED)


def _run(job: _Import) -> None:
    image = Image.objects.filter(pk=job.image_id).first()
    if image is None:
        raise _Gone
    if not import_state.holds_lock(image, job.run.task_id):
        lifecycle.fail(job.run, LOCK_LOST)
        return
    pacer = job.run.pacer()
    if job.copying or image.blob_id:
        # Copying, or resuming a run that already made the image active: the data is there.
        blob_id, kept = image.blob_id, True
        digests = Digests(size=image.size or 0, md5=image.checksum or "", sha512="")
    else:
        discard_earlier_attempts(job.run.task_id, "image", job.run.attempt)
        blob_id, kept = attempt_blob_id(job.run.task_id, "image", job.run.attempt), False
        try:
            message = _fetch(job, image, blob_id, pacer)
            if not message:
                digests = hashing.digests_of(blobstore.path_of(blob_id), pacer)
                if job.source is not None:
                    message = glance_download.check_checksum(job.source, digests.md5)
        except BaseException:
            blobstore.delete(blob_id)
            raise
        if message:
            blobstore.delete(blob_id)
            _fail(job, job.stores, message)
            return
    try:
        kept = _write_stores(job, image, blob_id, digests, pacer) or kept
    finally:
        if not kept:
            blobstore.delete(blob_id)


def _fetch(job: _Import, image: Image, blob_id: str, pacer: Pacer) -> str | None:
    """Put the import's data in ``blob_id``; the task's failure message if it cannot."""
    if job.method == "web-download":
        uri = job.run.input["import_req"]["method"]["uri"]
        try:
            web_download.download(
                uri,
                blob_id,
                task_id=str(job.run.task_id),
                limit=settings.LOCALCLOUD_MAX_IMAGE_SIZE,
                pacer=pacer,
            )
        except web_download.DownloadFailed as error:
            logger.info("task %s: web-download of %s failed: %s", job.run.task_id, uri, error)
            return str(error)
        return None
    if job.method == "glance-download":
        method = job.run.input["import_req"]["method"]
        try:
            job.source = glance_download.find_source(job.run.project_id, method)
            glance_download.copy_data(job.source, blob_id)
        except glance_download.Refused as error:
            return str(error)
        return None
    if not image.staged_blob_id:
        return NOT_STAGED.format(image_id=image.id)
    try:
        blobstore.link_as(image.staged_blob_id, blob_id)
    except FileNotFoundError:
        return NOT_STAGED.format(image_id=image.id)
    return None


def _write_stores(job: _Import, image: Image, blob_id: str, digests: Digests, pacer: Pacer) -> bool:
    """Write each store; True when the image now owns ``blob_id``."""
    path = blobstore.path_of(blob_id)
    disk_format = image.disk_format
    if job.source is not None:
        disk_format = disk_format or job.source.formats.get("disk_format")
    virtual_size = image.virtual_size if job.copying else _virtual_size(path, disk_format)
    written: list[str] = []
    owns_blob = False
    for index, store in enumerate(job.stores):
        if store in image.stores:
            written.append(store)  # an earlier run of this task wrote it
            continue
        failure = _store_write(store, path, digests.md5, pacer)
        if failure is not None:
            logger.info("task %s: store %s failed: %s", job.run.task_id, store, failure)
            if job.must_succeed:
                _fail(job, [store], STORE_FAILED.format(store=store, reason=failure), undo=written)
                return False
            image = _update(job, partial(_store_failed, store))
            continue
        activate = not job.copying and (not job.must_succeed or index == len(job.stores) - 1)
        data = (blob_id, digests, virtual_size) if activate else None
        image = _update(job, partial(_store_written, store, data, job.source))
        owns_blob = owns_blob or image.blob_id == blob_id
        written.append(store)
    if not job.copying and image.status != Image.Status.ACTIVE:
        _fail(job, [], NO_STORE)
        return False
    _succeed(job)
    return owns_blob


def _store_write(store: str, path: Path, md5: str, pacer: Pacer) -> str | None:
    """Write the data to ``store``: read it back against its checksum. Why it failed, or None."""
    try:
        faults.check_store_write(store)
    except faults.StoreWriteFailed as error:
        return str(error)
    if hashing.md5_of(path, pacer) != md5:
        return CHECKSUM_CHANGED
    return None


def _store_written(
    store: str,
    data: tuple[str, Digests, int | None] | None,
    source: glance_download.Source | None,
    image: Image,
) -> None:
    properties = dict(image.properties)
    import_state.merge(properties, import_state.IMPORTING, [store], remove=True)
    image.properties = properties
    image.stores = [*image.stores, store]
    if data is not None and image.status != Image.Status.ACTIVE:
        blob_id, digests, virtual_size = data
        image.blob_id = blob_id
        image.size = digests.size
        image.checksum = digests.md5
        image.os_hash_algo = "sha512"
        image.os_hash_value = digests.sha512
        image.virtual_size = virtual_size
        image.status = Image.Status.ACTIVE
        if source is not None:
            glance_download.adopt(image, source)


def _store_failed(store: str, image: Image) -> None:
    properties = dict(image.properties)
    import_state.merge(properties, import_state.IMPORTING, [store], remove=True)
    import_state.merge(properties, import_state.FAILED, [store])
    image.properties = properties


def _update(job: _Import, change: Callable[[Image], None]) -> Image:
    """Apply ``change`` to the image under the task's claim; the image as saved."""
    with transaction.atomic():
        if not lifecycle.owned(job.run):
            raise Superseded(str(job.run.task_id))
        image = Image.objects.select_for_update().filter(pk=job.image_id).first()
        if image is None:
            raise _Gone
        change(image)
        image.save()
    return image


def _fail(job: _Import, failed: list[str], message: str, undo: list[str] | None = None) -> None:
    """Fail the task and release the image: ``failed`` stores listed, the stores this run
    wrote (``undo``) taken back, an image being imported back to ``queued``."""

    def release(image: Image) -> None:
        if undo:
            image.stores = [store for store in image.stores if store not in undo]
        import_state.release(image, job.run.task_id, failed, copying=job.copying)

    with transaction.atomic():
        _update(job, release)
        if not lifecycle.fail(job.run, message):
            raise Superseded(str(job.run.task_id))


def _succeed(job: _Import) -> None:
    """End the task and drop the lock; glance-direct's staged data goes with it."""
    staged: list[str] = []

    def finish(image: Image) -> None:
        properties = dict(image.properties)
        properties.pop(import_state.IMPORT_TASK, None)
        image.properties = properties
        if job.method == "glance-direct" and image.staged_blob_id:
            staged.append(image.staged_blob_id)
            image.staged_blob_id = ""

    with transaction.atomic():
        _update(job, finish)
        if not lifecycle.succeed(job.run, {"image_id": str(job.image_id)}):
            raise Superseded(str(job.run.task_id))
        for blob_id in staged:
            transaction.on_commit(partial(blobstore.delete, blob_id))


def _virtual_size(path: Path, disk_format: str | None) -> int | None:
    """The size a guest sees, when the format's header says it; None otherwise."""
    if disk_format not in ("raw", "vhd", "qcow2"):
        return None
    try:
        return virtual_size_of(path, disk_format)
    except NotAnImage:
        return None
