"""Which flavour of tasks API a cloud speaks, read from its task schema, and task inputs
built for it.

Rackspace Cloud Images offers ``import`` and ``export``; an import reads
``container/object`` from the account's own Cloud Files and takes only a ``name``.
Glance offers no export; its legacy import fetches an http(s) URL and needs
``import_from_format``, ``disk_format``, ``container_format`` and, for a non-admin, the
caller's project as ``owner`` (without it the task fails with "Internal Error"). The
schema's ``type`` enum tells them apart without a configuration switch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

ImportStyle = Literal["rackspace", "glance"]

# Task types only Glance has (created by its interoperable import and location APIs).
_GLANCE_TYPES = frozenset({"api_image_import", "location_import"})


@dataclass(frozen=True)
class TasksFlavour:
    """What a cloud's tasks API offers: how imports are written, and whether export exists."""

    import_style: ImportStyle
    offers_export: bool
    task_types: tuple[str, ...]


def detect_flavour(schema: dict[str, Any]) -> TasksFlavour:
    """Read the flavour from ``GET /v2/schemas/task``.

    A schema without a type enum advertises nothing, so it is taken for the plainer of the
    two: Glance-style import, no export.
    """
    properties = schema.get("properties")
    type_schema = properties.get("type") if isinstance(properties, dict) else None
    enum = type_schema.get("enum") if isinstance(type_schema, dict) else None
    types = tuple(str(value) for value in enum) if isinstance(enum, list) else ()
    offers_export = "export" in types
    glance = not offers_export or bool(_GLANCE_TYPES.intersection(types))
    return TasksFlavour("glance" if glance else "rackspace", offers_export, types)


def build_import_input(
    flavour: TasksFlavour,
    *,
    source: str,
    name: str = "",
    disk_format: str = "",
    container_format: str = "bare",
    source_format: str = "",
    owner: str = "",
) -> dict[str, Any]:
    """The ``input`` of an import task in the cloud's style.

    Rackspace: ``source`` is ``container/object`` and only ``name`` is sent (any other
    property fails the task). Glance: ``source`` is an http(s) URL; ``disk_format`` and
    ``owner`` (the caller's project id) are required, ``source_format`` defaults to the
    disk format.
    """
    if flavour.import_style == "rackspace":
        container, _, obj = source.partition("/")
        if not container or not obj or "://" in source:
            raise ValueError(f"a Rackspace import reads 'container/object', not {source!r}")
        return {"import_from": source, "image_properties": {"name": name} if name else {}}
    url = urlsplit(source)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValueError(f"a Glance import reads an http(s) URL, not {source!r}")
    if not disk_format:
        raise ValueError("a Glance import needs a disk_format")
    if not owner:
        raise ValueError("a Glance import needs the caller's project id as owner")
    properties = {"disk_format": disk_format, "container_format": container_format, "owner": owner}
    if name:
        properties["name"] = name
    return {
        "import_from": source,
        "import_from_format": source_format or disk_format,
        "image_properties": properties,
    }


def build_export_input(flavour: TasksFlavour, *, image_id: str, container: str) -> dict[str, Any]:
    """The ``input`` of a Rackspace export task: the image goes to ``<container>/<id>.vhd``."""
    if not flavour.offers_export:
        raise ValueError("this cloud offers no export task")
    return {"image_uuid": image_id, "receiving_swift_container": container}
