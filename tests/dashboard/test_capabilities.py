"""What a cloud offers for imports, refreshed from the admin's cloud list and from
``manage.py refresh_capabilities``, read back on the cloud's admin page: against the live
built-in cloud, a scripted cloud that answers garbage or nothing, and a cloud nobody
answers for."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command

from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import Cloud
from imagetasks.localcloud.models import Project
from tests.openstack.samples import keystone_reply
from tests.openstack.scripted import Reply
from tests.support.factories import make_cloud, make_user

CLOUDS = "/admin/dashboard/cloud/"


def refresh_in_admin(admin_client, *clouds: Cloud) -> str:
    """Tick the clouds in the list and run "Refresh capabilities", as a person does."""
    response = admin_client.post(
        CLOUDS,
        {"action": "refresh_capabilities", "_selected_action": [c.pk for c in clouds]},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def cloud_page(admin_client, cloud: Cloud) -> str:
    return admin_client.get(f"{CLOUDS}{cloud.pk}/change/").content.decode()


def glance_like(scripted, *, stores=None, tasks: Reply | None = None) -> None:
    """A scripted Glance 2024: v2.16, four methods, two stores, tasks for admins only."""
    link = [{"rel": "self", "href": f"{scripted.url}/image/v2/"}]
    scripted.on(
        "GET",
        "/image/versions",
        Reply(json={"versions": [{"id": "v2.16", "status": "CURRENT", "links": link}]}),
    )
    methods = ["glance-direct", "web-download", "copy-image", "glance-download"]
    scripted.on(
        "GET",
        "/image/v2/info/import",
        Reply(json={"import-methods": {"type": "array", "value": methods}}),
    )
    scripted.on(
        "GET",
        "/image/v2/info/stores",
        Reply(
            json={
                "stores": stores
                or [
                    {"id": "fast", "description": "SSD", "default": "true"},
                    {"id": "cheap", "description": "Spinning rust"},
                ]
            }
        ),
    )
    scripted.on("GET", "/image/v2/tasks", tasks or Reply(403, json={"message": "Forbidden"}))


@pytest.fixture
def scripted_cloud(db, scripted) -> Cloud:
    return make_cloud("scripted", image_endpoint=f"{scripted.url}/image")


# Against the built-in cloud -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_refreshing_the_built_in_cloud_records_what_it_offers(admin_client, local_cloud):
    page = refresh_in_admin(admin_client, local_cloud)

    local_cloud.refresh_from_db()
    assert local_cloud.capabilities_error == ""
    assert local_cloud.capabilities_checked_at is not None
    assert local_cloud.images_api_version == "2.12"
    assert local_cloud.import_methods == [
        "glance-direct",
        "web-download",
        "copy-image",
        "glance-download",
    ]
    assert [(s["id"], s["default"]) for s in local_cloud.image_stores] == [
        ("fast", True),
        ("cheap", False),
    ]
    assert local_cloud.tasks_api == Cloud.TasksApi.PERMITTED
    assert (
        "Capabilities of local: Images API 2.12; import methods: glance-direct, web-download, "
        "copy-image, glance-download; stores: fast (default), cheap; tasks API: permitted"
    ) in page
    shown = cloud_page(admin_client, local_cloud)
    assert "fast (default), cheap" in shown and "Permitted" in shown


@pytest.mark.django_db(transaction=True)
def test_a_project_of_stock_glances_flavour_is_recorded_admin_only(
    admin_client, local_cloud, account
):
    Project.objects.filter(pk=account.project.pk).update(tasks_api=Project.TasksApi.ADMIN)

    refresh_in_admin(admin_client, local_cloud)

    local_cloud.refresh_from_db()
    assert local_cloud.tasks_api == Cloud.TasksApi.ADMIN_ONLY
    assert local_cloud.import_methods == [
        "glance-direct",
        "web-download",
        "copy-image",
        "glance-download",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_command_refreshes_the_clouds_it_names(local_cloud):
    other = make_cloud("unreachable", capabilities_checked_at=None)
    out, err = _call("refresh_capabilities", local_cloud.name)

    local_cloud.refresh_from_db()
    other.refresh_from_db()
    assert out.startswith("local: Images API 2.")
    assert err == ""
    assert other.capabilities_checked_at is None


# A cloud that answers garbage, part garbage, or nothing ----------------------------------


def test_a_glance_like_cloud_is_read_whole(admin_client, scripted, scripted_cloud):
    glance_like(scripted)

    page = refresh_in_admin(admin_client, scripted_cloud)

    scripted_cloud.refresh_from_db()
    assert scripted_cloud.images_api_version == "2.16"
    assert scripted_cloud.import_methods == [
        "glance-direct",
        "web-download",
        "copy-image",
        "glance-download",
    ]
    assert scripted_cloud.image_stores == [
        {"id": "fast", "description": "SSD", "default": True},
        {"id": "cheap", "description": "Spinning rust", "default": False},
    ]
    assert scripted_cloud.tasks_api == Cloud.TasksApi.ADMIN_ONLY
    assert "stores: fast (default), cheap; tasks API: admin only" in page


def test_the_catalogs_other_image_regions_are_recorded_and_shown_escaped(
    admin_client, scripted, db
):
    glance_like(scripted)
    hostile = "<img src=x onerror=alert(1)>" + "r" * 100
    regions = {"RegionTwo": f"{scripted.url}/two/image", hostile: f"{scripted.url}/bad"}
    scripted.on("POST", "/identity/v3/auth/tokens", keystone_reply(scripted, image_regions=regions))
    glance = make_cloud(
        "glance",
        auth_type=Cloud.AuthType.V3_PASSWORD,
        auth_url=f"{scripted.url}/identity/v3",
        username="olivia",
        image_endpoint="",
    )
    glance.set_secret("pw-olivia")
    glance.save()

    page = refresh_in_admin(admin_client, glance)

    glance.refresh_from_db()
    assert glance.capabilities_error == ""
    assert glance.image_regions == ["RegionTwo", hostile[: capabilities.REGION_LIMIT]]
    assert "tasks API: admin only; other image regions: RegionTwo, &lt;img src=x" in page
    shown = cloud_page(admin_client, glance)
    assert "RegionTwo, &lt;img src=x onerror=alert(1)&gt;rrr" in shown
    assert "<img src=x" not in page + shown


def test_a_cloud_without_a_catalog_has_no_other_region(admin_client, scripted, scripted_cloud):
    glance_like(scripted)

    page = refresh_in_admin(admin_client, scripted_cloud)

    scripted_cloud.refresh_from_db()
    assert scripted_cloud.image_regions == []
    assert "other image regions" not in page


def test_a_cloud_answering_garbage_is_recorded_unknown_with_the_reasons(
    admin_client, scripted, scripted_cloud
):
    scripted.on("GET", "/image/versions", Reply(body="<html>It works!</html>"))
    scripted.on("GET", "/image/v2/info/import", Reply(json={"import-methods": [1, 2]}))
    scripted.on("GET", "/image/v2/info/stores", Reply(json={"stores": [{"id": 7}]}))
    scripted.on("GET", "/image/v2/tasks", Reply(500, body="Traceback (most recent call last)"))

    page = refresh_in_admin(admin_client, scripted_cloud)

    scripted_cloud.refresh_from_db()
    assert (
        scripted_cloud.images_api_version,
        scripted_cloud.import_methods,
        scripted_cloud.image_stores,
        scripted_cloud.tasks_api,
    ) == ("", None, None, Cloud.TasksApi.UNKNOWN)
    errors = scripted_cloud.capabilities_error.splitlines()
    assert [line.split(":")[0] for line in errors] == [
        "Images API version",
        "import methods",
        "stores",
        "tasks API",
    ]
    assert "not JSON" in errors[0]
    assert "Images API unknown; import methods: unknown; stores: unknown" in page
    assert "Not answered: Images API version:" in page


def test_one_bad_answer_leaves_the_others_known(admin_client, scripted, scripted_cloud):
    glance_like(scripted)
    scripted.on("GET", "/image/v2/info/stores", Reply(404, body="Multi backend is not supported"))
    scripted.on("GET", "/image/v2/info/import", Reply(503, body="busy"))

    refresh_in_admin(admin_client, scripted_cloud)

    scripted_cloud.refresh_from_db()
    assert scripted_cloud.images_api_version == "2.16"
    assert scripted_cloud.image_stores == []  # one store, nothing to choose
    assert scripted_cloud.import_methods is None
    assert scripted_cloud.capabilities_error.startswith("import methods: busy")
    assert len(scripted.requests("GET", "/image/v2/info/import")) == 1  # not retried


def test_hostile_names_are_kept_as_text_and_shown_escaped(admin_client, scripted, scripted_cloud):
    glance_like(
        scripted,
        stores=[
            {"id": "<img src=x onerror=alert(1)>", "description": "<script>x()</script>"},
            {"id": "nul\u0000store", "description": "d" * 5000, "default": "true"},
        ],
    )

    refresh_in_admin(admin_client, scripted_cloud)
    page = cloud_page(admin_client, scripted_cloud)

    scripted_cloud.refresh_from_db()
    first, second = scripted_cloud.image_stores
    assert first["description"] == "<script>x()</script>"
    assert second["id"] == "nul\ufffdstore" and second["default"] is True
    assert len(second["description"]) == 1000
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_cloud_nobody_answers_for_is_unknown_and_says_so(admin_client, db):
    nobody = make_cloud("nobody")

    started = time.monotonic()
    page = refresh_in_admin(admin_client, nobody)

    assert time.monotonic() - started < 10
    nobody.refresh_from_db()
    assert nobody.tasks_api == Cloud.TasksApi.UNKNOWN
    assert nobody.import_methods is None
    assert nobody.capabilities_error.startswith("no answer: GET ")
    assert "could not connect" in nobody.capabilities_error
    assert nobody.capabilities_checked_at is not None
    assert "Capabilities of nobody: Images API unknown" in page
    assert page.count("could not connect") == 1


def test_a_slow_cloud_holds_a_refresh_for_seconds_only(
    admin_client, scripted, scripted_cloud, monkeypatch
):
    # The real timeouts are 10 s; a test waits a fraction of that for the same path.
    monkeypatch.setattr(capabilities, "PROBE_TIMEOUT", (0.5, 0.5))
    for path in ("versions", "v2/info/import", "v2/info/stores", "v2/tasks"):
        scripted.on("GET", f"/image/{path}", Reply(json={}, delay=5))

    started = time.monotonic()
    refresh_in_admin(admin_client, scripted_cloud)

    assert time.monotonic() - started < 3  # the four questions wait together, once
    scripted_cloud.refresh_from_db()
    assert scripted_cloud.capabilities_error.startswith("no answer: GET ")
    assert "no answer within 0.5 s" in scripted_cloud.capabilities_error


def test_refused_credentials_are_one_reason_and_no_question_is_asked(admin_client, scripted, db):
    scripted.on("POST", "/identity/v3/auth/tokens", Reply(401, json={"error": {"message": "no"}}))
    refused = make_cloud(
        "refused",
        auth_type=Cloud.AuthType.V3_PASSWORD,
        auth_url=f"{scripted.url}/identity/v3",
        username="olivia",
        image_endpoint="",
    )
    refused.set_secret("pw-never-shown-31337")
    refused.save()

    page = refresh_in_admin(admin_client, refused)

    refused.refresh_from_db()
    assert refused.capabilities_error.startswith("sign-in: the identity service refused")
    assert [r.method for r in scripted.received] == ["POST"]
    assert "pw-never-shown-31337" not in page + refused.capabilities_error


def test_a_cloud_whose_settings_make_no_client_is_unknown_with_the_reason(admin_client, db):
    broken = make_cloud("broken", auth_type=Cloud.AuthType.V3_PASSWORD, auth_url="")

    refresh_in_admin(admin_client, broken)

    broken.refresh_from_db()
    assert broken.capabilities_error == "settings: auth_type 'v3password' needs an auth_url"


# The admin page and who may refresh ---------------------------------------------------------


def test_capabilities_are_shown_read_only_on_the_cloud_page(admin_client, scripted, scripted_cloud):
    glance_like(scripted)
    refresh_in_admin(admin_client, scripted_cloud)

    page = cloud_page(admin_client, scripted_cloud)

    assert "Capabilities" in page and "2.16" in page
    assert "glance-direct, web-download, copy-image, glance-download" in page
    assert 'name="import_methods"' not in page and 'name="tasks_api"' not in page


def test_only_people_who_may_change_clouds_get_the_action(client, django_user_model, db):
    cloud = make_cloud("viewed", capabilities_checked_at=None)
    viewer = make_user(django_user_model, "vera")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_cloud"))
    cloud.users.add(viewer)
    client.force_login(viewer)

    listing = client.get(CLOUDS).content.decode()
    client.post(CLOUDS, {"action": "refresh_capabilities", "_selected_action": [cloud.pk]})

    assert "Refresh capabilities" not in listing
    cloud.refresh_from_db()
    assert cloud.capabilities_checked_at is None


# The command ------------------------------------------------------------------------------


def _call(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_refreshes_every_enabled_cloud_and_reports_what_went_unanswered(
    scripted, scripted_cloud
):
    glance_like(scripted, tasks=Reply(json={"tasks": []}))
    off = make_cloud("switched-off", enabled=False, capabilities_checked_at=None)

    out, err = _call("refresh_capabilities")

    assert out.splitlines() == [
        "scripted: Images API 2.16; import methods: glance-direct, web-download, copy-image, "
        "glance-download; stores: fast (default), cheap; tasks API: permitted"
    ]
    assert err == ""
    off.refresh_from_db()
    assert off.capabilities_checked_at is None


def test_the_command_says_which_answers_it_did_not_get(db):
    make_cloud("nobody")

    out, err = _call("refresh_capabilities", "nobody")

    assert out.startswith("nobody: Images API unknown")
    assert err.startswith("nobody: not answered: no answer: GET ")


def test_the_command_refuses_a_name_it_does_not_know(db):
    make_cloud("known")

    with pytest.raises(CommandError, match="no cloud named 'unknown'"):
        call_command("refresh_capabilities", "known", "unknown")
