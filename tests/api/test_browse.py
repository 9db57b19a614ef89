"""Browsing a cloud through the API: its containers, a container's objects (by prefix,
paged by marker) and its images, for whoever may see the cloud, against the live built-in
cloud; and a hostile cloud on loopback whose names come back as plain strings and whose
failures are a 502 that says so, never a 500."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.utils import timezone

from imagetasks.dashboard.clouds import listings
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ApiToken
from imagetasks.dashboard.views import image_picker
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from tests.openstack.samples import reference_json
from tests.openstack.scripted import Reply
from tests.support.factories import make_cloud

CLOUD = "/api/v1/clouds"


def body(response):
    return json.loads(response.content)


def names(response) -> list[str]:
    return [entry["name"] for entry in body(response)["items"]]


def paths(cloud: str, container: str = "images") -> list[str]:
    return [
        f"{CLOUD}/{cloud}/containers",
        f"{CLOUD}/{cloud}/containers/{quote(container, safe='')}/objects",
        f"{CLOUD}/{cloud}/images",
    ]


@pytest.fixture
def stored(local_cloud):
    """``stored(container, *names)``: objects put in the live cloud's object storage."""
    objects = client_for(local_cloud).objects

    def put(container: str, *names: str) -> None:
        objects.create_container(container)
        for name in names:
            objects.put_object(container, name, b"disk")

    return put


@pytest.fixture
def image_of(account, tmp_path):
    """``image_of(name)``: an active image of the live cloud's account."""

    def make(name: str):
        path = tmp_path / f"{name}.vhd"
        path.write_bytes(vhd_samples.fixed_vhd())
        return create_image_from_file(account.project, name, path, "vhd")

    return make


