"""Tokens are made and revoked by their person on the profile page, made from the command
line, and revoked by administrators in the admin; the clear value is shown once only."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from imagetasks.bearer import hash_token
from imagetasks.dashboard.models import ApiToken
from tests.support.factories import make_user

TOKEN = re.compile(r"itk_[A-Za-z0-9_-]{43}")


def test_the_profile_page_makes_a_token_and_shows_it_once(client, owner):
    client.force_login(owner)

    made = client.post("/profile/tokens/", {"name": "nightly backup"})

    assert made.status_code == 200
    shown = TOKEN.findall(made.content.decode())
    assert len(set(shown)) == 1
    value = shown[0]
    assert "cannot be shown again" in made.content.decode()
    assert "no-store" in made["Cache-Control"]
    token = ApiToken.objects.get(user=owner)
    assert token.name == "nightly backup" and token.key_hash == hash_token(value)
    again = client.get("/profile/").content.decode()
    assert "nightly backup" in again and value not in again and not TOKEN.search(again)


def test_a_token_needs_a_name(client, owner):
    client.force_login(owner)

    response = client.post("/profile/tokens/", {"name": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_person_revokes_their_token_and_it_stops_working(client, api, owner, cloud, token_for):
    value = token_for(owner, "laptop")
    client.force_login(owner)
    token = ApiToken.objects.get()

    response = client.post(f"/profile/tokens/{token.pk}/revoke/", follow=True)

    assert "The token “laptop” is revoked" in response.content.decode()
    client.logout()
    assert api.get("/api/v1/clouds", token=value).status_code == 401


def test_nobody_revokes_another_persons_token(client, owner, colleague, token_for):
    token_for(colleague)
    client.force_login(owner)

    response = client.post(f"/profile/tokens/{ApiToken.objects.get().pk}/revoke/")

    assert response.status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_an_anonymous_visitor_makes_no_token(client, db):
    response = client.post("/profile/tokens/", {"name": "x"})

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ApiToken.objects.exists()


def test_the_command_prints_the_token_alone_on_stdout(api, owner, cloud):
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_token", "owen", "--name", "ci", stdout=out, stderr=err)

    value = out.getvalue().strip()
    assert TOKEN.fullmatch(value)
    assert "cannot be shown again" in err.getvalue() and value not in err.getvalue()
    assert ApiToken.objects.get().name == "ci"
    assert api.get("/api/v1/clouds", token=value).status_code == 200


def test_the_command_refuses_a_login_that_does_not_exist(db):
    with pytest.raises(CommandError, match="No login named 'nobody'"):
        call_command("create_api_token", "nobody", stdout=io.StringIO())


def test_an_admin_sees_everyones_tokens_without_their_secret_and_revokes_them(
    client, django_user_model, owner, api, cloud, token_for
):
    value = token_for(owner, "owen's script")
    admin = django_user_model.objects.create_superuser("root", password="pw-root-admin")
    client.force_login(admin)
    token = ApiToken.objects.get()

    listing = client.get("/admin/dashboard/apitoken/").content.decode()
    detail = client.get(f"/admin/dashboard/apitoken/{token.pk}/change/").content.decode()
    assert "owen&#x27;s script" in listing or "owen's script" in listing
    for page in (listing, detail):
        assert token.key_hash not in page and value not in page

    client.post(
        "/admin/dashboard/apitoken/",
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )

    token.refresh_from_db()
    assert token.revoked_at is not None
    client.logout()
    assert api.get("/api/v1/clouds", token=value).status_code == 401


def test_a_staff_member_without_the_permission_cannot_see_tokens(client, django_user_model):
    staff = make_user(django_user_model, "stan")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)

    assert client.get("/admin/dashboard/apitoken/").status_code == 403
