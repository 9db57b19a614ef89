"""Images v2 tasks and images: both clouds' task flavours, paging, malformed bodies and the
403 of an account that may not use tasks. Real HTTP against a scripted server on
127.0.0.1, serving the reference's own JSON samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from imagetasks.openstack import MalformedResponse, NotFound, Task, TasksForbidden
from imagetasks.openstack.types import ShapeError, parse_timestamp
from tests.openstack.samples import (
    IMAGE_PATH,
    TASK_ID,
    glance_task,
    reference_json,
    reference_text,
)
from tests.openstack.scripted import Received, Reply

TASKS_PATH = f"{IMAGE_PATH}/v2/tasks"
TASK_PATH = f"{TASKS_PATH}/{TASK_ID}"


def serve_task(cloud, body: str) -> None:
    cloud.on("GET", TASK_PATH, Reply(body=body, headers={"Content-Type": "application/json"}))


def test_a_rackspace_pending_task_has_no_message_and_no_result(cloud, client):
    serve_task(cloud, reference_text("rackspace_import_pending"))

    task = client.images.get_task(TASK_ID)

    assert task.status == "pending"
    assert task.message == ""
    assert task.result is None
    assert task.expires_at is None
    assert task.input == {
        "image_properties": {"name": "My excellent custom image"},
        "import_from": "exports/my-excellent-image.vhd",
    }
    assert task.owner == "00000123"
    assert task.self_link == f"/v2/tasks/{TASK_ID}"
    assert task.created_at == datetime(2014, 2, 26, 2, 58, 46, tzinfo=UTC)
    assert task.raw == reference_json("rackspace_import_pending")
    assert task.raw["message"] == "None"


def test_a_rackspace_import_success_carries_the_image_id_and_expiry(cloud, client):
    serve_task(cloud, reference_text("rackspace_import_success"))

    task = client.images.get_task(TASK_ID)

    assert task.status == "success"
    assert task.message == ""
    assert task.result == {"image_id": "1d944ab7-6748-4f3c-b7e2-3553bf006677"}
    assert task.expires_at == datetime(2014, 2, 28, 3, 28, 18, tzinfo=UTC)
    assert task.image_id is None


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (
            "rackspace_import_failure",
            "Error: Image not found for import. Possible invalid location",
        ),
        (
            "rackspace_export_failure",
            "Swift already has an object with id 'ca5e7f11-5d57-4dd7-8ace-03ab647fe6c6.vhd' "
            "in container 'exports'",
        ),
    ],
)
def test_a_rackspace_failure_keeps_its_message_and_has_no_result(cloud, client, sample, message):
    serve_task(cloud, reference_text(sample))

    task = client.images.get_task(TASK_ID)

    assert (task.status, task.message, task.result) == ("failure", message, None)


def test_a_rackspace_export_success_carries_the_export_location(cloud, client):
    serve_task(cloud, reference_text("rackspace_export_success"))

    task = client.images.get_task(TASK_ID)

    assert task.type == "export"
    assert task.result == {"export_location": "exports/ca5e7f11-5d57-4dd7-8ace-03ab647fe6c6.vhd"}


def test_a_glance_task_with_null_result_and_extra_fields_is_read(cloud, client):
    cloud.on("GET", TASK_PATH, Reply(json=glance_task("processing")))

    task = client.images.get_task(TASK_ID)

    assert (task.status, task.message, task.result, task.expires_at) == (
        "processing",
        "",
        None,
        None,
    )
    assert task.request_id == "req-4bd3bb4c-0b6a-4e8e-9f36-6d8a3b0e2a11"
    assert task.user_id == "9a1f7d2c3b4e4f5a8b6c7d8e9f0a1b2c"


def test_a_glance_failure_reads_its_message(cloud, client):
    failed = glance_task(
        "failure", message="Task failed due to Internal Error", expires_at="2026-05-07T17:15:11Z"
    )
    cloud.on("GET", TASK_PATH, Reply(json=failed))

    task = client.images.get_task(TASK_ID)

    assert task.message == "Task failed due to Internal Error"
    assert task.expires_at == datetime(2026, 5, 7, 17, 15, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-02-26T02:58:46Z", datetime(2014, 2, 26, 2, 58, 46, tzinfo=UTC)),
        ("2014-11-24T22:05:39.115Z", datetime(2014, 11, 24, 22, 5, 39, 115000, tzinfo=UTC)),
        (
            "2016-05-19T08:07:08-05:00",
            datetime(2016, 5, 19, 8, 7, 8, tzinfo=timezone(timedelta(hours=-5))),
        ),
        ("2014-01-15T16:41:49.390270", datetime(2014, 1, 15, 16, 41, 49, 390270, tzinfo=UTC)),
        (None, None),
    ],
)
def test_timestamps_become_aware_datetimes(text, expected):
    parsed = parse_timestamp(text)

    assert parsed == expected
    assert parsed is None or parsed.tzinfo is not None


def test_an_unreadable_timestamp_is_a_shape_error():
    with pytest.raises(ShapeError, match="yesterday"):
        parse_timestamp("yesterday")


def test_create_task_posts_type_and_input_as_json(cloud, client):
    cloud.on("POST", TASKS_PATH, Reply(201, json=reference_json("rackspace_import_pending")))
    task_input = {
        "image_properties": {"name": "My excellent custom image"},
        "import_from": "exports/my-excellent-image.vhd",
    }

    task = client.images.create_task("import", task_input)

    [post] = cloud.requests("POST", TASKS_PATH)
    assert post.json() == {"type": "import", "input": task_input}
    assert post.headers["Content-Type"] == "application/json"
    assert task.id == TASK_ID


def list_entry(number: int) -> dict:
    entry = reference_json("rackspace_task_list")["tasks"][0]
    return {**entry, "id": f"00000000-0000-4000-8000-{number:012d}"}


def paged_tasks(pages: list[list[dict]], prefix: str = ""):
    """A list handler that links each page to the next like Glance: relative, by marker."""

    def handler(request: Received) -> Reply:
        index = int(request.param("marker") or 0)
        body = {"first": "/v2/tasks", "schema": "/v2/schemas/tasks", "tasks": pages[index]}
        if index + 1 < len(pages):
            body["next"] = f"{prefix}/v2/tasks?limit=2&marker={index + 1}&sort_key=updated_at"
        return Reply(json=body)

    return handler


@pytest.mark.parametrize("prefix", ["", IMAGE_PATH])
def test_list_tasks_follows_next_links_relative_to_the_image_root(cloud, client, prefix):
    pages = [[list_entry(1), list_entry(2)], [list_entry(3), list_entry(4)], []]
    cloud.on("GET", TASKS_PATH, handler=paged_tasks(pages, prefix))

    tasks = list(client.images.list_tasks(sort_key="updated_at", status="pending", page_size=2))

    assert [t.id[-1] for t in tasks] == ["1", "2", "3", "4"]
    assert all(t.input is None and t.result is None and t.message == "" for t in tasks)
    first, *following = cloud.requests("GET", TASKS_PATH)
    assert first.query == {"sort_key": ["updated_at"], "status": ["pending"], "limit": ["2"]}
    assert [r.param("marker") for r in following] == ["1", "2"]


def test_a_growing_list_asks_each_next_page_four_times_the_last_up_to_its_bound(cloud, client):
    pages = [[list_entry(1)], [list_entry(2), list_entry(3), list_entry(4)], [list_entry(5)], []]
    cloud.on("GET", TASKS_PATH, handler=paged_tasks(pages))

    tasks = list(client.images.list_tasks(sort_key="updated_at", page_size=1, grow_to=10))

    assert [t.id[-1] for t in tasks] == ["1", "2", "3", "4", "5"]
    requests = cloud.requests("GET", TASKS_PATH)
    assert [r.param("limit") for r in requests] == ["1", "4", "10", "10"]
    assert [r.param("marker") for r in requests[1:]] == ["1", "2", "3"], "the link's own query"
    assert all(r.param("sort_key") == "updated_at" for r in requests)


def test_list_tasks_stops_at_its_limit_without_fetching_more_pages(cloud, client):
    pages = [[list_entry(1), list_entry(2)], [list_entry(3), list_entry(4)]]
    cloud.on("GET", TASKS_PATH, handler=paged_tasks(pages))

    tasks = list(client.images.list_tasks(limit=2))

    assert len(tasks) == 2
    assert len(cloud.requests("GET", TASKS_PATH)) == 1
    assert cloud.requests("GET", TASKS_PATH)[0].param("limit") == "2"


def test_the_reference_list_sample_is_read(cloud, client):
    cloud.on("GET", TASKS_PATH, Reply(body=reference_text("rackspace_task_list")))

    [task] = client.images.list_tasks()

    assert (task.id, task.type, task.status) == (
        "baef2134-9c33-47b9-9d63-c29a2a224715",
        "export",
        "pending",
    )


def test_a_next_link_to_another_host_is_refused(cloud, client):
    body = {"tasks": [list_entry(1)], "next": "http://127.0.0.2:9/v2/tasks?marker=1"}
    cloud.on("GET", TASKS_PATH, Reply(json=body))

    with pytest.raises(MalformedResponse, match="another host"):
        list(client.images.list_tasks())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<html><body>Service Unavailable</body></html>", "not JSON"),
        ("", "not JSON"),
        ('["a", "list"]', "task is not a JSON object"),
        ('{"status": "pending"}', "task has no 'id'"),
        (f'{{"id": "{TASK_ID}"}}', "task has no 'status'"),
        (
            f'{{"id": "{TASK_ID}", "status": "success", "result": "done"}}',
            "'result' is not an object",
        ),
        (f'{{"id": "{TASK_ID}", "status": "pending", "created_at": "soon"}}', "created_at"),
    ],
)
def test_a_malformed_task_body_raises_malformed_response_with_the_text(cloud, client, body, reason):
    headers = {"Content-Type": "application/json", "x-openstack-request-id": "req-9"}
    cloud.on("GET", TASK_PATH, Reply(body=body, headers=headers))

    with pytest.raises(MalformedResponse) as caught:
        client.images.get_task(TASK_ID)

    assert reason in caught.value.message
    assert caught.value.body == body
    assert (caught.value.status, caught.value.request_id) == (200, "req-9")


def test_the_text_of_a_malformed_body_is_truncated(cloud, client):
    serve_task(cloud, "x" * 10_000)

    with pytest.raises(MalformedResponse) as caught:
        client.images.get_task(TASK_ID)

    assert 1000 < len(caught.value.body) <= 2000


def test_a_403_from_the_tasks_api_says_the_account_may_not_use_it(cloud, client):
    glance = {
        "message": "You are not authorized to complete tasks_api_access action.<br /><br />\n\n\n",
        "code": "403 Forbidden",
        "title": "Forbidden",
    }
    cloud.on("GET", TASKS_PATH, Reply(403, json=glance))
    cloud.on("POST", TASKS_PATH, Reply(403, json=glance))

    with pytest.raises(TasksForbidden) as listing:
        list(client.images.list_tasks())
    with pytest.raises(TasksForbidden) as posting:
        client.images.create_task("import", {})

    expected = (
        "this account may not use the tasks API: "
        "You are not authorized to complete tasks_api_access action."
    )
    assert listing.value.message == posting.value.message == expected
    assert listing.value.status == 403


def test_an_unknown_task_is_not_found(cloud, client):
    cloud.on("GET", TASK_PATH, Reply(404, json={"message": f"Could not find task {TASK_ID}"}))

    with pytest.raises(NotFound, match=f"Could not find task {TASK_ID}"):
        client.images.get_task(TASK_ID)


def test_a_task_id_is_quoted_so_it_cannot_leave_the_tasks_path(cloud, client):
    with pytest.raises(NotFound):
        client.images.get_task("../images/x?y")

    assert cloud.requests()[-1].path == f"{TASKS_PATH}/..%2Fimages%2Fx%3Fy"


def test_the_task_schema_is_returned_as_sent(cloud, client):
    cloud.on(
        "GET", f"{IMAGE_PATH}/v2/schemas/task", Reply(body=reference_text("rackspace_task_schema"))
    )

    assert client.images.get_task_schema() == reference_json("rackspace_task_schema")


def test_get_image_reads_the_glance_sample_with_its_extra_properties(cloud, client):
    sample = reference_json("glance_image")
    sample["os_type"] = "linux"
    cloud.on("GET", f"{IMAGE_PATH}/v2/images/{sample['id']}", Reply(json=sample))

    image = client.images.get_image(sample["id"])

    assert (image.name, image.status, image.disk_format, image.size) == (
        "cirros-0.3.2-x86_64-disk",
        "active",
        "qcow2",
        13167616,
    )
    assert image.virtual_size is None
    assert image.properties == {"os_type": "linux"}
    assert image.created_at == datetime(2014, 5, 5, 17, 15, 10, tzinfo=UTC)


def test_list_images_passes_filters_and_follows_next(cloud, client):
    image = reference_json("glance_image")

    def handler(request: Received) -> Reply:
        if request.param("marker"):
            return Reply(json={"images": [{**image, "id": "second"}]})
        return Reply(json={"images": [image], "next": "/v2/images?limit=1&marker=x&owner=me"})

    cloud.on("GET", f"{IMAGE_PATH}/v2/images", handler=handler)

    images = list(client.images.list_images(owner="me", page_size=1))

    assert [i.id for i in images] == [image["id"], "second"]
    assert cloud.requests("GET")[0].query == {"owner": ["me"], "limit": ["1"]}


def test_tasks_are_plain_values_that_compare_by_content():
    body = reference_json("rackspace_import_success")

    assert Task.from_json(body) == Task.from_json(reference_json("rackspace_import_success"))
    assert "raw" not in repr(Task.from_json(body))
