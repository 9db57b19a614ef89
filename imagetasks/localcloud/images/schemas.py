"""The JSON schemas the Images v2 API serves, and the one check POST /v2/tasks runs against them.

Schema-validating clients (python-glanceclient builds warlock models from
these) reject any response that does not match, so every null the views can
send is declared here (reference §8.1.2), and the task type enum is exactly
the types this cloud runs (§8.1.3). The server validates a task body against
the same properties, so what is served and what is enforced cannot drift.
"""

from __future__ import annotations

import copy
import re
from typing import Any

UUID_PATTERN = (
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
)
TASK_TYPES = ["import", "export"]
# Made by the image import API, never by POST /v2/tasks. Not in the served enum: clients
# (the dashboard among them) read a Glance-only type there as "this cloud is Glance".
IMAGE_IMPORT_TASK_TYPE = "api_image_import"
TASK_STATUSES = ["pending", "processing", "success", "failure"]
DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
IMAGE_STATUSES = [
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated",
]

_TASK_PROPERTIES: dict[str, dict[str, Any]] = {
    "id": {"description": "An identifier for the task", "pattern": UUID_PATTERN, "type": "string"},
    "type": {
        "description": "The type of task represented by this content",
        "enum": TASK_TYPES,
        "type": "string",
    },
    "status": {
        "description": "The current status of this task",
        "enum": TASK_STATUSES,
        "type": "string",
    },
    "input": {"description": "The parameters required by task, JSON blob", "type": "object"},
    "result": {"description": "The result of current task, JSON blob", "type": ["null", "object"]},
    "owner": {"description": "An identifier for the owner of this task", "type": "string"},
    "message": {
        "description": "Human-readable informative message only included when appropriate"
        " (usually on failure)",
        "type": "string",
    },
    "expires_at": {
        "description": "Datetime when this resource would be subject to removal",
        "type": ["null", "string"],
    },
    "created_at": {"description": "Datetime when this resource was created", "type": "string"},
    "updated_at": {"description": "Datetime when this resource was updated", "type": "string"},
    "self": {"type": "string"},
    "schema": {"type": "string"},
    # Glance's, on the tasks of an image import.
    "image_id": {"description": "Image associated with the task", "type": "string"},
    "request_id": {"description": "Human-readable informative request-id", "type": "string"},
    "user_id": {"description": "User associated with the task", "type": "string"},
}
_LIST_HIDDEN = ("input", "result", "message")

_IMAGE_PROPERTIES: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "description": "An identifier for the image", "pattern": UUID_PATTERN},
    "name": {
        "type": ["null", "string"],
        "description": "Descriptive name for the image",
        "maxLength": 255,
    },
    "status": {"type": "string", "description": "Status of the image", "enum": IMAGE_STATUSES},
    "visibility": {
        "type": "string",
        "description": "Scope of image accessibility",
        "enum": ["community", "public", "private", "shared"],
    },
    "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
    "os_hidden": {
        "type": "boolean",
        "description": "If true, image will not appear in default image list response.",
    },
    "checksum": {
        "type": ["null", "string"],
        "description": "md5 hash of image contents.",
        "maxLength": 32,
    },
    "os_hash_algo": {
        "type": ["null", "string"],
        "description": "Algorithm to calculate the os_hash_value",
        "maxLength": 64,
    },
    "os_hash_value": {
        "type": ["null", "string"],
        "description": "Hexdigest of the image contents using the algorithm specified by the"
        " os_hash_algo",
        "maxLength": 128,
    },
    "owner": {"type": ["null", "string"], "description": "Owner of the image", "maxLength": 255},
    "size": {"type": ["null", "integer"], "description": "Size of image file in bytes"},
    "virtual_size": {"type": ["null", "integer"], "description": "Virtual size of image in bytes"},
    "container_format": {
        "type": ["null", "string"],
        "description": "Format of the container",
        "enum": [None, *CONTAINER_FORMATS],
    },
    "disk_format": {
        "type": ["null", "string"],
        "description": "Format of the disk",
        "enum": [None, *DISK_FORMATS],
    },
    "created_at": {"type": "string", "description": "Date and time of image registration"},
    "updated_at": {
        "type": "string",
        "description": "Date and time of the last image modification",
    },
    "tags": {
        "type": "array",
        "description": "List of strings related to the image",
        "items": {"type": "string", "maxLength": 255},
    },
    "min_ram": {"type": "integer", "description": "Amount of ram (in MB) required to boot image."},
    "min_disk": {
        "type": "integer",
        "description": "Amount of disk space (in GB) required to boot image.",
    },
    "self": {"type": "string", "description": "An image self url"},
    "file": {"type": "string", "description": "An image file url"},
    "schema": {"type": "string", "description": "An image schema url"},
}
for _name in ("status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size"):
    _IMAGE_PROPERTIES[_name]["readOnly"] = True
for _name in ("created_at", "updated_at", "self", "file", "schema"):
    _IMAGE_PROPERTIES[_name]["readOnly"] = True


def task_schema() -> dict:
    """The task schema in Glance's served ("minimal") form: name and properties."""
    return {"name": "task", "properties": copy.deepcopy(_TASK_PROPERTIES)}


def tasks_schema() -> dict:
    """The list schema: list entries carry every task property except input, result, message."""
    partial = {k: v for k, v in copy.deepcopy(_TASK_PROPERTIES).items() if k not in _LIST_HIDDEN}
    return {
        "links": [{"href": "{schema}", "rel": "describedby"}],
        "name": "tasks",
        "properties": {
            "schema": {"type": "string"},
            "tasks": {"items": {"name": "task", "properties": partial}, "type": "array"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
    }


def image_schema() -> dict:
    """Glance's permissive image schema: extra properties are allowed as strings."""
    return {
        "name": "image",
        "properties": copy.deepcopy(_IMAGE_PROPERTIES),
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def images_schema() -> dict:
    return {
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image_schema()},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


_JSON_TYPES = {
    "null": lambda v: v is None,
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
}


def task_body_problem(body: object) -> str | None:
    """Why ``body`` does not match the task schema (jsonschema's wording), or None.

    Like Glance, properties of the schema that a client may not set (``status``,
    ``id``…) pass when well-typed and are then ignored; names outside the schema
    are refused. Only the keywords the task schema uses are implemented.
    """
    if not isinstance(body, dict):
        return f"{_repr(body)} is not of type 'object'"
    unexpected = sorted(set(body) - set(_TASK_PROPERTIES))
    if unexpected:
        names = ", ".join(repr(name) for name in unexpected)
        verb = "was" if len(unexpected) == 1 else "were"
        return f"Additional properties are not allowed ({names} {verb} unexpected)"
    for name, value in body.items():
        rule = _TASK_PROPERTIES[name]
        types = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        if not any(_JSON_TYPES[t](value) for t in types):
            return f"{_repr(value)} is not of type {', '.join(repr(t) for t in types)}"
        if "enum" in rule and value not in rule["enum"]:
            return f"{_repr(value)} is not one of {rule['enum']!r}"
        if "pattern" in rule and not re.search(rule["pattern"], value):
            return f"{_repr(value)} does not match {rule['pattern']!r}"
    return None


def _repr(value: object) -> str:
    """Python's repr as jsonschema prints it, shortened so a huge body cannot echo back whole."""
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
