"""GET /api/v1/clouds as the dashboard's access rules say, and errors that are always
JSON: unknown addresses, the document and its docs page."""

from __future__ import annotations

import json
import re

import pytest

from imagetasks.dashboard.models import Cloud
from tests.support.factories import make_cloud

CLOUDS = "/api/v1/clouds"


@pytest.mark.parametrize(
    ("who", "seen", "may_submit"),
    [("owner", ["acme"], True), ("colleague", ["acme"], True), ("viewer", ["acme"], False),
     ("outsider", [], None)],
)  # fmt: skip
def test_each_person_lists_the_clouds_granted_to_them(
    request, api, token_for, who, seen, may_submit
):
    make_cloud("hidden")
    person = request.getfixturevalue(who)

    body = json.loads(api.get(CLOUDS, token=token_for(person)).content)

    assert [entry["name"] for entry in body] == seen
    assert all(entry["may_submit"] is may_submit for entry in body)


def test_a_superuser_lists_every_cloud(api, django_user_model, cloud, token_for):
    make_cloud("second")
    root = django_user_model.objects.create_superuser("root", password="pw-root-admin")

    body = json.loads(api.get(CLOUDS, token=token_for(root)).content)

    assert [entry["name"] for entry in body] == ["acme", "second"]


def test_a_switched_off_cloud_takes_no_submission(api, owner, cloud, token_for):
    Cloud.objects.filter(pk=cloud.pk).update(enabled=False)

    (entry,) = json.loads(api.get(CLOUDS, token=token_for(owner)).content)

    assert entry["enabled"] is False and entry["may_submit"] is False


def test_what_a_cloud_offers_is_read_defensively(api, owner, cloud, token_for):
    Cloud.objects.filter(pk=cloud.pk).update(
        import_methods=["web-download", 7, None, "glance-direct"],
        image_stores=[{"id": "fast", "default": True}, "junk", {"id": 3}, {"id": "cheap"}],
    )

    (entry,) = json.loads(api.get(CLOUDS, token=token_for(owner)).content)

    assert entry["import_methods"] == ["web-download", "glance-direct"]
    assert entry["image_stores"] == ["fast", "cheap"]


@pytest.mark.parametrize("path", ["/api/", "/api/v1/", "/api/v1/nothing", "/api/v2/tasks"])
def test_an_address_the_api_does_not_have_is_a_json_404(client, db, path):
    for response in (client.get(path), client.post(path, "{}", content_type="application/json")):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert json.loads(response.content) == {"detail": "Not found."}


def test_a_method_an_address_does_not_take_is_a_json_405(client, owner, token_for):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    headers = {"Authorization": f"Bearer {token_for(owner)}"}
    for response in (client.delete(CLOUDS, headers=headers), strict.post("/api/v1/nothing")):
        assert response["Content-Type"].startswith("application/json")
    response = client.delete(CLOUDS, headers=headers)
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert json.loads(response.content) == {"detail": "Method not allowed."}


def test_the_openapi_document_needs_no_login(client, db):
    response = client.get("/api/openapi.json")

    doc = json.loads(response.content)
    assert response.status_code == 200
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/clouds", "/api/v1/tasks", "/api/v1/tasks/{task_id}"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}


def test_the_docs_page_loads_everything_from_this_site(client, db):
    response = client.get("/api/docs")

    page = response.content.decode()
    assert response.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert "swagger-ui-bundle" in page and "<script>" not in page.replace(" ", "")


def test_a_failure_of_ours_is_a_json_500_that_shows_nothing_of_it(
    client, owner, cloud, token_for, monkeypatch, caplog
):
    from imagetasks.dashboard.api import clouds

    def broken(user):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(clouds.access, "visible_clouds", broken)

    response = client.get(CLOUDS, headers={"Authorization": f"Bearer {token_for(owner)}"})

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert "secret detail" not in response.content.decode()
    assert "is logged for the administrator" in json.loads(response.content)["detail"]
    assert any("API request failed" in record.getMessage() for record in caplog.records)
