"""Copying an image to more of its cloud's stores (copy-image), and choosing the stores of
an import from a URL, against the live built-in cloud (stores fast, the default, and cheap)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.openstack import ImageProperties
from tests.openstack.scripted import Reply
from tests.support.factories import make_task
from tests.support.tracking import finished
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_hashing")]


@pytest.fixture
def discovered(local_cloud):
    capabilities.refresh(local_cloud)
    local_cloud.refresh_from_db()
    return local_cloud


def copy_url(image_id: str) -> str:
    return f"/clouds/local/images/{image_id}/copy-to-stores/"


def copy_form(**changed) -> dict:
    return {"cloud": "local", "submission_id": str(uuid.uuid4()), "stores": ["cheap"], **changed}


def imported(cloud: Cloud, image_id: str, stores: list[str]) -> ImageTask:
    """A web-download that succeeded, as the poller leaves it."""
    return make_task(
        cloud,
        status=statuses.SUCCESS,
        method="web-download",
        result={"image_id": image_id, "stores": stores, "importing_to": [], "failed_stores": []},
    )


def test_a_successful_imports_page_offers_the_stores_its_image_is_not_in(
    cloud_operator_client, discovered
):
    task = imported(discovered, str(uuid.uuid4()), ["fast"])

    html = cloud_operator_client.get(f"/tasks/{task.pk}/").content.decode()

    assert "Copy to more stores" in html
    assert 'value="cheap"' in html and 'value="fast"' not in html
    assert "Allow some stores to fail" in html


def test_no_copy_is_offered_for_an_image_in_every_store_a_cloud_without_copy_image_or_a_viewer(
    client, cloud_operator_client, discovered, django_user_model
):
    everywhere = imported(discovered, str(uuid.uuid4()), ["fast", "cheap"])
    assert "Copy to more stores" not in cloud_operator_client.get(f"/tasks/{everywhere.pk}/").text
    task = imported(discovered, str(uuid.uuid4()), ["fast"])
    Cloud.objects.filter(pk=discovered.pk).update(import_methods=["web-download"])
    assert "Copy to more stores" not in cloud_operator_client.get(f"/tasks/{task.pk}/").text
    Cloud.objects.filter(pk=discovered.pk).update(import_methods=["copy-image"])
    viewer = django_user_model.objects.create_user("vera", password="pw-vera-123")
    viewer.groups.add(Group.objects.get_or_create(name="viewers")[0])
    discovered.users.add(viewer)
    client.force_login(viewer)
    assert "Copy to more stores" not in client.get(f"/tasks/{task.pk}/").text


def test_the_image_page_offers_the_copy_and_the_copy_is_followed_to_both_stores(
    cloud_operator_client, discovered, source_image, beat
):
    image = source_image(discovered)
    page = cloud_operator_client.get(f"/clouds/local/images/{image.id}/").content.decode()
    assert "Copy to more stores" in page and 'value="cheap"' in page
    form = copy_form(allow_failures="on")

    first = cloud_operator_client.post(copy_url(image.id), form)
    again = cloud_operator_client.post(copy_url(image.id), form)

    assert first.status_code == again.status_code == 302
    (task,) = ImageTask.objects.all()
    assert first.url == again.url == f"/tasks/{task.pk}/"
    assert (task.method, task.name) == ("copy-image", "web-01")
    assert task.input == {
        "image_id": image.id,
        "stores": ["cheap"],
        "all_stores_must_succeed": False,
    }
    wait_for(lambda: finished(task), what="the copy to finish")
    assert task.status == statuses.SUCCESS, task.message
    assert task.result["stores"] == ["fast", "cheap"]
    page = cloud_operator_client.get(f"/clouds/local/images/{image.id}/").content.decode()
    assert "fast, cheap" in page and "Copy to more stores" not in page


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"stores": []}, "Choose at least one store."),
        ({"stores": ["fast"]}, "Select a valid choice. fast is not one of the available choices."),
        ({"stores": ["nowhere"]}, "Select a valid choice. nowhere is not one"),
    ],
)
def test_a_copy_without_a_store_it_can_go_to_is_shown_again_with_what_to_fix(
    cloud_operator_client, discovered, source_image, form, said
):
    image = source_image(discovered)

    response = cloud_operator_client.post(copy_url(image.id), copy_form(**form))

    assert response.status_code == 200
    assert said in response.content.decode()
    assert not ImageTask.objects.exists()


def test_copy_access_viewers_outsiders_switched_off_and_missing_images(
    client, cloud_operator_client, discovered, source_image, django_user_model
):
    image = source_image(discovered)
    assert cloud_operator_client.get(copy_url("no-such-image")).status_code == 404
    Cloud.objects.filter(pk=discovered.pk).update(enabled=False)
    off = cloud_operator_client.post(copy_url(image.id), copy_form())
    assert off.status_code == 403 and "switched off" in off.content.decode()
    Cloud.objects.filter(pk=discovered.pk).update(enabled=True)

    viewer = django_user_model.objects.create_user("vera", password="pw-vera-123")
    viewer.groups.add(Group.objects.get_or_create(name="viewers")[0])
    discovered.users.add(viewer)
    client.force_login(viewer)
    assert client.post(copy_url(image.id), copy_form()).status_code == 403
    outsider = django_user_model.objects.create_user("otto", password="pw-otto-123")
    outsider.groups.add(Group.objects.get_or_create(name="operators")[0])
    client.force_login(outsider)
    assert client.post(copy_url(image.id), copy_form()).status_code == 404
    assert not ImageTask.objects.exists()


def test_a_cloud_that_cannot_copy_says_so(cloud_operator_client, discovered, source_image):
    image = source_image(discovered)
    Cloud.objects.filter(pk=discovered.pk).update(import_methods=["web-download"])

    response = cloud_operator_client.post(copy_url(image.id), copy_form())

    assert "does not offer copying an image to more stores" in response.content.decode()
    assert not ImageTask.objects.exists()


# The store picker of "From a URL" ------------------------------------------------------


def test_from_a_url_offers_the_stores_with_the_default_one_ticked(
    cloud_operator_client, discovered
):
    html = cloud_operator_client.get("/tasks/new/import/?cloud=local&how=web-download").text

    assert "<legend>Stores</legend>" in html
    assert 'value="fast"' in html and 'value="cheap"' in html
    fast = html[html.index('value="fast"') - 200 : html.index('value="fast"') + 60]
    assert "checked" in fast
    assert "fast (default)" in html


def test_a_cloud_with_one_store_shows_no_store_picker(cloud_operator_client, discovered):
    Cloud.objects.filter(pk=discovered.pk).update(
        image_stores=[{"id": "fast", "description": "", "default": True}]
    )

    html = cloud_operator_client.get("/tasks/new/import/?cloud=local&how=web-download").text

    assert "<legend>Stores</legend>" not in html and 'name="url"' in html


def test_a_url_import_goes_to_the_store_chosen(cloud_operator_client, discovered, files, beat):
    files.on("GET", "/disk.raw", Reply(body=b"raw disk " * 1000))
    form = {
        "cloud": "local",
        "how": "web-download",
        "submission_id": str(uuid.uuid4()),
        "url": f"{files.url}/disk.raw",
        "name": "to-cheap",
        "disk_format": "raw",
        "container_format": "bare",
        "stores": ["cheap"],
    }

    response = cloud_operator_client.post("/tasks/new/import/?cloud=local", form)

    assert response.status_code == 302
    task = ImageTask.objects.get()
    assert task.input["stores"] == ["cheap"]
    wait_for(lambda: finished(task), what="the import to finish")
    assert task.status == statuses.SUCCESS and task.result["stores"] == ["cheap"]


def test_a_copy_the_cloud_refuses_is_shown_with_its_message_and_a_new_submission_id(
    cloud_operator_client, discovered
):
    """An image without data yet: Glance refuses to copy it."""
    empty = client_for(discovered).imports.create_image(ImageProperties("empty", "raw"))
    form = copy_form()

    response = cloud_operator_client.post(copy_url(empty.id), form)

    html = response.content.decode()
    assert response.status_code == 200
    assert "The cloud refused it:" in html
    assert form["submission_id"] not in html, "the corrected form is a new submission"
    (task,) = ImageTask.objects.all()
    assert task.status == statuses.REJECTED
