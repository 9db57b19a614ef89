"""One object per account that bundles the session with the image and object APIs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from imagetasks.openstack.closing import Closing
from imagetasks.openstack.config import CloudConfig
from imagetasks.openstack.flavour import (
    TasksFlavour,
    build_export_input,
    build_import_input,
    detect_flavour,
)
from imagetasks.openstack.images import ImagesApi
from imagetasks.openstack.imports import ImportsApi
from imagetasks.openstack.objects import ObjectStore
from imagetasks.openstack.session import CloudSession


class CloudClient(Closing):
    """Everything the dashboard does with one account. Authenticates on first use."""

    def __init__(self, config: CloudConfig, *, clock: Callable[[], datetime] | None = None):
        self.config = config
        self.session = CloudSession(config, clock=clock)
        self.images = ImagesApi(self.session)
        self.imports = ImportsApi(self.session, self.images)
        self.objects = ObjectStore(self.session)
        self._flavour: TasksFlavour | None = None
        self._regions: dict[str, ImagesApi] = {}
        self._regions_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<CloudClient {self.config.auth_type} {self.config.auth_url or '(no identity)'}>"

    @property
    def project_id(self) -> str:
        return self.session.project_id

    def images_in(self, region: str) -> ImagesApi:
        """The Images API of another region of this cloud, with this account's token."""
        if not region:
            return self.images
        with self._regions_lock:
            if region not in self._regions:
                self._regions[region] = ImagesApi(self.session, region=region)
            return self._regions[region]

    def other_image_regions(self) -> tuple[str, ...]:
        """The catalog's other regions that offer an Images API (glance-download's sources)."""
        return self.session.other_regions("image")

    def tasks_flavour(self) -> TasksFlavour:
        """The cloud's flavour, from its task schema, fetched once per client."""
        if self._flavour is None:
            self._flavour = detect_flavour(self.images.get_task_schema())
        return self._flavour

    def import_input(self, *, source: str, name: str = "", **formats: str) -> dict[str, Any]:
        """An import ``input`` in this cloud's style, with this account's project as owner."""
        flavour = self.tasks_flavour()
        owner = self.project_id if flavour.import_style == "glance" else ""
        return build_import_input(flavour, source=source, name=name, owner=owner, **formats)

    def export_input(self, *, image_id: str, container: str) -> dict[str, Any]:
        return build_export_input(self.tasks_flavour(), image_id=image_id, container=container)

    def close(self) -> None:
        self.session.close()


def connect(config: CloudConfig, *, clock: Callable[[], datetime] | None = None) -> CloudClient:
    """A client that has already authenticated, so bad credentials show up here."""
    client = CloudClient(config, clock=clock)
    try:
        client.session.authenticate()
    except BaseException:
        client.close()
        raise
    return client
