"""A staff user sees in the admin only what they may see outside it: the tasks,
snapshots, copies and settings of their own clouds, in every list, page, filter,
export and action. Superusers see everything."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from imagetasks.dashboard.access import OPERATORS
from imagetasks.dashboard.api import tokens
from imagetasks.dashboard.models import ApiToken, Cloud, Copy, ImageTask
from tests.support.factories import add_snapshot, make_cloud, make_task, make_user

pytestmark = pytest.mark.django_db

PERMISSIONS = [
    "view_imagetask", "view_tasksnapshot", "view_copy", "view_cloud", "change_cloud",
]  # fmt: skip


@pytest.fixture
def world(django_user_model, settings):
    """Staff operator ``stan`` is granted ``mine`` only; ``theirs`` is another team's."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    mine, theirs = (
        make_cloud("mine"),
        make_cloud("theirs", webhook_url="https://hooks.theirs.test/?t=tok-5ecret"),
    )
    stan = make_user(django_user_model, "stan", OPERATORS)
    stan.is_staff = True
    stan.save()
    stan.user_permissions.add(*Permission.objects.filter(codename__in=PERMISSIONS))
    mine.users.add(stan)
    other = make_user(django_user_model, "olaf", OPERATORS)
    my_task = make_task(mine, stan, status="failure", name="my-web")
    their_task = make_task(theirs, other, status="failure", name="their-db")
    add_snapshot(my_task, "failure")
    add_snapshot(their_task, "failure")
    crossing = Copy.objects.create(
        source_cloud=mine, source_image_id="i-1", source_image_name="crossing-copy",
        target_cloud=theirs, target_name="x", staging_container="imagetasks-copy-x",
    )  # fmt: skip
    return {"stan": stan, "mine": mine, "theirs": theirs, "my_task": my_task,
            "their_task": their_task, "crossing": crossing}  # fmt: skip


@pytest.fixture
def stan_client(client, world):
    client.force_login(world["stan"])
    return client


def text(response) -> str:
    return response.content.decode()


def test_the_task_list_and_its_filters_show_only_the_person_s_clouds(stan_client, world):
    page = text(stan_client.get("/admin/dashboard/imagetask/"))
    assert "my-web" in page and "their-db" not in page
    assert f"cloud__id__exact={world['theirs'].pk}" not in page  # not even as a choice
    assert "olaf" not in page  # the other team's submitter is no filter choice either
    by_search = text(stan_client.get(f"/admin/dashboard/imagetask/?q={world['their_task'].pk}"))
    assert "their-db" not in by_search


def test_another_cloud_s_task_page_and_history_are_not_found(stan_client, world):
    theirs = world["their_task"].pk
    for url in (f"/admin/dashboard/imagetask/{theirs}/change/",
                f"/admin/dashboard/imagetask/{theirs}/history/"):  # fmt: skip
        response = stan_client.get(url, follow=True)
        assert "their-db" not in text(response)
        assert "doesn’t exist" in text(response) or response.status_code == 404
    assert "my-web" in text(
        stan_client.get(f"/admin/dashboard/imagetask/{world['my_task'].pk}/change/")
    )


def test_snapshots_copies_and_clouds_are_scoped_too(stan_client, world):
    snapshots = text(stan_client.get("/admin/dashboard/tasksnapshot/"))
    assert "my-web" in snapshots and "their-db" not in snapshots
    # A copy is seen only by whoever sees both of its clouds.
    assert "crossing-copy" not in text(stan_client.get("/admin/dashboard/copy/"))
    clouds = text(stan_client.get("/admin/dashboard/cloud/"))
    assert ">mine<" in clouds and ">theirs<" not in clouds
    their_cloud = stan_client.get(
        f"/admin/dashboard/cloud/{world['theirs'].pk}/change/", follow=True
    )
    assert "hooks.theirs.test" not in text(their_cloud) and "tok-5ecret" not in text(their_cloud)


