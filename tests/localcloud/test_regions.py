"""A second region of the built-in cloud, and the glance-download import between regions.

Everything over real HTTP to the live built-in cloud, imports run by a real worker. The
source images in the second region are made by the seed's own code
(``create_image_from_file``), as the Images API has no upload outside an import.
"""

from __future__ import annotations

import hashlib
import json
import time

import openstack
import pytest
from django.conf import settings

from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from imagetasks.localcloud.models import CloudTask, Image, Project
from tests.localcloud.conftest import CloudSession
from tests.support.glance_api import assert_refused

pytestmark = pytest.mark.usefixtures("fast_hashing", "task_worker")

REGION = "LOCAL2"
DATA = vhd_samples.fixed_vhd()
NOT_FOUND = "The resource could not be found."


@pytest.fixture(autouse=True)
def second_region(settings):
    settings.LOCALCLOUD_SECOND_REGION = REGION


@pytest.fixture
def account_with_region(account):
    Project.objects.filter(pk=account.project.pk).update(extra_regions=[REGION])
    account.project.refresh_from_db()
    return account


@pytest.fixture
def token(account_with_region) -> str:
    return account_with_region.token()


@pytest.fixture
def cloud(live_server, token):
    """The account's session on the main region's URLs (paths under /localcloud/)."""
    with CloudSession(live_server.url, token) as session:
        yield session


@pytest.fixture
def region_cloud(live_server, token):
    """The same token, on the second region's Images endpoint."""
    with region_session(live_server, token) as session:
        yield session


def region_session(live_server, token: str) -> CloudSession:
    """A session whose ``image/…`` paths are the second region's."""
    session = CloudSession(live_server.url, token)
    session.base_url += f"regions/{REGION}/"
    return session


def source_image(project: Project, tmp_path, *, region: str = REGION, **fields) -> Image:
    """An active VHD image of ``project`` in ``region``, with ``fields`` set on it."""
    path = tmp_path / "source.vhd"
    path.write_bytes(DATA)
    image = create_image_from_file(project, "source", path, "vhd", region=region)
    for name, value in fields.items():
        setattr(image, name, value)
    image.save()
    return image


def new_image(session, **fields) -> dict:
    response = session.post("image/v2/images", json={"name": "copied", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def glance_download(cloud, image_id: str, remote_id: str, region: str = REGION, **body):
    method = {
        "name": "glance-download",
        "glance_image_id": remote_id,
        "glance_region": region,
        "glance_service_interface": "public",
    }
    return cloud.post(f"image/v2/images/{image_id}/import", json={"method": method, **body})


def ended_import(cloud, image_id: str, timeout: float = 120.0) -> tuple[dict, dict]:
    """The image and its import task once the task ended and the image let go of it."""
    deadline = time.monotonic() + timeout
    while True:
        image = cloud.get(f"image/v2/images/{image_id}").json()
        tasks = cloud.get(f"image/v2/images/{image_id}/tasks").json()["tasks"]
        ended = tasks and tasks[-1]["status"] in ("success", "failure")
        if ended and "os_glance_import_task" not in image:
            return image, tasks[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"the import of {image_id} did not end: {image['status']}")
        time.sleep(0.05)


def v3_catalog(anonymous_cloud, account) -> list[dict]:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": account.user.name,
                        "domain": {"id": "default"},
                        "password": account.password,
                    }
                },
            }
        }
    }
    response = anonymous_cloud.post("identity/v3/auth/tokens", json=body)
    assert response.status_code == 201
    return response.json()["token"]["catalog"]


def endpoints(catalog: list[dict], service_type: str) -> list[tuple[str, str, str]]:
    (service,) = [entry for entry in catalog if entry["type"] == service_type]
    return [(e["region"], e["interface"], e["url"]) for e in service["endpoints"]]


# --- The catalog ------------------------------------------------------------------------


def test_the_catalog_lists_the_second_region_only_for_a_project_that_has_it(
    anonymous_cloud, account_with_region, other_account, live_server
):
    with_region = v3_catalog(anonymous_cloud, account_with_region)
    without = v3_catalog(anonymous_cloud, other_account)

    base = f"{live_server.url}/localcloud"
    interfaces = ("public", "internal", "admin")
    assert endpoints(with_region, "image") == [
        *((settings.LOCALCLOUD_REGION, i, f"{base}/image") for i in interfaces),
        *((REGION, i, f"{base}/regions/{REGION}/image") for i in interfaces),
    ]
    account_url = f"{base}/object/v1/AUTH_{account_with_region.project.id}"
    assert endpoints(with_region, "object-store") == [
        *((settings.LOCALCLOUD_REGION, i, account_url) for i in interfaces),
        *((REGION, i, account_url) for i in interfaces),  # one object store for both
    ]
    assert [region for region, _, _ in endpoints(with_region, "identity")] == [
        settings.LOCALCLOUD_REGION
    ] * 3
    regions = {e["region"] for entry in without for e in entry["endpoints"]}
    assert regions == {settings.LOCALCLOUD_REGION}
    assert endpoints(without, "image") == [
        (settings.LOCALCLOUD_REGION, i, f"{base}/image") for i in interfaces
    ]


