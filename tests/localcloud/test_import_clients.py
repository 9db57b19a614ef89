"""The interoperable import driven by real, unchanged clients against the built-in cloud:
python-glanceclient (its Python API and the `glance` shell) and openstacksdk.

glanceclient sends staged data chunked, which only a real WSGI server decodes, so its
glance-direct runs against gunicorn (sharing this test's database and blob store);
everything else runs against the test's live server.
"""

from __future__ import annotations

import hashlib
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import glanceclient
import openstack
import pytest
from django.conf import settings

from tests.openstack.scripted import Reply, ScriptedCloud

pytestmark = pytest.mark.usefixtures("fast_hashing", "task_worker")

DATA = b"client image " * 5000
MD5 = hashlib.md5(DATA, usedforsecurity=False).hexdigest()


@pytest.fixture
def files():
    server = ScriptedCloud().start()
    server.on("GET", "/disk.raw", Reply(body=DATA))
    yield server
    server.stop()


def wait_active(get, image_id: str, timeout: float = 120.0):
    """The image once active in every store asked for: as on Glance, it turns active when
    the first store has it, while the others are still listed as being imported to."""
    deadline = time.monotonic() + timeout
    image = get(image_id)
    while (
        image["status"] != "active" or image.get("os_glance_importing_to_stores")
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
        image = get(image_id)
    return image


def test_glanceclient_imports_by_web_download(live_server, account, files):
    glance = glanceclient.Client(
        "2", endpoint=live_server.url + "/localcloud/image", token=account.token()
    )

    assert "web-download" in glance.images.get_import_info()["import-methods"]["value"]
    assert [store["id"] for store in glance.images.get_stores_info()["stores"]] == [
        "fast",
        "cheap",
    ]
    image = glance.images.create(
        name="from-glanceclient", disk_format="raw", container_format="bare", os_distro="cirros"
    )
    glance.images.image_import(
        image["id"], "web-download", f"{files.url}/disk.raw", stores=["fast", "cheap"]
    )
    done = wait_active(glance.images.get, image["id"])

    assert (done["checksum"], done["stores"], done["os_distro"]) == (MD5, "fast,cheap", "cirros")
    tasks = glance.images.get_associated_image_tasks(image["id"])["tasks"]
    assert [task["status"] for task in tasks] == ["success"]


def test_glanceclient_stages_and_imports_with_glance_direct(
    gunicorn, live_server, settings, tmp_path
):
    """The stage goes to gunicorn, the one server here that reads chunked bodies; the
    import to the live server, whose jobs go to this test's worker. Both share the
    database, and the worker reads the blob store gunicorn staged into."""
    settings.LOCALCLOUD_STORE_DIR = gunicorn.store_dir
    staging = glanceclient.Client(
        "2", endpoint=f"http://127.0.0.1:{gunicorn.port}/localcloud/image", token=gunicorn.token
    )
    glance = glanceclient.Client(
        "2", endpoint=live_server.url + "/localcloud/image", token=gunicorn.token
    )
    path = tmp_path / "disk.raw"
    path.write_bytes(DATA)

    image = glance.images.create(name="staged", disk_format="raw", container_format="bare")
    with open(path, "rb") as data:
        staging.images.stage(image["id"], data, len(DATA))
    glance.images.image_import(image["id"], "glance-direct")
    done = wait_active(glance.images.get, image["id"])

    assert (done["size"], done["checksum"], done["stores"]) == (len(DATA), MD5, "fast")


def test_the_glance_shell_creates_an_image_via_import(live_server, account, files):
    """What a person types: `glance image-create-via-import --import-method web-download`."""
    environment = {
        "PATH": os.environ["PATH"],
        "OS_AUTH_URL": f"{live_server.url}/localcloud/identity/v3",
        "OS_USERNAME": account.user.name,
        "OS_PASSWORD": account.password,
        "OS_PROJECT_NAME": account.project.name,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": settings.LOCALCLOUD_REGION,
    }
    command = [
        str(Path(sys.executable).parent / "glance"),
        "--os-image-api-version",
        "2",
        "image-create-via-import",
        "--name",
        "from-the-shell",
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--import-method",
        "web-download",
        "--uri",
        f"{files.url}/disk.raw",
    ]

    # A terminal on stdin: glance reads a piped stdin as image data.
    terminal, other_end = pty.openpty()
    try:
        created = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=60, stdin=other_end
        )
    finally:
        os.close(terminal)
        os.close(other_end)

    assert created.returncode == 0, created.stderr
    assert "from-the-shell" in created.stdout
    with openstack.connect(
        **account.keystone_v3_login(live_server.url),
        region_name=settings.LOCALCLOUD_REGION,
        load_yaml_config=False,
        load_envvars=False,
    ) as conn:
        (image,) = conn.image.images(name="from-the-shell")
        done = wait_active(lambda image_id: conn.image.get_image(image_id), image.id)
    assert done.checksum == MD5


@pytest.fixture
def conn(live_server, account):
    connection = openstack.connect(
        **account.keystone_v3_login(live_server.url),
        region_name=settings.LOCALCLOUD_REGION,
        load_yaml_config=False,
        load_envvars=False,
    )
    yield connection
    connection.close()


def test_openstacksdk_creates_an_image_with_use_import(conn, tmp_path):
    path = tmp_path / "disk.raw"
    path.write_bytes(DATA)

    image = conn.create_image(
        "from-the-sdk",
        filename=str(path),
        disk_format="raw",
        container_format="bare",
        use_import=True,
        wait=True,
        timeout=30,
        os_distro="ubuntu",
    )
    # The SDK's wait ends once the image leaves queued; the import goes on from there.
    done = wait_active(lambda image_id: conn.image.get_image(image_id), image.id)

    assert done.status == "active"
    assert done.checksum == MD5
    assert done.os_distro == "ubuntu"
    (task,) = conn.image.image_tasks(image)
    assert (task.type, task.status) == ("api_image_import", "success")


def test_openstacksdk_imports_by_web_download_and_copies_to_another_store(conn, files):
    assert [store.id for store in conn.image.stores()] == ["fast", "cheap"]
    assert "copy-image" in conn.image.get_import_info().import_methods["value"]
    image = conn.image.create_image(
        name="sdk-web", disk_format="raw", container_format="bare", allow_duplicates=True
    )

    conn.image.import_image(image, method="web-download", uri=f"{files.url}/disk.raw")
    active = wait_active(lambda image_id: conn.image.get_image(image_id), image.id)
    conn.image.import_image(image, method="copy-image", stores=["cheap"])
    deadline = time.monotonic() + 120
    while stores_of(conn, image.id) != "fast,cheap" and time.monotonic() < deadline:
        time.sleep(0.1)

    assert active.checksum == MD5
    assert stores_of(conn, image.id) == "fast,cheap"
    assert [task.status for task in conn.image.image_tasks(image)] == ["success", "success"]


def stores_of(conn, image_id: str) -> str | None:
    """``stores``, which the SDK's Image keeps among its extra properties."""
    return conn.image.get_image(image_id).properties.get("stores")
