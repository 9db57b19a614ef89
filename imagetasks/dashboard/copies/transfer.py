"""Streaming the exported object from the source's object storage into the target's.

The body goes through in chunks (a GET's ``iter_content`` feeding PUTs with a
``Content-Length``), so memory stays flat whatever the image size, and its MD5 is
computed on the way.

Up to the target's segment size (the cloud's ``segment_size``, bounded by what its
store takes in one object) the object is one PUT. A plain source's ETag is its MD5 and
goes with the PUT, so the store refuses a body that arrived damaged or short. A source
that is itself a large object has an ETag made of its segments' ETags, which says nothing
about its bytes: the PUT then carries no ETag and the MD5 computed on the way is checked
against the one the store reports instead.

Above it, the target gets a static large object: segments in
``<container>_segments``, each checked against its MD5, joined by a manifest. The
segment names carry the source's ETag, so a transfer run again (a worker died, the
lease ran out) lists the segments already stored, asks the source for the rest only
(``Range: bytes=<offset>-``) and resumes at the first missing segment; progress starts
there. A run that finished the upload but died before recording it finds the object in
the target (same size and ETag, or the same manifest over the same segments) and sends
nothing.

The MD5 of the whole is then not always known. A run that resumed has not read the bytes
before its offset, and one that sent nothing has read none; when the source is a plain
object its ETag is the MD5 all the same, but a source that is itself a large object (an
export above its cloud's object limit) has none to offer, and neither can be made of the
segments' MD5s. The copy records "MD5 unknown" then, and the import, whose checksum the
target computes over the whole, is checked against the source image's checksum instead
(``Copy.export_md5``): that is the MD5 of the exported object when the image is a VHD,
exported as the image file itself. A raw or qcow2 image is converted into the VHD, so its
checksum says nothing of the export's, and the import's checksum is not compared at all.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.copies import lease as leases
from imagetasks.dashboard.copies.lease import Lease
from imagetasks.dashboard.models import Copy
from imagetasks.openstack import CloudError, NotFound, ObjectMetadata
from imagetasks.openstack.largeobjects import (
    Segment,
    SegmentRef,
    choose_segment_size,
    plan_segments,
    segment_name,
    segment_prefix,
    segments_container,
)
from imagetasks.openstack.objects import ObjectStore

log = logging.getLogger("imagetasks.copies")

CHUNK = 1024 * 1024
# On a single object the target keeps the source's ETag, to know it again when the
# source's own ETag is not an MD5 (a large object).
SOURCE_ETAG = "Imagetasks-Source-Etag"


class TransferFailed(CloudError):
    """The target stored something other than what was sent."""


def content_md5(metadata: ObjectMetadata) -> str:
    """The MD5 of the object's bytes when its ETag is one ("" for a large object)."""
    if metadata.static_large_object or metadata.object_manifest:
        return ""
    return metadata.etag or ""


@dataclass(frozen=True)
class Layout:
    """How the object goes into the target: one PUT, or these segments under ``prefix``."""

    segments: list[Segment]
    prefix: str

    @property
    def large(self) -> bool:
        return bool(self.segments)


def layout(copy: Copy, target: ObjectStore, source: ObjectMetadata) -> Layout:
    """One PUT up to the target's effective segment size, segments above it."""
    size = source.content_length or 0
    limits = target.limits()
    if not limits.slo or size <= min(copy.target_cloud.segment_size, limits.max_file_size):
        return Layout([], "")
    segment_size = choose_segment_size(size, copy.target_cloud.segment_size, limits)
    prefix = segment_prefix(copy.staging_object, source.etag or "", size, segment_size)
    return Layout(plan_segments(size, segment_size), prefix)


class _Paced:
    """The source's body as a file: hashed, counted, and renewing the lease (with the
    bytes done) every few seconds.

    A lost lease raises ``Superseded`` here, which aborts the PUT mid-body: the target
    refuses the short body and nothing is stored.
    """

    def __init__(self, chunks: Iterator[bytes], lease: Lease, done: int):
        self._chunks = chunks
        self._left = memoryview(b"")
        self._lease = lease
        self._renewed = time.monotonic()
        self.done = done
        self.md5 = hashlib.md5(usedforsecurity=False)

    def read(self, size: int, /) -> bytes:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._left = memoryview(chunk)
        # A view, so cutting a chunk into reads copies each byte once.
        piece, self._left = bytes(self._left[:size]), self._left[size:]
        self.md5.update(piece)
        self.done += len(piece)
        if time.monotonic() - self._renewed >= leases.RENEW_EVERY:
            self._lease.renew(bytes_done=self.done)
            self._renewed = time.monotonic()
        return piece

    def skip(self, count: int) -> None:
        """Drop ``count`` bytes unhashed (a store that sent all of it instead of a range)."""
        while count and (piece := self.read(min(count, CHUNK))):
            count -= len(piece)
        self.md5 = hashlib.md5(usedforsecurity=False)


