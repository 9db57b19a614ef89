"""The import and export forms against the live built-in cloud: validation, the
checks through the client, refusals and a cloud that is down."""

from __future__ import annotations

import uuid

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from tests.support.factories import make_cloud
from tests.support.forms import errors_of, post_form

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_hashing")]


@pytest.fixture
def disk(local_cloud):
    objects = client_for(local_cloud).objects
    objects.create_container("images")
    objects.put_object("images", "web-01.vhd", vhd_samples.fixed_vhd())
    return "images/web-01.vhd"


def post_import(client, cloud, **fields):
    defaults = {"submission_id": str(uuid.uuid4()), "name": "web-01"}
    return post_form(client, "/tasks/new/import/", cloud, defaults, fields)


def test_the_form_browses_containers_then_objects_with_real_links(
    cloud_operator_client, local_cloud, disk
):
    html = cloud_operator_client.get(
        f"/tasks/new/import/?cloud={local_cloud.name}"
    ).content.decode()
    assert 'href="/tasks/new/import/?cloud=local&amp;container=images"' in html
    fragment = cloud_operator_client.get(
        "/clouds/local/browse/?container=images", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.lstrip().startswith('<section id="browser"')
    assert "web-01.vhd" in fragment and 'class="vhd"' in fragment
    assert "container=images&amp;object=web-01.vhd" in fragment


def test_the_browser_pages_with_a_marker_and_filters_by_prefix(cloud_operator_client, local_cloud):
    objects = client_for(local_cloud).objects
    objects.create_container("many")
    for index in range(55):
        objects.put_object("many", f"disk-{index:02}.vhd", b"x")
    objects.put_object("many", "other.txt", b"x")
    page = cloud_operator_client.get("/clouds/local/browse/?container=many").content.decode()
    assert "disk-49.vhd" in page and "disk-50.vhd" not in page
    assert "marker=disk-49.vhd" in page
    second = cloud_operator_client.get(
        "/clouds/local/browse/?container=many&marker=disk-49.vhd"
    ).content.decode()
    assert "disk-50.vhd" in second and "other.txt" in second and "Next page" not in second
    filtered = cloud_operator_client.get("/clouds/local/browse/?container=many&prefix=oth").content
    assert b"other.txt" in filtered and b"disk-01" not in filtered


def test_browsing_a_container_no_store_can_have_says_so(cloud_operator_client, local_cloud):
    page = cloud_operator_client.get("/clouds/local/browse/", {"container": "."})
    form = cloud_operator_client.get("/tasks/new/import/", {"cloud": "local", "container": ".."})

    assert page.status_code == 200 and form.status_code == 200
    assert "There is nothing to list here" in page.content.decode()
    assert "There is nothing to list here" in form.content.decode()


def test_a_form_naming_a_cloud_with_a_nul_character_is_not_found(cloud_operator_client):
    response = cloud_operator_client.post("/tasks/new/import/", {"cloud": "local\x00"})

    assert response.status_code == 404


def test_choosing_an_object_prefills_the_form(cloud_operator_client, disk):
    response = cloud_operator_client.get(
        "/tasks/new/import/?cloud=local&container=images&object=web-01.vhd"
    )
    form = response.context["form"]
    assert (form["container"].value(), form["object"].value(), form["name"].value()) == (
        "images",
        "web-01.vhd",
        "web-01",
    )


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"container": "a/b"}, "container", "cannot contain '/'"),
        ({"container": "c" * 257}, "container", "at most 256 bytes"),
        ({"container": "é" * 129}, "container", "at most 256 bytes"),
        ({"object": "o" * 1025}, "object", "at most 1024 bytes"),
        ({"name": "n" * 256}, "name", "at most 255 characters"),
        ({"object": "missing.vhd"}, "object", "There is no object “missing.vhd”"),
        ({"container": "nowhere"}, "container", "There is no container “nowhere”"),
    ],
)
def test_an_import_with_a_bad_source_or_name_says_what_is_wrong(
    cloud_operator_client, local_cloud, disk, fields, field, text
):
    data = {"container": "images", "object": "web-01.vhd", **fields}
    response = post_import(cloud_operator_client, local_cloud, **data)
    assert response.status_code == 200
    assert any(text in error for error in errors_of(response)[field])
    assert ImageTask.objects.count() == 0


def test_a_good_import_goes_to_the_task_page_and_a_double_submit_makes_one_task(
    cloud_operator_client, local_cloud, disk
):
    submission = str(uuid.uuid4())
    fields = {"container": "images", "object": "web-01.vhd", "submission_id": submission}
    first = post_import(cloud_operator_client, local_cloud, **fields)
    second = post_import(cloud_operator_client, local_cloud, **fields)
    task = ImageTask.objects.get()
    assert first["Location"] == second["Location"] == f"/tasks/{task.pk}/"
    assert task.input == {"import_from": disk, "image_properties": {"name": "web-01"}}
    assert task.status in statuses.IN_FLIGHT


