"""The profile page: where a person switches completion emails off, and learns why none come."""

from __future__ import annotations

import pytest

from imagetasks.dashboard.models import Profile

pytestmark = pytest.mark.django_db


def test_the_header_links_to_the_profile(client, submitter):
    client.force_login(submitter)
    page = client.get("/").content.decode()
    assert 'href="/profile/"' in page


def test_completion_emails_are_on_until_switched_off(client, submitter):
    client.force_login(submitter)
    page = client.get("/profile/").content.decode()
    assert "sam@example.test" in page
    assert 'name="email_on_completion"' in page and "checked" in page
    assert not Profile.objects.exists()


def test_switching_emails_off_is_saved_and_said(client, submitter):
    client.force_login(submitter)
    response = client.post("/profile/", {}, follow=True)  # an unticked box sends nothing
    assert response.redirect_chain == [("/profile/", 302)]
    assert "Your settings are saved." in response.content.decode()
    assert Profile.objects.get(user=submitter).email_on_completion is False
    assert not Profile.wants_email(submitter)

    client.post("/profile/", {"email_on_completion": "on"})
    assert Profile.wants_email(submitter)


def test_a_person_without_an_email_address_is_told_no_email_can_come(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nomail"))
    page = client.get("/profile/").content.decode()
    assert "Your account has no email address, so no email can be sent to you." in page


def test_the_profile_needs_a_login(client):
    response = client.get("/profile/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_saving_needs_the_csrf_token(submitter):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(submitter)
    assert client.post("/profile/", {}).status_code == 403
    assert not Profile.objects.exists()
