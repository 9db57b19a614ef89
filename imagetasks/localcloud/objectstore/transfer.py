"""Object bodies in and out, in constant memory whatever their size.

Uploads are read from the request stream chunk by chunk and never through
``request.body`` (which would hold the whole body in memory and is capped by
DATA_UPLOAD_MAX_MEMORY_SIZE). Downloads stream the blob file, optionally one
byte range of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from django.http import HttpRequest, StreamingHttpResponse

from imagetasks.localcloud import blobstore
from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.objectstore.headers import whole_number

# No body is longer; a Content-Length of more digits reads as this (and is cut short).
LENGTH_CAP = 2**63 - 1
TOO_LARGE = "Your request is too large."


def body_chunks(request: HttpRequest, max_length: int) -> Iterator[bytes]:
    """The request body as chunks; 411/400/413 now, before anything is written.

    A body longer than ``max_length`` is a 413: at once when Content-Length
    says so, or, for a chunked body, as soon as it grows past it (the error
    is raised from the iterator, so whatever was being written is dropped).

    A chunked body can be read only when the server decodes it and marks the
    stream as ending by itself (``wsgi.input_terminated``, as gunicorn does);
    Django then sees no Content-Length at all and must read the raw stream.
    """
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        if not request.META.get("wsgi.input_terminated"):
            raise ApiError(411, "This server cannot read chunked bodies; send Content-Length.")
        return _at_most(_until_end(request.META["wsgi.input"]), max_length)
    length = request.META.get("CONTENT_LENGTH", "")
    if not length:
        raise ApiError(411, "Length Required: send Content-Length or a chunked body.")
    declared = whole_number(length, cap=LENGTH_CAP)
    if declared is None:
        raise ApiError(400, "Invalid Content-Length")
    if declared > max_length:
        raise ApiError(413, TOO_LARGE)
    return _exactly(request, declared)


def declared_length(request: HttpRequest) -> int:
    """Content-Length as sent, 0 when absent (for requests that must not carry a body)."""
    declared = whole_number(request.META.get("CONTENT_LENGTH", "") or "0", cap=LENGTH_CAP)
    if declared is None:
        raise ApiError(400, "Invalid Content-Length")
    return declared


def requested_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single byte range asked for, as (first, last) inclusive, or None for everything.

    Syntax this server does not serve (several ranges, other units) is ignored
    as HTTP allows, and the whole object is sent; a range that lies past the
    end is a 416.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or "," in spec or not dash:
        return None
    # Numbers past the object's size mean the same as its size, however long they are.
    start: int | None
    if not first:  # "bytes=-N": the last N bytes ("-0" asks for none, so cannot be met)
        suffix = whole_number(last, cap=size)
        if suffix is None:
            return None
        start, end = size - suffix, size - 1
    else:
        start = whole_number(first, cap=size)
        stop = whole_number(last, cap=size) if last else size - 1
        if start is None or stop is None:
            return None
        if last and stop < start:
            return None
        end = min(stop, size - 1)
    if start >= size:
        raise ApiError(416, "Requested Range Not Satisfiable", {"Content-Range": f"bytes */{size}"})
    return start, end


def stream_blob(
    blob_id: str, size: int, byte_range: tuple[int, int] | None
) -> StreamingHttpResponse:
    """A streaming answer with the blob's bytes (200) or one range of them (206)."""
    path = blobstore.path_of(blob_id)
    # Fail before the status line is sent if the bytes are missing.
    path.stat()
    start, end = byte_range or (0, size - 1)
    response = StreamingHttpResponse(
        _read_range(path, start, end - start + 1), status=206 if byte_range else 200
    )
    response["Content-Length"] = str(end - start + 1)
    if byte_range:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _exactly(request: HttpRequest, length: int) -> Iterator[bytes]:
    remaining = length
    while remaining:
        chunk = request.read(min(blobstore.CHUNK_SIZE, remaining))
        if not chunk:
            raise ApiError(400, "The request body ended before Content-Length bytes arrived.")
        remaining -= len(chunk)
        yield chunk


def _until_end(stream: BinaryIO) -> Iterator[bytes]:
    """A chunked body to its end; a malformed one is the client's error, not ours."""
    while True:
        try:
            chunk = stream.read(blobstore.CHUNK_SIZE)
        except (OSError, ValueError):  # gunicorn's InvalidChunkSize, ChunkMissingTerminator…
            raise ApiError(400, "The chunked request body is malformed.") from None
        if not chunk:
            return
        yield chunk


def _at_most(chunks: Iterator[bytes], max_length: int) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_length:
            raise ApiError(413, TOO_LARGE)
        yield chunk


def _read_range(path: Path, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as source:
        source.seek(start)
        while length > 0 and (chunk := source.read(min(blobstore.CHUNK_SIZE, length))):
            length -= len(chunk)
            yield chunk
