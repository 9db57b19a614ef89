"""The tasks API of the built-in cloud over real HTTP: every status code and message of
reference §1, §2 and §8.1. Jobs are parked on a queue nobody consumes, so every task
created here stays ``pending``; the work itself is tested in test_import/test_export.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from imagetasks.localcloud.models import CloudTask
from tests.support.glance_api import TASK_DETAIL_KEYS, assert_refused

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
LIST_KEYS = {"id", "type", "status", "owner", "created_at", "updated_at", "self", "schema"}
IMPORT_INPUT = {"import_from": "imports/disk.vhd", "image_properties": {"name": "Disk"}}
EXPORT_INPUT = {"image_uuid": str(uuid.uuid4()), "receiving_swift_container": "exports"}
# A task id no test creates. Fixed, not random: parameters must be the same in every
# process that collects the tests.
UNKNOWN_TASK_ID = "3f6d2a8e-5b1c-4e9f-a7d0-c42b8e61f935"

pytestmark = pytest.mark.usefixtures("fast_hashing", "parked_jobs")


def make_task(account, *, age: int = 0, **fields) -> CloudTask:
    """A task row as if created ``age`` seconds ago (created_at is what lists sort by)."""
    moment = timezone.now() - timedelta(seconds=age)
    values = {"type": "import", "input": IMPORT_INPUT, "created_at": moment, "updated_at": moment}
    return CloudTask.objects.create(project=account.project, **(values | fields))


def post_task(cloud, body, **kwargs):
    return cloud.post("image/v2/tasks", json=body, **kwargs)


def test_an_import_task_is_created_pending_with_an_absolute_location(cloud, account, live_server):
    body = {"type": "import", "input": IMPORT_INPUT | {"import_from_format": "vhd"}}

    response = post_task(cloud, body)

    assert response.status_code == 201
    task = response.json()
    assert response.headers["Location"] == (
        f"{live_server.url}/localcloud/image/v2/tasks/{task['id']}"
    )
    assert response.headers["Content-Type"] == "application/json"
    assert set(task) == TASK_DETAIL_KEYS
    assert task["status"] == "pending"
    assert task["type"] == "import"
    assert task["input"] == body["input"]
    assert task["message"] == ""
    assert task["result"] is None
    assert task["owner"] == account.project.id
    assert task["self"] == f"/v2/tasks/{task['id']}"
    assert task["schema"] == "/v2/schemas/task"
    assert TIMESTAMP.match(task["created_at"]) and TIMESTAMP.match(task["updated_at"])
    assert uuid.UUID(task["id"]).version == 4


def test_an_export_task_is_created_pending(cloud):
    response = post_task(cloud, {"type": "export", "input": EXPORT_INPUT})

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["input"] == EXPORT_INPUT


def test_a_created_task_is_shown_with_the_same_full_view(cloud):
    created = post_task(cloud, {"type": "import", "input": IMPORT_INPUT}).json()

    response = cloud.get(f"image/v2/tasks/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


def test_read_only_properties_in_the_body_are_accepted_and_ignored(cloud):
    planted_id = str(uuid.uuid4())
    body = {"type": "import", "input": IMPORT_INPUT, "status": "success", "id": planted_id}

    response = post_task(cloud, body)

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["id"] != planted_id


@pytest.mark.parametrize(
    ("raw_body", "message"),
    [
        (b"", "Body expected in request."),
        (b"{", "Malformed JSON in request body."),
        (b"[" * 100_000, "Malformed JSON in request body."),
        (b"\xff\xfe", "Malformed JSON in request body."),
        (b"42", "Unexpected body type. Expected list/dict."),
        (b'"import"', "Unexpected body type. Expected list/dict."),
        (b"null", "Unexpected body type. Expected list/dict."),
        (b"{}", "Task 'type' is required"),
        (b'{"input": {}}', "Task 'type' is required"),
        (b'{"type": "import"}', "Task 'input' is required"),
        (b'["x"]', "Task 'type' is required"),
        (
            b'["type", "input"]',
            "Provided object does not match schema 'task': "
            "['type', 'input'] is not of type 'object'",
        ),
        (
            b'{"type": "resize", "input": {}}',
            "Provided object does not match schema 'task': "
            "'resize' is not one of ['import', 'export']",
        ),
        (
            b'{"type": 5, "input": {}}',
            "Provided object does not match schema 'task': 5 is not of type 'string'",
        ),
        (
            b'{"type": "import", "input": "exports/x.vhd"}',
            "Provided object does not match schema 'task': 'exports/x.vhd' is not of type 'object'",
        ),
        (
            b'{"type": "import", "input": null}',
            "Provided object does not match schema 'task': None is not of type 'object'",
        ),
        (
            b'{"type": "import", "input": {}, "extra": 1}',
            "Provided object does not match schema 'task': "
            "Additional properties are not allowed ('extra' was unexpected)",
        ),
        (
            b'{"type": "import", "input": {}, "b": 1, "a": 2}',
            "Provided object does not match schema 'task': "
            "Additional properties are not allowed ('a', 'b' were unexpected)",
        ),
        (
            b'{"type": "import", "input": {"import_from": "a/b", "n": NaN}}',
            "Malformed JSON in request body.",
        ),
        (
            b'{"type": "import", "input": {"import_from": "a/\\u0000b"}}',
            "JSON in request body may not contain NUL characters.",
        ),
        (
            b'{"type": "import", "input": {"import_from": "a/b", "x": '
            + b"[" * 40
            + b"]" * 40
            + b"}}",
            "JSON in request body is nested too deeply.",
        ),
        (b'{"type": "import", "input": {}}', "Invalid location: None"),
        (b'{"type": "import", "input": {"import_from": 5}}', "Invalid location: 5"),
        (b'{"type": "import", "input": {"import_from": "disk.vhd"}}', "Invalid location: disk.vhd"),
        (
            b'{"type": "import", "input": {"import_from": "/disk.vhd"}}',
            "Invalid location: /disk.vhd",
        ),
        (b'{"type": "import", "input": {"import_from": "imports/"}}', "Invalid location: imports/"),
        (
            b'{"type": "export", "input": {"receiving_swift_container": "exports"}}',
            "Input does not contain 'image_uuid' field",
        ),
        (
            b'{"type": "export", "input": {"image_uuid": "x"}}',
            "Input does not contain 'receiving_swift_container' field",
        ),
        (
            b'{"type": "export", "input": {"image_uuid": 7, "receiving_swift_container": "e"}}',
            "Input field 'image_uuid' must be a non-empty string",
        ),
    ],
)
@pytest.mark.usefixtures("garbage_collected")
def test_a_malformed_task_is_refused_with_400_and_the_reference_message(cloud, raw_body, message):
    response = cloud.post(
        "image/v2/tasks", data=raw_body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": message,
        "code": "400 Bad Request",
        "title": "Bad Request",
    }
    assert not CloudTask.objects.exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_non_json_content_type_is_415_before_the_body_is_read(cloud, content_type):
    response = cloud.post("image/v2/tasks", data=b"", headers={"Content-Type": content_type})

    assert response.status_code == 415
    assert response.json()["message"] == (
        f"The request media type {content_type} is not supported by this server."
    )


def test_a_json_content_type_with_parameters_is_accepted(cloud):
    response = cloud.post(
        "image/v2/tasks",
        data=b'{"type": "import", "input": {"import_from": "a/b"}}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "image/v2/tasks"),
        ("POST", "image/v2/tasks"),
        ("GET", f"image/v2/tasks/{UNKNOWN_TASK_ID}"),
        ("DELETE", f"image/v2/tasks/{UNKNOWN_TASK_ID}"),
        ("GET", "image/v2/schemas/task"),
    ],
)
def test_without_a_valid_token_every_tasks_call_is_401(anonymous_cloud, method, path):
    unauthenticated = anonymous_cloud.request(method, path, json={"type": "import", "input": {}})
    forged = anonymous_cloud.request(method, path, headers={"X-Auth-Token": "lc-not-a-token"})

    assert unauthenticated.status_code == 401
    assert forged.status_code == 401


def test_another_projects_task_is_404_as_if_it_did_not_exist(cloud, other_account):
    theirs = make_task(other_account)

    response = cloud.get(f"image/v2/tasks/{theirs.id}")

    assert response.status_code == 404
    assert response.json()["message"] == f"Could not find task {theirs.id}"


@pytest.mark.parametrize("task_id", [UNKNOWN_TASK_ID, "NON_EXISTENT_TASK", "invalid", "", "a/b"])
def test_unknown_and_malformed_task_ids_are_404(cloud, task_id):
    response = cloud.get(f"image/v2/tasks/{task_id}")

    assert response.status_code == 404
    assert response.json()["message"] == f"Could not find task {task_id}"


def test_delete_is_405_allow_get_and_the_task_is_untouched(cloud, account):
    task = make_task(account)

    response = cloud.delete(f"image/v2/tasks/{task.id}")

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    assert response.json()["message"] == (
        "This operation is currently not permitted on Glance Tasks. They are auto deleted after "
        "reaching the time based on their expires_at property."
    )
    assert cloud.get(f"image/v2/tasks/{task.id}").status_code == 200
    assert [t["id"] for t in cloud.get("image/v2/tasks").json()["tasks"]] == [str(task.id)]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "image/v2/tasks", "GET, POST"),
        ("PATCH", "image/v2/tasks", "GET, POST"),
        ("DELETE", "image/v2/tasks", "GET, POST"),
        ("PUT", "image/v2/tasks/{id}", "GET, DELETE"),
        ("PATCH", "image/v2/tasks/{id}", "GET, DELETE"),
        ("POST", "image/v2/tasks/{id}", "GET, DELETE"),
        ("POST", "image/v2/schemas/task", "GET"),
        ("PUT", "image/v2/schemas/tasks", "GET"),
    ],
)
def test_other_methods_are_405_with_the_allowed_ones(cloud, account, method, path, allow):
    task = make_task(account)

    response = cloud.request(method, path.format(id=task.id), json={})

    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json()["message"] == f"The method {method} is not allowed for this resource."


def test_a_failed_task_shows_its_message_and_a_null_result(cloud, account):
    ended = timezone.now()
    task = make_task(
        account,
        status="failure",
        message="Image not found for import. Possible invalid location",
        updated_at=ended,
        expires_at=ended + timedelta(hours=48),
    )

    body = cloud.get(f"image/v2/tasks/{task.id}").json()

    assert set(body) == TASK_DETAIL_KEYS | {"expires_at"}
    assert body["message"] == "Image not found for import. Possible invalid location"
    assert body["result"] is None
    assert TIMESTAMP.match(body["expires_at"])


def test_a_successful_task_shows_its_result_and_an_empty_message(cloud, account):
    ended = timezone.now()
    task = make_task(
        account,
        status="success",
        result={"image_id": str(uuid.uuid4())},
        updated_at=ended,
        expires_at=ended + timedelta(hours=48),
    )

    body = cloud.get(f"image/v2/tasks/{task.id}").json()

    assert body["result"] == task.result
    assert body["message"] == ""


def test_list_entries_have_exactly_the_sparse_keys_plus_expires_at_when_set(cloud, account):
    ended = timezone.now()
    make_task(account, age=2)
    make_task(account, status="success", result={}, expires_at=ended + timedelta(hours=1))

    body = cloud.get("image/v2/tasks").json()

    assert body["schema"] == "/v2/schemas/tasks"
    assert body["first"] == "/v2/tasks"
    assert "next" not in body
    finished, pending = body["tasks"]
    assert set(pending) == LIST_KEYS
    assert set(finished) == LIST_KEYS | {"expires_at"}


def test_lists_show_only_the_callers_tasks(cloud, account, other_account):
    mine = make_task(account)
    make_task(other_account)

    tasks = cloud.get("image/v2/tasks").json()["tasks"]

    assert [task["id"] for task in tasks] == [str(mine.id)]


@pytest.mark.parametrize(("count", "pages"), [(7, [3, 3, 1]), (6, [3, 3, 0]), (2, [2])])
def test_a_client_following_next_sees_every_task_once(cloud, account, count, pages):
    created = {str(make_task(account, age=i).id) for i in range(count)}
    seen, sizes = [], []

    url = "image/v2/tasks?limit=3"
    while True:
        body = cloud.get(url).json()
        sizes.append(len(body["tasks"]))
        seen += [task["id"] for task in body["tasks"]]
        if "next" not in body:
            break
        assert body["next"].startswith("/v2/tasks?")
        url = "image" + body["next"]

    assert sizes == pages
    assert sorted(seen) == sorted(created)


def test_paging_holds_when_every_task_has_the_same_created_at(cloud, account):
    moment = timezone.now()
    created = {str(make_task(account, created_at=moment, updated_at=moment).id) for _ in range(5)}
    seen = []

    url = "image/v2/tasks?limit=2&sort_key=status"
    while url:
        body = cloud.get(url).json()
        seen += [task["id"] for task in body["tasks"]]
        url = "image" + body["next"] if "next" in body else None

    assert sorted(seen) == sorted(created)


def test_links_keep_every_parameter_but_the_marker(cloud, account):
    tasks = [make_task(account, age=i) for i in range(3)]

    body = cloud.get(
        f"image/v2/tasks?limit=2&sort_key=created_at&sort_dir=desc&marker={tasks[0].id}"
    ).json()

    assert body["first"] == "/v2/tasks?limit=2&sort_key=created_at&sort_dir=desc"
    assert body["next"] == (
        f"/v2/tasks?limit=2&sort_key=created_at&sort_dir=desc&marker={tasks[2].id}"
    )


def test_the_default_limit_is_25(cloud, account):
    for i in range(26):
        make_task(account, age=i)

    body = cloud.get("image/v2/tasks").json()

    assert len(body["tasks"]) == 25
    assert "next" in body


def test_a_limit_above_1000_is_clamped(cloud, account):
    moment = timezone.now()
    CloudTask.objects.bulk_create(
        CloudTask(
            project=account.project,
            type="import",
            input={},
            created_at=moment - timedelta(seconds=i),
            updated_at=moment,
        )
        for i in range(1001)
    )

    body = cloud.get("image/v2/tasks?limit=5000").json()

    assert len(body["tasks"]) == 1000
    assert "next" in body


def test_a_zero_limit_gives_an_empty_page_without_next(cloud, account):
    make_task(account)

    body = cloud.get("image/v2/tasks?limit=0").json()

    assert body["tasks"] == []
    assert "next" not in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=abc", "limit param must be an integer"),
        ("limit=1.1", "limit param must be an integer"),
        ("limit=", "limit param must be an integer"),
        ("limit=-1", "limit param must be positive"),
        ("marker=not-a-uuid", "Invalid marker format"),
        ("sort_dir=up", "Invalid sort direction: up"),
        ("sort_dir=", "Invalid sort direction: "),
        ("status=done", "Invalid status value: done"),
        ("type=resize", "Invalid type value: resize"),
        ("sort_key=input", "Sort key supplied was not valid."),
        ("sort_key=bogus", "Sort key supplied was not valid."),
    ],
)
def test_a_bad_list_query_is_refused_with_400(cloud, query, message):
    assert_refused(cloud.get(f"image/v2/tasks?{query}"), 400, message)


def test_unknown_and_foreign_markers_are_refused_alike(cloud, other_account):
    unknown = uuid.uuid4()
    theirs = make_task(other_account)

    unknown_response = cloud.get(f"image/v2/tasks?marker={unknown}")
    foreign_response = cloud.get(f"image/v2/tasks?marker={theirs.id}")

    assert unknown_response.status_code == foreign_response.status_code == 400
    assert unknown_response.json()["message"] == f"Task with the given id {unknown} was not found"
    assert foreign_response.json()["message"] == f"Task with the given id {theirs.id} was not found"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=import", {"import-pending", "import-failure"}),
        ("type=export", {"export-success"}),
        ("status=failure", {"import-failure"}),
        ("status=success&type=export", {"export-success"}),
        ("status=processing", set()),
        ("status=&type=", {"import-pending", "import-failure", "export-success"}),
        ("unknown_param=1", {"import-pending", "import-failure", "export-success"}),
    ],
)
def test_lists_filter_by_type_and_status(cloud, account, query, expected):
    later = timezone.now() + timedelta(hours=1)
    names = {
        make_task(account, type="import").id: "import-pending",
        make_task(account, type="import", status="failure", expires_at=later).id: "import-failure",
        make_task(account, type="export", status="success", expires_at=later).id: "export-success",
    }

    tasks = cloud.get(f"image/v2/tasks?{query}").json()["tasks"]

    assert {names[uuid.UUID(task["id"])] for task in tasks} == expected


def test_owner_and_id_parameters_are_equality_filters(cloud, account):
    first, second = make_task(account), make_task(account)

    by_id = cloud.get(f"image/v2/tasks?id={second.id}").json()["tasks"]
    by_bad_id = cloud.get("image/v2/tasks?id=nope").json()["tasks"]
    by_owner = cloud.get(f"image/v2/tasks?owner={account.project.id}").json()["tasks"]
    by_other_owner = cloud.get("image/v2/tasks?owner=someone-else").json()["tasks"]

    assert [task["id"] for task in by_id] == [str(second.id)]
    assert by_bad_id == []
    assert {task["id"] for task in by_owner} == {str(first.id), str(second.id)}
    assert by_other_owner == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["c", "b", "a"]),
        ("sort_dir=asc", ["a", "b", "c"]),
        ("sort_key=status&sort_dir=asc", ["b", "a", "c"]),
        ("sort_key=status&sort_dir=desc", ["c", "a", "b"]),
        ("sort_key=type&sort_dir=asc", ["a", "b", "c"]),
        ("sort_key=type&sort_dir=desc", ["c", "b", "a"]),
        ("sort_key=expires_at&sort_dir=asc", ["a", "b", "c"]),
        ("sort_key=updated_at&sort_dir=asc", ["a", "b", "c"]),
    ],
)
def test_lists_sort_by_sort_key_and_sort_dir(cloud, account, query, expected):
    later = timezone.now() + timedelta(hours=1)
    names = {
        make_task(account, age=3, type="export", status="processing", expires_at=None).id: "a",
        make_task(account, age=2, type="import", status="failure", expires_at=later).id: "b",
        make_task(account, age=1, type="import", status="success", expires_at=later).id: "c",
    }

    tasks = cloud.get(f"image/v2/tasks?{query}").json()["tasks"]

    assert [names[uuid.UUID(task["id"])] for task in tasks] == expected


@pytest.mark.parametrize(
    ("accept", "shape"),
    [
        ("application/json", "json"),
        ("application/json;q=0.9, text/html;q=0.5", "json"),
        ("*/*", "html"),
        ("", "html"),
        ("text/html, application/json", "html"),
        ("text/plain", "text"),
    ],
)
def test_error_bodies_are_negotiated_on_accept_as_glance_does(cloud, accept, shape):
    """glanceclient and openstacksdk send no JSON Accept and read HTML errors line by line."""
    response = cloud.get("image/v2/tasks/<b>", headers={"Accept": accept})

    assert response.status_code == 404
    media_type = response.headers["Content-Type"].split(";")[0]
    if shape == "json":
        assert media_type == "application/json"
        assert response.json()["message"] == "Could not find task <b>"
    elif shape == "html":
        assert media_type == "text/html"
        assert "<h1>404 Not Found</h1>" in response.text
        assert "Could not find task &lt;b&gt;<br />" in response.text
    else:
        assert media_type == "text/plain"
        assert response.text == "404 Not Found\n\nCould not find task <b>\n"
