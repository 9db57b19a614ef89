"""Copies through the API against the live built-in cloud: a copy to another cloud (its
form's checks, started once per Idempotency-Key, read with its steps), a copy to more
stores (copy-image) and an import from another region (glance-download); who may start
and read them."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ApiToken, Cloud, Copy, ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from imagetasks.openstack import ImageProperties
from tests.support.factories import make_cloud, make_copy

COPIES = "/api/v1/copies"
TO_STORES = "/api/v1/tasks/copy-to-stores"
IMPORT = "/api/v1/tasks/import"


def body(response):
    return json.loads(response.content)


def problems(response) -> dict[str, str]:
    return {problem["loc"][-1]: problem["msg"] for problem in body(response)["detail"]}


# A copy to another cloud ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_hashing", "parked_jobs")
class TestACopyToAnotherCloud:
    @pytest.fixture
    def image(self, account, tmp_path):
        path = tmp_path / "web-01.vhd"
        path.write_bytes(vhd_samples.fixed_vhd())
        return create_image_from_file(account.project, "web-01", path, "vhd")

    @pytest.mark.parametrize("who", ["owner", "colleague"])
    def test_an_operator_with_both_clouds_starts_one_copy_per_idempotency_key(
        self, api, token_for, person_on, source_cloud, target_cloud, image, who
    ):
        person = person_on(who, source_cloud)
        target_cloud.users.add(person)
        token = token_for(person)
        sent = {"cloud": "acme-dfw", "image_id": str(image.id), "target": "globex-ord"}
        key = {"Idempotency-Key": "copy-web-01"}

        first = api.post(COPIES, sent, token=token, headers=key)
        again = api.post(COPIES, sent, token=token, headers=key)

        assert first.status_code == 201 and again.status_code == 200
        assert body(first)["id"] == body(again)["id"]
        copy = Copy.objects.get()
        assert str(copy.pk) == body(first)["id"] and copy.created_by == person
        seen = body(first)
        assert (seen["status"], seen["target_name"]) == ("exporting", "web-01")
        assert seen["final"] is False
        assert seen["page"] == f"/copies/{copy.pk}/" and seen["url"] == f"{COPIES}/{copy.pk}"
        assert seen["export_task"] == str(copy.export_task_id) and seen["import_task"] is None
        assert [(step["step"], step["status"]) for step in seen["steps"]] == [
            ("copy", "started"),
            ("export", "started"),
        ]
        assert ImageTask.objects.get().input["image_uuid"] == str(image.id)

    def test_the_copy_forms_checks_are_a_422_on_their_field(
        self, api, token_for, person_on, live_server, other_account, source_cloud, target_cloud,
        image, tmp_path,
    ):  # fmt: skip
        person = person_on("owner", source_cloud)
        target_cloud.users.add(person)
        path = tmp_path / "theirs.vhd"
        path.write_bytes(vhd_samples.fixed_vhd())
        theirs = create_image_from_file(other_account.project, "theirs", path, "vhd")
        make_cloud("not-granted")
        token = token_for(person)

        def sent(**changed):
            fields = {"cloud": "acme-dfw", "image_id": str(image.id), "target": "globex-ord"}
            return api.post(COPIES, {**fields, **changed}, token=token)

        itself, elsewhere, missing, not_theirs = (
            sent(target="acme-dfw"),
            sent(target="not-granted"),
            sent(image_id="no-such-image"),
            sent(image_id=str(theirs.id)),
        )

        assert problems(itself) == {
            "target": "The image is already in acme-dfw: pick another cloud or region."
        }
        assert problems(elsewhere) == {"target": "Pick one of the clouds in the list."}
        assert problems(missing) == {"image_id": "There is no image no-such-image in acme-dfw."}
        assert problems(not_theirs) == {"image_id": f"There is no image {theirs.id} in acme-dfw."}
        assert not Copy.objects.exists()

    def test_a_viewer_may_not_and_an_outsider_finds_no_cloud(
        self, api, token_for, person_on, source_cloud, target_cloud, image
    ):
        sent = {"cloud": "acme-dfw", "image_id": str(image.id), "target": "globex-ord"}
        viewer = person_on("viewer", source_cloud)
        target_cloud.groups.add(*viewer.groups.all())
        outsider = person_on("outsider", source_cloud)
        target_cloud.users.add(outsider)

        assert api.post(COPIES, sent, token=token_for(viewer)).status_code == 403
        assert api.post(COPIES, sent, token=token_for(outsider)).status_code == 404
        assert not Copy.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 200), ("colleague", 200), ("viewer", 200), ("outsider", 404)]
)
def test_a_copy_is_read_with_its_steps_by_whoever_sees_both_its_clouds(
    request, api, token_for, cloud, owner, team, who, status
):
    target = make_cloud("globex")
    target.users.add(owner)
    target.groups.add(team)
    copy = make_copy(cloud, target, created_by=owner, source_image_name="web-01")
    copy.events.create(step="copy", status="started", message="Copy of web-01.", at=timezone.now())
    person = request.getfixturevalue(who)

    response = api.get(f"{COPIES}/{copy.pk}", token=token_for(person))

    assert response.status_code == status
    if status == 200:
        seen = body(response)
        assert (seen["source_cloud"], seen["target_cloud"]) == ("acme", "globex")
        assert seen["created_by"] == "owen" and seen["status_label"] == "Exporting"
        (step,) = seen["steps"]
        assert (step["step"], step["status"], step["message"]) == (
            "copy", "started", "Copy of web-01."
        )  # fmt: skip
    else:
        assert body(response) == {"detail": "Not found."}


def test_a_copy_of_a_cloud_the_reader_does_not_see_is_a_404(api, token_for, cloud, owner):
    copy = make_copy(cloud, make_cloud("globex"))

    assert api.get(f"{COPIES}/{copy.pk}", token=token_for(owner)).status_code == 404


# A copy to more stores (copy-image) ----------------------------------------------------


@pytest.fixture
def discovered(local_cloud):
    """The live cloud with what it offers recorded: copy-image, stores fast and cheap."""
    capabilities.refresh(local_cloud)
    local_cloud.refresh_from_db()
    return local_cloud


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_hashing", "parked_jobs")
class TestACopyToMoreStores:
    def test_it_is_submitted_once_per_idempotency_key(
        self, api, token_for, person_on, discovered, source_image
    ):
        image = source_image(discovered)
        token = token_for(person_on("colleague", discovered))
        sent = {"cloud": "local", "image_id": image.id, "stores": ["cheap"], "allow_failures": True}
        key = {"Idempotency-Key": "to-cheap"}

        first = api.post(TO_STORES, sent, token=token, headers=key)
        again = api.post(TO_STORES, sent, token=token, headers=key)

        assert first.status_code == 201 and again.status_code == 200
        assert body(first)["id"] == body(again)["id"]
        task = ImageTask.objects.get()
        assert (task.method, task.name) == ("copy-image", "web-01")
        assert task.submitted_by.username == "cora"
        assert task.input == {
            "image_id": image.id, "stores": ["cheap"], "all_stores_must_succeed": False
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("stores", "said"),
        [
            ([], "Choose at least one store."),
            (["fast"], "Select a valid choice. fast is not one of the available choices."),
            (["nowhere"], "Select a valid choice. nowhere is not one of the available choices."),
        ],
    )
    def test_stores_it_cannot_go_to_are_a_422(
        self, api, token_for, person_on, discovered, source_image, stores, said
    ):
        image = source_image(discovered)
        sent = {"cloud": "local", "image_id": image.id, "stores": stores}

        response = api.post(TO_STORES, sent, token=token_for(person_on("owner", discovered)))

        assert response.status_code == 422 and problems(response) == {"stores": said}
        assert not ImageTask.objects.exists()

    def test_what_stands_in_the_way_is_a_404_or_a_409_that_says_so(
        self, api, token_for, person_on, discovered, source_image
    ):
        image = source_image(discovered)
        token = token_for(person_on("owner", discovered))

        def sent(image_id=image.id, stores=("cheap",)):
            return api.post(
                TO_STORES, {"cloud": "local", "image_id": image_id, "stores": list(stores)},
                token=token,
            )  # fmt: skip

        missing = sent(image_id="no-such-image")
        Cloud.objects.filter(pk=discovered.pk).update(import_methods=["web-download"])
        not_offered = sent()

        assert missing.status_code == 404
        assert not_offered.status_code == 409
        assert "does not offer copying an image to more stores" in body(not_offered)["detail"]
        assert not ImageTask.objects.exists()

    def test_a_copy_the_cloud_refuses_is_a_rejected_task(
        self, api, token_for, person_on, discovered
    ):
        """An image without data yet: Glance refuses to copy it."""
        empty = client_for(discovered).imports.create_image(ImageProperties("empty", "raw"))
        sent = {"cloud": "local", "image_id": empty.id, "stores": ["cheap"]}

        response = api.post(TO_STORES, sent, token=token_for(person_on("owner", discovered)))

        assert response.status_code == 201
        assert body(response)["status"] == "rejected" and body(response)["message"]


def test_a_cloud_that_cannot_be_asked_about_the_image_is_a_502(api, owner, cloud, token_for):
    Cloud.objects.filter(pk=cloud.pk).update(import_methods=["copy-image"])
    sent = {"cloud": "acme", "image_id": "some-image", "stores": ["cheap"]}

    response = api.post(TO_STORES, sent, token=token_for(owner))

    assert response.status_code == 502
    assert body(response)["detail"].startswith("The cloud acme could not be asked about the image")


# An import from another region (glance-download) -------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_hashing", "parked_jobs")
class TestAnImportFromAnotherRegion:
    def test_it_copies_the_regions_image_under_its_name_once_per_key(
        self, api, token_for, person_on, region_cloud, region_image
    ):
        source = region_image("debian-13")
        token = token_for(person_on("owner", region_cloud))
        sent = {"cloud": "glance-two", "method": "glance-download", "image_id": str(source.id)}
        key = {"Idempotency-Key": "debian-13-here"}

        first = api.post(IMPORT, sent, token=token, headers=key)
        again = api.post(IMPORT, sent, token=token, headers=key)

        assert first.status_code == 201 and again.status_code == 200
        assert body(first)["id"] == body(again)["id"]
        assert body(first)["method"] == "glance-download" and body(first)["name"] == "debian-13"
        assert body(first)["input"] == {
            "glance_region": settings.LOCALCLOUD_SECOND_REGION,
            "glance_image_id": str(source.id),
            "image_properties": {"name": "debian-13"},
        }
        assert ImageTask.objects.count() == 1

    def test_the_forms_checks_are_a_422_on_their_field(
        self, api, token_for, person_on, region_cloud
    ):
        token = token_for(person_on("owner", region_cloud))
        sent = {"cloud": "glance-two", "method": "glance-download"}

        no_image = api.post(IMPORT, sent, token=token)
        no_region = api.post(IMPORT, {**sent, "image_id": "x", "region": "Nowhere"}, token=token)
        missing = api.post(IMPORT, {**sent, "image_id": "no-such-image"}, token=token)

        assert problems(no_image) == {"image_id": "Pick the image to copy."}
        assert "does not list this region" in problems(no_region)["glance_region"]
        region = settings.LOCALCLOUD_SECOND_REGION
        said = f"There is no image no-such-image in region {region}."
        assert problems(missing) == {"image_id": said}
        assert not ImageTask.objects.exists()

    def test_a_cloud_without_another_region_says_so(self, api, token_for, person_on, local_cloud):
        sent = {"cloud": "local", "method": "glance-download", "image_id": "x"}

        response = api.post(IMPORT, sent, token=token_for(person_on("owner", local_cloud)))

        assert response.status_code == 409
        assert "does not offer copies from another region" in body(response)["detail"]


# Who may start them ---------------------------------------------------------------------


WRITES = [
    (COPIES, {"cloud": "acme", "image_id": "x", "target": "globex"}),
    (TO_STORES, {"cloud": "acme", "image_id": "x", "stores": ["cheap"]}),
    (IMPORT, {"cloud": "acme", "method": "glance-download", "image_id": "x"}),
]


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("outsider", 404)])
def test_a_viewer_starts_nothing_and_an_outsider_finds_no_cloud(
    request, api, token_for, cloud, who, status
):
    token = token_for(request.getfixturevalue(who))

    for path, sent in WRITES:
        response = api.post(path, sent, token=token)
        assert response.status_code == status, path
    assert not Copy.objects.exists() and not ImageTask.objects.exists()


def test_an_anonymous_or_revoked_caller_starts_nothing(api, owner, cloud, token_for):
    value = token_for(owner)
    ApiToken.objects.update(revoked_at=timezone.now())
    copy = make_copy(cloud, cloud)

    for token in (None, value):
        for path, sent in WRITES:
            assert api.post(path, sent, token=token).status_code == 401
        assert api.get(f"{COPIES}/{copy.pk}", token=token).status_code == 401


def test_a_switched_off_cloud_takes_no_copy(api, owner, cloud, token_for):
    Cloud.objects.filter(pk=cloud.pk).update(enabled=False)

    for path, sent in WRITES:
        response = api.post(path, sent, token=token_for(owner))
        assert response.status_code == 403 and "switched off" in body(response)["detail"]


def test_copies_may_be_read_while_they_run(api, owner, cloud, token_for):
    copy = make_copy(cloud, cloud, status=statuses.COPY_TRANSFERRING, bytes_total=10, bytes_done=4)

    seen = body(api.get(f"{COPIES}/{copy.pk}", token=token_for(owner)))

    assert (seen["status"], seen["bytes_done"], seen["bytes_total"]) == ("transferring", 4, 10)
