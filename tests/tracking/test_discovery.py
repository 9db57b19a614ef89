"""Discovery against a scripted cloud that sends malformed tasks: each bad task is adopted
as it is or skipped with one log line, and the others (and the window) go on."""

from __future__ import annotations

import logging

import pytest

from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import discovery
from tests.openstack.samples import glance_task
from tests.openstack.scripted import Reply

pytestmark = pytest.mark.django_db


def listed(*tasks: dict) -> Reply:
    entries = [
        {k: v for k, v in t.items() if k not in ("input", "result", "message")} for t in tasks
    ]
    return Reply(json={"tasks": entries, "schema": "/v2/schemas/tasks"})


def test_a_malformed_task_does_not_stop_discovery_for_the_whole_cloud(scripted, caplog):
    cloud = Cloud.objects.create(
        name="scripted", auth_type=Cloud.AuthType.NONE, image_endpoint=f"{scripted.url}/image",
        discover_tasks=True,
    )  # fmt: skip
    odd = glance_task(id="t-odd", created_at="2026-05-05T17:15:12Z")
    odd["input"]["image_properties"] = ["name", "web"]  # a list where an object belongs
    broken = glance_task(id="t-broken", created_at="2026-05-05T17:15:11Z", input=["x"])
    fine = glance_task(id="t-fine", created_at="2026-05-05T17:15:10Z")
    scripted.on("GET", "/image/v2/tasks", listed(odd, broken, fine))
    for task in (odd, broken, fine):
        scripted.on("GET", f"/image/v2/tasks/{task['id']}", Reply(json=task))

    with caplog.at_level(logging.WARNING, logger="imagetasks.tracking"):
        assert discovery.discover(cloud) == 2

    adopted = {t.remote_id: t for t in ImageTask.objects.all()}
    assert set(adopted) == {"t-odd", "t-fine"}
    assert adopted["t-odd"].name == "http://127.0.0.1:8000/cirros.raw"  # no usable name
    assert adopted["t-fine"].name == "cirros"
    skipped = [r for r in caplog.records if "t-broken" in r.getMessage()]
    assert len(skipped) == 1
    cloud.refresh_from_db()
    assert cloud.discovered_until is not None  # the window moved on

    assert discovery.discover(cloud) == 0  # nothing adopted twice
