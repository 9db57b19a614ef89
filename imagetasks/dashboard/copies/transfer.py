"""Streaming the exported object from the source's object storage into the target's.

The body goes through in chunks (a GET's ``iter_content`` feeding a PUT with a
``Content-Length``), so memory stays flat whatever the image size. The PUT
carries the source's ETag, so the target store refuses a body that arrived
damaged or short; an interrupted transfer therefore never leaves a complete
looking object behind, and running the step again starts it cleanly. When
the target already holds the object with the same size and ETag (a run that
finished its upload but died before recording it), nothing is sent again.

Byte-range resumption would need the target to join segments (Swift's static
or dynamic large objects), which not every object store offers; restarting the
step is what every store supports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.copies import lease as leases
from imagetasks.dashboard.copies.lease import Lease
from imagetasks.dashboard.models import Copy
from imagetasks.openstack import CloudError, NotFound, ObjectMetadata

log = logging.getLogger("imagetasks.copies")

CHUNK = 1024 * 1024


class TransferFailed(CloudError):
    """The target stored something other than what was sent."""


def _already_there(copy: Copy, source: ObjectMetadata) -> bool:
    try:
        there = client_for(copy.target_cloud).objects.head_object(
            copy.staging_container, copy.staging_object
        )
    except NotFound:
        return False
    return bool(
        source.etag and there.etag == source.etag and there.content_length == source.content_length
    )


def _paced(chunks: Iterator[bytes], lease: Lease) -> Iterator[bytes]:
    """The chunks as they come, renewing the lease and storing progress every few seconds.

    A lost lease raises ``Superseded`` here, which aborts the upload mid-body:
    the target then refuses the short body and nothing is stored.
    """
    done, renewed = 0, time.monotonic()
    for chunk in chunks:
        done += len(chunk)
        if time.monotonic() - renewed >= leases.RENEW_EVERY:
            lease.renew(bytes_done=done)
            renewed = time.monotonic()
        yield chunk


def copy_object(copy: Copy, lease: Lease) -> tuple[int, str]:
    """Put the staging object into the target; its size and ETag (MD5)."""
    source = client_for(copy.source_cloud).objects
    target = client_for(copy.target_cloud).objects
    container, name = copy.staging_container, copy.staging_object
    metadata = source.head_object(container, name)
    size = metadata.content_length or 0
    if _already_there(copy, metadata):
        lease.note(copy, "transfer", "skipped", "The target already holds this object.")
        return size, metadata.etag or ""
    target.create_container(container)
    lease.update(bytes_total=size, bytes_done=0)
    lease.note(
        copy,
        "transfer",
        "started",
        f"Streaming {size} bytes from {copy.source_cloud.name} to {copy.target_cloud.name}.",
    )
    log.info("transfer started copy=%s bytes=%d", copy.pk, size)
    with source.get_object(container, name) as download:
        etag = download.metadata.etag or ""
        length = download.metadata.content_length
        stored = target.put_object(
            container,
            name,
            _paced(download.iter_content(CHUNK), lease),
            content_length=length,
            etag=etag or None,
        )
    if etag and stored and stored != etag:
        raise TransferFailed(f"the target stored MD5 {stored}, the source has {etag}")
    log.info("transfer finished copy=%s bytes=%s", copy.pk, length)
    return length if length is not None else size, stored or etag
