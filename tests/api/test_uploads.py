"""PUT /api/v1/tasks/upload: a file's bytes into a new image (glance-direct) against the
live built-in cloud, as the import page's upload does: streamed (never read whole), once
per Idempotency-Key, what it refuses, who may, and a body cut off on a real socket."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ApiToken, Cloud, ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.models import Image
from tests.support.stalling import put_cut_short
from tests.support.tracking import finished
from tests.support.waiting import wait_for

UPLOAD = "/api/v1/tasks/upload"


def body(response):
    return json.loads(response.content)


def fields(**changed) -> dict:
    return {"cloud": "local", "name": "web-03", "disk_format": "vhd", **changed}


@pytest.fixture
def discovered(local_cloud):
    """The built-in cloud as its capabilities say: glance-direct, stores fast and cheap."""
    capabilities.refresh(local_cloud)
    local_cloud.refresh_from_db()
    return local_cloud


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_hashing")
class TestOnTheBuiltInCloud:
    def test_a_file_put_becomes_an_image_with_its_checksum_once_per_key(
        self, api, token_for, person_on, discovered, beat, settings
    ):
        # Read through request.body, a file this size would be refused: it is streamed.
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
        disk = vhd_samples.fixed_vhd()
        token = token_for(person_on("colleague", discovered))
        key = {"Idempotency-Key": "web-03"}
        sent = fields(stores=["cheap"], filename="web-03.vhd")

        first = api.put(UPLOAD, disk, sent, token=token, headers=key)
        again = api.put(UPLOAD, b"not read", sent, token=token, headers=key)

        assert first.status_code == 201, first.content
        assert again.status_code == 200 and body(again)["id"] == body(first)["id"]
        task = ImageTask.objects.get()
        assert (task.method, task.submitted_by.username) == ("glance-direct", "cora")
        assert task.input == {
            "filename": "web-03.vhd",
            "image_properties": {
                "name": "web-03",
                "disk_format": "vhd",
                "container_format": "bare",
            },
            "stores": ["cheap"],
        }
        wait_for(lambda: finished(task), what="the import to finish")
        assert task.status == statuses.SUCCESS, task.message
        image = client_for(discovered).images.get_image(task.result["image_id"])
        assert image.checksum == hashlib.md5(disk, usedforsecurity=False).hexdigest()
        assert Image.objects.count() == 1

    @pytest.mark.parametrize(
        ("changed", "field", "said"),
        [
            ({"name": ""}, "name", "This field is required."),
            ({"disk_format": "floppy"}, "disk_format", "Select a valid choice."),
            ({"stores": ["nowhere"]}, "stores", "Select a valid choice. nowhere is not one"),
        ],
    )
    def test_bad_fields_are_a_422_and_nothing_is_made(
        self, api, token_for, person_on, discovered, changed, field, said
    ):
        token = token_for(person_on("owner", discovered))

        response = api.put(UPLOAD, b"x" * 512, fields(**changed), token=token)

        assert response.status_code == 422
        (problem,) = body(response)["detail"]
        assert problem["loc"] == ["body", field] and problem["msg"].startswith(said)
        assert not ImageTask.objects.exists() and not Image.objects.exists()

    def test_an_empty_file_or_no_length_is_refused(self, api, token_for, person_on, discovered):
        token = token_for(person_on("owner", discovered))

        empty = api.put(UPLOAD, b"", fields(), token=token, CONTENT_LENGTH="0")
        unsized = api.put(UPLOAD, b"abc", fields(), token=token, CONTENT_LENGTH="")

        assert empty.status_code == 400 and "The file is empty" in body(empty)["detail"]
        assert unsized.status_code == 411
        assert not Image.objects.exists()

    def test_a_cloud_without_glance_direct_says_so(self, api, token_for, person_on, discovered):
        Cloud.objects.filter(pk=discovered.pk).update(import_methods=["web-download"])

        response = api.put(
            UPLOAD, b"x" * 512, fields(), token=token_for(person_on("owner", discovered))
        )

        assert response.status_code == 409
        assert "does not offer uploads into an image" in body(response)["detail"]

    def test_an_upload_cut_off_is_rejected_with_the_reason_and_no_image_left(
        self, person_on, token_for, discovered, live_server
    ):
        """A real socket that announces 4 MiB, sends 1 MiB and stops sending."""
        token = token_for(person_on("owner", discovered))
        answer = put_cut_short(
            live_server.url,
            f"{UPLOAD}?{urlencode(fields())}",
            {"Authorization": f"Bearer {token}"},
        )

        head, _, sent_back = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 201"), answer[:300]
        assert json.loads(sent_back)["status"] == "rejected"
        task = ImageTask.objects.get()
        assert task.message.startswith("The upload was cut off (the upload ended 3145728 bytes")
        assert not Image.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("outsider", 404)])
def test_a_viewer_uploads_nothing_and_an_outsider_finds_no_cloud(
    request, api, token_for, cloud, who, status
):
    Cloud.objects.filter(pk=cloud.pk).update(import_methods=["glance-direct"])
    token = token_for(request.getfixturevalue(who))

    response = api.put(UPLOAD, b"x" * 512, fields(cloud="acme"), token=token)

    assert response.status_code == status
    assert not ImageTask.objects.exists()


def test_an_anonymous_or_revoked_caller_uploads_nothing(api, owner, cloud, token_for):
    value = token_for(owner)
    ApiToken.objects.update(revoked_at=timezone.now())

    for token in (None, value):
        response = api.put(UPLOAD, b"x" * 512, fields(cloud="acme"), token=token)
        assert response.status_code == 401
    assert not ImageTask.objects.exists()


def test_a_switched_off_cloud_takes_no_upload(api, owner, cloud, token_for):
    Cloud.objects.filter(pk=cloud.pk).update(import_methods=["glance-direct"], enabled=False)

    response = api.put(UPLOAD, b"x" * 512, fields(cloud="acme"), token=token_for(owner))

    assert response.status_code == 403 and "switched off" in body(response)["detail"]


def test_a_session_must_send_its_csrf_token_to_upload(owner, cloud):
    from django.test import Client

    from tests.support.api import Api

    Cloud.objects.filter(pk=cloud.pk).update(import_methods=["glance-direct"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    response = Api(browser).put(UPLOAD, b"x" * 512, fields(cloud="acme"))

    assert response.status_code == 403
    assert not ImageTask.objects.exists()
