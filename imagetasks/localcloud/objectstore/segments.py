"""Large objects read as one: their parts, checked against the store, streamed in order.

A static large object's parts are the segments its manifest recorded; a
dynamic one's are the objects under its prefix at the time of reading. Before
a byte is sent, every part a read needs is looked up in one query per batch
and must still be the object the manifest recorded (same size and ETag), so
a segment deleted or replaced since is a ``SegmentError`` (a 409) up front.
If one changes while the bytes are flowing, its old blob is gone and the
stream stops with ``SegmentError``, as Swift drops the connection.
Memory stays at one chunk whatever the number and size of the parts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from django.db.models import Q

from imagetasks.localcloud import blobstore
from imagetasks.localcloud.models import Project, StoredObject
from imagetasks.localcloud.objectstore import listing, service

logger = logging.getLogger(__name__)

# Names per query when looking segments up; well below SQLite's variable limit.
_BATCH = 500


class SegmentError(Exception):
    """A part of a large object is missing or is no longer what the manifest recorded."""


@dataclass(frozen=True)
class Part:
    container: str
    name: str
    etag: str
    size: int


@dataclass(frozen=True)
class Piece:
    """The bytes ``[start, start + length)`` of a part's blob."""

    blob_id: str
    start: int
    length: int


def is_large(obj: StoredObject) -> bool:
    return obj.manifest is not None or bool(obj.object_manifest)


def parts(project: Project, obj: StoredObject) -> list[Part]:
    """The parts of a large object of ``project``, in the order they are read."""
    return slo_parts(obj) if obj.is_static_large_object else dlo_parts(project, obj)


def slo_parts(obj: StoredObject) -> list[Part]:
    parts = []
    for segment in obj.manifest or []:
        container, _, name = segment["name"].lstrip("/").partition("/")
        parts.append(Part(container, name, segment["hash"], segment["bytes"]))
    return parts


def dlo_parts(project: Project, obj: StoredObject) -> list[Part]:
    """The live objects under the DLO's ``<container>/<prefix>``, in name order."""
    container_name, prefix = split_object_manifest(obj.object_manifest)
    rows = (
        StoredObject.objects.filter(container__project=project, container__name=container_name)
        .filter(service.live_q())
        .exclude(pk=obj.pk)
    )
    ordered = listing.ordered(rows, prefix)
    return [
        Part(container_name, row.name, service.ensure_etag(row), row.size)
        for row in ordered.iterator()
        if not is_large(row)
    ]


def split_object_manifest(value: str) -> tuple[str, str]:
    """``X-Object-Manifest``'s container and prefix, URL-decoded as Swift reads them."""
    container, _, prefix = value.partition("/")
    return unquote(container), unquote(prefix)


def etag_of(parts: Iterable[Part]) -> str:
    return etag_of_hashes(part.etag for part in parts)


def etag_of_hashes(etags: Iterable[str]) -> str:
    """Swift's ETag of a large object: the MD5 of its parts' ETags, one after the other."""
    digest = hashlib.md5(usedforsecurity=False)
    for etag in etags:
        digest.update(etag.encode("ascii"))
    return digest.hexdigest()


def find_rows(
    project: Project, paths: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], StoredObject]:
    """The live objects at the (container, name) ``paths`` of ``project``, by path."""
    found: dict[tuple[str, str], StoredObject] = {}
    wanted = sorted(set(paths))
    for first in range(0, len(wanted), _BATCH):
        batch = wanted[first : first + _BATCH]
        match = Q()
        for container, name in batch:
            match |= Q(container__name=container, name=name)
        rows = (
            StoredObject.objects.filter(container__project=project)
            .filter(service.live_q())
            .filter(match)
            .select_related("container")
        )
        for row in rows:
            found[(row.container.name, row.name)] = row
    return found


def pieces(project: Project, parts: Sequence[Part], first: int, last: int) -> list[Piece]:
    """What to read for the bytes ``first..last`` (inclusive) of the whole; SegmentError
    when a part they touch is gone or differs from the manifest."""
    needed: list[tuple[Part, int, int]] = []
    offset = 0
    for part in parts:
        start, end = max(first, offset), min(last, offset + part.size - 1)
        if start <= end:
            needed.append((part, start - offset, end - start + 1))
        offset += part.size
    rows = find_rows(project, [(part.container, part.name) for part, _, _ in needed])
    result = []
    for part, start, length in needed:
        row = rows.get((part.container, part.name))
        if row is None or row.size != part.size or service.ensure_etag(row) != part.etag:
            raise SegmentError(f"/{part.container}/{part.name} is gone or has changed")
        result.append(Piece(row.blob_id, start, length))
    return result


def read(pieces: Sequence[Piece], *, label: str = "") -> Iterator[bytes]:
    """The pieces' bytes in order; SegmentError if a blob vanished on the way."""
    for piece in pieces:
        try:
            source = open(blobstore.path_of(piece.blob_id), "rb")  # noqa: SIM115
        except FileNotFoundError:
            logger.warning("large object %s: a segment changed while it was read", label)
            raise SegmentError(f"{label}: a segment changed while it was read") from None
        with source:
            source.seek(piece.start)
            remaining = piece.length
            while remaining > 0:
                chunk = source.read(min(blobstore.CHUNK_SIZE, remaining))
                if not chunk:
                    raise SegmentError(f"{label}: a segment is shorter than recorded")
                remaining -= len(chunk)
                yield chunk