def test_the_rackspace_catalog_lists_the_second_regions_versioned_image_url(
    anonymous_cloud, account_with_region, live_server
):
    body = {
        "auth": {
            "passwordCredentials": {
                "username": account_with_region.user.name,
                "password": account_with_region.password,
            }
        }
    }

    access = anonymous_cloud.post("identity/v2.0/tokens", json=body).json()["access"]

    services = {service["type"]: service for service in access["serviceCatalog"]}
    assert [(e["region"], e["publicURL"]) for e in services["image"]["endpoints"]] == [
        (settings.LOCALCLOUD_REGION, f"{live_server.url}/localcloud/image/v2"),
        (REGION, f"{live_server.url}/localcloud/regions/{REGION}/image/v2"),
    ]
    assert [e["region"] for e in services["object-store"]["endpoints"]] == [
        settings.LOCALCLOUD_REGION,
        REGION,
    ]


# --- Images of each region ----------------------------------------------------------------


def test_each_region_lists_and_shows_only_its_own_images(cloud, region_cloud):
    in_region = new_image(region_cloud, name="in LOCAL2")
    in_main = new_image(cloud, name="in LOCAL")

    assert [i["id"] for i in region_cloud.get("image/v2/images").json()["images"]] == [
        in_region["id"]
    ]
    assert [i["id"] for i in cloud.get("image/v2/images").json()["images"]] == [in_main["id"]]
    assert_refused(
        cloud.get(f"image/v2/images/{in_region['id']}"),
        404,
        f"No image found with ID {in_region['id']}",
    )
    assert region_cloud.get(f"image/v2/images/{in_main['id']}").status_code == 404
    assert region_cloud.delete(f"image/v2/images/{in_main['id']}").status_code == 404
    assert cloud.get(f"image/v2/images/{in_main['id']}").status_code == 200


def test_a_region_not_in_the_tokens_catalog_is_not_found(live_server, other_account):
    with region_session(live_server, other_account.token()) as s:
        listing = s.get("image/v2/images")
        created = s.post("image/v2/images", json={"name": "nowhere"})

    assert_refused(listing, 404, NOT_FOUND)
    assert_refused(created, 404, NOT_FOUND)
    assert not Image.objects.filter(name="nowhere").exists()


def test_the_second_region_has_no_tasks_api(region_cloud, cloud):
    for path in ("image/v2/tasks", "image/v2/tasks/", "image/v2/tasks/abc"):
        assert_refused(region_cloud.get(path), 404, NOT_FOUND)
    assert_refused(region_cloud.post("image/v2/tasks", json={"type": "import"}), 404, NOT_FOUND)
    assert cloud.get("image/v2/tasks").status_code == 200
    versions = region_cloud.get("image/versions").json()["versions"]
    assert versions[0]["links"][0]["href"].endswith(f"/localcloud/regions/{REGION}/image/v2/")


def test_openstacksdk_lists_the_images_of_the_second_region(
    live_server, account_with_region, tmp_path
):
    source_image(account_with_region.project, tmp_path)
    source_image(account_with_region.project, tmp_path, region="", name="main")
    connection = openstack.connect(
        **account_with_region.keystone_v3_login(live_server.url),
        region_name=REGION,
        load_yaml_config=False,
        load_envvars=False,
    )
    try:
        listed = [(image.name, image.status, image.size) for image in connection.image.images()]
    finally:
        connection.close()

    assert listed == [("source", "active", len(DATA))]


# --- glance-download ------------------------------------------------------------------------


def test_glance_download_copies_an_image_from_the_second_region(
    cloud, token, account_with_region, tmp_path
):
    source = source_image(
        account_with_region.project,
        tmp_path,
        properties={
            "os_distro": "windows",
            "hw_disk_bus": "scsi",
            "os_glance_import_task": "old-task",
            "stores": "elsewhere",
        },
    )
    image = new_image(cloud, hw_disk_bus="virtio")

    response = glance_download(cloud, image["id"], str(source.id), stores=["fast", "cheap"])

    assert response.status_code == 202
    done, task = ended_import(cloud, image["id"])
    assert task["status"] == "success", task["message"]
    assert done["status"] == "active"
    assert done["stores"] == "fast,cheap"
    assert (done["size"], done["checksum"]) == (len(DATA), source.checksum)
    assert done["checksum"] == hashlib.md5(DATA, usedforsecurity=False).hexdigest()
    assert (done["os_hash_algo"], done["os_hash_value"]) == (
        "sha512",
        hashlib.sha512(DATA).hexdigest(),
    )
    assert (done["disk_format"], done["container_format"]) == ("vhd", "bare")
    assert done["virtual_size"] == source.virtual_size
    assert done["os_distro"] == "windows"
    assert done["hw_disk_bus"] == "virtio"  # the image's own value is kept
    assert done["os_glance_failed_import"] == ""
    assert b"".join(cloud.get(f"image/v2/images/{image['id']}/file").iter_content()) == DATA
    assert task["input"]["import_req"]["method"]["glance_region"] == REGION
    stored = CloudTask.objects.get(pk=task["id"])
    assert token not in json.dumps(stored.input) and token not in json.dumps(task)
    assert Image.objects.get(pk=source.pk).blob_id != Image.objects.get(pk=image["id"]).blob_id


