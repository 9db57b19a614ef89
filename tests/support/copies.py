"""Copies between clouds, for tests that follow them to their end."""

from __future__ import annotations

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Copy
from imagetasks.openstack import NotFound
from imagetasks.openstack.largeobjects import segments_container


def finished(copy: Copy) -> Copy | None:
    """``copy``, read again, once it has ended; None while it runs."""
    copy.refresh_from_db()
    return copy if copy.state.final else None


def timeline(copy: Copy) -> list[tuple[str, str]]:
    """The steps ``copy`` went through, each with its status, in order."""
    return list(copy.events.values_list("step", "status"))


def staging_left(copy: Copy) -> list[str]:
    """The staging container and its segments container, where either cloud still has them."""
    left = []
    for cloud in (copy.source_cloud, copy.target_cloud):
        for container in (copy.staging_container, segments_container(copy.staging_container)):
            try:
                client_for(cloud).objects.head_container(container)
            except NotFound:
                continue
            left.append(f"{cloud.name}: {container}")
    return left
