"""The bodies of POST /v2/images and PATCH /v2/images/<id>, checked as Glance checks them.

Core attributes are checked against the served image schema (type, enum,
length, pattern); anything else is an extra property, a string of at most
255 characters named by at most 255. What the server owns is refused with
Glance's 403s: read-only attributes, reserved names and the ``os_glance_``
namespace, where the import keeps its state.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.images.schemas import image_schema
from imagetasks.localcloud.images.task_input import json_body

EDITABLE = (
    "name",
    "disk_format",
    "container_format",
    "visibility",
    "protected",
    "min_disk",
    "min_ram",
    "tags",
)
READ_ONLY = (
    "created_at",
    "updated_at",
    "status",
    "checksum",
    "size",
    "virtual_size",
    "direct_url",
    "self",
    "file",
    "schema",
    "os_hash_algo",
    "os_hash_value",
    "stores",
    "owner",
    "locations",
    "os_hidden",
)
RESERVED = ("location", "deleted", "deleted_at")
RESERVED_NAMESPACE = "os_glance"
MAX_INT = 2**31 - 1
MAX_TAGS = 128
MAX_PROPERTIES = 128
PATCH_MEDIA_TYPE = "application/openstack-images-v2.1-json-patch"
PATCH_OPERATIONS = ("replace", "add", "remove")


def create_fields(request: HttpRequest) -> tuple[dict[str, Any], dict[str, str]]:
    """The core attributes (``id`` included when given) and extra properties of a new image."""
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Unexpected body type. Expected list/dict.")
    core: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, value in body.items():
        if key == "id":
            core["id"] = _checked("id", value)
        elif key in EDITABLE:
            core[key] = _checked(key, value)
        else:
            _check_settable(key)
            extra[key] = _extra_value(key, value)
    if core.get("visibility") == "public":
        raise ApiError(403, "You are not authorized to complete publicize_image action.")
    if len(extra) > MAX_PROPERTIES:
        raise ApiError(413, f"Maximum number of image properties ({MAX_PROPERTIES}) exceeded.")
    return core, extra


def patch_changes(request: HttpRequest) -> list[tuple[str, str, Any]]:
    """(op, attribute, value) of each change of a JSON-patch body, checked."""
    if request.content_type != PATCH_MEDIA_TYPE:
        raise ApiError(
            415,
            f"Unsupported Content-Type: send {PATCH_MEDIA_TYPE}.",
            {"Accept-Patch": PATCH_MEDIA_TYPE},
        )
    body = json_body(request)
    if not isinstance(body, list):
        raise ApiError(400, "Request body must be a JSON array of operation objects.")
    changes: list[tuple[str, str, Any]] = []
    for raw in body:
        if not isinstance(raw, dict):
            raise ApiError(400, "Operations must be JSON objects.")
        op = raw.get("op")
        if op not in PATCH_OPERATIONS:
            raise ApiError(
                400,
                f"Invalid operation: `{op}`. It must be one of the following: "
                + ", ".join(PATCH_OPERATIONS)
                + ".",
            )
        key = _path(raw.get("path"))
        if key in READ_ONLY or key == "id":
            raise ApiError(403, f"Attribute '{key}' is read-only.")
        _check_settable(key)
        if op == "remove":
            if key in EDITABLE and key != "tags":
                raise ApiError(403, f"Attribute '{key}' is read-only.")
            changes.append((op, key, None))
            continue
        if "value" not in raw:
            raise ApiError(400, f'Operation "{op}" requires a member named "value".')
        value = _checked(key, raw["value"]) if key in EDITABLE else _extra_value(key, raw["value"])
        if key == "visibility" and value == "public":
            raise ApiError(403, "You are not authorized to complete publicize_image action.")
        changes.append((op, key, value))
    return changes


def _path(pointer: object) -> str:
    """The one attribute a change names (``/name``); deeper pointers are not supported."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise ApiError(400, f'Pointer `{pointer}` does not start with "/".')
    token = pointer[1:]
    if not token or "/" in token:
        raise ApiError(400, f"Pointer `{pointer}` must name one attribute.")
    if re.search("~[^01]", token) or token.endswith("~"):
        raise ApiError(
            400, f'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.'
        )
    return token.replace("~1", "/").replace("~0", "~")


def _check_settable(key: str) -> None:
    if key in READ_ONLY:
        raise ApiError(403, f"Attribute '{key}' is read-only.")
    if key in RESERVED or key.startswith(RESERVED_NAMESPACE):
        raise ApiError(403, f"Attribute '{key}' is reserved.")
    if len(key) > 255 or not key or "\x00" in key:
        raise ApiError(400, "Custom property should not be greater than 255 characters.")


def _extra_value(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise _schema_error(f"{_repr(value)} is not of type 'string'")
    if len(value) > 255 or "\x00" in value:
        raise _schema_error(f"The value of '{key}' must be a string of at most 255 characters")
    return value


def _checked(key: str, value: Any) -> Any:
    rule = image_schema()["properties"][key]
    types = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
    if not any(_is_type(kind, value) for kind in types):
        raise _schema_error(f"{_repr(value)} is not of type {', '.join(repr(t) for t in types)}")
    if "enum" in rule and value not in rule["enum"]:
        raise _schema_error(f"{_repr(value)} is not one of {rule['enum']!r}")
    if isinstance(value, str):
        if len(value) > rule.get("maxLength", 255) or "\x00" in value:
            raise _schema_error(f"{_repr(value)} is too long")
        if "pattern" in rule and not re.search(rule["pattern"], value):
            raise _schema_error(f"{_repr(value)} does not match {rule['pattern']!r}")
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_INT:
        raise _schema_error(f"{value} must be between 0 and {MAX_INT}")
    if key == "tags":
        if len(value) > MAX_TAGS:
            raise ApiError(413, f"Maximum number of tags ({MAX_TAGS}) exceeded.")
        for tag in value:
            if not isinstance(tag, str) or not tag or len(tag) > 255 or "\x00" in tag:
                raise _schema_error(f"{_repr(tag)} is not a valid tag")
        return list(dict.fromkeys(value))
    return value


def _is_type(kind: str, value: object) -> bool:
    return {
        "null": value is None,
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
    }.get(kind, False)


def _schema_error(reason: str) -> ApiError:
    return ApiError(400, f"Provided object does not match schema 'image': {reason}")


def _repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
