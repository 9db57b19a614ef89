"""Every write of the poll path hands back the row as the database now holds it, so a poller
can go on with it without reading it again; a write that lost the race hands back nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import observations, pollstate
from imagetasks.openstack.types import Task as RemoteTask

pytestmark = pytest.mark.django_db

UPDATED = "2026-05-05T17:15:11Z"


def ended(status: str) -> RemoteTask:
    return RemoteTask.from_json(
        {
            "id": "r-1", "type": "import", "status": status, "input": {},
            "result": {"image_id": "i-1"} if status == statuses.SUCCESS else None,
            "message": "" if status == statuses.SUCCESS else "Image not found for import.",
            "created_at": "2026-05-05T17:15:10Z", "updated_at": UPDATED,
            "expires_at": "2026-05-07T17:15:11Z",
        }
    )  # fmt: skip


WRITES = {
    "an observation": lambda task, now: observations.record(task, ended("failure"), now),
    "no change": pollstate.unchanged,
    "an error": lambda task, now: pollstate.failed_poll(task, now, "Unavailable 503: x", 4.0),
    "gone after its end": pollstate.remote_gone,
    "vanished": pollstate.vanished,
    "still there after expiry": pollstate.still_there_after_expiry,
}


@pytest.fixture
def task() -> ImageTask:
    cloud = Cloud.objects.create(name="c", auth_type=Cloud.AuthType.NONE, image_endpoint="")
    now = timezone.now()
    row = ImageTask.objects.create(
        cloud=cloud, type="import", remote_id="r-1", status=statuses.PROCESSING, poll_errors=1,
        changed_at=now - timedelta(days=1), remote_updated_at=datetime(2026, 5, 5, tzinfo=UTC),
        next_poll_at=now, claimed_until=now + timedelta(seconds=60),
    )  # fmt: skip
    return ImageTask.objects.select_related("cloud").get(pk=row.pk)


def stored(task: ImageTask) -> dict:
    """The row's own columns (not the generated search text) as the database holds them."""
    row = ImageTask.objects.get(pk=task.pk)
    return {f.attname: getattr(row, f.attname) for f in fields()}


def held(task: ImageTask) -> dict:
    return {f.attname: getattr(task, f.attname) for f in fields()}


def fields():
    return [f for f in ImageTask._meta.concrete_fields if f.name != "search_text"]


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_write_hands_back_the_row_as_stored(task, write):
    before = task.version

    written = write(task, timezone.now())

    assert written is task
    assert held(written) == stored(task)
    assert task.claimed_until is None
    assert task.version >= before


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_write_after_someone_elses_hands_back_nothing_and_changes_nothing(task, write):
    ImageTask.objects.filter(pk=task.pk).update(version=task.version + 1)
    row = stored(task)

    assert write(task, timezone.now()) is None
    assert stored(task) == row
