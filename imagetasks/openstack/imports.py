"""Images v2 interoperable import: what a cloud offers, and an image brought in by it.

Stock Glance lets project members import only this way (the tasks API is admin-only
there): create an image (``queued``), optionally stage its data (``glance-direct``),
then ask for an import by a method (``glance-direct``, ``web-download``, ``copy-image``,
``glance-download``). The import runs as an ``api_image_import`` task, followed through
the image's own properties (``ImportState``) and ``GET /v2/images/{id}/tasks``.

What a cloud offers is read from small discovery documents; their answers are read to at
most ``DISCOVERY_BODY_LIMIT`` bytes, so a hostile or broken peer cannot make a refresh
hold a large body in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import requests

from imagetasks.openstack import jsonbody
from imagetasks.openstack.errors import (
    BODY_LIMIT,
    Forbidden,
    MalformedResponse,
    NotFound,
    request_id_of,
    truncate,
)
from imagetasks.openstack.images import ImagesApi
from imagetasks.openstack.objects import CHUNK_SIZE, Body, exact_body
from imagetasks.openstack.session import CloudSession
from imagetasks.openstack.transport import Timeout, where
from imagetasks.openstack.types import (
    ApiVersion,
    Image,
    ImageProperties,
    Page,
    ShapeError,
    Store,
    Task,
    highest_images_version,
    import_methods_from_json,
    stores_from_json,
)

T = TypeVar("T")

DISCOVERY_BODY_LIMIT = 1024 * 1024

WEB_DOWNLOAD = "web-download"
GLANCE_DOWNLOAD = "glance-download"


def import_request(
    method: str,
    *,
    uri: str | None = None,
    stores: Sequence[str] | None = None,
    all_stores: bool | None = None,
    all_stores_must_succeed: bool | None = None,
    remote_region: str | None = None,
    remote_image_id: str | None = None,
    remote_service_interface: str | None = None,
) -> dict[str, Any]:
    """The body of ``POST /v2/images/{id}/import``; a combination no cloud accepts is a
    ``ValueError`` here rather than a 400 there."""
    if not method:
        raise ValueError("an import needs a method")
    if (uri is not None) != (method == WEB_DOWNLOAD):
        raise ValueError("a web-download needs a uri, and only a web-download takes one")
    remote = (remote_region, remote_image_id, remote_service_interface)
    if method == GLANCE_DOWNLOAD:
        if not remote_region or not remote_image_id:
            raise ValueError("a glance-download needs remote_region and remote_image_id")
    elif any(value is not None for value in remote):
        raise ValueError("only a glance-download takes remote_region, remote_image_id, …")
    if all_stores and stores:
        raise ValueError("all_stores and stores exclude each other")
    named: dict[str, Any] = {"name": method}
    if uri is not None:
        named["uri"] = uri
    if method == GLANCE_DOWNLOAD:
        named["glance_region"] = remote_region
        named["glance_image_id"] = remote_image_id
        if remote_service_interface:
            named["glance_service_interface"] = remote_service_interface
    body: dict[str, Any] = {"method": named}
    if stores:
        body["stores"] = list(stores)
    if all_stores is not None:
        body["all_stores"] = all_stores
    if all_stores_must_succeed is not None:
        body["all_stores_must_succeed"] = all_stores_must_succeed
    return body


def _task_list(body: Any) -> list[Task]:
    return Page.from_json(body, "tasks", Task.from_json).items


class ImportsApi:
    """Discovery and interoperable import for one account, beside its ``ImagesApi``."""

    def __init__(self, session: CloudSession, images: ImagesApi):
        self._session = session
        self._images = images

    @property
    def root(self) -> str:
        return self._images.root

    # What the cloud offers ------------------------------------------------------------

    def images_api_version(self) -> ApiVersion:
        """The highest Images API 2.x version of the cloud's version document
        (``GET /versions``); 2.6 brought import, 2.12 the image's tasks."""
        return self._small_json(f"{self.root}/versions", highest_images_version)

    def import_methods(self) -> tuple[str, ...]:
        """The import methods offered (``GET /v2/info/import``); none on a cloud without
        the import API, which answers 404 there."""
        try:
            return self._small_json(f"{self.root}/v2/info/import", import_methods_from_json)
        except NotFound:
            return ()

    def stores(self) -> tuple[Store, ...]:
        """The stores an import may target (``GET /v2/info/stores``); none on a cloud with
        one store, which Glance answers with 404 "Multi backend is not supported"."""
        try:
            return self._small_json(f"{self.root}/v2/info/stores", stores_from_json)
        except NotFound:
            return ()

    def tasks_api_permitted(self) -> bool:
        """Whether this account may use ``/v2/tasks``, from one list request of one task.

        False for a 403 (Glance's default policy keeps the API to admins); any other
        error is raised, since it says nothing about the policy.
        """
        try:
            self._small_json(f"{self.root}/v2/tasks?limit=1", _task_list)
        except Forbidden:
            return False
        return True

    # Importing ------------------------------------------------------------------------

    def create_image(self, properties: ImageProperties, *, timeout: Timeout | None = None) -> Image:
        """``POST /v2/images``: a ``queued`` image without data. Never retried: a second
        POST would make a second image."""
        response = self._session.request(
            "POST",
            f"{self.root}/v2/images",
            json=properties.as_json(),
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        )
        return self._session.decode(response, Image.from_json)

    def stage(
        self,
        image_id: str,
        data: Body,
        length: int,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        """Upload ``length`` bytes of ``data`` to the image's staging area
        (``PUT /v2/images/{id}/stage``, for ``glance-direct``), streamed.

        ``on_progress`` is told the bytes read so far. A ``Conflict`` means the image is
        not ``queued`` (already staged or imported).
        """
        done = 0

        def read(count: int) -> None:
            nonlocal done
            done += count
            if on_progress:
                on_progress(done)

        self._session.request(
            "PUT",
            f"{self._image_url(image_id)}/stage",
            data=exact_body(data, length, read),
            headers={"Content-Type": "application/octet-stream"},
        )

    def import_image(
        self,
        image_id: str,
        method: str,
        *,
        uri: str | None = None,
        stores: Sequence[str] | None = None,
        all_stores: bool | None = None,
        all_stores_must_succeed: bool | None = None,
        remote_region: str | None = None,
        remote_image_id: str | None = None,
        remote_service_interface: str | None = None,
        timeout: Timeout | None = None,
    ) -> None:
        """``POST /v2/images/{id}/import`` (202, no body). Never retried.

        ``Conflict`` when the image is in the wrong status or an import is under way;
        ``BadRequest`` for a method or store the cloud does not offer.
        """
        body = import_request(
            method,
            uri=uri,
            stores=stores,
            all_stores=all_stores,
            all_stores_must_succeed=all_stores_must_succeed,
            remote_region=remote_region,
            remote_image_id=remote_image_id,
            remote_service_interface=remote_service_interface,
        )
        self._session.request(
            "POST",
            f"{self._image_url(image_id)}/import",
            json=body,
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        )

    def image_tasks(self, image_id: str) -> list[Task]:
        """The tasks that worked on an image (``GET /v2/images/{id}/tasks``, API 2.12+),
        its ``api_image_import`` tasks among them."""
        return self._small_json(f"{self._image_url(image_id)}/tasks", _task_list)

    # Reading --------------------------------------------------------------------------

    def _image_url(self, image_id: str) -> str:
        if not image_id:
            raise ValueError("an image id may not be empty")
        return f"{self.root}/v2/images/{quote(image_id, '')}"

    def _small_json(self, url: str, build: Callable[[Any], T]) -> T:
        """GET a JSON document read to at most ``DISCOVERY_BODY_LIMIT`` bytes."""
        with self._session.request("GET", url, stream=True) as response:
            read = bytearray()
            try:
                for chunk in response.iter_content(CHUNK_SIZE):
                    read += chunk
                    if len(read) > DISCOVERY_BODY_LIMIT:
                        raise self._malformed(response, read, "larger than 1 MiB")
            except requests.RequestException as exc:
                raise self._malformed(response, read, f"cut short: {type(exc).__name__}") from None
        try:
            return build(jsonbody.parse(bytes(read)))
        except ValueError as exc:  # JSONDecodeError and ShapeError alike
            reason = str(exc) if isinstance(exc, ShapeError) else "not JSON"
            raise self._malformed(response, read, reason) from None

    def _malformed(
        self, response: requests.Response, read: bytearray, reason: str
    ) -> MalformedResponse:
        text = bytes(read[:BODY_LIMIT]).decode("utf-8", "replace")
        return MalformedResponse(
            f"GET {where(response.url)}: unreadable answer ({reason})",
            status=response.status_code,
            request_id=request_id_of(response),
            body=truncate(self._session.scrub(text), BODY_LIMIT),
        )
