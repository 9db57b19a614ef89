"""The copy form against the live built-in cloud: what it refuses, and what it starts."""

from __future__ import annotations

import uuid

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, Copy
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from tests.support.clouds import register_cloud
from tests.support.factories import logged_in
from tests.support.forms import errors_of, post_form

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_hashing")]


@pytest.fixture
def copier_client(client, cloud_operator, source_cloud):
    """A test client logged in as ``cloud_operator``, granted the source cloud only."""
    return logged_in(client, cloud_operator, source_cloud)


@pytest.fixture
def image(account, tmp_path):
    path = tmp_path / "web-01.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    return create_image_from_file(account.project, "web-01", path, "vhd")


def post_copy(client, source: Cloud, **fields):
    defaults = {"copy_id": str(uuid.uuid4()), "name": "web-01-copy"}
    return post_form(client, "/copies/new/", source, defaults, fields)


def test_the_form_shows_the_image_chosen_and_offers_the_other_clouds_as_targets(
    copier_client, cloud_operator, source_cloud, target_cloud, image
):
    target_cloud.users.add(cloud_operator)

    html = copier_client.get(f"/copies/new/?cloud=acme-dfw&image={image.id}").content.decode()

    assert f'value="{image.id}" data-image-name="web-01" checked' in html
    assert '<option value="globex-ord">' in html
    assert '<option value="acme-dfw">' not in html
    assert 'value="web-01"' in html  # the name in the target defaults to the image's


def test_a_person_with_no_other_cloud_is_told_so_plainly(copier_client, source_cloud, image):
    html = copier_client.get(f"/copies/new/?cloud=acme-dfw&image={image.id}").content.decode()

    assert "No other cloud is available to you to copy to" in html
    assert ">Copy</button>" not in html


def test_copying_to_the_image_s_own_cloud_is_refused_on_the_field(
    copier_client, source_cloud, image
):
    response = post_copy(copier_client, source_cloud, image_id=str(image.id), target="acme-dfw")

    assert "The image is already in acme-dfw" in str(errors_of(response)["target"])
    assert not Copy.objects.exists()


def test_another_entry_for_the_same_account_and_region_is_refused_on_the_field(
    copier_client, cloud_operator, live_server, account, source_cloud, image
):
    alias = register_cloud(live_server, account, name="acme-again")
    alias.users.add(cloud_operator)

    response = post_copy(copier_client, source_cloud, image_id=str(image.id), target=alias.name)

    assert "same account and region as acme-dfw" in str(errors_of(response)["target"])
    assert not Copy.objects.exists()


def test_a_cloud_the_person_may_not_use_is_not_a_target(
    copier_client, source_cloud, target_cloud, image
):
    response = post_copy(
        copier_client, source_cloud, image_id=str(image.id), target=target_cloud.name
    )

    assert "Pick one of the clouds in the list" in str(errors_of(response)["target"])
    assert not Copy.objects.exists()


def test_an_image_the_source_account_does_not_have_is_refused_on_the_field(
    copier_client, cloud_operator, source_cloud, target_cloud, other_account, tmp_path
):
    target_cloud.users.add(cloud_operator)
    path = tmp_path / "theirs.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    theirs = create_image_from_file(other_account.project, "theirs", path, "vhd")

    response = post_copy(
        copier_client, source_cloud, image_id=str(theirs.id), target=target_cloud.name
    )

    assert f"There is no image {theirs.id} in acme-dfw." in str(errors_of(response)["image_id"])
    assert not Copy.objects.exists()


def test_a_copy_starts_with_its_export_submitted_and_shows_its_own_page(
    copier_client, cloud_operator, source_cloud, target_cloud, image, parked_jobs
):
    target_cloud.users.add(cloud_operator)
    copy_id = str(uuid.uuid4())

    response = post_copy(
        copier_client, source_cloud, image_id=str(image.id), target=target_cloud.name,
        copy_id=copy_id,
    )  # fmt: skip
    again = post_copy(
        copier_client, source_cloud, image_id=str(image.id), target=target_cloud.name,
        copy_id=copy_id,
    )  # fmt: skip

    assert response.status_code == again.status_code == 302
    assert response["Location"] == again["Location"] == f"/copies/{copy_id}/"
    copy = Copy.objects.get()
    assert (copy.status, copy.target_name) == ("exporting", "web-01-copy")
    assert copy.created_by == cloud_operator
    assert copy.export_task.status == statuses.PENDING
    assert copy.export_task.input == {
        "image_uuid": str(image.id),
        "receiving_swift_container": copy.staging_container,
    }
    page = copier_client.get(response["Location"]).content.decode()
    assert "Exporting" in page and "export task" in page


def test_without_an_image_the_form_lists_the_account_s_own_images_to_pick(
    copier_client, source_cloud, image
):
    html = copier_client.get("/copies/new/?cloud=acme-dfw").content.decode()

    assert f'name="image_id" value="{image.id}" data-image-name="web-01">' in html  # not chosen


def test_the_export_form_links_to_the_copy_form_for_the_chosen_image(
    copier_client, source_cloud, image
):
    html = copier_client.get(f"/tasks/new/export/?cloud=acme-dfw&image={image.id}")

    assert f'href="/copies/new/?cloud=acme-dfw&amp;image={image.id}"' in html.content.decode()
