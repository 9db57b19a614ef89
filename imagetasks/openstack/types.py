"""Typed results, built from what the clouds send.

Rackspace and Glance disagree on details (``"message": "None"`` versus ``""``, ``result``
absent versus null, extra Glance fields), so each builder accepts both and hands back one
shape. Anything that cannot be read raises ``ShapeError``; the session turns it into a
``MalformedResponse`` that carries the text received.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")


class ShapeError(ValueError):
    """A body parsed as JSON but does not have the shape the API promises."""


def parse_timestamp(value: Any, name: str = "timestamp") -> datetime | None:
    """An aware datetime from ISO-8601 with ``Z``, an offset or none (Swift means UTC)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ShapeError(f"{name} is not a string: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ShapeError(f"{name} is not an ISO-8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ShapeError(f"{what} is not a JSON object")
    return body


def _required_str(body: dict[str, Any], key: str, what: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ShapeError(f"{what} has no {key!r}")
    return value


def _optional_str(body: dict[str, Any], key: str, what: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ShapeError(f"{what} {key!r} is not a string: {value!r}")
    return value


def _optional_object(body: dict[str, Any], key: str, what: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise ShapeError(f"{what} {key!r} is not an object: {value!r}")
    return value


def _optional_int(body: dict[str, Any], key: str, what: str) -> int | None:
    value = body.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ShapeError(f"{what} {key!r} is not a whole number: {value!r}")
    return value


@dataclass(frozen=True)
class Task:
    """An Images v2 task, full view or list entry (which lacks input, result and message)."""

    id: str
    type: str
    status: str
    owner: str
    input: dict[str, Any] | None
    result: dict[str, Any] | None
    # Rackspace's "None" and Glance's null are both "no message": normalised to "".
    message: str
    created_at: datetime | None
    updated_at: datetime | None
    expires_at: datetime | None
    self_link: str
    schema: str
    # Glance-only extras (Wallaby+); None elsewhere.
    image_id: str | None
    request_id: str | None
    user_id: str | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, body: Any) -> Task:
        body = _object(body, "task")
        message = _optional_str(body, "message", "task") or ""
        return cls(
            id=_required_str(body, "id", "task"),
            type=_optional_str(body, "type", "task") or "",
            status=_required_str(body, "status", "task"),
            owner=_optional_str(body, "owner", "task") or "",
            input=_optional_object(body, "input", "task"),
            result=_optional_object(body, "result", "task"),
            message="" if message == "None" else message,
            created_at=parse_timestamp(body.get("created_at"), "created_at"),
            updated_at=parse_timestamp(body.get("updated_at"), "updated_at"),
            expires_at=parse_timestamp(body.get("expires_at"), "expires_at"),
            self_link=_optional_str(body, "self", "task") or "",
            schema=_optional_str(body, "schema", "task") or "",
            image_id=_optional_str(body, "image_id", "task"),
            request_id=_optional_str(body, "request_id", "task"),
            user_id=_optional_str(body, "user_id", "task"),
            raw=body,
        )


# Longest store id, method name or task id taken from a cloud; Glance's are a few dozen
# characters. Anything longer is an answer no Glance gives, read as malformed.
NAME_LIMIT = 255
# Longest store description kept (prose is cut, never refused).
TEXT_LIMIT = 1000
# Most stores or methods a cloud may list; Glance offers four methods and a handful of stores.
LIST_LIMIT = 100


def _names(values: list[Any], what: str) -> tuple[str, ...]:
    """Short, non-empty, unique names in their order; anything else is a ``ShapeError``."""
    if len(values) > LIST_LIMIT:
        raise ShapeError(f"{what} lists {len(values)} entries, more than {LIST_LIMIT}")
    names: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ShapeError(f"{what} has an entry that is not a name: {value!r:.80}")
        if len(value) > NAME_LIMIT:
            raise ShapeError(f"{what} has a name longer than {NAME_LIMIT} characters")
        if value.strip() not in names:
            names.append(value.strip())
    return tuple(names)


def _comma_list(body: dict[str, Any], key: str) -> tuple[str, ...]:
    """An image's comma-separated list property (``stores``, ``os_glance_*``)."""
    value = _optional_str(body, key, "image")
    if not value:
        return ()
    return _names([part for part in value.split(",") if part.strip()], f"image {key!r}")


def _short_str(body: dict[str, Any], key: str, what: str, limit: int) -> str | None:
    value = _optional_str(body, key, what)
    if value is not None and len(value) > limit:
        raise ShapeError(f"{what} {key!r} is longer than {limit} characters")
    return value or None


@dataclass(frozen=True)
class ImportState:
    """Where an image's interoperable import stands, read from the image itself.

    Glance keeps it in reserved properties: ``os_glance_import_task`` (the
    ``api_image_import`` task, dropped once it ends), ``os_glance_importing_to_stores``
    (stores still to do), ``os_glance_failed_import`` (stores that failed) and ``stores``
    (where the image's data is). Glance never shows ``os_glance_stage_host`` (where a
    ``glance-direct`` upload was staged): its image serializer hides it from everyone.
    A cloud without the import API sends none of them: every list is empty.
    """

    status: str
    stores: tuple[str, ...]
    importing_to: tuple[str, ...]
    failed: tuple[str, ...]
    task_id: str | None

    @classmethod
    def from_json(cls, body: Any) -> ImportState:
        body = _object(body, "image")
        return cls(
            status=_required_str(body, "status", "image"),
            stores=_comma_list(body, "stores"),
            importing_to=_comma_list(body, "os_glance_importing_to_stores"),
            failed=_comma_list(body, "os_glance_failed_import"),
            task_id=_short_str(body, "os_glance_import_task", "image", NAME_LIMIT),
        )

    @property
    def importing(self) -> bool:
        """Data is still on its way to some store."""
        return self.status == "importing" or bool(self.importing_to)

    @property
    def partial(self) -> bool:
        """Active in some stores, failed in others (a ``copy-image`` that half worked, or
        ``all_stores_must_succeed`` false): the image is usable, not everywhere."""
        return self.status == "active" and bool(self.failed) and not self.importing_to


_IMAGE_FIELDS = frozenset(
    "id name status disk_format container_format size virtual_size checksum os_hash_algo "
    "os_hash_value visibility protected os_hidden owner min_disk min_ram tags created_at "
    "updated_at self file schema".split()
)


@dataclass(frozen=True)
class Image:
    """An Images v2 image; extra properties (Rackspace's ``com.rackspace__1__*``…) in
    ``properties``."""

    id: str
    name: str | None
    status: str
    disk_format: str | None
    container_format: str | None
    size: int | None
    virtual_size: int | None
    checksum: str | None
    os_hash_algo: str | None
    os_hash_value: str | None
    visibility: str | None
    protected: bool
    owner: str | None
    min_disk: int | None
    min_ram: int | None
    tags: tuple[str, ...]
    created_at: datetime | None
    updated_at: datetime | None
    file: str | None
    self_link: str
    properties: dict[str, Any]
    import_state: ImportState
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, body: Any) -> Image:
        body = _object(body, "image")
        tags = body.get("tags") or []
        if not isinstance(tags, list):
            raise ShapeError(f"image 'tags' is not a list: {tags!r}")
        return cls(
            id=_required_str(body, "id", "image"),
            name=_optional_str(body, "name", "image"),
            status=_required_str(body, "status", "image"),
            disk_format=_optional_str(body, "disk_format", "image"),
            container_format=_optional_str(body, "container_format", "image"),
            size=_optional_int(body, "size", "image"),
            virtual_size=_optional_int(body, "virtual_size", "image"),
            checksum=_optional_str(body, "checksum", "image"),
            os_hash_algo=_optional_str(body, "os_hash_algo", "image"),
            os_hash_value=_optional_str(body, "os_hash_value", "image"),
            visibility=_optional_str(body, "visibility", "image"),
            protected=bool(body.get("protected", False)),
            owner=_optional_str(body, "owner", "image"),
            min_disk=_optional_int(body, "min_disk", "image"),
            min_ram=_optional_int(body, "min_ram", "image"),
            tags=tuple(str(tag) for tag in tags),
            created_at=parse_timestamp(body.get("created_at"), "created_at"),
            updated_at=parse_timestamp(body.get("updated_at"), "updated_at"),
            file=_optional_str(body, "file", "image"),
            self_link=_optional_str(body, "self", "image") or "",
            properties={k: v for k, v in body.items() if k not in _IMAGE_FIELDS},
            import_state=ImportState.from_json(body),
            raw=body,
        )


@dataclass(frozen=True)
class Unreadable:
    """A list entry that is not what the list holds: why, and its id when it has a usable one."""

    id: str | None
    reason: str

    @classmethod
    def of(cls, body: Any, error: ShapeError) -> Unreadable:
        entry_id = body.get("id") if isinstance(body, dict) else None
        usable = isinstance(entry_id, str) and 0 < len(entry_id) <= NAME_LIMIT
        return cls(entry_id if usable else None, str(error)[:TEXT_LIMIT])


def image_or_unreadable(body: Any) -> Image | Unreadable:
    """An image list entry read on its own, so one hostile entry does not spoil its page."""
    try:
        return Image.from_json(body)
    except ShapeError as error:
        return Unreadable.of(body, error)


class ApiVersion(NamedTuple):
    """An Images API version such as 2.16; compares as numbers do."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


_VERSION_ID = re.compile(r"v?(\d{1,4})\.(\d{1,4})")


def highest_images_version(body: Any) -> ApiVersion:
    """The highest 2.x version a version document lists (``{"versions": [{"id": "v2.16",
    …}]}``). Entries that are not such an object are passed over; a document that lists
    no 2.x version at all says nothing, and is a ``ShapeError``."""
    body = _object(body, "version document")
    entries = body.get("versions")
    if not isinstance(entries, list):
        raise ShapeError("the version document has no 'versions' array")
    found: list[ApiVersion] = []
    for entry in entries[:LIST_LIMIT]:
        ident = entry.get("id") if isinstance(entry, dict) else None
        match = _VERSION_ID.fullmatch(ident) if isinstance(ident, str) else None
        if match and int(match[1]) == 2:
            found.append(ApiVersion(2, int(match[2])))
    if not found:
        raise ShapeError("the version document lists no Images API v2")
    return max(found)


def import_methods_from_json(body: Any) -> tuple[str, ...]:
    """The methods of ``GET /v2/info/import``:
    ``{"import-methods": {"type": "array", "value": ["glance-direct", …]}}``."""
    body = _object(body, "import info")
    methods = body.get("import-methods")
    if not isinstance(methods, dict):
        raise ShapeError("import info has no 'import-methods' object")
    value = methods.get("value")
    if not isinstance(value, list):
        raise ShapeError("import info 'import-methods' has no 'value' array")
    return _names(value, "import info")


def _flag(value: Any) -> bool:
    """Glance writes its store flags as the string "true"; JSON's true means the same."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


@dataclass(frozen=True)
class Store:
    """A store of ``GET /v2/info/stores``: where an image's data can be kept."""

    id: str
    description: str
    default: bool
    read_only: bool

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "default": self.default}


def stores_from_json(body: Any) -> tuple[Store, ...]:
    """``{"stores": [{"id": "fast", "description": "…", "default": "true"}, …]}``; a
    second default is not believed (only the first keeps the flag)."""
    body = _object(body, "store info")
    entries = body.get("stores")
    if not isinstance(entries, list):
        raise ShapeError("store info has no 'stores' array")
    items = [_object(entry, "a store") for entry in entries]
    ids = _names([item.get("id") for item in items], "store info")
    if len(ids) != len(items):
        raise ShapeError("store info lists a store twice")
    stores: list[Store] = []
    for ident, item in zip(ids, items, strict=True):
        description = item.get("description")
        default = _flag(item.get("default")) and not any(store.default for store in stores)
        stores.append(
            Store(
                id=ident,
                description=description[:TEXT_LIMIT] if isinstance(description, str) else "",
                default=default,
                read_only=_flag(item.get("read-only")),
            )
        )
    return tuple(stores)


# What ``extra`` may not name: the image's own fields (set through their attributes or
# by the cloud alone) and what Glance reserves for itself.
_NOT_EXTRA = _IMAGE_FIELDS | {"stores", "locations", "direct_url"}


@dataclass(frozen=True)
class ImageProperties:
    """What ``POST /v2/images`` creates an image with (status ``queued``, no data yet).

    ``extra`` holds further string properties (``os_distro``, ``os_version``,
    ``hw_disk_bus``…); Glance's reserved ``os_glance_*`` and its own fields are refused
    here rather than by a 403 from the cloud.
    """

    name: str
    # Blank formats are left out of the request: a glance-download takes them from the
    # image it copies.
    disk_format: str = ""
    container_format: str = "bare"
    visibility: str | None = None
    min_disk: int | None = None
    min_ram: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, value in self.extra.items():
            if key.startswith("os_glance") or key in _NOT_EXTRA:
                raise ValueError(f"{key!r} is not a property a client may set")
            if not isinstance(value, str):
                raise ValueError(f"property {key!r} must be a string, not {value!r}")
        for key in ("min_disk", "min_ram"):
            number = getattr(self, key)
            if number is not None and (isinstance(number, bool) or number < 0):
                raise ValueError(f"{key} must be a whole number of at least 0")

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name}
        for key in ("disk_format", "container_format"):
            if getattr(self, key):
                body[key] = getattr(self, key)
        for key in ("visibility", "min_disk", "min_ram"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return {**body, **self.extra}


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a paginated Images v2 list and the link to the next one."""

    items: list[T]
    next_link: str | None

    @classmethod
    def from_json(cls, body: Any, key: str, build: Callable[[Any], T]) -> Page[T]:
        body = _object(body, f"{key} list")
        entries = body.get(key)
        if not isinstance(entries, list):
            raise ShapeError(f"{key} list has no {key!r} array")
        return cls([build(entry) for entry in entries], _optional_str(body, "next", key))


@dataclass(frozen=True)
class Container:
    """An entry of an account listing."""

    name: str
    count: int
    bytes: int
    last_modified: datetime | None

    @classmethod
    def from_json(cls, body: Any) -> Container:
        body = _object(body, "container")
        return cls(
            name=_required_str(body, "name", "container"),
            count=_optional_int(body, "count", "container") or 0,
            bytes=_optional_int(body, "bytes", "container") or 0,
            last_modified=parse_timestamp(body.get("last_modified"), "last_modified"),
        )


@dataclass(frozen=True)
class ObjectInfo:
    """An entry of a container listing."""

    name: str
    bytes: int
    hash: str
    content_type: str
    last_modified: datetime | None


@dataclass(frozen=True)
class Subdir:
    """A pseudo-directory in a listing made with a ``delimiter``."""

    name: str


def listing_entry(body: Any) -> ObjectInfo | Subdir:
    """An object or, in delimited listings, a ``{"subdir": "prefix/"}`` entry."""
    body = _object(body, "object")
    if "subdir" in body:
        return Subdir(_required_str(body, "subdir", "object"))
    return ObjectInfo(
        name=_required_str(body, "name", "object"),
        bytes=_optional_int(body, "bytes", "object") or 0,
        hash=_optional_str(body, "hash", "object") or "",
        content_type=_optional_str(body, "content_type", "object") or "",
        last_modified=parse_timestamp(body.get("last_modified"), "last_modified"),
    )


def _metadata(headers: Mapping[str, str], prefix: str) -> dict[str, str]:
    prefix = prefix.lower()
    return {k[len(prefix) :].lower(): v for k, v in headers.items() if k.lower().startswith(prefix)}


# Swift's config_true_value, which its middleware uses to read X-Static-Large-Object.
_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class ContainerInfo:
    """What ``HEAD`` on a container tells: counts and ``X-Container-Meta-*``."""

    name: str
    object_count: int | None
    bytes_used: int | None
    metadata: dict[str, str]

    @classmethod
    def from_headers(cls, name: str, headers: Mapping[str, str]) -> ContainerInfo:
        return cls(
            name=name,
            object_count=_int_header(headers, "X-Container-Object-Count"),
            bytes_used=_int_header(headers, "X-Container-Bytes-Used"),
            metadata=_metadata(headers, "X-Container-Meta-"),
        )


@dataclass(frozen=True)
class ObjectMetadata:
    """What ``HEAD`` (or the headers of ``GET``) on an object tell."""

    container: str
    name: str
    content_length: int | None
    etag: str | None
    content_type: str | None
    last_modified: datetime | None
    metadata: dict[str, str]
    # A static large object: the ETag is then the MD5 of its segments' ETags, not of its bytes.
    static_large_object: bool = False
    # A dynamic large object: the "<container>/<prefix>" its segments are listed from.
    object_manifest: str | None = None

    @classmethod
    def from_headers(cls, container: str, name: str, headers: Mapping[str, str]) -> ObjectMetadata:
        etag = headers.get("ETag")
        return cls(
            container=container,
            name=name,
            content_length=_int_header(headers, "Content-Length"),
            etag=etag.strip('"') if etag else None,
            content_type=headers.get("Content-Type"),
            last_modified=_http_date(headers.get("Last-Modified")),
            metadata=_metadata(headers, "X-Object-Meta-"),
            static_large_object=headers.get("X-Static-Large-Object", "").lower() in _TRUE,
            object_manifest=headers.get("X-Object-Manifest") or None,
        )