def _already_there(
    copy: Copy, target: ObjectStore, source: ObjectMetadata, plan: Layout
) -> str | None:
    """When the target holds the whole object already: its MD5 ("" when unknown); else None.

    A single object is known by its MD5 or by the source ETag it was stored with; a large
    one by a manifest whose ETag is that of the segments stored under this source's names.
    """
    try:
        there = target.head_object(copy.staging_container, copy.staging_object)
    except NotFound:
        return None
    if there.content_length != source.content_length or not source.etag:
        return None
    if plan.large:
        stored = target.stored_segments(copy.staging_container, plan.prefix)
        hashes = [stored[s.index].hash if s.index in stored else "" for s in plan.segments]
        joined = hashlib.md5("".join(hashes).encode(), usedforsecurity=False).hexdigest()
        if there.static_large_object and all(hashes) and there.etag == joined:
            return content_md5(source)
        return None
    md5 = content_md5(source)
    if there.etag and (there.etag == md5 or there.metadata.get(SOURCE_ETAG.lower()) == source.etag):
        return there.etag
    return None


def copy_object(copy: Copy, lease: Lease) -> tuple[int, str]:
    """Put the staging object into the target; its size and MD5 ("" when not known)."""
    source = client_for(copy.source_cloud).objects
    target = client_for(copy.target_cloud).objects
    metadata = source.head_object(copy.staging_container, copy.staging_object)
    size = metadata.content_length or 0
    plan = layout(copy, target, metadata)
    found = _already_there(copy, target, metadata, plan)
    if found is not None:
        lease.note(copy, "transfer", "skipped", "The target already holds this object.")
        return size, found
    target.create_container(copy.staging_container)
    if plan.large:
        md5 = _put_segments(copy, lease, source, target, metadata, plan)
    else:
        md5 = _put_whole(copy, lease, source, target, metadata)
    log.info("transfer finished copy=%s bytes=%d", copy.pk, size)
    return size, md5


def _put_whole(
    copy: Copy, lease: Lease, source: ObjectStore, target: ObjectStore, metadata: ObjectMetadata
) -> str:
    """One PUT of the whole object; its MD5, checked against the store's and the source's."""
    container, name = copy.staging_container, copy.staging_object
    size = metadata.content_length or 0
    lease.update(bytes_total=size, bytes_done=0)
    lease.note(
        copy,
        "transfer",
        "started",
        f"Streaming {size} bytes from {copy.source_cloud.name} to {copy.target_cloud.name}.",
    )
    log.info("transfer started copy=%s bytes=%d", copy.pk, size)
    expected = content_md5(metadata)
    with source.get_object(container, name) as download:
        body = _Paced(download.iter_content(CHUNK), lease, 0)
        length = download.metadata.content_length
        stored = target.put_object(
            container,
            name,
            body,
            content_length=size if length is None else length,
            etag=expected or None,
            headers={f"X-Object-Meta-{SOURCE_ETAG}": metadata.etag or ""},
        )
    sent = body.md5.hexdigest()
    if stored != sent or (expected and sent != expected):
        # Not to be taken for a finished transfer by the next run.
        target.delete_object(container, name)
        source_says = f", the source has {expected}" if expected else ""
        raise TransferFailed(f"the target stored MD5 {stored}, {sent} was sent{source_says}")
    return sent


def _put_segments(
    copy: Copy,
    lease: Lease,
    source: ObjectStore,
    target: ObjectStore,
    metadata: ObjectMetadata,
    plan: Layout,
) -> str:
    """Segments from the first one the target lacks, then the manifest; the object's MD5
    when all of it went through this run (else the source's, if it has one)."""
    container, name = copy.staging_container, copy.staging_object
    segments = segments_container(container)
    target.create_container(segments)
    stored = target.stored_segments(container, plan.prefix)
    refs: list[SegmentRef] = []
    missing = list(plan.segments)
    while missing and (known := stored.get(missing[0].index)) and known.bytes == missing[0].length:
        refs.append(
            SegmentRef(
                f"/{segments}/{segment_name(plan.prefix, missing[0].index)}",
                known.hash,
                known.bytes,
            )
        )
        missing.pop(0)
    size = metadata.content_length or 0
    offset = missing[0].offset if missing else size
    lease.update(bytes_total=size, bytes_done=offset)
    count, segment_size = len(plan.segments), plan.segments[0].length
    route = f"from {copy.source_cloud.name} to {copy.target_cloud.name}"
    if offset:
        lease.note(
            copy,
            "transfer",
            "resumed",
            f"Resuming at byte {offset} of {size} (segment {len(refs) + 1} of {count}, "
            f"the ones before it are stored already), {route}.",
        )
    else:
        lease.note(
            copy,
            "transfer",
            "started",
            f"Streaming {size} bytes {route} in {count} segments of {segment_size} bytes.",
        )
    log.info("transfer started copy=%s bytes=%d offset=%d", copy.pk, size, offset)
    sent = ""
    if missing:
        byte_range = f"{offset}-" if offset else None
        with source.get_object(container, name, byte_range=byte_range) as download:
            body = _Paced(download.iter_content(CHUNK), lease, offset)
            if offset and download.status != 206:  # the store sent all of it
                body.skip(offset)
                body.done = offset
            for segment in missing:
                etag = target.put_segment(
                    container, plan.prefix, segment.index, body, segment.length
                )
                path = f"/{segments}/{segment_name(plan.prefix, segment.index)}"
                refs.append(SegmentRef(path, etag, segment.length))
        sent = "" if offset else body.md5.hexdigest()
    expected = content_md5(metadata)
    if sent and expected and sent != expected:
        raise TransferFailed(f"{sent} was sent, the source has MD5 {expected}")
    target.put_manifest(container, name, refs)
    return sent or expected
