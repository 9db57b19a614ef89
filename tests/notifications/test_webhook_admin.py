"""The webhook of a cloud in the admin: its secret is typed in, never shown, never sent."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from imagetasks.dashboard.admin import CloudForm
from imagetasks.dashboard.models import Cloud
from tests.support.factories import make_cloud

pytestmark = pytest.mark.django_db

SECRET = "whsec-never-shown-7f3a"


def form_for(cloud: Cloud, **changes) -> CloudForm:
    data = {k: v for k, v in model_to_dict(cloud).items() if v is not None}
    data.update(users=[], groups=[], **changes)
    return CloudForm(data, instance=cloud)


def test_the_secret_is_stored_encrypted_and_never_shown_on_the_cloud_page(admin_client):
    cloud = make_cloud()
    form = form_for(cloud, webhook_url="http://127.0.0.1:9/hook", webhook_secret=SECRET)
    assert form.is_valid(), form.errors
    form.save()
    cloud.refresh_from_db()
    assert SECRET not in cloud.webhook_secret_encrypted
    assert cloud.reveal_webhook_secret() == SECRET

    page = admin_client.get(f"/admin/dashboard/cloud/{cloud.pk}/change/").content.decode()
    assert "Notifications" in page and 'name="webhook_secret"' in page
    assert SECRET not in page and cloud.webhook_secret_encrypted not in page


def test_an_empty_secret_field_keeps_the_stored_secret():
    cloud = make_cloud()
    cloud.set_webhook_secret(SECRET)
    cloud.save()
    form = form_for(cloud, webhook_url="http://127.0.0.1:9/hook", webhook_secret="")
    assert form.is_valid(), form.errors
    form.save()
    cloud.refresh_from_db()
    assert cloud.reveal_webhook_secret() == SECRET


def test_a_webhook_without_a_secret_is_refused():
    form = form_for(make_cloud(), webhook_url="http://127.0.0.1:9/hook")
    assert not form.is_valid()
    assert form.errors["webhook_secret"] == ["A webhook needs a secret: nothing is sent unsigned."]
