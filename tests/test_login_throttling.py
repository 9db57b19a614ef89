"""Guessing passwords: after five failures for one login from one address, the dashboard
and the admin refuse that pair for a while, say so, and an admin can unlock it."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

WRONG = {"username": "lena", "password": "not-her-password"}


@pytest.fixture
def lena(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_user("lena", password="Lena-right-pw-1")


def test_five_wrong_passwords_lock_the_login_and_say_so(client, lena):
    for _ in range(4):
        response = client.post("/accounts/login/", WRONG)
        assert response.status_code == 200  # the form again, with its error
    locked = client.post("/accounts/login/", WRONG)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()

    right = client.post("/accounts/login/", {"username": "lena", "password": "Lena-right-pw-1"})
    assert right.status_code == 429  # locked means locked, even with the right password

    call_command("axes_reset_username", "lena")  # what an administrator does to unlock
    unlocked = client.post("/accounts/login/", {"username": "lena", "password": "Lena-right-pw-1"})
    assert unlocked.status_code == 302


def test_the_admin_login_is_throttled_the_same_way(client, lena):
    lena.is_staff = True
    lena.save()
    for _ in range(5):
        response = client.post("/admin/login/", WRONG)
    assert response.status_code == 429


def test_someone_else_failing_does_not_lock_a_person_out(client, lena):
    for _ in range(6):
        client.post("/accounts/login/", {"username": "mallory", "password": "guess"})
    response = client.post("/accounts/login/", {"username": "lena", "password": "Lena-right-pw-1"})
    assert response.status_code == 302