@pytest.mark.parametrize(
    "case",
    ["unknown image", "another project's private image", "region not in catalog", "not active"],
)
def test_glance_download_fails_the_task_when_the_remote_image_cannot_be_read(
    case, cloud, account_with_region, other_account, tmp_path
):
    region = REGION
    if case == "unknown image":
        remote_id = "00000000-0000-4000-8000-000000000000"
        message = f"Image {remote_id} not found in region {REGION}"
    elif case == "another project's private image":
        Project.objects.filter(pk=other_account.project.pk).update(extra_regions=[REGION])
        remote_id = str(source_image(other_account.project, tmp_path).id)
        message = f"Image {remote_id} not found in region {REGION}"
    elif case == "region not in catalog":
        region = "LOCAL3"
        remote_id = str(source_image(account_with_region.project, tmp_path, region=region).id)
        message = "public glance endpoint not found for region LOCAL3"
    else:
        queued = source_image(account_with_region.project, tmp_path, status="queued")
        remote_id = str(queued.id)
        message = (
            f"Image {remote_id} in region {REGION} is queued: "
            "only an active image can be downloaded"
        )
    image = new_image(cloud, disk_format="raw", container_format="bare")

    response = glance_download(cloud, image["id"], remote_id, region)

    assert response.status_code == 202
    done, task = ended_import(cloud, image["id"])
    assert (task["status"], task["message"]) == ("failure", message)
    assert done["status"] == "queued"
    assert done["os_glance_failed_import"] == "fast"
    assert "checksum" not in done or done["checksum"] is None
    assert (done["disk_format"], done["container_format"]) == ("raw", "bare")


def test_a_public_image_of_another_project_in_the_region_can_be_copied(
    cloud, account_with_region, other_account, tmp_path
):
    Project.objects.filter(pk=other_account.project.pk).update(extra_regions=[REGION])
    public = source_image(other_account.project, tmp_path, visibility="public")
    image = new_image(cloud)

    glance_download(cloud, image["id"], str(public.id))

    done, task = ended_import(cloud, image["id"])
    assert task["status"] == "success", task["message"]
    assert (done["status"], done["checksum"], done["owner"]) == (
        "active",
        public.checksum,
        account_with_region.project.id,
    )


def test_glance_download_copies_within_the_same_region_too(
    region_cloud, account_with_region, tmp_path
):
    """The main region can be a source as well: here, from LOCAL into LOCAL2."""
    source = source_image(account_with_region.project, tmp_path, region="")
    image = new_image(region_cloud)

    response = glance_download(
        region_cloud, image["id"], str(source.id), settings.LOCALCLOUD_REGION
    )

    assert response.status_code == 202
    deadline = time.monotonic() + 120
    while (found := Image.objects.get(pk=image["id"])).status != "active":
        assert time.monotonic() < deadline, found.properties
        time.sleep(0.05)
    assert (found.region, found.checksum, found.disk_format) == (REGION, source.checksum, "vhd")


@pytest.mark.parametrize(
    ("method", "message"),
    [
        (
            {"glance_region": REGION},
            "'glance_image_id' needs to be set for glance-download import method",
        ),
        (
            {"glance_image_id": "00000000-0000-4000-8000-000000000000"},
            "'glance_region' needs to be set for glance-download import method",
        ),
    ],
)
def test_glance_download_needs_the_image_and_the_region(cloud, method, message):
    image = new_image(cloud)

    response = cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "glance-download", **method}},
    )

    assert_refused(response, 400, message)
    assert cloud.get(f"image/v2/images/{image['id']}").json()["status"] == "queued"


def test_glance_download_needs_a_queued_image(cloud, account_with_region, tmp_path):
    source = source_image(account_with_region.project, tmp_path)
    active = source_image(account_with_region.project, tmp_path, region="")
    staged = new_image(cloud, disk_format="raw", container_format="bare")
    cloud.put(
        f"image/v2/images/{staged['id']}/stage",
        data=b"staged",
        headers={"Content-Type": "application/octet-stream"},
    )

    to_active = glance_download(cloud, str(active.id), str(source.id))
    to_staged = glance_download(cloud, staged["id"], str(source.id))

    assert_refused(to_active, 409, "Image with status active cannot be target for import")
    assert_refused(
        to_staged, 409, "Image needs to be in 'queued' state to use 'glance-download' method"
    )
