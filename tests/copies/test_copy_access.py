"""Who sees a copy and who may start one: both of its clouds must be visible to them."""

from __future__ import annotations

import uuid

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, Copy, CopyEvent
from tests.support.factories import client_for_user, make_cloud, make_task, make_user

PEOPLE = ["owner", "colleague", "viewer", "outsider", "anonymous"]


def person(request, who):
    return None if who == "anonymous" else request.getfixturevalue(who)


@pytest.fixture
def second_cloud(cloud, owner, team) -> Cloud:
    """Another region of the same people's account: granted like the first one."""
    other = make_cloud("acme-eu", region="RegionTwo")
    other.users.add(owner)
    other.groups.add(team)
    return other


@pytest.fixture
def copy(cloud, second_cloud, owner) -> Copy:
    export = make_task(cloud, owner, type="export", status="processing")
    made = Copy.objects.create(
        source_cloud=cloud,
        source_image_id=str(uuid.uuid4()),
        source_image_name="web-01",
        target_cloud=second_cloud,
        target_name="web-01-eu",
        staging_container="imagetasks-copy-x",
        export_task=export,
        created_by=owner,
    )
    CopyEvent.objects.create(copy=made, step="export", status="started", at=made.created_at)
    return made


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("colleague", 200), ("viewer", 200), ("outsider", 404)],
)
def test_a_copy_page_is_shown_to_whoever_sees_both_clouds_and_is_a_404_to_others(
    request, client, copy, who, expected
):
    client = client_for_user(client, person(request, who))

    page = client.get(f"/copies/{copy.pk}/")
    status_part = client.get(
        f"/copies/{copy.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="copy-status"
    )

    assert page.status_code == status_part.status_code == expected
    if expected == 200:
        assert "web-01" in page.content.decode()
        assert f'href="/tasks/{copy.export_task.pk}/"' in page.content.decode()


def test_someone_who_sees_only_the_source_cloud_gets_a_404(client, django_user_model, copy, cloud):
    half = make_user(django_user_model, "hal", "operators")
    cloud.users.add(half)
    client.force_login(half)

    assert client.get(f"/copies/{copy.pk}/").status_code == 404
    assert "web-01" not in client.get("/").content.decode()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, copy):
    response = client.get(f"/copies/{copy.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 200), ("colleague", 200), ("viewer", 403), ("outsider", 404)],
)
def test_only_operators_who_see_the_cloud_get_the_copy_form(
    request, client, cloud, second_cloud, who, expected
):
    client = client_for_user(client, person(request, who))
    assert client.get(f"/copies/new/?cloud={cloud.name}").status_code == expected


def test_a_viewer_cannot_start_a_copy(client, viewer, cloud, second_cloud):
    client.force_login(viewer)

    response = client.post(
        f"/copies/new/?cloud={cloud.name}",
        {"cloud": cloud.name, "copy_id": str(uuid.uuid4()), "image_id": "x",
         "target": second_cloud.name, "name": "x"},
    )  # fmt: skip

    assert response.status_code == 403
    assert not Copy.objects.exists()


def test_the_home_page_lists_recent_copies_and_polls_only_while_one_is_in_flight(
    client, owner, copy
):
    client.force_login(owner)

    html = client.get("/").content.decode()

    assert f'id="copy-{copy.pk}"' in html
    assert "Exporting" in html and "acme → acme-eu" in html
    assert 'hx-get="/copies/rows/?v=' in html
    Copy.objects.filter(pk=copy.pk).update(status=statuses.COPY_SUCCEEDED, version=2)
    assert 'hx-get="/copies/rows/' not in client.get("/").content.decode()


def test_the_copies_list_answers_an_unchanged_poll_with_an_empty_204(client, owner, copy):
    client.force_login(owner)
    current = f"{copy.pk}:{copy.version}"

    unchanged = client.get("/copies/rows/", {"v": current})
    Copy.objects.filter(pk=copy.pk).update(bytes_total=100, bytes_done=50, version=2)
    changed = client.get("/copies/rows/", {"v": current})

    assert unchanged.status_code == 204
    assert changed.status_code == 200
    assert f'id="copy-{copy.pk}"' in changed.content.decode()


def test_the_copy_page_answers_an_unchanged_poll_with_an_empty_204(client, owner, copy):
    client.force_login(owner)

    status_part = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "copy-status"}
    response = client.get(f"/copies/{copy.pk}/", {"v": str(copy.version)}, **status_part)
    Copy.objects.filter(pk=copy.pk).update(version=copy.version + 1)
    changed = client.get(f"/copies/{copy.pk}/", {"v": str(copy.version)}, **status_part)

    assert response.status_code == 204 and response.content == b""
    assert changed.status_code == 200 and 'id="copy-status"' in changed.content.decode()


def test_a_finished_copy_page_no_longer_polls(client, owner, copy):
    client.force_login(owner)
    Copy.objects.filter(pk=copy.pk).update(status=statuses.COPY_FAILED, error="The export failed")

    html = client.get(f"/copies/{copy.pk}/").content.decode()

    assert "hx-get" not in html.split('id="copy-status"')[1].split(">")[0]
    assert "The export failed" in html
