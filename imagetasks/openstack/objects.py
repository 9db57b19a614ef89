"""Object storage (Swift / Cloud Files): where imports come from and exports go.

Bodies are streamed both ways so an image of many gigabytes never sits in memory. Object
names may hold ``/`` (pseudo-directories) and any unicode: they are percent-encoded as
UTF-8 with ``/`` kept, container names with nothing kept.

Objects above the store's single-object limit go up as static large objects
(``upload``; naming and limits in ``largeobjects``), and every delete asks Swift to take
a manifest's segments along.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote

import requests

from imagetasks.openstack import jsonbody
from imagetasks.openstack.closing import Closing
from imagetasks.openstack.errors import (
    BODY_LIMIT,
    CloudError,
    NotFound,
    Unprocessable,
    error_class,
    request_id_of,
    truncate,
)
from imagetasks.openstack.largeobjects import (
    DEFAULT_LIMITS,
    INFO_BODY_LIMIT,
    SegmentRef,
    StoreLimits,
    choose_segment_size,
    info_url,
    limits_from_info,
    plan_segments,
    segment_index,
    segment_name,
    segment_prefix,
    segments_container,
)
from imagetasks.openstack.session import CloudSession
from imagetasks.openstack.transport import Timeout, transport_error
from imagetasks.openstack.types import (
    Container,
    ContainerInfo,
    ObjectInfo,
    ObjectMetadata,
    ShapeError,
    Subdir,
    listing_entry,
)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


@runtime_checkable
class Readable(Protocol):
    """Anything with a binary ``read``: a file, or a request body read as it is sent."""

    def read(self, size: int, /) -> bytes: ...


T = TypeVar("T", bound=_Named)

log = logging.getLogger("imagetasks.openstack")

LISTING_PAGE = 1000
CHUNK_SIZE = 64 * 1024
# Twice Swift's limit on a manifest PUT: the manifest read back names more per segment.
MANIFEST_BODY_LIMIT = 16 * 1024 * 1024

Body = bytes | Readable | Iterable[bytes]


def _name(kind: str, name: str) -> str:
    if not name:
        raise ValueError(f"a {kind} name may not be empty")
    return name


def _quote_object(name: str) -> str:
    """Percent-encode an object name, keeping ``/``.

    A "." or ".." segment is written as ``%2E``: left literal, URL normalisation (urllib3's
    included) would remove it and address another object ("a/../b" becoming "b").
    """
    return "/".join(
        "%2E" * len(segment) if segment in (".", "..") else quote(segment, safe="")
        for segment in name.split("/")
    )


def _listing(build: Callable[[Any], T]) -> Callable[[Any], list[T]]:
    def read(body: Any) -> list[T]:
        if not isinstance(body, list):
            raise ShapeError("the listing is not a JSON array")
        return [build(entry) for entry in body]

    return read


class _SizedStream:
    """An iterable of chunks with a known length: ``requests`` then sends a Content-Length
    instead of chunked encoding, which some proxies in front of object stores refuse."""

    def __init__(self, chunks: Iterable[bytes], length: int):
        self._chunks = chunks
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)


def _file_chunks(file: Readable) -> Iterator[bytes]:
    while chunk := file.read(CHUNK_SIZE):
        yield chunk


class ShortBody(ValueError):
    """The body given for an upload ended before the length it was announced with."""


class _Reader:
    """Any ``Body`` read in pieces of a size of our choosing, so one stream can be cut
    into segments whatever size its chunks come in."""

    def __init__(self, data: Body):
        self._file: Readable | None = None
        self._chunks: Iterator[bytes] = iter(())
        self._left = memoryview(b"")
        if isinstance(data, bytes):
            self._file = io.BytesIO(data)
        elif isinstance(data, Readable):
            self._file = data
        else:
            self._chunks = iter(data)

    def read(self, size: int) -> bytes:
        if self._file is not None:
            return self._file.read(size)
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._left = memoryview(chunk)
        # A view, so cutting a large chunk into reads copies each byte once.
        piece, self._left = bytes(self._left[:size]), self._left[size:]
        return piece

    def take(
        self,
        length: int,
        digest: hashlib._Hash | None,
        on_read: Callable[[int], None] | None = None,
    ) -> Iterator[bytes]:
        """Exactly the next ``length`` bytes, hashed into ``digest`` (if any) as they pass;
        ``ShortBody`` if the body ends first."""
        left = length
        while left:
            chunk = self.read(min(left, CHUNK_SIZE))
            if not chunk:
                raise ShortBody(f"the body ended {left} bytes short of {length}")
            left -= len(chunk)
            if digest:
                digest.update(chunk)
            if on_read:
                on_read(len(chunk))
            yield chunk


def exact_body(
    data: Body, length: int, on_read: Callable[[int], None] | None = None
) -> _SizedStream:
    """Exactly ``length`` bytes of ``data`` as a streamed request body with that
    Content-Length; a body that ends first raises ``ShortBody`` inside the request, so the
    peer never takes a truncated upload for a whole one."""
    return _SizedStream(_Reader(data).take(length, None, on_read), length)


def _md5() -> hashlib._Hash:
    return hashlib.md5(usedforsecurity=False)


class _Progress:
    """Bytes read so far, told to a callback as they grow."""

    def __init__(self, report: Callable[[int], None] | None):
        self._report = report
        self.done = 0

    def add(self, count: int) -> None:
        self.done += count
        if self._report:
            self._report(self.done)


def _bulk_report(body: Any) -> tuple[str, list[tuple[str, str]]]:
    """The status and errors of a bulk-delete report (Errors: ``[[path, status], ...]``)."""
    if not isinstance(body, dict):
        raise ShapeError("the delete report is not a JSON object")
    status = body.get("Response Status")
    errors = body.get("Errors") or []
    if not isinstance(errors, list):
        raise ShapeError("the delete report's Errors is not a list")
    listed = [
        (str(entry[0]), str(entry[1]))
        if isinstance(entry, list) and len(entry) == 2
        else (str(entry), "")
        for entry in errors
    ]
    return (status if isinstance(status, str) else ""), listed


def _segment_paths(body: Any) -> set[str]:
    """The segment paths of a manifest as ``?multipart-manifest=get`` returns it."""
    if not isinstance(body, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("name"), str) for entry in body
    ):
        raise ShapeError("the manifest is not a list of segments with names")
    return {"/" + entry["name"].lstrip("/") for entry in body}


def _status_code(status: str) -> int:
    """The number of a status line ("400 Bad Request"); 200 when there is none."""
    first = status.split(" ", 1)[0]
    return int(first) if first.isascii() and first.isdigit() and len(first) == 3 else 200


class ObjectDownload(Closing):
    """A streamed object body; use as a context manager so the connection is released."""

    def __init__(self, response: requests.Response, metadata: ObjectMetadata, timeout: Timeout):
        self._response = response
        self._timeout = timeout
        self.metadata = metadata
        self.status = response.status_code

    def iter_content(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The body in chunks; a connection lost mid-way is an ``Unavailable``."""
        try:
            yield from self._response.iter_content(chunk_size)
        except requests.RequestException as exc:
            method = str(self._response.request.method)
            error, _ = transport_error(method, self._response.url, exc, self._timeout)
            raise error from exc

    def close(self) -> None:
        self._response.close()


