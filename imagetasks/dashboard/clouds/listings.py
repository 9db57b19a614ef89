"""A cloud's object storage a page at a time: the one way the import form's browser and
the API list the account's containers and a container's objects.

Containers are filtered by name prefix, at most ``CONTAINER_LIMIT`` of them; objects by
prefix too, ``PAGE`` at a time after Swift's ``marker``. Both raise what the client
raises (``CloudError``; ``ValueError`` for a name no store can have, such as "."), and
each caller says it in its own way: the page as a line above the list, the API as a
JSON error.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagetasks.openstack import CloudClient, Container, ObjectInfo

PAGE = 50
CONTAINER_LIMIT = 500


@dataclass(frozen=True)
class Containers:
    """The account's containers that match a prefix, in name order."""

    entries: list[Container]
    truncated: bool  # more than CONTAINER_LIMIT match: a longer prefix finds the rest


@dataclass(frozen=True)
class Objects:
    """One page of a container's objects, in name order."""

    entries: list[ObjectInfo]
    next_marker: str  # "" on the last page


def containers(client: CloudClient, prefix: str = "") -> Containers:
    found = list(client.objects.list_containers(prefix=prefix or None, limit=CONTAINER_LIMIT + 1))
    return Containers(found[:CONTAINER_LIMIT], len(found) > CONTAINER_LIMIT)


def objects(client: CloudClient, container: str, prefix: str = "", marker: str = "") -> Objects:
    """The page of ``container``'s objects after ``marker``; pseudo-directories are left
    out (the listing is not delimited, so a cloud sending one sends more than asked)."""
    listed = client.objects.list_objects(
        container, prefix=prefix or None, marker=marker or None, limit=PAGE + 1
    )
    entries = [entry for entry in listed if isinstance(entry, ObjectInfo)]
    next_marker = entries[PAGE - 1].name if len(entries) > PAGE else ""
    return Objects(entries[:PAGE], next_marker)
