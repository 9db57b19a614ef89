"""Uploading a file from the import page into the live built-in cloud's object storage."""

from __future__ import annotations

import hashlib
import time

import pytest
from django.contrib.auth.models import Group

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.localcloud import vhd_samples
from imagetasks.openstack import NotFound
from tests.support.stalling import put_cut_short, session_headers

pytestmark = pytest.mark.django_db(transaction=True)


def _login(client, django_user_model, cloud, name: str, group: str):
    user = django_user_model.objects.create_user(name, password=f"pw-{name}-123")
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    cloud.users.add(user)
    client.force_login(user)
    return client


def test_an_uploaded_file_is_stored_whole_and_the_import_form_is_filled_with_it(
    cloud_operator_client, local_cloud
):
    disk = vhd_samples.fixed_vhd()

    response = cloud_operator_client.put(
        "/clouds/local/upload/uploads/team/web-01.vhd",
        data=disk,
        content_type="application/octet-stream",
    )

    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["container"] == "uploads" and answer["object"] == "team/web-01.vhd"
    assert answer["bytes"] == len(disk)
    assert answer["md5"] == hashlib.md5(disk, usedforsecurity=False).hexdigest()
    with client_for(local_cloud).objects.get_object("uploads", "team/web-01.vhd") as stored:
        assert b"".join(stored.iter_content()) == disk
    form = cloud_operator_client.get(answer["import_url"]).content.decode()
    assert 'value="uploads"' in form and 'value="team/web-01.vhd"' in form
    assert 'value="web-01"' in form  # the image name, from the object's name


def test_the_import_page_offers_the_upload_form_with_a_progress_bar(
    cloud_operator_client, local_cloud
):
    html = cloud_operator_client.get("/tasks/new/import/?cloud=local").content.decode()

    assert 'id="upload-form"' in html
    assert 'data-upload-plan="/clouds/local/upload-plan/"' in html
    assert "<progress" in html


def test_an_empty_file_or_a_too_long_name_is_refused_with_a_message(
    cloud_operator_client, local_cloud
):
    empty = cloud_operator_client.put(
        "/clouds/local/upload/uploads/empty.vhd",
        data=b"",
        content_type="application/octet-stream",
        CONTENT_LENGTH="0",
    )
    long_name = cloud_operator_client.put(
        f"/clouds/local/upload/uploads/{'n' * 1100}.vhd",
        data=b"x" * 10,
        content_type="application/octet-stream",
    )

    assert empty.status_code == 400
    assert "empty" in empty.json()["error"]
    assert long_name.status_code == 400
    assert "at most 1024 bytes" in long_name.json()["error"]
    with pytest.raises(NotFound):
        client_for(local_cloud).objects.head_container("uploads")


def test_viewers_cannot_upload_and_other_peoples_clouds_are_not_found(
    client, django_user_model, local_cloud
):
    viewer = _login(client, django_user_model, local_cloud, "vera", "viewers")
    assert viewer.put("/clouds/local/upload/c/o.vhd", data=b"x").status_code == 403

    outsider = django_user_model.objects.create_user("otto", password="pw-otto-123")
    outsider.groups.add(Group.objects.get_or_create(name="operators")[0])
    client.force_login(outsider)
    assert client.put("/clouds/local/upload/c/o.vhd", data=b"x").status_code == 404


def test_only_put_is_accepted(cloud_operator_client, local_cloud):
    assert cloud_operator_client.get("/clouds/local/upload/c/o.vhd").status_code == 405


def test_an_upload_cut_short_stores_nothing(cloud_operator_client, local_cloud, live_server):
    """A real socket that announces 4 MiB, sends 1 MiB and stops sending, like a lost network."""
    answer = put_cut_short(
        live_server.url,
        "/clouds/local/upload/uploads/cut.vhd",
        session_headers(cloud_operator_client),
        timeout=10,
    )
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"The upload was interrupted" in answer and b"nothing was stored" in answer
    objects = client_for(local_cloud).objects
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        # The container may appear (it is created first); the object never does.
        try:
            objects.head_object("uploads", "cut.vhd")
        except NotFound:
            time.sleep(0.2)
            continue
        pytest.fail("a truncated upload was stored")


@pytest.mark.parametrize("announced", ["9" * 30, "-5", "12abc", "9" * 4400])
def test_an_upload_announcing_an_impossible_size_is_a_400_with_a_message(
    cloud_operator_client, local_cloud, announced
):
    response = cloud_operator_client.put(
        "/clouds/local/upload/uploads/web.vhd",
        data=b"abc",
        content_type="application/octet-stream",
        CONTENT_LENGTH=announced,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "The announced size is not one a file can have."


@pytest.mark.parametrize("container", [".", ".."])
def test_an_upload_to_a_dot_container_is_refused_not_discarded(
    cloud_operator_client, local_cloud, container
):
    response = cloud_operator_client.put(
        f"/clouds/local/upload/{container}/web.vhd",
        data=b"abc",
        content_type="application/octet-stream",
    )
    assert response.status_code == 400
    assert f"A container cannot be named “{container}”." in response.json()["error"]


def test_a_store_that_sends_no_etag_stores_the_file_but_does_not_call_it_verified(
    client, django_user_model
):
    from tests.openstack.scripted import Reply, ScriptedCloud
    from tests.support.factories import make_cloud

    store = ScriptedCloud().start()
    try:
        cloud = make_cloud("quiet", object_store_endpoint=f"{store.url}/v1/AUTH_q")
        store.on("HEAD", "/v1/AUTH_q/uploads", Reply(204))
        store.on("PUT", "/v1/AUTH_q/uploads/web.vhd", Reply(201))  # no ETag header
        _login(client, django_user_model, cloud, "quinn", "operators")
        response = client.put(
            "/clouds/quiet/upload/uploads/web.vhd", data=b"abc", content_type="text/plain"
        )
    finally:
        store.stop()
    assert response.status_code == 201
    assert response.json()["verified"] is False