# Against the built-in cloud -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_hashing")
class TestOnTheBuiltInCloud:
    @pytest.mark.parametrize(
        ("who", "status"),
        [("owner", 200), ("colleague", 200), ("viewer", 200), ("outsider", 404)],
    )
    def test_whoever_sees_the_cloud_browses_it_and_nobody_else(
        self, api, token_for, person_on, local_cloud, stored, image_of, who, status
    ):
        stored("images", "web-01.vhd")
        image_of("debian-13")
        token = token_for(person_on(who, local_cloud))

        containers, objects, images = (api.get(path, token=token) for path in paths("local"))

        assert {containers.status_code, objects.status_code, images.status_code} == {status}
        if status == 200:
            assert names(containers) == ["images"]
            assert body(containers)["items"][0]["count"] == 1
            assert names(objects) == ["web-01.vhd"]
            assert body(objects)["items"][0]["bytes"] == 4
            assert names(images) == ["debian-13"]
            assert body(images)["items"][0]["status"] == "active"
        else:
            assert body(containers) == body(objects) == body(images) == {"detail": "Not found."}

    def test_objects_come_a_page_at_a_time_after_a_marker_and_by_prefix(
        self, api, token_for, person_on, local_cloud, stored, monkeypatch
    ):
        monkeypatch.setattr(listings, "PAGE", 2)
        stored("many", "disk-1.vhd", "disk-2.vhd", "disk-3.vhd", "other.vhd")
        token = token_for(person_on("viewer", local_cloud))
        path = f"{CLOUD}/local/containers/many/objects"

        first = api.get(path, token=token)
        second = api.get(body(first)["next"], token=token)
        by_marker = api.get(path, {"marker": body(first)["next_marker"]}, token=token)
        filtered = api.get(path, {"prefix": "disk-"}, token=token)
        rest = api.get(body(filtered)["next"], token=token)

        assert names(first) == ["disk-1.vhd", "disk-2.vhd"]
        assert body(first)["next_marker"] == "disk-2.vhd"
        assert names(second) == names(by_marker) == ["disk-3.vhd", "other.vhd"]
        assert body(second)["next"] is None and body(second)["next_marker"] is None
        assert names(filtered) == ["disk-1.vhd", "disk-2.vhd"]
        assert names(rest) == ["disk-3.vhd"] and "prefix=disk-" in body(filtered)["next"]

    def test_containers_are_filtered_by_prefix_and_say_when_there_are_more(
        self, api, token_for, person_on, local_cloud, stored, monkeypatch
    ):
        monkeypatch.setattr(listings, "CONTAINER_LIMIT", 2)
        for name in ("backups", "images", "imports", "isos"):
            stored(name)
        token = token_for(person_on("owner", local_cloud))

        every = api.get(f"{CLOUD}/local/containers", token=token)
        some = api.get(f"{CLOUD}/local/containers", {"prefix": "im"}, token=token)

        assert names(every) == ["backups", "images"] and body(every)["truncated"] is True
        assert names(some) == ["images", "imports"] and body(some)["truncated"] is False

    @pytest.mark.parametrize("container", ["nothing-here", ".", "é" * 200])
    def test_a_container_the_cloud_does_not_have_is_a_404(
        self, api, token_for, person_on, local_cloud, container
    ):
        token = token_for(person_on("owner", local_cloud))

        response = api.get(paths("local", container)[1], token=token)

        assert response.status_code == 404 and body(response) == {"detail": "Not found."}

    def test_images_are_searched_and_paged_as_the_picker_does(
        self, api, token_for, person_on, local_cloud, image_of, monkeypatch
    ):
        monkeypatch.setattr(image_picker, "PAGE_SIZE", 2)
        for name in ("centos-9", "debian-12", "debian-13", "ubuntu-24"):
            image_of(name)
        token = token_for(person_on("colleague", local_cloud))
        path = f"{CLOUD}/local/images"

        first = api.get(path, token=token)
        second = api.get(body(first)["next"], token=token)
        searched = api.get(path, {"q": "DEBIAN"}, token=token)
        past_the_end = api.get(path, {"page": 99}, token=token)
        by_id = api.get(path, {"q": body(first)["items"][0]["id"]}, token=token)

        assert names(first) == ["centos-9", "debian-12"] and body(first)["matched"] == 4
        assert names(second) == ["debian-13", "ubuntu-24"] and body(second)["next"] is None
        assert names(searched) == ["debian-12", "debian-13"] and body(searched)["next"] is None
        assert body(past_the_end)["page"] == 2 and names(past_the_end) == names(second)
        assert names(by_id) == ["centos-9"]
        assert body(first)["items"][0]["stores"] == ["fast"]

    def test_another_regions_images_are_those_a_glance_download_copies(
        self, api, token_for, person_on, region_cloud, region_image, image_of, settings
    ):
        region_image("debian-13")
        image_of("here-only")
        token = token_for(person_on("viewer", region_cloud))
        path = f"{CLOUD}/glance-two/images"

        there = api.get(path, {"region": settings.LOCALCLOUD_SECOND_REGION}, token=token)
        here = api.get(path, token=token)
        unknown = api.get(path, {"region": "RegionNowhere"}, token=token)

        assert names(there) == ["debian-13"]
        assert names(here) == ["here-only"]
        assert unknown.status_code == 404


# Who may call -----------------------------------------------------------------------


def test_an_anonymous_or_revoked_caller_browses_nothing(api, owner, cloud, token_for):
    value = token_for(owner)
    ApiToken.objects.update(revoked_at=timezone.now())

    for token in (None, value):
        for path in paths("acme"):
            response = api.get(path, token=token)
            assert response.status_code == 401 and "detail" in body(response)


def test_an_unknown_cloud_is_a_404_like_one_not_granted(api, owner, cloud, token_for):
    make_cloud("hidden")

    for cloud_name in ("hidden", "nowhere"):
        for path in paths(cloud_name):
            assert api.get(path, token=token_for(owner)).status_code == 404


# A cloud that is down, refuses us, or answers nonsense -----------------------------------


def test_a_cloud_that_is_down_is_a_502_that_says_so(api, viewer, cloud, token_for):
    for path in paths("acme"):
        response = api.get(path, token=token_for(viewer))

        assert response.status_code == 502
        assert body(response)["detail"].startswith("The cloud acme could not list")


@pytest.fixture
def hostile(db, scripted, owner):
    """A cloud on loopback that answers whatever the test scripts, granted to ``owner``."""
    cloud = make_cloud(
        "hostile",
        image_endpoint=f"{scripted.url}/image",
        object_store_endpoint=f"{scripted.url}/v1/AUTH_x",
    )
    cloud.users.add(owner)
    return cloud


HOSTILE_NAMES = [
    '<img src=x onerror="alert(1)">',
    "\"quotes\" and \\backslashes\\ and 'apostrophes'",
    "nul\x00inside",
    "lone \ud800 surrogate",
    "\u202eright-to-left",
    "{{ template }} {% tag %}",
    "n" * 5000,
]


