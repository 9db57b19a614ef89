"""Every page carries a strict Content-Security-Policy; what a logged-in person sees is
never kept by a shared cache."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_pages_forbid_inline_and_foreign_scripts(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline'" not in policy.split("style-src")[0]
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_a_logged_in_page_is_private_to_its_person(client, django_user_model):
    person = django_user_model.objects.create_user("pia", password="pw-pia-12345")
    client.force_login(person)
    assert "private" in client.get("/")["Cache-Control"]


def test_forms_post_to_this_site_only_and_to_the_sign_in_providers_origin(client, settings):
    assert "form-action 'self';" in client.get("/accounts/login/")["Content-Security-Policy"]

    settings.OIDC_ISSUER = "https://id.example.org:8443/realms/acme"
    policy = client.get("/accounts/login/")["Content-Security-Policy"]

    assert "form-action 'self' https://id.example.org:8443;" in policy


def test_an_issuer_whose_host_could_add_to_the_policy_adds_nothing(client, settings):
    settings.OIDC_ISSUER = "https://id.example.org;script-src *@x/"

    policy = client.get("/accounts/login/")["Content-Security-Policy"]

    assert "form-action 'self';" in policy and "script-src *" not in policy
