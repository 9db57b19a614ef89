"""The images API and the schemas over real HTTP (reference §1.6, §6.1, §8.1.2).

Schema-validating clients accept a response only if it matches the served
schema, so every body the API can send is validated here against it.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import timedelta

import jsonschema
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from imagetasks.localcloud import blobstore, vhd_samples
from imagetasks.localcloud.images.creation import NotAnImage, create_image_from_file
from imagetasks.localcloud.models import CloudTask, Image
from tests.support.glance_api import TASK_DETAIL_KEYS, assert_refused

pytestmark = pytest.mark.usefixtures("fast_hashing")

IMAGE_KEYS = {
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "size",
    "virtual_size",
    "container_format",
    "disk_format",
    "min_disk",
    "min_ram",
    "tags",
    "created_at",
    "updated_at",
    "self",
    "file",
    "schema",
}


def make_image(account, *, age: int = 0, **fields) -> Image:
    image = Image.objects.create(project=account.project, **({"status": "active"} | fields))
    if age:
        Image.objects.filter(pk=image.pk).update(created_at=timezone.now() - timedelta(seconds=age))
    return image


def stored_image(account, tmp_path, data: bytes, disk_format: str = "vhd", name="disk") -> Image:
    path = tmp_path / uuid.uuid4().hex
    path.write_bytes(data)
    return create_image_from_file(account.project, name, path, disk_format)


def served_schema(cloud, name: str) -> dict:
    response = cloud.get(f"image/v2/schemas/{name}")
    assert response.status_code == 200
    return response.json()


def test_the_root_lists_version_2_with_absolute_links(anonymous_cloud, live_server):
    root = anonymous_cloud.get("image/")
    versioned = anonymous_cloud.get("image/v2/")

    assert root.status_code == 300
    assert versioned.status_code == 200
    versions = root.json()["versions"]
    assert versions[0] == {
        "id": "v2.12",
        "status": "CURRENT",
        "links": [{"rel": "self", "href": f"{live_server.url}/localcloud/image/v2/"}],
    }
    assert {version["status"] for version in versions[1:]} == {"SUPPORTED"}
    # Image import (2.6), stores (2.8) and an image's tasks (2.12) are all offered.
    assert [version["id"] for version in versions] == [f"v2.{minor}" for minor in range(12, -1, -1)]
    assert versioned.json() == root.json()


def test_the_task_schema_declares_what_the_built_in_cloud_sends(cloud):
    schema = served_schema(cloud, "task")

    assert schema["name"] == "task"
    properties = schema["properties"]
    assert properties["type"]["enum"] == ["import", "export"]
    assert properties["status"]["enum"] == ["pending", "processing", "success", "failure"]
    assert properties["result"]["type"] == ["null", "object"]
    assert properties["expires_at"]["type"] == ["null", "string"]
    # Glance's own fields, sent on the tasks of an image import.
    assert set(properties) == TASK_DETAIL_KEYS | {"expires_at", "image_id", "request_id", "user_id"}


def test_the_tasks_schema_lists_entries_without_input_result_or_message(cloud):
    schema = served_schema(cloud, "tasks")

    entry = schema["properties"]["tasks"]["items"]["properties"]
    assert schema["name"] == "tasks"
    assert {"input", "result", "message"}.isdisjoint(entry)
    assert schema["links"] == [{"href": "{schema}", "rel": "describedby"}]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"status": "processing"},
        {"status": "success", "result": {"image_id": "x"}, "expires_in": 60},
        {"status": "failure", "message": "Container not found. Container: x", "expires_in": 60},
    ],
)
def test_every_task_body_matches_the_served_schemas(cloud, account, fields):
    fields = dict(fields)
    expires_in = fields.pop("expires_in", None)
    now = timezone.now()
    task = CloudTask.objects.create(
        project=account.project,
        type="export",
        input={"image_uuid": "x", "receiving_swift_container": "y"},
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        **fields,
    )

    detail = cloud.get(f"image/v2/tasks/{task.id}").json()
    listing = cloud.get("image/v2/tasks").json()

    jsonschema.validate(detail, served_schema(cloud, "task"))
    jsonschema.validate(listing, served_schema(cloud, "tasks"))
    for entry in listing["tasks"]:
        jsonschema.validate(entry, served_schema(cloud, "tasks")["properties"]["tasks"]["items"])


def test_image_bodies_match_the_served_schemas(cloud, account, tmp_path):
    stored_image(account, tmp_path, vhd_samples.fixed_vhd())
    Image.objects.create(project=account.project)  # queued: nulls everywhere

    listing = cloud.get("image/v2/images").json()

    jsonschema.validate(listing, served_schema(cloud, "images"))
    for image in listing["images"]:
        jsonschema.validate(
            cloud.get(f"image/v2/images/{image['id']}").json(), served_schema(cloud, "image")
        )


def test_an_image_is_shown_with_glances_fields(cloud, account, tmp_path):
    data = vhd_samples.fixed_vhd()
    image = stored_image(account, tmp_path, data, name="Fixed")

    body = cloud.get(f"image/v2/images/{image.id}").json()

    assert set(body) == IMAGE_KEYS | {"stores"}
    assert body["stores"] == "fast"
    assert body["id"] == str(image.id)
    assert body["name"] == "Fixed"
    assert body["owner"] == account.project.id
    assert body["size"] == len(data)
    assert body["virtual_size"] == vhd_samples.SAMPLE_VIRTUAL_SIZE
    assert body["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert body["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert body["self"] == f"/v2/images/{image.id}"
    assert body["file"] == f"/v2/images/{image.id}/file"
    assert body["schema"] == "/v2/schemas/image"


def test_extra_image_properties_are_top_level_strings(cloud, account):
    image = make_image(account, properties={"os_type": "linux", "image_type": "import"})

    body = cloud.get(f"image/v2/images/{image.id}").json()

    assert (body["os_type"], body["image_type"]) == ("linux", "import")


def test_the_image_file_is_streamed_with_its_checksum(cloud, account, tmp_path):
    data = vhd_samples.dynamic_vhd()
    image = stored_image(account, tmp_path, data)

    response = cloud.get(f"image/v2/images/{image.id}/file", stream=True)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert int(response.headers["Content-Length"]) == len(data)
    assert response.headers["Content-MD5"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert b"".join(response.iter_content(65536)) == data


def test_an_image_without_data_has_no_content(cloud, account):
    image = Image.objects.create(project=account.project)

    response = cloud.get(f"image/v2/images/{image.id}/file")

    assert response.status_code == 204


def test_a_deactivated_images_data_cannot_be_downloaded(cloud, account, tmp_path):
    image = stored_image(account, tmp_path, vhd_samples.fixed_vhd())
    Image.objects.filter(pk=image.pk).update(status="deactivated")

    response = cloud.get(f"image/v2/images/{image.id}/file")

    assert response.status_code == 403


@pytest.mark.parametrize("suffix", ["", "/file"])
def test_another_projects_private_image_is_404(cloud, other_account, suffix):
    theirs = make_image(other_account)

    response = cloud.get(f"image/v2/images/{theirs.id}{suffix}")

    assert response.status_code == 404
    assert response.json()["message"] == f"No image found with ID {theirs.id}"


# An image id no test creates; fixed, as parameters must be the same in every process.
@pytest.mark.parametrize("image_id", ["not-a-uuid", "9b2e7c41-0f3a-4d86-b5e2-7a1c93d04f58"])
def test_unknown_images_are_404(cloud, image_id):
    assert cloud.get(f"image/v2/images/{image_id}").status_code == 404


def test_public_images_of_other_projects_are_listed_and_shown(cloud, account, other_account):
    mine = make_image(account)
    public = make_image(other_account, visibility="public")
    make_image(other_account)

    listed = {image["id"] for image in cloud.get("image/v2/images").json()["images"]}

    assert listed == {str(mine.id), str(public.id)}
    assert cloud.get(f"image/v2/images/{public.id}").status_code == 200


def test_the_owner_deletes_an_image_and_its_bytes(cloud, account, tmp_path):
    image = stored_image(account, tmp_path, vhd_samples.fixed_vhd())
    path = blobstore.path_of(image.blob_id)

    response = cloud.delete(f"image/v2/images/{image.id}")

    assert response.status_code == 204
    assert not Image.objects.filter(pk=image.pk).exists()
    assert not path.exists()
    assert cloud.get(f"image/v2/images/{image.id}").status_code == 404


def test_deleting_an_image_keeps_the_object_it_was_imported_from(cloud, account, put_object):
    stored = put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())
    image = make_image(account, blob_id=blobstore.link_or_copy(stored.blob_id))

    cloud.delete(f"image/v2/images/{image.id}")

    assert blobstore.path_of(stored.blob_id).read_bytes() == vhd_samples.fixed_vhd()


@pytest.mark.parametrize(
    ("visibility", "protected", "status", "message"),
    [
        ("public", False, 403, "You cannot delete image {id}."),
        ("private", False, 404, "No image found with ID {id}"),
    ],
)
def test_only_the_owner_may_delete_an_image(
    cloud, other_account, visibility, protected, status, message
):
    theirs = make_image(other_account, visibility=visibility, protected=protected)

    response = cloud.delete(f"image/v2/images/{theirs.id}")

    assert response.status_code == status
    assert response.json()["message"] == message.format(id=theirs.id)
    assert Image.objects.filter(pk=theirs.pk).exists()


def test_a_protected_image_cannot_be_deleted(cloud, account):
    image = make_image(account, protected=True)

    response = cloud.delete(f"image/v2/images/{image.id}")

    assert response.status_code == 403
    assert response.json()["message"] == f"Image {image.id} is protected and cannot be deleted."


def test_a_client_following_next_sees_every_image_once(cloud, account):
    created = {str(make_image(account, age=i, name=f"image-{i}").id) for i in range(5)}
    seen = []

    url = "image/v2/images?limit=2"
    while url:
        body = cloud.get(url).json()
        assert body["first"] == "/v2/images?limit=2"
        seen += [image["id"] for image in body["images"]]
        url = "image" + body["next"] if "next" in body else None

    assert sorted(seen) == sorted(created)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["c", None, "a"]),
        ("sort_dir=asc", ["a", None, "c"]),
        ("sort_key=name&sort_dir=asc", [None, "a", "c"]),
        ("sort_key=size&sort_dir=desc", ["c", "a", None]),
        ("name=a", ["a"]),
        ("status=queued", [None]),
        ("status=active&sort_dir=asc", ["a", "c"]),
    ],
)
def test_images_are_sorted_and_filtered(cloud, account, query, expected):
    make_image(account, age=3, name="a", size=10)
    make_image(account, age=2, name=None, size=None, status="queued")
    make_image(account, age=1, name="c", size=20)

    images = cloud.get(f"image/v2/images?{query}").json()["images"]

    assert [image["name"] for image in images] == expected


def test_images_are_listed_by_ids_in_one_request(cloud, account):
    a, b, c = (make_image(account, age=n, name=name) for n, name in enumerate("abc"))

    def names(query: str) -> list[str]:
        return sorted(
            image["name"] for image in cloud.get(f"image/v2/images?{query}").json()["images"]
        )

    assert names(f"id=in:{a.id},{c.id}") == ["a", "c"]
    assert names(f'id=in:"{b.id}", {c.id}') == ["b", "c"]
    assert names(f"id={b.id}") == ["b"]
    # Ids no image can have match nothing rather than erroring.
    assert names(f"id=in:not-a-uuid,{a.id},%00") == ["a"]
    assert names("id=in:") == []


def test_images_changed_since_a_moment_are_listed_as_glance_filters_them(cloud, account):
    old, recent = make_image(account, name="old"), make_image(account, name="recent")
    moment = timezone.now() - timedelta(minutes=5)
    Image.objects.filter(pk=old.pk).update(updated_at=moment - timedelta(seconds=1))
    Image.objects.filter(pk=recent.pk).update(updated_at=moment + timedelta(seconds=1))
    since = moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def names(query: str) -> list[str]:
        response = cloud.get(f"image/v2/images?{query}")
        assert response.status_code == 200
        return [image["name"] for image in response.json()["images"]]

    assert names(f"updated_at=gte:{since}&sort_key=updated_at") == ["recent"]
    assert names(f"updated_at=lt:{since}") == ["old"]
    assert names(f"updated_at=gt:{moment.replace(tzinfo=None).isoformat()}") == ["recent"]
    assert sorted(names(f"created_at=lte:{timezone.now().isoformat().replace('+', '%2B')}")) == [
        "old",
        "recent",
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("updated_at=since:2026-01-01T00:00:00Z", "Unable to filter on a unknown operator."),
        (
            "updated_at=gte:yesterday",
            'Bad "updated_at" query filter format. Use ISO 8601 DateTime notation.',
        ),
    ],
)
def test_a_bad_time_filter_is_refused_as_glance_refuses_it(cloud, query, message):
    assert_refused(cloud.get(f"image/v2/images?{query}"), 400, message)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=x", "limit param must be an integer"),
        ("limit=-2", "limit param must be positive"),
        ("marker=bad", "Invalid marker format"),
        ("sort_dir=sideways", "Invalid sort direction: sideways"),
        ("status=shiny", "Invalid status value: shiny"),
        ("visibility=secret", "Invalid visibility value: secret"),
    ],
)
def test_a_bad_image_list_query_is_refused_with_400(cloud, query, message):
    assert_refused(cloud.get(f"image/v2/images?{query}"), 400, message)


def test_an_unknown_image_marker_is_refused(cloud):
    marker = uuid.uuid4()

    response = cloud.get(f"image/v2/images?marker={marker}")

    assert response.status_code == 400
    assert response.json()["message"] == f"No image found with ID {marker}"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "image/v2/images", "GET, POST"),
        ("POST", "image/v2/images/{id}", "GET, PATCH, DELETE"),
        ("GET", "image/v2/images/{id}/stage", "PUT"),
        ("GET", "image/v2/images/{id}/import", "POST"),
        ("POST", "image/v2/images/{id}/tasks", "GET"),
        ("POST", "image/v2/info/import", "GET"),
        ("PUT", "image/v2/images/{id}/file", "GET"),
        ("DELETE", "image/v2/schemas/image", "GET"),
    ],
)
def test_unsupported_image_methods_are_405(cloud, account, method, path, allow):
    image = make_image(account)

    response = cloud.request(method, path.format(id=image.id))

    assert response.status_code == 405
    assert response.headers["Allow"] == allow


def test_images_need_a_token(anonymous_cloud):
    assert anonymous_cloud.get("image/v2/images").status_code == 401


def test_create_image_from_file_refuses_a_file_of_another_format(account, tmp_path):
    path = tmp_path / "disk.raw"
    path.write_bytes(vhd_samples.raw_disk_image())

    for disk_format in ("vhd", "qcow2", "iso"):
        with pytest.raises(NotAnImage):
            create_image_from_file(account.project, "x", path, disk_format)

    assert not Image.objects.exists()


def test_the_localcloud_image_command_makes_an_active_image_from_a_file(account, tmp_path):
    path = tmp_path / "disk.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    output = io.StringIO()

    call_command(
        "localcloud_image",
        account.project.name,
        "Demo",
        str(path),
        "--disk-format",
        "vhd",
        stdout=output,
    )

    image = Image.objects.get(pk=output.getvalue().strip())
    assert (image.name, image.status, image.disk_format) == ("Demo", "active", "vhd")
    assert image.virtual_size == vhd_samples.SAMPLE_VIRTUAL_SIZE
    assert blobstore.path_of(image.blob_id).read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("project", "file", "message"),
    [
        ("nobody", "disk.raw", "no project named 'nobody'"),
        ("acme", "missing.raw", "is not a file"),
        ("acme", "disk.raw", "not an importable VHD (code 396)"),
    ],
)
def test_the_localcloud_image_command_explains_what_is_wrong(
    account, tmp_path, project, file, message
):
    (tmp_path / "disk.raw").write_bytes(vhd_samples.raw_disk_image())

    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("localcloud_image", project, "x", str(tmp_path / file), "--disk-format", "vhd")


def test_versions_lists_the_same_with_200_as_glance_does(anonymous_cloud):
    root = anonymous_cloud.get("image/")
    listing = anonymous_cloud.get("image/versions")

    assert listing.status_code == 200
    assert listing.json() == root.json()
