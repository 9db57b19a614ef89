"""Starting work through the API against the live built-in cloud: an import and an export
through the forms' own checks, the same Idempotency-Key giving one task, resubmit and
stop watching; viewers get a 403, outsiders a 404, bad bodies a 400 or 422."""

from __future__ import annotations

import json

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from tests.support.factories import make_task, make_user

IMPORT = "/api/v1/tasks/import"
EXPORT = "/api/v1/tasks/export"


def body(response) -> dict:
    return json.loads(response.content)


@pytest.fixture
def disk(local_cloud):
    objects = client_for(local_cloud).objects
    objects.create_container("images")
    objects.put_object("images", "web-01.vhd", vhd_samples.fixed_vhd())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_hashing")
class TestOnTheBuiltInCloud:
    def test_an_import_is_submitted_once_per_idempotency_key(
        self, api, cloud_operator, local_cloud, disk, token_for
    ):
        local_cloud.users.add(cloud_operator)
        token = token_for(cloud_operator)
        sent = {"cloud": "local", "container": "images", "object": "web-01.vhd", "name": "web"}
        key = {"Idempotency-Key": "nightly-2026-12-07"}

        first = api.post(IMPORT, sent, token=token, headers=key)
        again = api.post(IMPORT, sent, token=token, headers=key)

        assert first.status_code == 201 and again.status_code == 200
        assert body(first)["id"] == body(again)["id"]
        assert body(first)["status"] in ("pending", "processing", "success")
        assert body(first)["input"]["import_from"] == "images/web-01.vhd"
        assert ImageTask.objects.count() == 1
        assert len(list(client_for(local_cloud).images.list_tasks(limit=10))) == 1

    def test_the_same_key_from_two_people_is_two_tasks(
        self, api, cloud_operator, django_user_model, local_cloud, disk, token_for
    ):
        other = make_user(django_user_model, "cleo", "operators")
        local_cloud.users.add(cloud_operator, other)
        sent = {"cloud": "local", "container": "images", "object": "web-01.vhd"}
        key = {"Idempotency-Key": "same"}

        mine = api.post(IMPORT, sent, token=token_for(cloud_operator), headers=key)
        theirs = api.post(IMPORT, sent, token=token_for(other), headers=key)

        assert mine.status_code == theirs.status_code == 201
        assert body(mine)["id"] != body(theirs)["id"]
        assert body(theirs)["submitted_by"] == "cleo"

    def test_an_import_of_a_missing_object_is_a_422_in_the_forms_words(
        self, api, cloud_operator, local_cloud, disk, token_for
    ):
        local_cloud.users.add(cloud_operator)
        sent = {"cloud": "local", "container": "images", "object": "nope.vhd"}

        response = api.post(IMPORT, sent, token=token_for(cloud_operator))

        assert response.status_code == 422
        (problem,) = body(response)["detail"]
        assert problem["loc"] == ["body", "object"]
        assert problem["msg"] == "There is no object “nope.vhd” in “images”."
        assert not ImageTask.objects.exists()

    def test_an_export_goes_through_the_export_forms_checks(
        self, api, cloud_operator, local_cloud, account, tmp_path, token_for
    ):
        local_cloud.users.add(cloud_operator)
        path = tmp_path / "disk.vhd"
        path.write_bytes(vhd_samples.fixed_vhd())
        image = create_image_from_file(account.project, "disk", path, "vhd")
        token = token_for(cloud_operator)

        bad = api.post(
            EXPORT, {"cloud": "local", "image_id": str(image.id), "container": "a.b"}, token=token
        )
        good = api.post(
            EXPORT, {"cloud": "local", "image_id": str(image.id), "container": "out"}, token=token
        )

        assert bad.status_code == 422 and "cannot contain '?' or '.'" in bad.content.decode()
        assert good.status_code == 201
        assert body(good)["type"] == "export" and body(good)["name"] == "disk"


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("outsider", 404)])
def test_only_an_operator_who_sees_the_cloud_starts_work(
    request, api, token_for, cloud, who, status
):
    token = token_for(request.getfixturevalue(who))

    for path, sent in (
        (IMPORT, {"cloud": "acme", "container": "c", "object": "o.vhd"}),
        (EXPORT, {"cloud": "acme", "image_id": "x", "container": "out"}),
    ):
        response = api.post(path, sent, token=token)
        assert response.status_code == status
    assert not ImageTask.objects.exists()


def test_a_viewer_can_neither_resubmit_nor_stop_a_task(api, viewer, task, token_for):
    token = token_for(viewer)

    for action in ("resubmit", "stop"):
        response = api.post(f"/api/v1/tasks/{task.pk}/{action}", token=token)
        assert response.status_code == 403
        assert "Only operators" in body(response)["detail"]
    task.refresh_from_db()
    assert task.watching and ImageTask.objects.count() == 1