def test_a_cloud_down_at_submit_time_keeps_the_input_and_loses_nothing(
    cloud_operator_client, local_cloud
):
    down = make_cloud("down")
    down.users.add(*local_cloud.users.all())
    response = post_import(cloud_operator_client, down, container="images", object="web-01.vhd")
    html = response.content.decode()
    assert response.status_code == 200
    assert "could not be reached" in html and "your input is kept" in html
    assert 'value="web-01.vhd"' in html and 'value="images"' in html
    assert not ImageTask.objects.filter(status=statuses.PENDING).exists()


def test_a_refused_submission_shows_the_cloud_s_message_escaped(
    cloud_operator_client, local_cloud, disk, monkeypatch
):
    from imagetasks.dashboard.views import task_forms

    def refuse(cloud, task_type, task_input, **kwargs):
        task = ImageTask.objects.create(
            id=kwargs["submission_id"], cloud=cloud, type=task_type, input=task_input,
            status=statuses.REJECTED, message="Unsupported element <script>x</script>",
        )  # fmt: skip
        return task

    monkeypatch.setattr(task_forms, "submit", refuse)
    response = post_import(
        cloud_operator_client, local_cloud, container="images", object="web-01.vhd"
    )
    html = response.content.decode()
    assert "The cloud refused it: Unsupported element &lt;script&gt;" in html
    assert "<script>x</script>" not in html
    # A new id, so the corrected form can be sent again.
    old = ImageTask.objects.get().pk
    assert response.context["form"]["submission_id"].value() != str(old)


def image_of(account, tmp_path, name="disk", visibility="private"):
    path = tmp_path / f"{name}.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    image = create_image_from_file(account.project, name, path, "vhd")
    image.visibility = visibility
    image.save()
    return image


def post_export(client, cloud, **fields):
    defaults = {"submission_id": str(uuid.uuid4()), "create_container": "on"}
    return post_form(client, "/tasks/new/export/", cloud, defaults, fields)


def test_the_export_form_lists_only_the_account_s_own_images(
    cloud_operator_client, local_cloud, account, other_account, tmp_path
):
    mine = image_of(account, tmp_path, "mine")
    theirs = image_of(other_account, tmp_path, "theirs", visibility="public")
    html = cloud_operator_client.get("/tasks/new/export/?cloud=local").content.decode()
    assert str(mine.id) in html and str(theirs.id) not in html
    assert (
        cloud_operator_client.get("/tasks/new/export/?cloud=local&q=zzz").content.count(
            str(mine.id).encode()
        )
        == 0
    )


def test_exporting_an_image_owned_by_another_account_is_refused_on_the_form(
    cloud_operator_client, local_cloud, other_account, tmp_path
):
    theirs = image_of(other_account, tmp_path, "theirs", visibility="public")
    response = post_export(
        cloud_operator_client, local_cloud, image_id=str(theirs.id), container="ex"
    )
    assert "only the image owner may export it" in str(errors_of(response)["image_id"])
    assert ImageTask.objects.count() == 0


@pytest.mark.parametrize(
    ("container", "text"),
    [
        ("my.exports", "cannot contain '?' or '.'"),
        ("a/b", "cannot contain '/'"),
        (".", "cannot be named “.”"),
        ("..", "cannot be named “..”"),
    ],
)
def test_an_export_to_a_bad_container_name_is_refused(
    cloud_operator_client, local_cloud, account, tmp_path, container, text
):
    mine = image_of(account, tmp_path)
    response = post_export(
        cloud_operator_client, local_cloud, image_id=str(mine.id), container=container
    )
    assert any(text in error for error in errors_of(response)["container"])


def test_an_export_creates_the_container_and_goes_to_the_task_page(
    cloud_operator_client, local_cloud, account, tmp_path
):
    mine = image_of(account, tmp_path)
    response = post_export(
        cloud_operator_client, local_cloud, image_id=str(mine.id), container="out"
    )
    task = ImageTask.objects.get()
    assert response["Location"] == f"/tasks/{task.pk}/"
    assert task.input == {"image_uuid": str(mine.id), "receiving_swift_container": "out"}
    client_for(local_cloud).objects.head_container("out")


def test_an_export_to_a_missing_container_without_creating_it_is_refused(
    cloud_operator_client, local_cloud, account, tmp_path
):
    mine = image_of(account, tmp_path)
    response = post_export(
        cloud_operator_client, local_cloud, image_id=str(mine.id), container="absent",
        create_container="",
    )  # fmt: skip
    assert "There is no container “absent”" in str(errors_of(response)["container"])


def test_a_submission_the_cloud_did_not_confirm_goes_to_its_task_page_and_says_so(
    cloud_operator_client, local_cloud, disk, monkeypatch
):
    from imagetasks.dashboard.views import task_forms

    def unconfirmed(cloud, task_type, task_input, **kwargs):
        return ImageTask.objects.create(
            id=kwargs["submission_id"], cloud=cloud, type=task_type, input=task_input,
            status=statuses.UNCONFIRMED, last_error="CloudTimeout: read timed out",
        )  # fmt: skip

    monkeypatch.setattr(task_forms, "submit", unconfirmed)
    response = post_import(
        cloud_operator_client, local_cloud, container="images", object="web-01.vhd"
    )
    task = ImageTask.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    page = cloud_operator_client.get(response["Location"]).content.decode()
    assert "The cloud did not confirm the submission" in page
    assert "never sends it twice" in page
