"""Interoperable imports against a scripted cloud on loopback: submitted in steps, then
followed through their images, with one image list per round and an image's tasks
asked for only when its import state moved.

No worker runs here: each test claims rows itself and calls ``poller.poll`` the way the
poll job does, so the cloud's answers are exactly the test's.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import poller
from imagetasks.dashboard.tracking.submission import Upload, submit
from tests.openstack.scripted import Received, Reply, ScriptedCloud

pytestmark = pytest.mark.django_db

IMAGES = "/image/v2/images"
URI = "http://127.0.0.1:9/disk.qcow2"


def image(image_id: str, status: str = "importing", **props: str) -> dict:
    return {"id": image_id, "name": f"image {image_id}", "status": status, **props}


def import_task(task_id: str, status: str, message: str = "", **fields) -> dict:
    return {
        "id": task_id,
        "type": "api_image_import",
        "status": status,
        "message": message,
        "owner": "demo",
        "created_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        **fields,
    }


def serve_images(scripted: ScriptedCloud, *bodies: dict) -> None:
    """The image list answers the ids asked for (``id=in:``) from ``bodies``."""
    known = {body["id"]: body for body in bodies}

    def handler(request: Received) -> Reply:
        asked = (request.param("id") or "").removeprefix("in:").split(",")
        return Reply(json={"images": [known[i] for i in asked if i in known]})

    scripted.on("GET", IMAGES, handler=handler)


def serve_tasks(scripted: ScriptedCloud, image_id: str, *tasks: dict) -> None:
    scripted.on("GET", f"{IMAGES}/{image_id}/tasks", Reply(json={"tasks": list(tasks)}))


def watched(cloud: Cloud, image_id: str, method: str = "web-download", **fields) -> ImageTask:
    """An import the cloud accepted, last seen importing, due and claimed for this poll."""
    now = timezone.now()
    values = {
        "cloud": cloud,
        "type": "import",
        "method": method,
        "status": statuses.PROCESSING,
        "name": image_id,
        "input": {"uri": URI, "image_properties": {"name": image_id, "disk_format": "qcow2"}},
        "result": {
            "image_id": image_id,
            "image_status": "importing",
            "stores": [],
            "importing_to": ["fast"],
            "failed_stores": [],
            "task_id": f"task-{image_id}",
            "partial": False,
        },
        "next_poll_at": now,
        "claimed_until": now + timedelta(seconds=60),
    }
    return ImageTask.objects.create(**(values | fields))


def fresh(task: ImageTask) -> ImageTask:
    return ImageTask.objects.get(pk=task.pk)


def task_gets(scripted: ScriptedCloud) -> list[str]:
    return [r.path for r in scripted.requests("GET") if r.path.endswith("/tasks")]


def importing(image_id: str) -> dict:
    return image(
        image_id,
        os_glance_import_task=f"task-{image_id}",
        os_glance_importing_to_stores="fast",
    )


# Submitting -----------------------------------------------------------------------------


def test_a_web_download_creates_the_image_asks_for_the_import_and_records_what_it_shows(
    cloud, scripted
):
    scripted.on("POST", IMAGES, Reply(201, json=image("img-1", "queued")))
    scripted.on("POST", f"{IMAGES}/img-1/import", Reply(202))
    scripted.on("GET", f"{IMAGES}/img-1", Reply(json=importing("img-1")))
    properties = {"name": "Ubuntu", "disk_format": "qcow2", "os_distro": "ubuntu"}

    task = submit(
        cloud,
        "import",
        {"uri": URI, "image_properties": properties, "stores": ["fast"]},
        method="web-download",
    )

    (created,) = scripted.requests("POST", IMAGES)
    assert created.json() == properties | {"container_format": "bare"}
    (asked,) = scripted.requests("POST", f"{IMAGES}/img-1/import")
    assert asked.json() == {"method": {"name": "web-download", "uri": URI}, "stores": ["fast"]}
    assert (task.status, task.name, task.method) == ("processing", "Ubuntu", "web-download")
    assert task.result["image_id"] == "img-1" and task.result["importing_to"] == ["fast"]
    assert task.remote_id == "task-img-1", "the image names its import task"
    (snapshot,) = task.snapshots.all()
    assert snapshot.status == "processing" and snapshot.body["image"]["id"] == "img-1"


def test_a_glance_direct_import_stages_the_data_before_asking_for_the_import(cloud, scripted):
    data = b"disk bytes " * 1000
    scripted.on("POST", IMAGES, Reply(201, json=image("img-d", "queued")))
    scripted.on("PUT", f"{IMAGES}/img-d/stage", Reply(204))
    scripted.on("POST", f"{IMAGES}/img-d/import", Reply(202))
    scripted.on("GET", f"{IMAGES}/img-d", Reply(json=importing("img-d")))

    task = submit(
        cloud,
        "import",
        {"filename": "disk.raw", "image_properties": {"name": "d", "disk_format": "raw"}},
        method="glance-direct",
        upload=Upload(io.BytesIO(data), len(data)),
    )

    (staged,) = scripted.requests("PUT", f"{IMAGES}/img-d/stage")
    assert staged.body == data
    (asked,) = scripted.requests("POST", f"{IMAGES}/img-d/import")
    assert asked.json() == {"method": {"name": "glance-direct"}}
    assert task.status == statuses.PROCESSING


def test_an_import_the_cloud_refuses_is_rejected_with_its_message_and_sent_once(cloud, scripted):
    scripted.on("POST", IMAGES, Reply(201, json=image("img-2", "queued")))
    refusal = {"conflictingRequest": {"code": 409, "message": "Image has active task"}}
    scripted.on("POST", f"{IMAGES}/img-2/import", Reply(409, json=refusal))
    key = uuid.uuid4()
    task_input = {"uri": URI, "image_properties": {"name": "x", "disk_format": "raw"}}

    first = submit(cloud, "import", task_input, method="web-download", submission_id=key)
    again = submit(cloud, "import", task_input, method="web-download", submission_id=key)

    assert first.status == again.status == statuses.REJECTED
    assert "Image has active task" in first.message
    assert first.result == {"image_id": "img-2"}, "the image made is named"
    assert len(scripted.requests("POST", IMAGES)) == 1, "the form sent twice made one image"


def test_properties_without_a_disk_format_are_refused_before_anything_is_sent(cloud, scripted):
    task = submit(
        cloud, "import", {"uri": URI, "image_properties": {"name": "x"}}, method="web-download"
    )

    assert task.status == statuses.REJECTED
    assert task.message == "An image needs a name and a disk format."
    assert scripted.requests("POST") == []


def test_an_unanswered_import_request_is_unconfirmed_and_the_image_then_tells(cloud, scripted):
    scripted.on("POST", IMAGES, Reply(201, json=image("img-3", "queued")))
    scripted.on("POST", f"{IMAGES}/img-3/import", Reply(503))
    task = submit(
        cloud,
        "import",
        {"uri": URI, "image_properties": {"name": "x", "disk_format": "raw"}},
        method="web-download",
    )
    assert task.status == statuses.UNCONFIRMED
    assert len(scripted.requests("POST", f"{IMAGES}/img-3/import")) == 1, "never sent again"

    serve_images(scripted, image("img-3", "active", stores="fast"))
    serve_tasks(scripted, "img-3", import_task("t3", "success", result={"image_id": "img-3"}))
    ImageTask.objects.filter(pk=task.pk).update(
        next_poll_at=timezone.now(), claimed_until=timezone.now() + timedelta(seconds=60)
    )
    poller.poll(cloud.pk, [str(task.pk)])

    assert (fresh(task).status, fresh(task).remote_id) == (statuses.SUCCESS, "t3")


# Polling --------------------------------------------------------------------------------


def test_one_image_list_covers_every_import_and_only_a_moved_image_has_its_tasks_read(
    cloud, scripted
):
    quiet = [watched(cloud, f"img-{n}") for n in range(3)]
    done = watched(cloud, "img-done")
    serve_images(
        scripted,
        *(importing(f"img-{n}") for n in range(3)),
        image("img-done", "active", stores="fast"),
    )
    serve_tasks(scripted, "img-done", import_task("task-img-done", "success"))

    sent = poller.poll(cloud.pk, [str(t.pk) for t in [*quiet, done]])

    (listed,) = scripted.requests("GET", IMAGES)
    assert sorted(listed.param("id").removeprefix("in:").split(",")) == sorted(
        ["img-0", "img-1", "img-2", "img-done"]
    )
    assert task_gets(scripted) == [f"{IMAGES}/img-done/tasks"]
    assert sent == 2
    assert fresh(done).status == statuses.SUCCESS
    assert fresh(done).result["stores"] == ["fast"]
    for task in quiet:
        row = fresh(task)
        assert row.status == statuses.PROCESSING and row.snapshots.count() == 0
        # Unchanged, with enough in flight for one list to cover many: due next tick.
        assert row.poll_interval == poller.LIST_TICK.total_seconds()
        assert row.next_poll_at <= timezone.now(), "due again at the next tick"
        assert row.claimed_until is None
    assert not ImageTask.objects.filter(claimed_until__isnull=False).exists()


def test_a_lone_unchanged_import_backs_off(cloud, scripted):
    task = watched(cloud, "img-alone")
    serve_images(scripted, importing("img-alone"))

    poller.poll(cloud.pk, [str(task.pk)])

    row = fresh(task)
    assert row.poll_interval > task.poll_interval, "unchanged: it backs off"
    assert row.claimed_until is None and task_gets(scripted) == []


def test_a_failed_import_ends_in_failure_with_glances_message_and_the_failed_store(cloud, scripted):
    task = watched(cloud, "img-f")
    serve_images(scripted, image("img-f", "queued", os_glance_failed_import="fast"))
    serve_tasks(
        scripted,
        "img-f",
        import_task("task-img-f", "failure", "Task failed due to Internal Error"),
    )

    poller.poll(cloud.pk, [str(task.pk)])

    row = fresh(task)
    assert row.status == statuses.FAILURE
    assert row.message == "Task failed due to Internal Error"
    assert row.result["failed_stores"] == ["fast"]
    assert row.next_poll_at is None, "the image is the result: nothing to look at after"
    assert [s.status for s in row.snapshots.all()] == ["failure"]


def test_a_copy_that_failed_in_one_store_when_not_all_must_succeed_partly_succeeded(
    cloud, scripted
):
    task = watched(
        cloud,
        "img-c",
        method="copy-image",
        input={"image_id": "img-c", "stores": ["fast", "cheap"], "all_stores_must_succeed": False},
    )
    serve_images(scripted, image("img-c", "active", stores="fast", os_glance_failed_import="cheap"))
    serve_tasks(scripted, "img-c", import_task("task-img-c", "success"))

    poller.poll(cloud.pk, [str(task.pk)])

    row = fresh(task)
    assert row.status == statuses.SUCCESS
    assert row.result["partial"] is True and row.result["failed_stores"] == ["cheap"]


def test_every_observed_change_of_the_image_and_its_task_is_a_snapshot(cloud, scripted):
    task = watched(cloud, "img-s")
    steps = [
        (image("img-s", "importing", os_glance_importing_to_stores="fast,cheap"), "processing"),
        (importing("img-s") | {"stores": "cheap"}, "processing"),
        (image("img-s", "active", stores="cheap,fast"), "success"),
    ]
    for body, remote_status in steps:
        serve_images(scripted, body)
        serve_tasks(scripted, "img-s", import_task("task-img-s", remote_status))
        poller.poll(cloud.pk, [str(task.pk)])
        task = fresh(task)
        ImageTask.objects.filter(pk=task.pk).update(claimed_until=timezone.now())

    assert [s.status for s in task.snapshots.all()] == ["processing", "processing", "success"]
    assert [s.result["stores"] for s in task.snapshots.all()] == [[], ["cheap"], ["cheap", "fast"]]


def test_an_image_no_longer_listed_is_an_error_and_then_vanished(cloud, scripted):
    task = watched(cloud, "img-gone")
    serve_images(scripted)

    for _ in range(poller.GONE_AFTER_404S):
        ImageTask.objects.filter(pk=task.pk).update(claimed_until=timezone.now())
        poller.poll(cloud.pk, [str(task.pk)])

    assert fresh(task).status == statuses.VANISHED
    assert task_gets(scripted) == []


def test_a_cloud_that_says_slow_down_on_the_image_list_releases_every_claim(cloud, scripted):
    tasks = [watched(cloud, f"img-{n}") for n in range(2)]
    scripted.on("GET", IMAGES, Reply(429, headers={"Retry-After": "0"}))

    poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    assert {r.path for r in scripted.requests("GET")} == {IMAGES}, "the round stopped there"
    for task in tasks:
        row = fresh(task)
        assert row.last_error.startswith("RateLimited 429") and row.poll_errors == 1
        assert row.claimed_until is None and row.status == statuses.PROCESSING


def test_tasks_of_moved_images_are_read_within_the_clouds_request_cap(cloud, scripted):
    Cloud.objects.filter(pk=cloud.pk).update(max_requests_per_second=2)
    tasks = [watched(cloud, f"img-{n}") for n in range(4)]
    serve_images(scripted, *(image(f"img-{n}", "active", stores="fast") for n in range(4)))
    for n in range(4):
        serve_tasks(scripted, f"img-{n}", import_task(f"task-img-{n}", "success"))

    poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    assert len(task_gets(scripted)) == 2, "one tick's worth of requests"
    rows = [fresh(t) for t in tasks]
    assert sorted(r.status for r in rows) == ["processing", "processing", "success", "success"]
    deferred = [r for r in rows if r.status == statuses.PROCESSING]
    assert all(r.next_poll_at <= timezone.now() + timedelta(seconds=1) for r in deferred)


# Glance's own order of events -----------------------------------------------------------


def glance_import_task(task_id: str, image_id: str, status: str, message: str) -> dict:
    """An entry of ``GET /v2/images/{id}/tasks`` exactly as Glance 33 writes it: its
    database row (``deleted``, ``request_id``, ``user_id``, times without a zone). Its times
    are now's: an import's task is one created after the submission."""
    created = datetime.now(UTC).replace(tzinfo=None)
    return {
        "id": task_id,
        "type": "api_image_import",
        "status": status,
        "owner": "demo",
        "expires_at": (created + timedelta(hours=48)).isoformat() if status == "failure" else None,
        "created_at": created.isoformat(),
        "updated_at": (created + timedelta(seconds=1)).isoformat(),
        "deleted_at": None,
        "deleted": False,
        "image_id": image_id,
        "request_id": "req-e8f28968-8348-45d0-aab9-97643a1862d0",
        "user_id": "user-a",
        "input": {
            "image_id": image_id,
            "import_req": {"method": {"name": "web-download", "uri": URI}},
            "backend": ["fast"],
        },
        "result": None,
        "message": message,
    }


def test_a_failed_import_whose_image_settled_before_glance_failed_its_task_still_ends(
    cloud, scripted
):
    """Glance reverts a failed import's flow (the image back to ``queued``, the store in
    ``os_glance_failed_import``, its ``os_glance_import_task`` pointer dropped) before it
    marks the task ``failure``. A poll between the two sees a settled image and a task
    still ``processing``; the image never changes again, yet the task's failure is read."""
    task = watched(cloud, "img-r")
    settled = image(
        "img-r", "queued", os_glance_importing_to_stores="", os_glance_failed_import="fast"
    )
    serve_images(scripted, settled)
    serve_tasks(scripted, "img-r", glance_import_task("task-img-r", "img-r", "processing", ""))
    poller.poll(cloud.pk, [str(task.pk)])
    assert fresh(task).status == statuses.PROCESSING

    failure = "Task failed due to Internal Error"
    serve_tasks(scripted, "img-r", glance_import_task("task-img-r", "img-r", "failure", failure))
    ImageTask.objects.filter(pk=task.pk).update(claimed_until=timezone.now())
    poller.poll(cloud.pk, [str(task.pk)])

    row = fresh(task)
    assert (row.status, row.message) == (statuses.FAILURE, failure)
    assert row.result["failed_stores"] == ["fast"] and row.result["task_status"] == "failure"
    assert [s.status for s in row.snapshots.all()] == ["processing", "failure"]
    assert len(task_gets(scripted)) == 2, "the task was read on each round"
