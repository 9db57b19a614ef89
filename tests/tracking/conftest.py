"""The tracker's tests: the live built-in cloud, workers, beat and the scripted cloud on
loopback come from ``tests/fixtures/``."""

from __future__ import annotations

import pytest

from imagetasks.dashboard.models import Cloud


@pytest.fixture
def cloud(scripted) -> Cloud:
    """A dashboard ``Cloud`` whose image endpoint is ``scripted`` (no identity service)."""
    return Cloud.objects.create(
        name="scripted", auth_type=Cloud.AuthType.NONE, image_endpoint=f"{scripted.url}/image"
    )