def hostile_image(name: str, index: int) -> dict:
    return {
        **reference_json("glance_image"),
        "id": f"{index:08d}-0000-4000-8000-000000000000",
        "name": name,
        "disk_format": "<b>vhd</b>",
        "owner": None,
    }


def test_a_hostile_clouds_names_come_back_as_plain_json_strings(
    api, owner, hostile, scripted, token_for
):
    entries = [{"name": name, "count": 1, "bytes": 2**62} for name in HOSTILE_NAMES]
    scripted.on("GET", "/v1/AUTH_x", Reply(json=entries))
    objects = [{"name": name, "hash": "<x>", "content_type": "a/b"} for name in HOSTILE_NAMES]
    scripted.on("GET", "/v1/AUTH_x/c", Reply(json=objects))
    images = [hostile_image(name, index) for index, name in enumerate(HOSTILE_NAMES)]
    scripted.on("GET", "/image/v2/images", Reply(json={"images": images}))
    token = token_for(owner)

    containers, listed, found = (api.get(path, token=token) for path in paths("hostile", "c"))

    assert names(containers) == HOSTILE_NAMES
    assert body(containers)["items"][0]["bytes"] == 2**62
    assert names(listed) == HOSTILE_NAMES
    assert sorted(names(found)) == sorted(HOSTILE_NAMES)
    assert {image["disk_format"] for image in body(found)["items"]} == {"<b>vhd</b>"}


def test_a_hostile_name_on_a_page_boundary_is_the_marker_as_it_was_sent(
    api, owner, hostile, scripted, token_for, monkeypatch
):
    monkeypatch.setattr(listings, "PAGE", 2)
    names_sent = ["a", 'b <img src=x> & "c" ?marker=evil#x', "d"]
    objects = [{"name": name, "bytes": 1} for name in names_sent]
    scripted.on("GET", "/v1/AUTH_x/c", Reply(json=objects))

    page = api.get(paths("hostile", "c")[1], token=token_for(owner))

    assert names(page) == names_sent[:2]
    assert body(page)["next_marker"] == names_sent[1]
    assert body(page)["next"] == (
        f"{CLOUD}/hostile/containers/c/objects?marker=b+%3Cimg+src%3Dx%3E+%26+%22c%22+"
        "%3Fmarker%3Devil%23x"
    )


def test_a_hostile_image_id_comes_back_as_it_was_sent(api, owner, hostile, scripted, token_for):
    odd = {**hostile_image("odd", 1), "id": '<x> "\\ \u2028'}
    scripted.on("GET", "/image/v2/images", Reply(json={"images": [odd]}))

    found = api.get(paths("hostile")[2], token=token_for(owner))

    assert [image["id"] for image in body(found)["items"]] == [odd["id"]]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(401, json={"error": {"message": "The request requires authentication."}}),
        Reply(403, json={"message": "Forbidden by policy"}),
        Reply(500, body="<html><body>Internal <b>error</b></body></html>"),
        Reply(503, body="down for maintenance"),
        Reply(200, body="{not json"),
        Reply(200, json={"images": "nope", "containers": "nope"}),
        Reply(200, json=[{"name": 7}, {"subdir": None}]),
        Reply(200, json=[[[[[[]]]]]] * 3),
    ],
    ids=["401", "403", "500", "503", "not-json", "wrong-shape", "wrong-entries", "arrays"],
)
def test_a_cloud_that_refuses_or_answers_nonsense_is_a_502_never_a_500(
    api, owner, hostile, scripted, token_for, reply
):
    for path in ("/v1/AUTH_x", "/v1/AUTH_x/c", "/image/v2/images"):
        scripted.on("GET", path, reply)
    token = token_for(owner)

    for path in paths("hostile", "c"):
        response = api.get(path, token=token)

        assert response.status_code == 502, (path, response.content)
        assert body(response)["detail"].startswith("The cloud hostile could not list")
        assert "<" not in body(response)["detail"]


def test_a_container_the_cloud_says_it_does_not_have_is_a_404(
    api, owner, hostile, scripted, token_for
):
    scripted.on("GET", "/v1/AUTH_x/gone", Reply(404, body="<html>Not Found</html>"))

    response = api.get(paths("hostile", "gone")[1], token=token_for(owner))

    assert response.status_code == 404
