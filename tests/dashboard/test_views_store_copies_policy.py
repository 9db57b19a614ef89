"""A cloud whose policy keeps copy-image to admins (stock Glance): once it refused this
account a copy, "Copy to more stores" is no longer offered on it, and the page says why,
until an administrator's *Refresh capabilities*. The cloud is a scripted Glance on
loopback (the built-in cloud lets every project copy)."""

from __future__ import annotations

import uuid

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, ImageTask
from tests.openstack.scripted import Reply
from tests.support.factories import logged_in, make_cloud, make_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing")]

IMAGE = "/image/v2/images/img-1"
COPY = "/clouds/glance/images/img-1/copy-to-stores/"
POLICY = "You are not authorized to complete copy_image action."
REFUSED = "This account may not copy images between stores on glance (the cloud&#x27;s policy)."
FORM = "Copy to these stores"


def stock_glance(scripted, copy: Reply) -> None:
    """A Glance with stores fast and cheap, an active image in fast, and ``copy`` as its
    answer to a copy-image."""
    link = [{"rel": "self", "href": f"{scripted.url}/image/v2/"}]
    scripted.on(
        "GET",
        "/image/versions",
        Reply(json={"versions": [{"id": "v2.16", "status": "CURRENT", "links": link}]}),
    )
    methods = ["glance-direct", "web-download", "copy-image"]
    scripted.on(
        "GET",
        "/image/v2/info/import",
        Reply(json={"import-methods": {"type": "array", "value": methods}}),
    )
    stores = [{"id": "fast", "default": "true"}, {"id": "cheap"}]
    scripted.on("GET", "/image/v2/info/stores", Reply(json={"stores": stores}))
    scripted.on("GET", "/image/v2/tasks", Reply(403, json={"message": "Forbidden"}))
    image = {"id": "img-1", "name": "web-01", "status": "active", "stores": "fast"}
    scripted.on("GET", IMAGE, Reply(json=image))
    scripted.on("POST", f"{IMAGE}/import", copy)


@pytest.fixture
def glance(scripted) -> Cloud:
    return make_cloud("glance", image_endpoint=f"{scripted.url}/image")


def refresh_capabilities(admin_client, cloud: Cloud) -> None:
    response = admin_client.post(
        "/admin/dashboard/cloud/",
        {"action": "refresh_capabilities", "_selected_action": [cloud.pk]},
    )
    assert response.status_code == 302


def forbidden(message: str) -> Reply:
    return Reply(403, json={"error": {"code": 403, "title": "Forbidden", "message": message}})


def test_after_the_policy_refused_a_copy_the_offer_is_replaced_by_why_until_a_refresh(
    client, admin_client, cloud_operator, glance, scripted
):
    stock_glance(scripted, forbidden(POLICY))
    refresh_capabilities(admin_client, glance)
    operator = logged_in(client, cloud_operator, glance)
    imported = make_task(
        glance,
        status=statuses.SUCCESS,
        method="web-download",
        result={"image_id": "img-1", "stores": ["fast"], "importing_to": [], "failed_stores": []},
    )
    assert FORM in operator.get("/clouds/glance/images/img-1/").text

    sent = operator.post(
        COPY, {"cloud": "glance", "submission_id": str(uuid.uuid4()), "stores": ["cheap"]}
    )

    assert sent.status_code == 200
    assert f"{REFUSED} It said: {POLICY}" in sent.text
    assert FORM not in sent.text
    assert ImageTask.objects.get(method="copy-image").status == statuses.REJECTED
    for page in ("/clouds/glance/images/img-1/", f"/tasks/{imported.pk}/", COPY):
        html = operator.get(page).text
        assert REFUSED in html and FORM not in html, page
    assert len(scripted.requests("POST")) == 1, "the refused copy is not sent again"

    refresh_capabilities(admin_client, glance)

    glance.refresh_from_db()
    assert glance.copy_image_refused_at is None
    assert FORM in operator.get("/clouds/glance/images/img-1/").text


def test_a_refusal_of_this_image_only_keeps_the_offer(
    client, admin_client, cloud_operator, glance, scripted
):
    """Someone else's image: Glance's modify_image refusal is about that image, not copying."""
    stock_glance(scripted, forbidden("You are not authorized to complete modify_image action."))
    refresh_capabilities(admin_client, glance)
    operator = logged_in(client, cloud_operator, glance)

    sent = operator.post(
        COPY, {"cloud": "glance", "submission_id": str(uuid.uuid4()), "stores": ["cheap"]}
    )

    assert "The cloud refused it: You are not authorized to complete modify_image" in sent.text
    assert FORM in sent.text and REFUSED not in sent.text
    glance.refresh_from_db()
    assert glance.copy_image_refused_at is None
