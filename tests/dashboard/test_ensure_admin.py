"""The demo login that make run creates: once, with a password shown once, and an address."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run(**options) -> str:
    out = io.StringIO()
    call_command("ensure_admin", stdout=out, **options)
    return out.getvalue()


def test_the_admin_login_is_created_once_with_a_generated_password_shown_once(monkeypatch):
    monkeypatch.delenv("IMAGETASKS_ADMIN_PASSWORD", raising=False)

    first = run()
    password = re.search(r"with password: (\S+)", first).group(1)
    second = run()

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    assert password not in second
    assert "unchanged" in second


def test_the_admin_login_has_an_address_so_its_completion_emails_show_in_the_log(monkeypatch):
    monkeypatch.setenv("IMAGETASKS_ADMIN_PASSWORD", "pw-admin-123")
    run()
    assert get_user_model().objects.get(username="admin").email == "admin@localhost"


def test_an_admin_made_without_an_address_gets_one_and_a_chosen_one_is_kept():
    users = get_user_model()
    users.objects.create_superuser("admin", "", "pw-admin-123")
    users.objects.create_superuser("ops", "ops@example.org", "pw-ops-123")

    run()
    run(username="ops")

    assert users.objects.get(username="admin").email == "admin@localhost"
    assert users.objects.get(username="ops").email == "ops@example.org"
    assert users.objects.get(username="admin").check_password("pw-admin-123")
