"""The dashboard's page tests: people, clouds and workers come from ``tests/fixtures/``."""

from __future__ import annotations

import pytest


@pytest.fixture
def owner_client(client, owner):
    """A test client logged in as ``owner``."""
    client.force_login(owner)
    return client