def test_exports_and_resubmission_only_reach_the_person_s_clouds(stan_client, world):
    selected = [str(world["my_task"].pk), str(world["their_task"].pk)]
    response = stan_client.post(
        "/admin/dashboard/imagetask/", {"action": "export_csv", "_selected_action": selected}
    )
    body = b"".join(response.streaming_content).decode()
    assert "my-web" in body and "their-db" not in body

    stan_client.post(
        "/admin/dashboard/imagetask/",
        {"action": "resubmit_selected", "_selected_action": selected},
    )
    made = ImageTask.objects.exclude(pk__in=selected)
    assert {task.cloud.name for task in made} == {"mine"}


def test_a_superuser_sees_every_cloud(client, world, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw-root-1234")
    client.force_login(root)
    page = text(client.get("/admin/dashboard/imagetask/"))
    assert "my-web" in page and "their-db" in page
    assert "crossing-copy" in text(client.get("/admin/dashboard/copy/"))


def test_the_admin_s_cloud_form_sets_the_segment_size_and_refuses_less_than_a_mebibyte(
    client, world, django_user_model
):
    root = django_user_model.objects.create_superuser("root", password="pw-root-1234")
    client.force_login(root)
    url = f"/admin/dashboard/cloud/{world['mine'].pk}/change/"
    form = client.get(url).context["adminform"].form
    assert "Bytes per segment" in text(client.get(url))
    fields = {
        k: v for k, v in form.initial.items() if v is not None and k not in {"users", "groups"}
    }
    fields.update(segment_size="1000", stale_after="06:00:00")

    refused = client.post(url, fields)
    assert "greater than or equal to 1048576" in text(refused)

    fields["segment_size"] = str(64 * 1024**2)
    assert client.post(url, fields).status_code == 302
    world["mine"].refresh_from_db()
    assert world["mine"].segment_size == 64 * 1024**2


def test_a_staff_member_sees_and_revokes_only_their_own_api_tokens(stan_client, world):
    """A token acts on its person's clouds: another team's token is theirs alone, as on
    the profile page; a superuser revokes anyone's (tests/api)."""
    stan, olaf = world["stan"], world["their_task"].submitted_by
    stan.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_apitoken", "change_apitoken"])
    )
    _, mine = tokens.issue(stan, "stan-nightly")
    _, theirs = tokens.issue(olaf, "olaf-backup")

    listing = text(stan_client.get("/admin/dashboard/apitoken/"))
    assert "stan-nightly" in listing and "olaf-backup" not in listing
    assert "olaf" not in listing  # not even as a search or filter hint
    page = stan_client.get(f"/admin/dashboard/apitoken/{theirs.pk}/change/", follow=True)
    assert "olaf-backup" not in text(page)
    stan_client.post(
        "/admin/dashboard/apitoken/",
        {"action": "revoke_selected", "_selected_action": [theirs.pk, mine.pk]},
    )

    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None


def test_the_cloud_list_shows_the_capabilities_of_the_person_s_clouds_only(stan_client, world):
    Cloud.objects.filter(pk=world["mine"].pk).update(image_regions=["MINE-2"])
    Cloud.objects.filter(pk=world["theirs"].pk).update(image_regions=["THEIRS-2"])

    page = text(stan_client.get(f"/admin/dashboard/cloud/{world['mine'].pk}/change/"))
    theirs = stan_client.get(f"/admin/dashboard/cloud/{world['theirs'].pk}/change/", follow=True)

    assert "MINE-2" in page
    assert "THEIRS-2" not in text(theirs)


def test_dismissed_tasks_stay_in_the_audit_with_who_and_when_read_only(stan_client, world):
    ImageTask.objects.filter(pk__in=[world["my_task"].pk, world["their_task"].pk]).update(
        dismissed_at=timezone.now(), dismissed_by=world["stan"]
    )

    dismissed = text(stan_client.get("/admin/dashboard/imagetask/?dismissed_at__isnull=False"))
    assert "my-web" in dismissed and "their-db" not in dismissed
    not_dismissed = text(stan_client.get("/admin/dashboard/imagetask/?dismissed_at__isnull=True"))
    assert "my-web" not in not_dismissed
    page = text(stan_client.get(f"/admin/dashboard/imagetask/{world['my_task'].pk}/change/"))
    assert "Dismissal" in page and "Dismissed by:" in page and "stan" in page
    assert 'name="dismissed_at"' not in page and 'name="dismissed_by"' not in page
