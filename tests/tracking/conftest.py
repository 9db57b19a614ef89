"""The tracker's tests: the live built-in cloud, workers and beat come from
``tests/fixtures/``; a scripted cloud on loopback is the tracker's own."""

from __future__ import annotations

import pytest

from imagetasks.dashboard.clouds.clients import forget_clients
from imagetasks.dashboard.models import Cloud
from tests.openstack.scripted import ScriptedCloud


@pytest.fixture
def scripted():
    """A scripted cloud on loopback, answering what each test tells it to."""
    server = ScriptedCloud().start()
    forget_clients()
    yield server
    server.stop()
    forget_clients()


@pytest.fixture
def cloud(scripted) -> Cloud:
    """A dashboard ``Cloud`` whose image endpoint is ``scripted`` (no identity service)."""
    return Cloud.objects.create(
        name="scripted", auth_type=Cloud.AuthType.NONE, image_endpoint=f"{scripted.url}/image"
    )
