"""Interoperable import: discovery, create, stage, import, the image's tasks and its import
state, against a scripted cloud on 127.0.0.1 that answers as Glance does, and as a broken or
hostile cloud might (wrong types, huge names, endless bodies)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from imagetasks.openstack import (
    ApiVersion,
    BadRequest,
    Conflict,
    ImageProperties,
    MalformedResponse,
    ServerError,
    Unavailable,
)
from imagetasks.openstack.images import IDS_PER_REQUEST
from imagetasks.openstack.imports import DISCOVERY_BODY_LIMIT
from imagetasks.openstack.objects import ShortBody
from imagetasks.openstack.types import NAME_LIMIT, TEXT_LIMIT, ImportState, Store
from tests.openstack.samples import IMAGE_PATH, reference_json
from tests.openstack.scripted import Received, Reply

V2 = f"{IMAGE_PATH}/v2"
IMAGE_ID = "1bea47ed-f6a9-463b-b423-14b9cca9ad27"
IMAGES = f"{V2}/images"
IMAGE = f"{IMAGES}/{IMAGE_ID}"


def versions(*ids: str) -> dict:
    """A version document as Glance serves it at ``/versions``."""
    link = [{"href": "http://glance.openstack.example.org/v2/", "rel": "self"}]
    return {"versions": [{"id": v, "links": link, "status": "SUPPORTED"} for v in ids]}


def import_info(*methods) -> dict:
    return {
        "import-methods": {
            "description": "Import methods available.",
            "type": "array",
            "value": list(methods),
        }
    }


def image(**fields) -> dict:
    return {**reference_json("glance_image"), **fields}


# Glance's api-ref sample of GET /v2/images/{id}/tasks (image-tasks-show-response.json).
IMAGE_TASKS = {
    "tasks": [
        {
            "id": "ee22890e-8948-4ea6-9668-831f973c84f5",
            "image_id": "dddddddd-dddd-dddd-dddd-dddddddddddd",
            "request-id": "rrrrrrr-rrrr-rrrr-rrrr-rrrrrrrrrrrr",
            "user": "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu",
            "type": "api_image_import",
            "status": "processing",
            "owner": "64f0efc9955145aeb06f297a8a6fe402",
            "expires_at": None,
            "created_at": "2020-12-18T05:20:38.000000",
            "updated_at": "2020-12-18T05:25:39.000000",
            "deleted_at": None,
            "deleted": False,
            "input": {
                "image_id": "829c729b-ebc4-4cc7-a164-6f43f1149b17",
                "import_req": {
                    "method": {"name": "copy-image"},
                    "all_stores": True,
                    "all_stores_must_succeed": False,
                },
                "backend": ["fast", "cheap", "slow", "reliable", "common"],
            },
            "result": None,
            "message": "Copied 15 MiB",
        }
    ]
}


# Discovery ----------------------------------------------------------------------------


def test_the_highest_v2_version_of_the_version_document_is_read(cloud, client):
    cloud.on("GET", f"{IMAGE_PATH}/versions", Reply(json=versions("v2.16", "v2.9", "v2.17")))

    assert client.imports.images_api_version() == ApiVersion(2, 17)
    assert str(client.imports.images_api_version()) == "2.17"
    assert ApiVersion(2, 10) > ApiVersion(2, 9)


@pytest.mark.parametrize(
    "body",
    [
        "<html>It works!</html>",
        json.dumps({"versions": "v2.16"}),
        json.dumps({"versions": [{"id": 2.16}, {"id": "v1.1"}, "v2.16", {"id": "v2.x"}]}),
        json.dumps([]),
    ],
    ids=["html", "not-a-list", "no-readable-v2", "array"],
)
def test_a_version_document_without_a_readable_v2_is_malformed(cloud, client, body):
    cloud.on("GET", f"{IMAGE_PATH}/versions", Reply(body=body))

    with pytest.raises(MalformedResponse, match="/versions: unreadable answer"):
        client.imports.images_api_version()


def test_the_import_methods_are_read_from_info_import(cloud, client):
    methods = ("glance-direct", "web-download", "copy-image", "glance-download")
    cloud.on("GET", f"{V2}/info/import", Reply(json=import_info(*methods)))

    assert client.imports.import_methods() == methods


def test_a_cloud_without_the_import_api_offers_no_method(cloud, client):
    cloud.on("GET", f"{V2}/info/import", Reply(404, json={"message": "Not Found"}))

    assert client.imports.import_methods() == ()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"import-methods": ["web-download"]}, "no 'import-methods' object"),
        ({"import-methods": {"value": "web-download"}}, "no 'value' array"),
        (import_info("web-download", 7), "not a name"),
        (import_info("web-download", None), "not a name"),
        (import_info(" "), "not a name"),
        (import_info("x" * (NAME_LIMIT + 1)), "longer than 255"),
        (import_info(*[f"m{i}" for i in range(101)]), "more than 100"),
    ],
)
def test_hostile_import_methods_are_malformed_and_say_why(cloud, client, body, reason):
    cloud.on("GET", f"{V2}/info/import", Reply(json=body))

    with pytest.raises(MalformedResponse, match=reason):
        client.imports.import_methods()


def test_a_repeated_method_is_listed_once(cloud, client):
    cloud.on("GET", f"{V2}/info/import", Reply(json=import_info("copy-image", "copy-image ")))

    assert client.imports.import_methods() == ("copy-image",)


def test_stores_are_read_with_glances_string_flags(cloud, client):
    body = {
        "stores": [
            {"id": "fast", "description": "Fast access", "default": "true"},
            {"id": "cheap"},
            {"id": "web", "description": "Read only", "read-only": "true"},
        ]
    }
    cloud.on("GET", f"{V2}/info/stores", Reply(json=body))

    stores = client.imports.stores()

    assert stores == (
        Store("fast", "Fast access", default=True, read_only=False),
        Store("cheap", "", default=False, read_only=False),
        Store("web", "Read only", default=False, read_only=True),
    )
    assert stores[0].as_json() == {"id": "fast", "description": "Fast access", "default": True}


def test_a_single_store_cloud_lists_no_stores(cloud, client):
    # Glance: 404 "Multi backend is not supported at this site."
    cloud.on("GET", f"{V2}/info/stores", Reply(404, body="Multi backend is not supported"))

    assert client.imports.stores() == ()


def test_only_the_first_of_two_defaults_is_believed_and_long_descriptions_are_cut(cloud, client):
    body = {
        "stores": [
            {"id": "a", "default": True, "description": "d" * 50_000},
            {"id": "b", "default": "TRUE", "description": ["not", "text"]},
        ]
    }
    cloud.on("GET", f"{V2}/info/stores", Reply(json=body))

    first, second = client.imports.stores()

    assert (first.default, second.default) == (True, False)
    assert len(first.description) == TEXT_LIMIT
    assert second.description == ""


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"stores": {"id": "fast"}}, "no 'stores' array"),
        ({"stores": ["fast"]}, "a store is not a JSON object"),
        ({"stores": [{"description": "no id"}]}, "not a name"),
        ({"stores": [{"id": "fast"}, {"id": "fast"}]}, "a store twice"),
        ({"stores": [{"id": "s" * 10_000}]}, "longer than 255"),
    ],
)
def test_hostile_store_lists_are_malformed_and_say_why(cloud, client, body, reason):
    cloud.on("GET", f"{V2}/info/stores", Reply(json=body))

    with pytest.raises(MalformedResponse, match=reason):
        client.imports.stores()


def test_a_discovery_answer_larger_than_a_mebibyte_is_not_read_to_its_end(cloud, client):
    huge = b'{"import-methods": {"value": ["' + b"x" * (4 * DISCOVERY_BODY_LIMIT) + b'"]}}'
    cloud.on("GET", f"{V2}/info/import", Reply(body=huge))

    with pytest.raises(MalformedResponse, match="larger than 1 MiB") as caught:
        client.imports.import_methods()

    assert len(caught.value.body or "") <= 2000


def test_the_tasks_api_is_permitted_when_one_task_can_be_listed(cloud, client):
    cloud.on("GET", f"{V2}/tasks", Reply(json={"tasks": [], "first": "/v2/tasks"}))

    assert client.imports.tasks_api_permitted() is True
    assert cloud.requests("GET", f"{V2}/tasks")[0].query == {"limit": ["1"]}


def test_a_403_from_the_tasks_list_means_admin_only(cloud, client):
    cloud.on("GET", f"{V2}/tasks", Reply(403, json={"message": "Access was denied"}))

    assert client.imports.tasks_api_permitted() is False


def test_a_tasks_list_that_fails_otherwise_says_nothing_of_the_policy(cloud, client):
    cloud.on("GET", f"{V2}/tasks", Reply(500, body="boom"))

    with pytest.raises(ServerError):
        client.imports.tasks_api_permitted()


# Create, stage, import ----------------------------------------------------------------


def test_create_image_posts_the_typed_properties_once(cloud, client):
    created = image(status="queued", name="web", disk_format="raw", size=None, checksum=None)
    cloud.on("POST", IMAGES, Reply(201, json=created))
    properties = ImageProperties(
        name="web",
        disk_format="raw",
        visibility="private",
        min_disk=1,
        min_ram=0,
        extra={"os_distro": "debian", "os_version": "13"},
    )

    made = client.imports.create_image(properties)

    assert (made.id, made.status) == (IMAGE_ID, "queued")
    (sent,) = cloud.requests("POST", IMAGES)
    assert sent.json() == {
        "name": "web",
        "disk_format": "raw",
        "container_format": "bare",
        "visibility": "private",
        "min_disk": 1,
        "min_ram": 0,
        "os_distro": "debian",
        "os_version": "13",
    }
    assert sent.headers["Content-Type"] == "application/json"


def test_an_image_for_a_glance_download_is_created_without_formats(cloud, client):
    cloud.on("POST", IMAGES, Reply(201, json=image(status="queued", disk_format=None)))

    client.imports.create_image(ImageProperties(name="copy", container_format=""))

    (sent,) = cloud.requests("POST", IMAGES)
    assert sent.json() == {"name": "copy"}, "the cloud takes them from the image it copies"


def test_a_create_answered_by_a_gateway_error_is_not_posted_again(cloud, client):
    cloud.on("POST", IMAGES, Reply(503, body="busy"))

    with pytest.raises(Unavailable) as caught:
        client.imports.create_image(ImageProperties(name="web", disk_format="raw"))

    assert caught.value.outcome_unknown
    assert len(cloud.requests("POST", IMAGES)) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"extra": {"os_glance_import_task": "x"}},
        {"extra": {"status": "active"}},
        {"extra": {"stores": "fast"}},
        {"extra": {"os_distro": 13}},
        {"min_disk": -1},
        {"min_ram": True},
    ],
)
def test_properties_a_client_may_not_set_are_refused_before_sending(fields):
    with pytest.raises(ValueError):
        ImageProperties(name="web", disk_format="raw", **fields)


def test_stage_streams_the_data_with_its_length(cloud, client):
    cloud.on("PUT", f"{IMAGE}/stage", Reply(204))
    data = bytes(range(256)) * 1000
    seen: list[int] = []

    client.imports.stage(IMAGE_ID, io.BytesIO(data), len(data), on_progress=seen.append)

    (sent,) = cloud.requests("PUT", f"{IMAGE}/stage")
    assert sent.body == data
    assert not sent.chunked
    assert sent.headers["Content-Length"] == str(len(data))
    assert sent.headers["Content-Type"] == "application/octet-stream"
    assert seen[-1] == len(data)


def test_stage_of_a_body_shorter_than_announced_fails_in_the_request(cloud, client):
    cloud.on("PUT", f"{IMAGE}/stage", Reply(204))

    with pytest.raises(ShortBody):
        client.imports.stage(IMAGE_ID, [b"abc"], 10)


def test_staging_an_image_that_is_not_queued_is_a_conflict(cloud, client):
    message = "Image exists with status active. Cannot stage data."
    cloud.on("PUT", f"{IMAGE}/stage", Reply(409, json={"message": message}))

    with pytest.raises(Conflict, match="Cannot stage data"):
        client.imports.stage(IMAGE_ID, b"data", 4)


@pytest.mark.parametrize(
    ("method", "options", "body"),
    [
        ("glance-direct", {}, {"method": {"name": "glance-direct"}}),
        (
            "web-download",
            {"uri": "http://127.0.0.1:8000/cirros.raw", "stores": ["fast"]},
            {
                "method": {"name": "web-download", "uri": "http://127.0.0.1:8000/cirros.raw"},
                "stores": ["fast"],
            },
        ),
        (
            "copy-image",
            {"all_stores": True, "all_stores_must_succeed": False},
            {
                "method": {"name": "copy-image"},
                "all_stores": True,
                "all_stores_must_succeed": False,
            },
        ),
        (
            "glance-download",
            {
                "remote_region": "RegionTwo",
                "remote_image_id": "829c729b-ebc4-4cc7-a164-6f43f1149b17",
                "remote_service_interface": "public",
            },
            {
                "method": {
                    "name": "glance-download",
                    "glance_region": "RegionTwo",
                    "glance_image_id": "829c729b-ebc4-4cc7-a164-6f43f1149b17",
                    "glance_service_interface": "public",
                }
            },
        ),
    ],
)
def test_import_image_posts_the_body_glance_reads(cloud, client, method, options, body):
    cloud.on("POST", f"{IMAGE}/import", Reply(202))

    client.imports.import_image(IMAGE_ID, method, **options)

    (sent,) = cloud.requests("POST", f"{IMAGE}/import")
    assert sent.json() == body


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("web-download", {}),
        ("glance-direct", {"uri": "http://127.0.0.1/x"}),
        ("glance-download", {"remote_region": "RegionTwo"}),
        ("copy-image", {"remote_image_id": "x"}),
        ("copy-image", {"stores": ["fast"], "all_stores": True}),
        ("", {}),
    ],
)
def test_import_combinations_no_cloud_accepts_are_refused_before_sending(
    cloud, client, method, options
):
    with pytest.raises(ValueError):
        client.imports.import_image(IMAGE_ID, method, **options)

    assert not cloud.requests("POST")


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (409, Conflict, "Image status transition from active to importing is not allowed"),
        (400, BadRequest, "Import method copy-image is not valid for this cloud"),
    ],
)
def test_import_refusals_keep_the_clouds_message(cloud, client, status, error, message):
    cloud.on("POST", f"{IMAGE}/import", Reply(status, json={"message": message}))

    with pytest.raises(error, match=message) as caught:
        client.imports.import_image(IMAGE_ID, "glance-direct")

    assert not caught.value.outcome_unknown


def test_an_import_is_never_posted_twice(cloud, client):
    cloud.on("POST", f"{IMAGE}/import", Reply(503, body="busy"))

    with pytest.raises(Unavailable):
        client.imports.import_image(IMAGE_ID, "glance-direct")

    assert len(cloud.requests("POST", f"{IMAGE}/import")) == 1


# The image's tasks and its import state -----------------------------------------------


def test_the_images_tasks_are_read_into_tasks(cloud, client):
    cloud.on("GET", f"{IMAGE}/tasks", Reply(json=IMAGE_TASKS))

    (task,) = client.imports.image_tasks(IMAGE_ID)

    assert (task.id, task.type, task.status) == (
        "ee22890e-8948-4ea6-9668-831f973c84f5",
        "api_image_import",
        "processing",
    )
    assert task.message == "Copied 15 MiB"
    assert task.input is not None and task.input["import_req"]["method"]["name"] == "copy-image"
    assert task.image_id == "dddddddd-dddd-dddd-dddd-dddddddddddd"


def test_an_image_task_list_with_a_task_of_the_wrong_shape_is_malformed(cloud, client):
    cloud.on("GET", f"{IMAGE}/tasks", Reply(json={"tasks": [{"id": 5, "status": "x"}]}))

    with pytest.raises(MalformedResponse):
        client.imports.image_tasks(IMAGE_ID)


# What Glance 33 itself answered to a member, in order, for a web-download that failed
# (the api-ref's sample above spells two keys "request-id" and "user"; Glance writes its
# database row: "request_id", "user_id", "deleted", times without a zone).
GLANCE_FAILED_TASK = {
    "id": "1390bc40-d35e-42e7-8f91-564a919fc659",
    "type": "api_image_import",
    "status": "failure",
    "owner": "proj-x",
    "expires_at": "2026-12-09T01:54:08.830100",
    "created_at": "2026-12-07T01:54:08.411210",
    "updated_at": "2026-12-07T01:54:08.833202",
    "deleted_at": None,
    "deleted": False,
    "image_id": IMAGE_ID,
    "request_id": "req-e8f28968-8348-45d0-aab9-97643a1862d0",
    "user_id": "user-of-proj-x",
    "input": {
        "image_id": IMAGE_ID,
        "import_req": {"method": {"name": "web-download", "uri": "http://127.0.0.1:32831/x.raw"}},
        "backend": ["fast"],
    },
    "result": None,
    "message": "Task failed due to Internal Error",
}
GLANCE_IMAGE_STEPS = [
    # Staged for glance-direct: Glance hides os_glance_stage_host from every answer.
    ({"status": "uploading"}, ImportState("uploading", (), (), (), None)),
    (
        {
            "status": "importing",
            "os_glance_import_task": GLANCE_FAILED_TASK["id"],
            "os_glance_importing_to_stores": "fast",
            "os_glance_failed_import": "",
        },
        ImportState("importing", (), ("fast",), (), GLANCE_FAILED_TASK["id"]),
    ),
    # Reverted: back to queued, the store failed, the task pointer dropped, while the
    # task itself still reads "processing" for a moment.
    (
        {
            "status": "queued",
            "os_glance_importing_to_stores": "",
            "os_glance_failed_import": "fast",
        },
        ImportState("queued", (), (), ("fast",), None),
    ),
]


def test_glances_own_image_task_entry_is_read_with_its_request_and_user(cloud, client):
    cloud.on("GET", f"{IMAGE}/tasks", Reply(json={"tasks": [GLANCE_FAILED_TASK]}))

    (task,) = client.imports.image_tasks(IMAGE_ID)

    assert (task.status, task.message) == ("failure", "Task failed due to Internal Error")
    assert (task.request_id, task.user_id, task.image_id) == (
        "req-e8f28968-8348-45d0-aab9-97643a1862d0",
        "user-of-proj-x",
        IMAGE_ID,
    )
    assert task.created_at is not None and task.created_at.utcoffset() == timedelta(0)
    assert task.result is None and task.input is not None


@pytest.mark.parametrize(("fields", "state"), GLANCE_IMAGE_STEPS)
def test_glances_own_images_tell_their_import_state(cloud, client, fields, state):
    glance_image = {key: value for key, value in image().items() if key != "stores"}
    cloud.on("GET", IMAGE, Reply(json={**glance_image, **fields}))

    assert client.images.get_image(IMAGE_ID).import_state == state


def test_an_image_being_imported_tells_its_import_state(cloud, client):
    importing = image(
        status="importing",
        stores="fast",
        os_glance_import_task="ee22890e-8948-4ea6-9668-831f973c84f5",
        os_glance_importing_to_stores="cheap,slow",
        os_glance_failed_import="",
    )
    cloud.on("GET", IMAGE, Reply(json=importing))

    state = client.images.get_image(IMAGE_ID).import_state

    assert state == ImportState(
        status="importing",
        stores=("fast",),
        importing_to=("cheap", "slow"),
        failed=(),
        task_id="ee22890e-8948-4ea6-9668-831f973c84f5",
    )
    assert state.importing and not state.partial


def test_a_copy_that_failed_in_one_store_is_partial(cloud, client):
    cloud.on(
        "GET",
        IMAGE,
        Reply(json=image(stores="fast,cheap", os_glance_failed_import="slow", status="active")),
    )

    state = client.images.get_image(IMAGE_ID).import_state

    assert (state.stores, state.failed, state.importing, state.partial) == (
        ("fast", "cheap"),
        ("slow",),
        False,
        True,
    )


def test_an_image_of_a_cloud_without_import_has_an_empty_import_state():
    state = ImportState.from_json(image())

    assert state == ImportState("active", (), (), (), None)


@pytest.mark.parametrize(
    "fields",
    [
        {"stores": ["fast"]},
        {"os_glance_importing_to_stores": 3},
        {"os_glance_failed_import": {"slow": "x"}},
        {"os_glance_import_task": 42},
        {"os_glance_import_task": "t" * (NAME_LIMIT + 1)},
        {"stores": ",".join(f"s{i}" for i in range(101))},
    ],
)
def test_a_hostile_import_state_makes_the_image_malformed(cloud, client, fields):
    cloud.on("GET", IMAGE, Reply(json=image(**fields)))

    with pytest.raises(MalformedResponse):
        client.images.get_image(IMAGE_ID)


# Listing many images at once -----------------------------------------------------------


def test_list_images_by_ids_asks_once_with_an_in_filter(cloud, client):
    ids = ["a1", "b2", "c3"]
    cloud.on("GET", IMAGES, Reply(json={"images": [image(id="a1"), image(id="c3")]}))

    found = list(client.images.list_images(ids=[*ids, "a1"]))

    assert [i.id for i in found] == ["a1", "c3"]
    (sent,) = cloud.requests("GET", IMAGES)
    assert sent.query == {"id": ["in:a1,b2,c3"], "limit": ["3"]}


def test_a_full_page_of_every_image_asked_for_is_one_request(cloud, client):
    """Glance links a `next` page after every full one; with every image found, it is empty."""
    more = "/v2/images?marker=b2&id=in:a1,b2"
    cloud.on("GET", IMAGES, Reply(json={"images": [image(id="a1"), image(id="b2")], "next": more}))

    assert [i.id for i in client.images.list_images(ids=["a1", "b2"])] == ["a1", "b2"]

    assert len(cloud.requests("GET", IMAGES)) == 1


def test_list_images_by_ids_asks_in_batches_and_follows_next(cloud, client):
    ids = [f"id-{n:04d}" for n in range(IDS_PER_REQUEST + 5)]

    def handler(request: Received) -> Reply:
        asked = (request.param("id") or "").removeprefix("in:").split(",")
        if request.param("marker"):
            return Reply(json={"images": [image(id=asked[1])]})
        if len(asked) == IDS_PER_REQUEST:
            more = f"/v2/images?marker={asked[0]}&id=in:{','.join(asked)}"
            return Reply(json={"images": [image(id=asked[0])], "next": more})
        return Reply(json={"images": [image(id=asked[-1])]})

    cloud.on("GET", IMAGES, handler=handler)

    found = [i.id for i in client.images.list_images(ids=ids)]

    assert found == ["id-0000", "id-0001", f"id-{IDS_PER_REQUEST + 4:04d}"]
    assert len(cloud.requests("GET", IMAGES)) == 3


def test_a_cloud_that_ignores_the_in_filter_is_found_out_on_the_first_page(cloud, client):
    everything = {"images": [image(id="a1"), image(id="zz")], "next": "/v2/images?marker=zz"}
    cloud.on("GET", IMAGES, Reply(json=everything))

    with pytest.raises(MalformedResponse, match="ignores the id=in: filter"):
        list(client.images.list_images(ids=["a1", "b2"]))

    assert len(cloud.requests("GET", IMAGES)) == 1


def test_list_images_by_no_ids_asks_nothing(cloud, client):
    assert list(client.images.list_images(ids=[])) == []
    assert not cloud.requests("GET", IMAGES)


@pytest.mark.parametrize("bad", ["", "a,b", 'a"b'])
def test_ids_an_in_filter_cannot_carry_are_refused(client, bad):
    with pytest.raises(ValueError):
        list(client.images.list_images(ids=["ok", bad]))
