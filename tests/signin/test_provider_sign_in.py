"""Signing in with a real OpenID Connect provider on loopback (oidc-provider, run by node):
accounts made on the first sign-in, roles and clouds from the groups claim kept in step at
every sign-in, whatever the claims hold."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group

from imagetasks.dashboard.access import OPERATORS, VIEWERS, can_submit, visible_clouds
from imagetasks.dashboard.models import ProviderIdentity
from tests.support.factories import make_cloud
from tests.support.oidc import sign_in, sign_in_at_provider

pytestmark = pytest.mark.django_db

OPERATOR = "imagetasks:operators"
VIEWER = "imagetasks:viewers"


def cloud_group(name: str) -> str:
    return f"imagetasks:cloud:{name}"


def clouds_of(user) -> list[str]:
    return sorted(visible_clouds(user).values_list("name", flat=True))


def person(login: str):
    """The account the provider's ``login`` signs in to (the provider's ``sub`` is the login)."""
    return ProviderIdentity.objects.get(subject=login).user


def roles_of(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_an_operator_of_the_provider_gets_an_account_with_the_clouds_their_groups_name(
    client, oidc_provider, django_user_model
):
    make_cloud("acme"), make_cloud("globex")
    oidc_provider.add_user(
        "ana", "pw-ana-provider", preferred_username="ana", email="ana@example.org",
        given_name="Ana", family_name="Lima",
        groups=[OPERATOR, cloud_group("acme"), "staff", "imagetasks:cloud:nowhere"],
    )  # fmt: skip

    response = sign_in(client, "ana", "pw-ana-provider")

    assert response.status_code == 302 and response["Location"] == "/"
    ana = django_user_model.objects.get(username="ana")
    assert (ana.email, ana.first_name, ana.last_name) == ("ana@example.org", "Ana", "Lima")
    assert can_submit(ana) and clouds_of(ana) == ["acme"]
    assert not (ana.is_staff or ana.is_superuser or ana.has_usable_password())
    page = client.get("/").content.decode()
    assert '<option value="acme">acme</option>' in page and "globex" not in page
    assert "New import" in page


def test_someone_whose_groups_grant_nothing_is_told_to_ask_an_administrator(client, oidc_provider):
    make_cloud("acme")
    oidc_provider.add_user("nia", "pw-nia-provider", email="nia@example.org")

    response = sign_in(client, "nia", "pw-nia-provider")
    page = client.get(response["Location"]).content.decode()

    assert "Your account has no access yet" in page
    assert "Ask an administrator for access" in page and "Example Org" in page
    assert "No tasks yet" not in page and "acme" not in page


def test_a_role_without_a_cloud_is_no_access_either(client, oidc_provider):
    oidc_provider.add_user("vic", "pw-vic-provider", groups=[VIEWER])

    sign_in(client, "vic", "pw-vic-provider")

    assert "Your account has no access yet" in client.get("/").content.decode()


def test_each_sign_in_takes_away_what_the_provider_gave_and_keeps_what_an_admin_gave(
    client, oidc_provider, django_user_model
):
    acme, globex, initech = make_cloud("acme"), make_cloud("globex"), make_cloud("initech")
    oidc_provider.add_user(
        "ana", "pw-ana-provider", groups=[OPERATOR, cloud_group("acme"), cloud_group("globex")]
    )
    sign_in(client, "ana", "pw-ana-provider")
    ana = person("ana")
    assert roles_of(ana) == {OPERATORS} and clouds_of(ana) == ["acme", "globex"]
    # An administrator gives her a cloud and the viewers' role by hand.
    initech.users.add(ana)
    ana.groups.add(Group.objects.get(name=VIEWERS))

    oidc_provider.set_claims("ana", groups=[VIEWER, cloud_group("globex")])
    client.logout()
    sign_in(client, "ana", "pw-ana-provider")

    assert roles_of(ana) == {VIEWERS} and clouds_of(ana) == ["globex", "initech"]

    oidc_provider.set_claims("ana", groups=[])
    client.logout()
    sign_in(client, "ana", "pw-ana-provider")

    assert roles_of(ana) == {VIEWERS} and clouds_of(ana) == ["initech"]  # the admin's stay
    identity = ProviderIdentity.objects.get(user=ana)
    assert not identity.granted_groups.exists() and not identity.granted_clouds.exists()
    assert acme.users.count() == globex.users.count() == 0


def test_what_the_provider_gave_and_an_admin_took_away_comes_back_while_the_claim_says_so(
    client, oidc_provider, django_user_model
):
    acme = make_cloud("acme")
    oidc_provider.add_user("ana", "pw-ana-provider", groups=[OPERATOR, cloud_group("acme")])
    sign_in(client, "ana", "pw-ana-provider")
    ana = person("ana")
    acme.users.remove(ana)

    client.logout()
    sign_in(client, "ana", "pw-ana-provider")

    assert clouds_of(ana) == ["acme"]


@pytest.mark.parametrize(
    ("groups", "clouds", "roles"),
    [
        pytest.param(cloud_group("acme"), ["acme"], set(), id="one string, not a list"),
        pytest.param({"groups": [OPERATOR]}, [], set(), id="an object"),
        pytest.param([[OPERATOR], {"name": OPERATOR}, 7, None, True], [], set(), id="nested"),
        pytest.param(42, [], set(), id="a number"),
        pytest.param(
            [
                cloud_group("../../etc"),
                cloud_group("acme\u0000"),
                cloud_group("a" * 300),
                cloud_group("<script>"),
                "x" * 100_000,
            ],
            [],
            set(),
            id="names no cloud has",
        ),
        pytest.param(
            [f"team-{number}" for number in range(40_000)] + [OPERATOR, cloud_group("acme")],
            ["acme"],
            {OPERATORS},
            id="a huge list",
        ),
    ],
)
def test_groups_claims_of_any_shape_never_break_a_sign_in(
    client, oidc_provider, django_user_model, groups, clouds, roles
):
    make_cloud("acme")
    oidc_provider.add_user("ana", "pw-ana-provider", groups=groups)

    response = sign_in(client, "ana", "pw-ana-provider")

    assert response.status_code == 302
    ana = person("ana")
    assert clouds_of(ana) == clouds and roles_of(ana) == roles
    assert client.get("/").status_code == 200


def test_hostile_names_and_emails_make_a_safe_user_name_and_no_email(
    client, oidc_provider, django_user_model
):
    oidc_provider.add_user(
        "eve", "pw-eve-provider", preferred_username="<script>alert(1)</script>\u0000 e v e",
        email={"address": "eve@example.org"}, given_name=["Eve"], family_name="L" * 500,
    )  # fmt: skip

    assert sign_in(client, "eve", "pw-eve-provider").status_code == 302

    eve = person("eve")
    assert eve.username == "scriptalert1scripteve"
    assert (eve.email, eve.first_name, eve.last_name) == ("", "", "L" * 150)


def test_someone_at_the_provider_named_like_a_local_account_never_gets_that_account(
    client, oidc_provider, django_user_model
):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.org", "pw-admin-1")
    oidc_provider.add_user(
        "mallory", "pw-mallory-provider", preferred_username="Admin", email="admin@example.org"
    )

    sign_in(client, "mallory", "pw-mallory-provider")

    mallory = person("mallory")
    assert mallory != admin and mallory.username == "Admin-2" and not mallory.is_superuser
    assert client.get("/admin/").status_code == 302  # not staff: sent to the login page


def test_the_next_sign_in_finds_the_same_account_by_subject_whatever_the_name_says(
    client, oidc_provider, django_user_model
):
    oidc_provider.add_user("ana", "pw-ana-provider", preferred_username="ana")
    sign_in(client, "ana", "pw-ana-provider")
    oidc_provider.set_claims("ana", preferred_username="ana.lima", email="ana@example.org")

    client.logout()
    sign_in(client, "ana", "pw-ana-provider")

    assert list(django_user_model.objects.values_list("username", "email")) == [
        ("ana", "ana@example.org")
    ]


def test_the_login_page_offers_the_provider_beside_the_password_form(client, oidc_provider):
    page = client.get("/accounts/login/?next=/copies/new/").content.decode()

    assert 'href="/oidc/authenticate/?next=/copies/new/"' in page
    assert "Sign in with Example Org" in page and 'name="password"' in page


def test_a_sign_in_goes_on_to_the_page_asked_for(client, oidc_provider):
    make_cloud("acme")
    oidc_provider.add_user("ana", "pw-ana-provider", groups=[VIEWER, cloud_group("acme")])
    start = client.get("/oidc/authenticate/?next=/copies/new/")
    assert start.status_code == 302

    back = urlsplit(sign_in_at_provider(start["Location"], "ana", "pw-ana-provider"))
    response = client.get(f"{back.path}?{back.query}")

    assert response["Location"] == "/copies/new/"


def test_an_account_switched_off_in_the_admin_is_signed_out_and_cannot_sign_in(
    client, oidc_provider
):
    make_cloud("acme")
    oidc_provider.add_user("ana", "pw-ana-provider", groups=[VIEWER, cloud_group("acme")])
    sign_in(client, "ana", "pw-ana-provider")
    ana = person("ana")
    ana.is_active = False
    ana.save()

    assert client.get("/").status_code == 302  # the session ends with the account
    refused = sign_in(client, "ana", "pw-ana-provider")

    assert refused.status_code == 403
    assert "Your account on this site is switched off" in refused.content.decode()


def test_a_next_address_on_another_site_is_not_followed_after_signing_in(client, oidc_provider):
    oidc_provider.add_user("ana", "pw-ana-provider")
    start = client.get("/oidc/authenticate/?next=https://evil.example/phish")

    back = urlsplit(sign_in_at_provider(start["Location"], "ana", "pw-ana-provider"))
    response = client.get(f"{back.path}?{back.query}")

    assert response.status_code == 302 and response["Location"] == "/"


def test_the_admin_shows_what_the_provider_gave_each_person(
    client, oidc_provider, django_user_model
):
    make_cloud("acme")
    oidc_provider.add_user("ana", "pw-ana-provider", groups=[OPERATOR, cloud_group("acme")])
    sign_in(client, "ana", "pw-ana-provider")
    identity = ProviderIdentity.objects.get(subject="ana")
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw-root-1")
    client.force_login(admin)

    listing = client.get("/admin/dashboard/provideridentity/").content.decode()
    page = client.get(f"/admin/dashboard/provideridentity/{identity.pk}/change/")

    assert "ana" in listing and oidc_provider.issuer in listing
    assert page.status_code == 200
    text = page.content.decode()
    assert "Roles from the provider" in text and "operators" in text and "acme" in text
    deleting = client.post(f"/admin/dashboard/provideridentity/{identity.pk}/delete/")
    assert deleting.status_code == 403
