"""Tasks on the built-in cloud, for tests that follow them to their end."""

from __future__ import annotations

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking.submission import submit
from imagetasks.localcloud import vhd_samples


def upload(cloud, container: str, name: str, data: bytes) -> None:
    """Store ``data`` as ``container/name`` in ``cloud``'s object store, over HTTP."""
    objects = client_for(cloud).objects
    objects.create_container(container)
    objects.put_object(container, name, data)


def finished(task: ImageTask):
    """``task``, read again, once it has ended; None while it runs."""
    task.refresh_from_db()
    return task if task.status in statuses.TERMINAL else None


def timeline(task: ImageTask) -> list[str]:
    """The statuses ``task`` was seen in, in order."""
    return list(task.snapshots.order_by("observed_at", "id").values_list("status", flat=True))


def import_disk(cloud, name="web-01", data=None, settings=None, user=None) -> ImageTask:
    """Upload a VHD disk to ``images/<name>.vhd`` and submit its import."""
    upload(cloud, "images", f"{name}.vhd", data or vhd_samples.fixed_vhd())
    return submit(
        cloud,
        "import",
        {"import_from": f"images/{name}.vhd", "image_properties": {"name": name}},
        user=user,
    )