def test_an_outsider_cannot_reach_a_task_to_change_it(api, outsider, task, token_for):
    for action in ("resubmit", "stop"):
        response = api.post(f"/api/v1/tasks/{task.pk}/{action}", token=token_for(outsider))
        assert response.status_code == 404


def test_stop_watching_stops_polling_and_says_so(api, owner, task, token_for):
    response = api.post(f"/api/v1/tasks/{task.pk}/stop", token=token_for(owner))

    assert response.status_code == 200
    assert body(response)["watching"] is False
    task.refresh_from_db()
    assert task.next_poll_at is None


def test_resubmitting_makes_a_new_linked_task(api, owner, cloud, token_for):
    failed = make_task(cloud, owner, status=statuses.FAILURE)

    response = api.post(f"/api/v1/tasks/{failed.pk}/resubmit", token=token_for(owner))

    assert response.status_code == 201
    assert body(response)["resubmitted_from"] == str(failed.pk)
    assert body(response)["status"] == "rejected"  # nobody answers for this cloud


def test_an_upload_cannot_be_resubmitted(api, owner, cloud, token_for):
    upload = make_task(cloud, owner, method="glance-direct", status=statuses.FAILURE)

    response = api.post(f"/api/v1/tasks/{upload.pk}/resubmit", token=token_for(owner))

    assert response.status_code == 409
    assert "cannot be sent again" in body(response)["detail"]


def test_a_body_that_is_not_json_is_a_400(api, owner, cloud, token_for):
    response = api.post(IMPORT, raw=b'{"cloud": "acme", ', token=token_for(owner))

    assert response.status_code == 400
    assert body(response)["detail"] == "Cannot parse request body"


@pytest.mark.parametrize(
    "sent",
    [{"cloud": 5, "container": "c", "object": "o"}, {"container": "c"},
     {"cloud": "acme", "delete_source": "perhaps"}, {"cloud": "acme", "method": "carrier-pigeon"},
     ["not", "an", "object"]],
)  # fmt: skip
def test_a_field_of_the_wrong_type_is_a_422(api, owner, cloud, token_for, sent):
    response = api.post(IMPORT, sent, token=token_for(owner))

    assert response.status_code == 422
    assert body(response)["detail"][0]["loc"][0] == "body"


def test_a_switched_off_cloud_takes_nothing(api, owner, cloud, token_for):
    cloud.enabled = False
    cloud.save()

    response = api.post(
        IMPORT, {"cloud": "acme", "container": "c", "object": "o"}, token=token_for(owner)
    )

    assert response.status_code == 403 and "switched off" in body(response)["detail"]


def test_a_session_must_send_the_csrf_token_to_change_anything(owner, task):
    from django.test import Client

    from tests.support.api import Api

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    response = Api(browser).post(f"/api/v1/tasks/{task.pk}/stop")

    assert response.status_code == 403
    task.refresh_from_db()
    assert task.watching


def test_a_session_that_sends_its_csrf_token_changes_things(owner, task):
    from django.test import Client

    from tests.support.api import Api

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    browser.get("/profile/")  # the page sets the CSRF cookie, as a browser's would
    csrf = browser.cookies["csrftoken"].value

    response = Api(browser).post(f"/api/v1/tasks/{task.pk}/stop", headers={"X-CSRFToken": csrf})

    assert response.status_code == 200
    task.refresh_from_db()
    assert not task.watching


def test_web_download_is_refused_where_the_cloud_does_not_offer_it(api, owner, cloud, token_for):
    sent = {"cloud": "acme", "method": "web-download", "url": "https://example.test/disk.qcow2"}

    response = api.post(IMPORT, sent, token=token_for(owner))

    assert response.status_code == 409
    assert "does not offer web-download" in body(response)["detail"]


def test_a_web_download_is_checked_by_its_form_before_the_cloud_is_asked(
    api, owner, cloud, token_for
):
    cloud.import_methods = ["web-download"]
    cloud.image_stores = [{"id": "fast", "default": True}, {"id": "cheap"}]
    cloud.save()
    sent = {
        "cloud": "acme",
        "method": "web-download",
        "url": "not a url",
        "name": "web",
        "disk_format": "floppy",
        "stores": ["fast", "nowhere"],  # container_format: bare, as the page would have it
    }

    response = api.post(IMPORT, sent, token=token_for(owner))

    assert response.status_code == 422
    problems = {problem["loc"][-1]: problem["msg"] for problem in body(response)["detail"]}
    assert problems.keys() == {"url", "disk_format", "stores"}
    assert problems["url"] == "Enter a valid URL."
    assert not ImageTask.objects.exists()
