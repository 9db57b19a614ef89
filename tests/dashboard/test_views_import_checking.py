"""The import page of a cloud never asked what it offers: it says it is checking, a job asks
the cloud (never the page itself, so a cloud that stalls holds no web worker), the page's
poll brings the forms once the answer is in, and a check that fails says why and keeps the
tasks API form. Real workers, the live built-in cloud and scripted clouds on loopback."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import Cloud
from imagetasks.localcloud.stores import IMPORT_METHODS
from tests.openstack.scripted import Reply
from tests.support.clouds import register_cloud
from tests.support.factories import logged_in, make_cloud
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_hashing")]

PAGE = "/tasks/new/import/"
CHECKING = "Checking what this cloud offers…"


def open_page(client, cloud: Cloud, how: str = "") -> str:
    suffix = f"&how={how}" if how else ""
    response = client.get(f"{PAGE}?cloud={cloud.name}{suffix}")
    assert response.status_code == 200
    return response.content.decode()


def poll(client, cloud: Cloud):
    """What the page's poll of its offer part sends (htmx names the part it swaps)."""
    return client.get(
        f"{PAGE}?cloud={cloud.name}", headers={"HX-Request": "true", "HX-Target": "import-offer"}
    )


def poll_until_answered(client, cloud: Cloud, timeout: float = 60) -> str:
    response = wait_for(
        lambda: (answer := poll(client, cloud)).status_code == 200 and answer,
        timeout=timeout,
        interval=0.5,
        what=f"the offer of {cloud.name}",
    )
    return response.content.decode()


@pytest.fixture
def never_asked(live_server, account, cloud_operator, client):
    """The built-in cloud as a new installation has it (never asked), and an operator's client."""
    cloud = register_cloud(live_server, account, name="fresh", capabilities_checked_at=None)
    return cloud, logged_in(client, cloud_operator, cloud)


def test_the_page_says_it_is_checking_and_its_poll_brings_the_url_form(never_asked, workers):
    cloud, client = never_asked

    page = open_page(client, cloud)

    assert CHECKING in page
    assert 'hx-target="#import-offer"' in page
    assert 'name="container"' not in page, "no form before the cloud has answered"
    part = poll_until_answered(client, cloud)
    assert CHECKING not in part and part.lstrip().startswith('<div id="import-offer">')
    assert ">From a URL</a>" in part and ">Upload from this computer</a>" in part
    assert 'name="container"' in part, "the tasks API form, the usual way, comes first"
    assert "<html" not in part
    cloud.refresh_from_db()
    assert cloud.import_methods == list(IMPORT_METHODS)


def test_the_way_asked_for_is_shown_once_the_answer_is_in(never_asked, workers):
    cloud, client = never_asked

    assert CHECKING in open_page(client, cloud, "web-download")
    wait_for(lambda: Cloud.objects.filter(pk=cloud.pk, import_methods__isnull=False), timeout=60)

    page = open_page(client, cloud, "web-download")
    assert 'aria-current="page">From a URL</a>' in page and 'name="url"' in page


def test_an_unchanged_poll_is_an_empty_answer(never_asked, parked_jobs):
    cloud, client = never_asked
    open_page(client, cloud)

    response = poll(client, cloud)

    assert response.status_code == 204 and response.content == b""


def test_many_views_of_the_page_ask_the_cloud_once(scripted, cloud_operator, client, workers):
    offer_web_download(scripted, answer_after=2.0)  # the views come while it is asked
    cloud = make_cloud(
        "scripted", image_endpoint=f"{scripted.url}/image", capabilities_checked_at=None
    )
    client = logged_in(client, cloud_operator, cloud)

    for _ in range(5):
        assert CHECKING in open_page(client, cloud)
    part = poll_until_answered(client, cloud)
    for _ in range(5):
        open_page(client, cloud)
        poll(client, cloud)

    cloud.refresh_from_db()
    assert cloud.capabilities_error == "", cloud.capabilities_error
    assert 'name="url"' in part, "web-download is the only way offered to this account"
    assert len(scripted.requests("GET", "/image/versions")) == 1
    assert len(scripted.requests("GET", "/image/v2/info/import")) == 1


def test_a_cloud_that_stalls_leaves_the_page_quick_and_ends_in_the_reason(
    scripted, cloud_operator, client, workers, monkeypatch
):
    # The checks' real timeouts are 5 s and 10 s; the test waits a fraction for the same path.
    monkeypatch.setattr(capabilities, "PROBE_TIMEOUT", (0.5, 0.5))
    for path in ("versions", "v2/info/import", "v2/info/stores", "v2/tasks", "v2/schemas/task"):
        scripted.on("GET", f"/image/{path}", Reply(json={}, delay=30))
    cloud = make_cloud(
        "stalling", image_endpoint=f"{scripted.url}/image", capabilities_checked_at=None,
        timeout=1.0,
    )  # fmt: skip
    client = logged_in(client, cloud_operator, cloud)

    started = time.monotonic()
    page = open_page(client, cloud)
    polled = poll(client, cloud)

    assert time.monotonic() - started < 2, "the page never waits for the cloud"
    assert CHECKING in page and polled.status_code == 204
    part = poll_until_answered(client, cloud)
    assert "Could not find out what stalling offers for imports, so only the tasks API" in part
    assert "no answer: GET " in part and "no answer within 0.5 s" in part
    assert 'name="object"' in part, "the tasks API form stays"
    assert "From a URL" not in part


def test_a_check_that_failed_says_so_and_keeps_the_tasks_api_form(cloud_operator, client):
    nobody = make_cloud(
        "nobody", capabilities_error="no answer: GET /versions: could not connect"
    )  # checked, every answer unknown
    client = logged_in(client, cloud_operator, nobody)

    page = open_page(client, nobody)

    assert CHECKING not in page and 'hx-target="#import-offer"' not in page
    assert "Could not find out what nobody offers for imports" in page
    assert "<br>\n  no answer: GET /versions: could not connect</p>" in page
    assert 'name="object"' in page


def test_a_hostile_reason_is_shown_as_text(cloud_operator, client):
    hostile = make_cloud(
        "hostile",
        capabilities_checked_at=timezone.now(),
        capabilities_error='import methods: <img src=x onerror="alert(1)">\nstores: 500',
    )
    client = logged_in(client, cloud_operator, hostile)

    page = open_page(client, hostile)

    assert '<img src=x onerror="alert(1)">' not in page
    assert "import methods: &lt;img src=x onerror=&quot;alert(1)&quot;&gt;<br>stores: 500" in page


def test_a_form_sent_before_the_answer_goes_the_tasks_api_way_as_before(never_asked):
    cloud, client = never_asked

    response = client.post(f"{PAGE}?cloud={cloud.name}", {"cloud": cloud.name})

    assert response.status_code == 200
    assert CHECKING not in response.content.decode()
    assert 'name="container"' in response.content.decode()


def offer_web_download(scripted, answer_after: float = 0.0) -> None:
    """A scripted Glance offering web-download, one store, and the tasks API to admins only."""
    versions = Reply(json={"versions": [{"id": "v2.16"}]}, delay=answer_after)
    scripted.on("GET", "/image/versions", versions)
    scripted.on(
        "GET",
        "/image/v2/info/import",
        Reply(json={"import-methods": {"type": "array", "value": ["web-download"]}}),
    )
    scripted.on("GET", "/image/v2/info/stores", Reply(404, body="Multi backend is not supported"))
    scripted.on("GET", "/image/v2/tasks", Reply(403, json={"message": "Forbidden"}))
