"""Discovering interoperable imports against a scripted cloud on loopback: found through the
images changed since the last run, adopted once whatever happens around them, and a hostile
answer recorded on the cloud without stopping the rest."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import discovery
from tests.openstack.scripted import Received, Reply, ScriptedCloud

pytestmark = pytest.mark.django_db

IMAGES = "/image/v2/images"
URI = "http://127.0.0.1:9/disk.qcow2"


def stamp(seconds_ago: float = 0) -> str:
    return (timezone.now() - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def image(status: str = "importing", *, image_id: str | None = None, **fields) -> dict:
    image_id = image_id or str(uuid.uuid4())
    body = {"id": image_id, "name": f"disk-{image_id[:8]}", "status": status}
    body["updated_at"] = stamp()
    return body | fields


def importing(task_id: str, **fields) -> dict:
    """An image a web-download into the store "fast" is running on."""
    marks = {"os_glance_import_task": task_id, "os_glance_importing_to_stores": "fast"}
    return image("importing", **marks, os_glance_failed_import="", **fields)


def import_task(task_id: str, image_id: str, status: str = "processing", **fields) -> dict:
    request = {"method": {"name": "web-download", "uri": URI}, "stores": ["fast"]}
    return {
        "id": task_id,
        "type": "api_image_import",
        "status": status,
        "message": "",
        "owner": "demo",
        "input": {"image_id": image_id, "import_req": request, "backend": ["fast"]},
        "created_at": stamp(5),
        "updated_at": stamp(),
    } | fields


def serve(scripted: ScriptedCloud, *images: dict, tasks: dict[str, list[dict]] | None = None):
    """The image list (every image given: what changed since the filter's moment), and each
    image's tasks."""
    scripted.on("GET", IMAGES, Reply(json={"images": list(images)}))
    for image_id, listed in (tasks or {}).items():
        scripted.on("GET", f"{IMAGES}/{image_id}/tasks", Reply(json={"tasks": listed}))


def tasks_read(scripted: ScriptedCloud) -> list[str]:
    return [r.path for r in scripted.requests("GET") if r.path.endswith("/tasks")]


@pytest.fixture
def cloud(scripted) -> Cloud:
    """A cloud whose account may not use /v2/tasks (stock Glance), discovering."""
    return Cloud.objects.create(
        name="scripted", auth_type=Cloud.AuthType.NONE, image_endpoint=f"{scripted.url}/image",
        discover_tasks=True, tasks_api=Cloud.TasksApi.ADMIN_ONLY,
    )  # fmt: skip


def test_an_import_started_elsewhere_is_adopted_once_with_its_method(cloud, scripted):
    running = importing("t-1")
    other = image("active")  # an image never imported: its tasks are not read
    serve(scripted, running, other, tasks={running["id"]: [import_task("t-1", running["id"])]})

    assert discovery.discover(cloud) == 1
    assert discovery.discover(cloud) == 0

    task = ImageTask.objects.get()
    assert (task.origin, task.method, task.remote_id) == ("discovered", "web-download", "t-1")
    assert task.status == statuses.PROCESSING
    assert task.result["image_id"] == running["id"]
    assert task.input["uri"] == URI and task.input["stores"] == ["fast"]
    assert task.next_poll_at is not None  # the poller follows it from here
    assert tasks_read(scripted) == [f"{IMAGES}/{running['id']}/tasks"]  # once, not per run
    listing = scripted.requests("GET", IMAGES)[-1]
    assert listing.param("sort_key") == "updated_at" and listing.param("sort_dir") == "asc"
    assert listing.param("updated_at").startswith("gte:")
    cloud.refresh_from_db()
    assert cloud.imports_discovered_until is not None and cloud.discovery_error == ""


def test_an_import_submitted_here_is_never_adopted_again(cloud, scripted):
    running = importing("t-mine")
    ImageTask.objects.create(
        cloud=cloud, type="import", method="web-download", status=statuses.PENDING,
        result={"image_id": running["id"]}, input={"uri": URI},
    )  # fmt: skip  # its poller has not learnt the task's id yet
    ended = image("active", os_glance_importing_to_stores="", os_glance_failed_import="")
    followed = ImageTask.objects.create(
        cloud=cloud, type="import", method="web-download", status=statuses.SUCCESS,
        remote_id="t-done", input={"uri": URI},
        result={"image_id": ended["id"], "image_status": "active", "stores": [],
                "importing_to": [], "failed_stores": [], "task_id": None},
    )  # fmt: skip
    serve(scripted, running, ended)

    assert discovery.discover(cloud) == 0

    assert ImageTask.objects.count() == 2
    assert tasks_read(scripted) == []  # nothing new on either image: no request for them
    assert followed.pk in {t.pk for t in ImageTask.objects.all()}


def test_an_import_that_ended_between_two_runs_is_adopted_from_its_images_tasks(cloud, scripted):
    ended = image("active", os_glance_importing_to_stores="", os_glance_failed_import="")
    earlier = import_task("t-old", ended["id"], "failure", created_at=stamp(600))
    latest = import_task("t-new", ended["id"], "success")
    serve(scripted, ended, tasks={ended["id"]: [earlier, latest]})

    assert discovery.discover(cloud) == 1

    task = ImageTask.objects.get()
    assert (task.remote_id, task.status) == ("t-new", statuses.SUCCESS)
    assert not task.notifications.exists()  # found already ended: history, not news


def test_hostile_answers_are_recorded_and_the_other_imports_still_adopted(cloud, scripted):
    broken_list = {"id": "not-readable", "status": ["importing"]}  # a list where a string is
    hostile_tasks = importing("t-hostile")
    long_id = importing("x" * 300)  # no row can keep this task id
    odd_method = importing("t-odd")
    fine = importing("t-fine")
    serve(
        scripted,
        broken_list,
        hostile_tasks,
        long_id,
        odd_method,
        fine,
        tasks={
            hostile_tasks["id"]: [{"id": "t-hostile", "status": 7}],
            long_id["id"]: [],
            odd_method["id"]: [
                import_task("t-odd", odd_method["id"], input={"import_req": {"method": "\x00" * 5}})
            ],
            fine["id"]: [import_task("t-fine", fine["id"])],
        },
    )

    assert discovery.discover(cloud) == 2

    adopted = {t.remote_id: t for t in ImageTask.objects.all()}
    assert set(adopted) == {"t-odd", "t-fine"}
    assert adopted["t-odd"].method == ImageTask.Method.UNKNOWN
    assert adopted["t-odd"].get_method_display() == "Unknown import"
    cloud.refresh_from_db()
    assert "image not-readable unreadable" in cloud.discovery_error
    assert f"tasks of image {hostile_tasks['id']}: MalformedResponse" in cloud.discovery_error
    assert cloud.imports_discovered_until is not None  # the window moved on past them


def test_a_run_reads_a_bounded_number_of_task_lists_and_the_next_goes_on(
    cloud, scripted, monkeypatch
):
    monkeypatch.setattr(discovery, "TASK_READS", 2)
    images = [importing(f"t-{n}", updated_at=stamp(30 - n)) for n in range(5)]
    bodies = {body["id"]: body for body in images}

    def listing(request: Received) -> Reply:
        since = request.param("updated_at").removeprefix("gte:")
        return Reply(json={"images": [b for b in images if b["updated_at"] >= since]})

    scripted.on("GET", IMAGES, handler=listing)
    for n, body in enumerate(images):
        scripted.on(
            "GET",
            f"{IMAGES}/{body['id']}/tasks",
            Reply(json={"tasks": [import_task(f"t-{n}", body["id"])]}),
        )

    assert discovery.discover(cloud) == 2
    assert discovery.discover(cloud) == 2
    assert discovery.discover(cloud) == 1
    assert discovery.discover(cloud) == 0

    assert sorted(ImageTask.objects.values_list("remote_id", flat=True)) == [
        f"t-{n}" for n in range(5)
    ]
    assert len(tasks_read(scripted)) == 5  # each image's tasks read once
    assert set(bodies) == {t.result["image_id"] for t in ImageTask.objects.all()}


def test_a_cloud_that_says_later_ends_the_run_where_it_stood(cloud, scripted):
    first, second = importing("t-a", updated_at=stamp(20)), importing("t-b", updated_at=stamp(10))
    serve(scripted, first, second, tasks={first["id"]: [import_task("t-a", first["id"])]})
    busy = iter(range(4))  # the first try and the client's three retries

    def second_tasks(request: Received) -> Reply:
        if next(busy, None) is not None:
            return Reply(503, body="busy", headers={"Retry-After": "0"})
        return Reply(json={"tasks": [import_task("t-b", second["id"])]})

    scripted.on("GET", f"{IMAGES}/{second['id']}/tasks", handler=second_tasks)

    assert discovery.discover(cloud) == 1
    cloud.refresh_from_db()
    assert "503" in cloud.discovery_error

    assert discovery.discover(cloud) == 1  # the next run goes on at the second image
    assert set(ImageTask.objects.values_list("remote_id", flat=True)) == {"t-a", "t-b"}
    cloud.refresh_from_db()
    assert cloud.discovery_error == ""
