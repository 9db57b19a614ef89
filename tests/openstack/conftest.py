"""A scripted cloud on 127.0.0.1 per test, and a client of it signed in with Keystone v3."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from imagetasks.openstack import CloudClient
from tests.openstack.samples import IDENTITY_PATH, keystone_reply, v3_config
from tests.openstack.scripted import ScriptedCloud


@pytest.fixture
def cloud() -> Iterator[ScriptedCloud]:
    server = ScriptedCloud().start()
    yield server
    server.stop()


@pytest.fixture
def client(cloud: ScriptedCloud) -> Iterator[CloudClient]:
    """A Keystone v3 account whose catalog points image and object-store at ``cloud``."""
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))
    with CloudClient(v3_config(cloud, retries=2, max_retry_wait=2.0)) as client:
        yield client


@pytest.fixture
def unused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
