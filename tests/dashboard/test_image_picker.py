"""The image picker of the export and copy forms, against the live built-in cloud:
search by name, pages of twenty, the chosen image kept, and a cloud that is down."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from imagetasks.localcloud.images.creation import create_image_from_file
from imagetasks.localcloud.models import Image
from tests.support.factories import make_cloud

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def many_images(account, tmp_path):
    """74 images, as in an account that made the old list unusable: web-00 … web-36, db-…"""
    path = tmp_path / "tiny.raw"
    path.write_bytes(b"\0" * 512)
    made = [
        create_image_from_file(account.project, f"{kind}-{n:02d}", path, "raw")
        for kind in ("web", "db")
        for n in range(37)
    ]
    return {image.name: image for image in made}


def radios(html: str) -> int:
    return html.count('type="radio" name="image_id"')


def test_the_export_form_shows_twenty_images_a_page_sorted_by_name_with_a_count(
    cloud_operator_client, many_images
):
    html = cloud_operator_client.get("/tasks/new/export/?cloud=local").content.decode()
    assert radios(html) == 20
    assert "1–20 of 74" in html
    assert html.index(">\n      db-00</label>") < html.index(">\n      db-19</label>")
    assert "web-00" not in html  # names sorted: db-… come first

    last = cloud_operator_client.get("/tasks/new/export/?cloud=local&page=4").content.decode()
    assert radios(last) == 14 and "61–74 of 74" in last and "Next →" not in last


def test_searching_by_part_of_the_name_narrows_the_list_and_the_exact_id_finds_one(
    cloud_operator_client, many_images
):
    fragment = cloud_operator_client.get("/clouds/local/image-picker/?for=export&q=EB-3").content
    html = fragment.decode()
    assert radios(html) == 7 and "1–7 of 7" in html  # web-30 … web-36, any case

    wanted = many_images["db-05"]
    by_id = cloud_operator_client.get(f"/clouds/local/image-picker/?for=copy&q={wanted.id}").content
    assert radios(by_id.decode()) == 1 and "db-05" in by_id.decode()


def test_the_chosen_image_stays_chosen_on_another_page_or_search(
    cloud_operator_client, many_images
):
    chosen = many_images["web-36"]
    html = cloud_operator_client.get(
        f"/clouds/local/image-picker/?for=export&q=db&image_id={chosen.id}"
    ).content.decode()
    assert f'value="{chosen.id}" data-image-name="web-36" checked' in html
    assert "(chosen)" in html
    assert radios(html) == 21  # the chosen one above the twenty found


def test_an_image_that_is_not_active_is_shown_but_cannot_be_picked(
    cloud_operator_client, many_images
):
    Image.objects.filter(pk=many_images["db-00"].pk).update(status="queued")
    html = cloud_operator_client.get(
        "/clouds/local/image-picker/?for=export&q=db-00"
    ).content.decode()
    assert f'value="{many_images["db-00"].id}" data-image-name="db-00" disabled' in html
    assert "only active images can be picked" in html


def test_a_search_that_matches_nothing_says_so(cloud_operator_client, many_images):
    html = cloud_operator_client.get(
        "/clouds/local/image-picker/?for=export&q=nginx"
    ).content.decode()
    assert radios(html) == 0
    assert "No image of this account has a name containing “nginx”." in html


def test_a_cloud_that_is_down_gets_a_message_not_an_error_page(client, django_user_model, db):
    cloud = make_cloud("down")
    user = django_user_model.objects.create_user("oda", password="pw-oda-1234")
    user.groups.add(Group.objects.get_or_create(name="operators")[0])
    cloud.users.add(user)
    client.force_login(user)
    response = client.get("/clouds/down/image-picker/?for=copy")
    assert response.status_code == 200
    assert "The cloud down could not list its images" in response.content.decode()


def test_viewers_may_not_use_the_picker_and_outsiders_do_not_see_the_cloud(
    client, django_user_model, local_cloud
):
    viewer = django_user_model.objects.create_user("vera", password="pw-vera-1234")
    viewer.groups.add(Group.objects.get_or_create(name="viewers")[0])
    local_cloud.users.add(viewer)
    client.force_login(viewer)
    assert client.get("/clouds/local/image-picker/").status_code == 403

    outsider = django_user_model.objects.create_user("otto", password="pw-otto-1234")
    outsider.groups.add(Group.objects.get_or_create(name="operators")[0])
    client.force_login(outsider)
    assert client.get("/clouds/local/image-picker/").status_code == 404
