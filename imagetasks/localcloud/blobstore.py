"""Bytes of objects and images, on disk, named by random ids.

User-chosen names (containers, objects) never reach the file system: rows in
the database map them to blob ids made here, so no name, however crafted
(``..``, absolute paths, NUL, percent-encoding), can point outside the store.
Blobs are immutable once written; replacing an object writes a new blob.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from imagetasks.localcloud import sparse

CHUNK_SIZE = 1024 * 1024
_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class WrittenBlob:
    blob_id: str
    size: int
    md5: str


def root() -> Path:
    path = Path(settings.LOCALCLOUD_STORE_DIR) / "blobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_blob_id() -> str:
    return secrets.token_hex(16)


def path_of(blob_id: str) -> Path:
    """The file of a blob; refuses anything that is not an id this module made."""
    if not _BLOB_ID.match(blob_id or ""):
        raise ValueError(f"not a blob id: {blob_id!r}")
    return root() / blob_id[:2] / blob_id


def create_path(blob_id: str) -> Path:
    path = path_of(blob_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class StoreFull(Exception):
    """The disk holding the blobs has no room (or quota) left for this one."""


def write_stream(chunks: Iterable[bytes], blob_id: str | None = None) -> WrittenBlob:
    """Write a stream to a new blob in constant memory, hashing it on the way.

    ``blob_id`` names the blob when the caller must know it in advance (a task's
    attempt, whose leftovers a later attempt removes); a new id otherwise.
    A full disk is a ``StoreFull`` (the half-written blob is removed either way).
    Chunks of zeros become holes (see ``write_chunks``).
    """
    digest = hashlib.md5(usedforsecurity=False)

    def hashed() -> Iterator[bytes]:
        for chunk in chunks:
            digest.update(chunk)
            yield chunk

    blob_id, size = write_chunks(hashed(), blob_id)
    return WrittenBlob(blob_id=blob_id, size=size, md5=digest.hexdigest())


def write_chunks(chunks: Iterable[bytes], blob_id: str | None = None) -> tuple[str, int]:
    """Write a stream to a new blob as ``write_stream`` does, without hashing it; returns
    the blob's id and size.

    A chunk that is all zeros is not written but skipped over, and the file's size set
    at the end, so the zeros of a sparse disk image take no disk (a hole reads as zeros).
    """
    blob_id = blob_id or new_blob_id()
    path = create_path(blob_id)
    size = 0
    try:
        with open(path, "wb") as out:
            for chunk in chunks:
                for piece in _pieces(chunk):
                    if sparse.is_zeros(piece):
                        out.seek(len(piece), os.SEEK_CUR)
                    else:
                        out.write(piece)
                size += len(chunk)
            out.truncate(size)
    except BaseException as error:
        path.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StoreFull(str(error)) from error
        raise
    return blob_id, size


def _pieces(chunk: bytes) -> Iterator[bytes]:
    """A chunk in pieces of at most 1 MiB, so that a few bytes of data in a large chunk of
    zeros cost 1 MiB of disk, not the chunk's size."""
    if len(chunk) <= CHUNK_SIZE:
        yield chunk
        return
    for start in range(0, len(chunk), CHUNK_SIZE):
        yield chunk[start : start + CHUNK_SIZE]


def read_chunks(blob_id: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    with open(path_of(blob_id), "rb") as source:
        while chunk := source.read(chunk_size):
            yield chunk


def md5_of(blob_id: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in read_chunks(blob_id):
        digest.update(chunk)
    return digest.hexdigest()


def link_as(source_blob_id: str, target_blob_id: str) -> None:
    """Make ``target`` hold the bytes of ``source``: a hard link (no copy at all) where the
    store allows it, else a kernel-side copy that keeps holes. Blobs are immutable, so
    sharing an inode is safe."""
    source = path_of(source_blob_id)
    target = create_path(target_blob_id)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        sparse.copy_file(source, target)


def link_or_copy(blob_id: str) -> str:
    """A new blob with the same bytes (see ``link_as``); returns its id."""
    new_id = new_blob_id()
    link_as(blob_id, new_id)
    return new_id


def delete(blob_id: str) -> None:
    if blob_id:
        path_of(blob_id).unlink(missing_ok=True)
