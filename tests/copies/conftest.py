# Fixtures imported from shared modules are used as parameters of the same name.
# ruff: noqa: F811
"""Copies between two projects of the live built-in cloud, with a real worker and beat.

Each project is a ``Cloud`` of its own, as two clouds.yaml entries would be.
Images to copy are made in the source project through the cloud's own models
(the peer's set-up, not the code under test); everything the dashboard does
goes over HTTP through the client.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from imagetasks.dashboard.clouds.clients import client_for, forget_clients
from imagetasks.dashboard.copies import lease
from imagetasks.dashboard.jobs import advance_copies, dispatch_polls
from imagetasks.dashboard.models import Cloud, Copy
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from tests.support.beat import ticking
from tests.tracking.conftest import (  # noqa: F401  (fixtures)
    account,
    other_account,
    register_cloud,
    store_dir,
    wait_for,
    workers,
)


@pytest.fixture
def source_cloud(live_server, account) -> Cloud:
    forget_clients()
    yield register_cloud(live_server, account, name="acme-dfw")
    forget_clients()


@pytest.fixture
def target_cloud(live_server, other_account, source_cloud) -> Cloud:
    return register_cloud(live_server, other_account, name="globex-ord")


@pytest.fixture
def copy_beat(workers):
    """What beat sends, every half second through the broker: polls and the copies' sweep."""
    with ticking(dispatch_polls.delay, advance_copies.delay):
        yield


@pytest.fixture
def short_lease(monkeypatch):
    """Leases of two seconds, so a job lost with its worker is taken up again quickly."""
    monkeypatch.setattr(lease, "LEASE", timedelta(seconds=2))
    monkeypatch.setattr(lease, "RENEW_EVERY", 0.5)


@pytest.fixture
def source_image(account, tmp_path):
    """An active VHD image in the source project; its API view, as the dashboard sees it."""

    def make(cloud: Cloud, name: str = "web-01", data: bytes | None = None):
        path = tmp_path / f"{name}.vhd"
        path.write_bytes(data or vhd_samples.fixed_vhd())
        image = create_image_from_file(account.project, name, path, "vhd")
        return client_for(cloud).images.get_image(str(image.id))

    return make


def finished(copy: Copy) -> Copy | None:
    copy.refresh_from_db()
    return copy if copy.state.final else None


def timeline(copy: Copy) -> list[tuple[str, str]]:
    return list(copy.events.values_list("step", "status"))
