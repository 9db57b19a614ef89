"""Copies between two projects of the live built-in cloud, with a real worker and beat.

Each project is a ``Cloud`` of its own (``source_cloud``, ``target_cloud`` in
``tests/fixtures/clouds.py``), as two clouds.yaml entries would be. Images to copy
are made in the source project through the cloud's own models (the peer's set-up,
not the code under test); everything the dashboard does goes over HTTP through the
client.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from imagetasks.dashboard.copies import lease


@pytest.fixture
def short_lease(monkeypatch):
    """Leases of two seconds, so a job lost with its worker is taken up again quickly."""
    monkeypatch.setattr(lease, "LEASE", timedelta(seconds=2))
    monkeypatch.setattr(lease, "RENEW_EVERY", 0.5)
