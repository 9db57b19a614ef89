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
