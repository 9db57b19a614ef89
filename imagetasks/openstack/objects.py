"""Object storage (Swift / Cloud Files): where imports come from and exports go.

Bodies are streamed both ways so an image of many gigabytes never sits in memory. Object
names may hold ``/`` (pseudo-directories) and any unicode: they are percent-encoded as
UTF-8 with ``/`` kept, container names with nothing kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote

import requests

from imagetasks.openstack.closing import Closing
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

LISTING_PAGE = 1000
CHUNK_SIZE = 64 * 1024

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
        self._session.request("DELETE", self.object_url(container, name))

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
