"""openstacksdk, unchanged, against the built-in cloud over real HTTP.

Everything is passed explicitly. A Connection made without ``cloud=`` reads
neither clouds.yaml nor OS_* variables, so the machine's own OpenStack
configuration cannot leak in.
"""

from __future__ import annotations

import hashlib
import os

import openstack.connection
import pytest
from keystoneauth1.exceptions import http as auth_errors
from openstack import exceptions

pytestmark = pytest.mark.usefixtures("fast_hashing")


def connect(live_server, account, settings, **options) -> openstack.connection.Connection:
    defaults = {
        "auth_url": f"{live_server.url}/localcloud/identity/v3",
        "username": account.user.name,
        "password": account.password,
        "project_name": account.project.name,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    return openstack.connection.Connection(
        region_name=settings.LOCALCLOUD_REGION, **(defaults | options)
    )


@pytest.fixture
def conn(live_server, account, settings):
    connection = connect(live_server, account, settings)
    yield connection
    connection.close()


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_containers_are_created_listed_and_deleted(conn):
    conn.object_store.create_container(name="photos")
    conn.object_store.create_container(name="docs")

    names = [container.name for container in conn.object_store.containers()]
    conn.object_store.delete_container("docs")

    assert names == ["docs", "photos"]
    assert [container.name for container in conn.object_store.containers()] == ["photos"]


def test_bytes_uploaded_as_data_download_unchanged(conn):
    conn.object_store.create_container(name="docs")
    data = b"hello from openstacksdk\n" * 1000

    conn.object_store.upload_object(container="docs", name="greeting.txt", data=data)

    assert conn.object_store.download_object("greeting.txt", container="docs") == data


def test_a_file_upload_keeps_the_sdks_checksums_as_metadata(conn, tmp_path):
    conn.object_store.create_container(name="images")
    source = tmp_path / "disk.img"
    data = bytes(range(256)) * 4096
    source.write_bytes(data)

    conn.object_store.upload_object(container="images", name="disk.img", filename=str(source))
    metadata = conn.object_store.get_object_metadata("disk.img", container="images")

    assert metadata.content_length == len(data)
    assert metadata.etag == md5(data)
    assert metadata.metadata["x-sdk-md5"] == md5(data)
    assert conn.object_store.download_object("disk.img", container="images") == data


def test_uploading_the_same_file_again_is_skipped_as_up_to_date(conn, tmp_path):
    conn.object_store.create_container(name="images")
    source = tmp_path / "disk.img"
    source.write_bytes(b"unchanged")
    conn.object_store.upload_object(container="images", name="disk.img", filename=str(source))

    stale = conn.object_store.is_object_stale("images", "disk.img", str(source))

    assert stale is False


def test_objects_are_listed_with_their_sizes_and_hashes(conn):
    conn.object_store.create_container(name="docs")
    for name in ("b.txt", "a.txt", "nested/c.txt"):
        conn.object_store.upload_object(container="docs", name=name, data=name.encode())

    objects = {obj.name: obj for obj in conn.object_store.objects("docs")}

    assert sorted(objects) == ["a.txt", "b.txt", "nested/c.txt"]
    assert objects["a.txt"].content_length == len("a.txt")
    assert objects["a.txt"].etag == md5(b"a.txt")


def test_a_deleted_object_is_gone(conn):
    conn.object_store.create_container(name="docs")
    conn.object_store.upload_object(container="docs", name="old.txt", data=b"old")

    conn.object_store.delete_object("old.txt", container="docs")

    assert list(conn.object_store.objects("docs")) == []
    with pytest.raises(exceptions.NotFoundException):
        conn.object_store.get_object_metadata("old.txt", container="docs")


def test_identity_v2_with_a_password_works_as_well(live_server, account, settings):
    connection = connect(
        live_server,
        account,
        settings,
        auth_url=f"{live_server.url}/localcloud/identity/v2.0",
        identity_api_version="2.0",
        user_domain_name=None,
        project_domain_name=None,
    )
    try:
        connection.object_store.create_container(name="v2")
        names = [container.name for container in connection.object_store.containers()]
    finally:
        connection.close()

    assert names == ["v2"]


def test_a_wrong_password_is_refused_by_identity(live_server, account, settings):
    connection = connect(live_server, account, settings, password="not-the-password")

    with pytest.raises(auth_errors.Unauthorized) as raised:
        list(connection.object_store.containers())

    assert raised.value.http_status == 401


# --- Files larger than one object may be: static large objects ------------------------------

MiB = 1024 * 1024


@pytest.fixture
def twenty_mib_file(tmp_path, settings):
    """A 20 MiB file, and a cloud whose objects may be at most 8 MiB."""
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * MiB
    path = tmp_path / "disk.vhd"
    path.write_bytes(os.urandom(20 * MiB))
    return path


def test_a_segmented_upload_through_the_proxy_comes_back_byte_for_byte(conn, twenty_mib_file):
    conn.object_store.create_container(name="images")

    conn.object_store.create_object(
        "images", "disk.vhd", filename=str(twenty_mib_file), segment_size=3 * MiB
    )
    metadata = conn.object_store.get_object_metadata("disk.vhd", container="images")
    data = conn.object_store.download_object("disk.vhd", container="images")

    assert metadata.is_static_large_object is True
    assert metadata.content_length == 20 * MiB
    assert md5(data) == md5(twenty_mib_file.read_bytes())


def test_a_segmented_upload_through_the_cloud_layer_comes_back_byte_for_byte(
    conn, twenty_mib_file, tmp_path
):
    conn.create_container("images")
    downloaded = tmp_path / "downloaded.vhd"

    conn.create_object("images", "disk.vhd", filename=str(twenty_mib_file), segment_size=3 * MiB)
    conn.get_object("images", "disk.vhd", outfile=str(downloaded))

    assert md5(downloaded.read_bytes()) == md5(twenty_mib_file.read_bytes())
    # The SDK keeps its segments beside the object, named <object>/<index>.
    segments = list(conn.object_store.objects("images", prefix="disk.vhd/"))
    assert len(segments) == 7
    assert sum(segment.content_length for segment in segments) == 20 * MiB


def test_a_segment_size_above_the_limit_is_lowered_to_what_info_reports(conn, twenty_mib_file):
    conn.object_store.create_container(name="images")

    conn.object_store.create_object(
        "images", "disk.vhd", filename=str(twenty_mib_file), segment_size=64 * MiB
    )

    segments = list(conn.object_store.objects("images", prefix="disk.vhd/"))
    assert [segment.content_length for segment in segments] == [8 * MiB, 8 * MiB, 4 * MiB]
    data = conn.object_store.download_object("disk.vhd", container="images")
    assert md5(data) == md5(twenty_mib_file.read_bytes())


def test_without_segments_a_file_above_the_limit_is_refused_413(conn, settings):
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * MiB
    conn.object_store.create_container(name="images")

    with pytest.raises(exceptions.HttpException) as refused:
        conn.object_store.upload_object(
            container="images", name="big.vhd", data=os.urandom(9 * MiB)
        )

    assert refused.value.status_code == 413