class ObjectStore:
    """Containers and objects of one account."""

    def __init__(self, session: CloudSession):
        self._session = session
        self._limits: StoreLimits | None = None
        self._limits_lock = threading.Lock()

    @cached_property
    def root(self) -> str:
        """The account URL (``…/v1/AUTH_<project>``), as the catalog gives it."""
        return self._session.endpoint("object-store").rstrip("/")

    def container_url(self, container: str) -> str:
        if container in (".", ".."):
            # As a path segment it would be normalised away and name the account or another
            # container; Swift has no container by that name.
            raise ValueError(f"a container cannot be named {container!r}")
        return f"{self.root}/{quote(_name('container', container), safe='')}"

    def object_url(self, container: str, name: str) -> str:
        return f"{self.container_url(container)}/{_quote_object(_name('object', name))}"

    # Containers -----------------------------------------------------------------------

    def list_containers(
        self, *, prefix: str | None = None, limit: int | None = None
    ) -> Iterator[Container]:
        yield from self._walk(self.root, {"prefix": prefix}, Container.from_json, limit)

    def create_container(self, name: str) -> bool:
        """True when created, False when it already existed (Swift's 201 versus 202)."""
        # PUT of a container is idempotent, so unlike other PUTs it may be retried.
        response = self._session.request("PUT", self.container_url(name), idempotent=True)
        return response.status_code == 201

    def head_container(self, name: str) -> ContainerInfo:
        response = self._session.request("HEAD", self.container_url(name))
        return ContainerInfo.from_headers(name, response.headers)

    def delete_container(self, name: str) -> None:
        """Raises ``Conflict`` while the container holds objects."""
        self._session.request("DELETE", self.container_url(name))

    # Objects --------------------------------------------------------------------------

    def list_objects(
        self,
        container: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> Iterator[ObjectInfo | Subdir]:
        """Objects (and ``Subdir`` entries when a ``delimiter`` is given), in name order."""
        params = {"prefix": prefix, "delimiter": delimiter, "marker": marker}
        yield from self._walk(self.container_url(container), params, listing_entry, limit)

    def head_object(self, container: str, name: str) -> ObjectMetadata:
        response = self._session.request("HEAD", self.object_url(container, name))
        return ObjectMetadata.from_headers(container, name, response.headers)

    def put_object(
        self,
        container: str,
        name: str,
        data: Body,
        *,
        content_length: int | None = None,
        content_type: str | None = None,
        etag: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Upload an object, streamed; returns the ETag (MD5) the store computed.

        ``data`` may be bytes, a binary file or an iterable of bytes. Without
        ``content_length`` an iterable is sent with chunked encoding. Give ``etag`` (the MD5
        hex) to have the store verify the body (``Unprocessable`` on mismatch).
        """
        sent = dict(headers or {})
        if content_type:
            sent["Content-Type"] = content_type
        sent.setdefault("Content-Type", "application/octet-stream")
        if etag:
            sent["ETag"] = etag
        body: Any = data
        if content_length is not None and not isinstance(data, bytes):
            chunks = _file_chunks(data) if isinstance(data, Readable) else data
            body = _SizedStream(chunks, content_length)
        response = self._session.request(
            "PUT", self.object_url(container, name), data=body, headers=sent
        )
        return response.headers.get("ETag", "").strip('"')

    def get_object(
        self, container: str, name: str, *, byte_range: str | None = None
    ) -> ObjectDownload:
        """The object's body as a stream; the headers are read, the body not yet.

        ``byte_range`` asks for part of it (``"0-511"``, ``"-512"``); ``status`` then
        tells whether the store sent the part (206) or all of it (200).
        """
        headers = {"Range": f"bytes={byte_range}"} if byte_range else None
        response = self._session.request(
            "GET", self.object_url(container, name), headers=headers, stream=True
        )
        metadata = ObjectMetadata.from_headers(container, name, response.headers)
        return ObjectDownload(response, metadata, self._session.config.timeouts)

    def read_range(self, container: str, name: str, byte_range: str, limit: int) -> bytes | None:
        """At most ``limit`` bytes of ``Range: bytes=<byte_range>`` ("0-511", "-512").

        None when the store answers with the whole of a bigger object instead (it ignores
        ranges): the bytes asked for cannot be told from it without reading all of it.
        """
        with self.get_object(container, name, byte_range=byte_range) as download:
            whole = download.metadata.content_length
            if download.status != 206 and (whole is None or whole > limit):
                return None  # all of a big object: the part is not to be had cheaply
            read = bytearray()
            for chunk in download.iter_content(min(limit, CHUNK_SIZE)):
                read += chunk
                if len(read) >= limit:
                    break
            return bytes(read[:limit])

    def delete_object(self, container: str, name: str) -> None:
        """Delete an object; a static large object goes with all its segments.

        Always a manifest delete: Swift deletes a plain object as usual, and answers for a
        manifest with a bulk-delete report; a report that lists errors raises.
        """
        response = self._session.request(
            "DELETE",
            self.object_url(container, name),
            params={"multipart-manifest": "delete"},
            headers={"Accept": "application/json"},
        )
        if response.status_code == 204 or not response.content.strip():
            return
        status, errors = self._session.decode(response, _bulk_report)
        code = _status_code(status)
        if errors or code >= 400:
            listed = "; ".join(f"{path}: {why}" for path, why in errors[:5])
            more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
            text = self._session.scrub(response.content.decode("utf-8", "replace"))
            raise (error_class(code) if code >= 400 else CloudError)(
                truncate(f"deleting {container}/{name}: {status} {listed}{more}".strip(), 500),
                status=code if code >= 400 else response.status_code,
                request_id=request_id_of(response),
                body=truncate(text, BODY_LIMIT),
            )

    # Large objects --------------------------------------------------------------------

    def limits(self) -> StoreLimits:
        """What the store accepts, from its ``/info``, asked once.

        Any answer that does not say (an error status, not JSON, a wrong shape) means
        Swift's defaults; only a store that could not be reached is asked again next time.
        """
        url = info_url(self.root)
        with self._limits_lock:
            if self._limits is None:
                try:
                    self._limits = self._read_limits(url)
                except CloudError as exc:
                    if exc.status is None:
                        return DEFAULT_LIMITS
                    self._limits = DEFAULT_LIMITS
            return self._limits

    def _read_limits(self, url: str) -> StoreLimits:
        with self._session.request("GET", url, stream=True) as response:
            read = bytearray()
            try:
                for chunk in response.iter_content(CHUNK_SIZE):
                    read += chunk
                    if len(read) > INFO_BODY_LIMIT:
                        return DEFAULT_LIMITS
            except requests.RequestException:
                return DEFAULT_LIMITS
        try:
            return limits_from_info(jsonbody.parse(bytes(read)))
        except ValueError:
            return DEFAULT_LIMITS

    def stored_segments(self, container: str, prefix: str) -> dict[int, ObjectInfo]:
        """The segments under ``prefix`` already in ``container``'s segments container,
        by index (nothing when that container does not exist)."""
        found: dict[int, ObjectInfo] = {}
        try:
            for entry in self.list_objects(segments_container(container), prefix=prefix):
                index = segment_index(prefix, entry.name)
                if isinstance(entry, ObjectInfo) and index is not None:
                    found[index] = entry
        except NotFound:
            return {}
        return found

    def put_segment(self, container: str, prefix: str, index: int, data: Body, length: int) -> str:
        """Store segment ``index`` of an object of ``container`` (``length`` bytes of
        ``data``) in the segments container, which must exist; its MD5.

        The MD5 is computed as the bytes go and checked against the store's ETag: a
        segment stored differently is deleted and ``Unprocessable`` raised.
        """
        name = segment_name(prefix, index)
        return self._put_checked(segments_container(container), name, _Reader(data), length)

    def put_manifest(
        self,
        container: str,
        name: str,
        refs: Sequence[SegmentRef],
        *,
        content_type: str | None = None,
    ) -> str:
        """Join stored segments into one object; the store's ETag (MD5 of the segments' ETags).

        The store checks every segment named; a missing or different one is a
        ``BadRequest`` whose message lists them.
        """
        response = self._session.request(
            "PUT",
            self.object_url(container, name),
            params={"multipart-manifest": "put"},
            data=json.dumps([ref.as_json() for ref in refs]).encode(),
            headers={"Content-Type": content_type or "application/octet-stream"},
            # The same manifest stored twice is the same object.
            idempotent=True,
        )
        return response.headers.get("ETag", "").strip('"')

    def upload(
        self,
        container: str,
        name: str,
        data: Body,
        length: int,
        *,
        segment_size: int,
        mtime: str | None = None,
        on_progress: Callable[[int], None] | None = None,
        content_type: str | None = None,
    ) -> str:
        """Store ``length`` bytes of ``data``, as segments and a manifest when they are more
        than ``segment_size`` or than the store takes in one object; the stored ETag.

        ``mtime`` names the version of the data (a file's modification time): uploading
        the same version again sends only the segments not already stored with the same
        MD5. Should anything fail, the segments this call wrote are deleted again.
        ``on_progress`` is told the bytes read so far.

        Over a static large object, the segments of the one replaced that the new object
        does not use are deleted once it is stored (another version's, as swiftclient
        does); a segment that cannot be deleted is left behind, not an error.
        """
        limits = self.limits()
        reader = _Reader(data)
        progress = _Progress(on_progress)
        replaced = self._manifest_paths(container, name)
        if length <= min(segment_size, limits.max_file_size) or (
            not limits.slo and length <= limits.max_file_size
        ):
            etag = self._put_checked(container, name, reader, length, progress.add, content_type)
            self._delete_segments(replaced)
            return etag
        if not limits.slo:
            raise CloudError(
                f"{length} bytes are more than the object store takes in one object "
                f"({limits.max_file_size}) and it offers no large objects"
            )
        size = choose_segment_size(length, segment_size, limits)
        prefix = segment_prefix(name, mtime or f"{time.time():.6f}", length, size)
        segments = segments_container(container)
        self.create_container(segments)
        stored = self.stored_segments(container, prefix)
        written: list[str] = []
        try:
            refs = []
            for segment in plan_segments(length, size):
                part = segment_name(prefix, segment.index)
                known = stored.get(segment.index)
                if known is not None and known.bytes == segment.length:
                    etag = self._keep_or_put(segments, part, reader, known, written, progress)
                else:
                    written.append(part)
                    etag = self._put_checked(segments, part, reader, segment.length, progress.add)
                refs.append(SegmentRef(f"/{segments}/{part}", etag, segment.length))
            etag = self.put_manifest(container, name, refs, content_type=content_type)
        except Exception:
            for part in written:
                with contextlib.suppress(CloudError):
                    self.delete_object(segments, part)
            raise
        self._delete_segments(replaced - {ref.path for ref in refs})
        return etag

    def _manifest_paths(self, container: str, name: str) -> set[str]:
        """The segments (``/<container>/<name>``) of the static large object stored at
        ``name``; none when there is no object, a plain one, or its manifest cannot be read
        (the upload goes on: only the clean-up after it is lost)."""
        try:
            if not self.head_object(container, name).static_large_object:
                return set()
            with self._session.request(
                "GET",
                self.object_url(container, name),
                params={"multipart-manifest": "get"},
                stream=True,
            ) as response:
                read = bytearray()
                for chunk in response.iter_content(CHUNK_SIZE):
                    read += chunk
                    if len(read) > MANIFEST_BODY_LIMIT:  # not a manifest: the object itself
                        raise ShapeError("the manifest is too large")
            return _segment_paths(jsonbody.parse(bytes(read)))
        except NotFound:
            return set()
        except (CloudError, requests.RequestException, ValueError) as error:
            log.warning("the manifest of %s/%s replaced is unreadable: %s", container, name, error)
            return set()

    def _delete_segments(self, paths: Iterable[str]) -> None:
        for path in sorted(paths):
            container, _, name = path.lstrip("/").partition("/")
            try:
                self.delete_object(container, name)
            except NotFound:
                pass
            except (CloudError, ValueError) as error:
                log.warning("segment %s of a replaced object left behind: %s", path, error)

    def _keep_or_put(
        self,
        container: str,
        name: str,
        reader: _Reader,
        known: ObjectInfo,
        written: list[str],
        progress: _Progress,
    ) -> str:
        """A segment already stored: read its bytes (kept aside) and send them only when
        their MD5 differs from the stored one."""
        digest = _md5()
        with tempfile.SpooledTemporaryFile(max_size=16 * CHUNK_SIZE) as spool:
            for chunk in reader.take(known.bytes, digest, progress.add):
                spool.write(chunk)
            if digest.hexdigest() == known.hash:
                return known.hash
            spool.seek(0)
            written.append(name)
            return self._put_checked(container, name, _Reader(spool), known.bytes)

    def _put_checked(
        self,
        container: str,
        name: str,
        reader: _Reader,
        length: int,
        on_read: Callable[[int], None] | None = None,
        content_type: str | None = None,
    ) -> str:
        digest = _md5()
        chunks = reader.take(length, digest, on_read)
        stored = self.put_object(
            container, name, chunks, content_length=length, content_type=content_type
        )
        sent = digest.hexdigest()
        if stored != sent:
            with contextlib.suppress(CloudError):
                self.delete_object(container, name)
            raise Unprocessable(
                f"{container}/{name}: the store computed MD5 {stored or '(none)'} "
                f"for the {sent} sent"
            )
        return sent

    # Paging ---------------------------------------------------------------------------

    def _walk(
        self, url: str, params: dict[str, Any], build: Callable[[Any], T], limit: int | None
    ) -> Iterator[T]:
        """Page by marker until a page comes back shorter than asked (Swift's end signal)."""
        query = {k: v for k, v in params.items() if v is not None}
        query["format"] = "json"
        yielded = 0
        while True:
            page_size = min(LISTING_PAGE, limit - yielded) if limit else LISTING_PAGE
            query["limit"] = page_size
            response = self._session.request("GET", url, params=query)
            # Some Swift versions answer an empty listing with 204 and no body.
            if response.status_code == 204:
                entries: list[T] = []
            else:
                entries = self._session.decode(response, _listing(build))
            yield from entries
            yielded += len(entries)
            if len(entries) < page_size or (limit and yielded >= limit):
                return
            query["marker"] = entries[-1].name
