"""An export too large for one object, written as Swift segments, as Rackspace writes big
exports: the VHD is cut into ``<container>_segments/<object>/slo/<timestamp>/<size>/
<segment size>/<index>`` objects, then a manifest joins them.

The VHD is never written whole first: the segments are cut from the image's own
file (a ``vhd`` image's blob, or a ``raw`` disk followed by its padding and footer,
see ``VhdBytes``). The segment names are fixed by the image and the sizes, so an
attempt that takes over from a dead one writes the same names again and leaves
nothing behind. Each segment is read, hashed and written in chunks (its ETag goes
into the manifest), paced like any other export.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

from imagetasks.localcloud import blobstore
from imagetasks.localcloud.executors.lifecycle import Claim
from imagetasks.localcloud.executors.throttle import Pacer
from imagetasks.localcloud.models import Container
from imagetasks.localcloud.objectstore import limits, manifests, service


def segment_size_for(total: int) -> int | None:
    """The segment size for ``total`` bytes: LOCALCLOUD_EXPORT_SEGMENT_SIZE (or the object
    limit), larger if that would need more segments than a manifest may list; None when
    even segments of the object limit would be too many."""
    limit = limits.max_object_size()
    size = min(settings.LOCALCLOUD_EXPORT_SEGMENT_SIZE or limit, limit)
    size = max(size, math.ceil(total / limits.max_manifest_segments()))
    return size if size <= limit else None


def segments_container_name(container: Container) -> str:
    return f"{container.name}_segments"


def segment_prefix(name: str, stamp: str, total: int, segment_size: int) -> str:
    return f"{name}/slo/{stamp}/{total}/{segment_size}/"


@dataclass(frozen=True)
class VhdBytes:
    """A VHD's bytes, read without writing the VHD: the first ``file_size`` bytes of an open
    file (a VHD, or a raw disk), then ``trailer`` (a raw disk's padding and footer). The
    file stays open, so an image deleted meanwhile is still read whole."""

    file: BinaryIO
    file_size: int
    trailer: bytes = b""

    @property
    def size(self) -> int:
        return self.file_size + len(self.trailer)

    def read(self, offset: int, length: int, pacer: Pacer) -> Iterator[bytes]:
        end = offset + length
        while offset < min(end, self.file_size):
            chunk = os.pread(self.file.fileno(), min(pacer.chunk_size, end - offset), offset)
            if not chunk:
                raise OSError(f"{self.file.name} is shorter than {self.file_size} bytes")
            offset += len(chunk)
            yield chunk
            pacer.advance(len(chunk))
        if end > self.file_size:
            tail = self.trailer[max(offset - self.file_size, 0) : end - self.file_size]
            yield tail
            pacer.advance(len(tail))


def write_segments(
    run: Claim, source: VhdBytes, container: Container, prefix: str, segment_size: int
) -> list[dict]:
    """Store ``source`` as segments ``<prefix><index:08d>`` of ``container``; the manifest."""
    pacer = run.pacer()
    manifest = []
    total = source.size
    for index, offset in enumerate(range(0, total, segment_size)):
        length = min(segment_size, total - offset)
        blob = blobstore.write_stream(source.read(offset, length, pacer))
        try:
            segment = service.save_object(
                container,
                f"{prefix}{index:08d}",
                blob.blob_id,
                blob.size,
                etag=blob.md5,
                content_type="application/octet-stream",
            )
        except BaseException:
            blobstore.delete(blob.blob_id)
            raise
        manifest.append(manifests.stored_entry(container.name, segment))
    return manifest


def discard_segments(container: Container, manifest: list[dict]) -> None:
    """Delete the segments of a manifest that will not be stored."""
    for entry in manifest:
        segment = service.find_object(container, entry["name"].split("/", 2)[2])
        if segment is not None:
            service.delete_object(segment)
