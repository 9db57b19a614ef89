"""Password logins switched off, logging out at the provider, and the provider's secrets
kept out of pages, logs and the session (against the real provider on loopback)."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from imagetasks.dashboard.signin import http
from tests.support.oidc import CLIENT_SECRET, sign_in, sign_in_at_provider

pytestmark = pytest.mark.django_db

JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


@pytest.fixture
def olivia(django_user_model):
    return django_user_model.objects.create_user("olivia", password="s3cret-pass-olivia")


def test_with_password_logins_off_the_form_is_gone_and_its_post_refused(
    client, oidc_provider, settings, olivia
):
    settings.PASSWORD_LOGIN = False

    page = client.get("/accounts/login/").content.decode()
    refused = client.post(
        "/accounts/login/", {"username": "olivia", "password": "s3cret-pass-olivia"}
    )

    assert "Sign in with Example Org" in page
    assert 'name="password"' not in page and "Username" not in page
    assert refused.status_code == 403
    assert "Logging in with a password is switched off" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_with_password_logins_off_the_admin_sends_people_to_the_provider(
    client, oidc_provider, settings, olivia
):
    olivia.is_staff = olivia.is_superuser = True
    olivia.save()
    settings.PASSWORD_LOGIN = False

    page = client.get("/admin/login/?next=/admin/")
    refused = client.post("/admin/login/", {"username": "olivia", "password": "s3cret-pass-olivia"})

    assert page.status_code == 302 and page["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert refused.status_code == 403 and "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_with_password_logins_on_both_forms_still_log_in(client, oidc_provider, olivia):
    response = client.post(
        "/accounts/login/", {"username": "olivia", "password": "s3cret-pass-olivia"}
    )

    assert response.status_code == 302 and client.session["_auth_user_id"] == str(olivia.pk)


def test_logging_out_sends_the_person_to_end_their_session_at_the_provider(client, oidc_provider):
    oidc_provider.add_user("ana", "pw-ana-provider", preferred_username="ana")
    sign_in(client, "ana", "pw-ana-provider")

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}" == oidc_provider.issuer
    assert target.path == "/session/end"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    assert query["client_id"] == [oidc_provider.client_id]
    hint = jwt.decode(query["id_token_hint"][0], options={"verify_signature": False})
    assert hint["sub"] == "ana" and hint["aud"] == oidc_provider.client_id
    assert "_auth_user_id" not in client.session


def test_the_session_keeps_the_id_token_only_encrypted(client, oidc_provider):
    oidc_provider.add_user("ana", "pw-ana-provider")
    sign_in(client, "ana", "pw-ana-provider")

    stored = repr(dict(client.session.items()))

    assert "_auth_user_id" in stored and not JWT.search(stored)


def test_no_log_line_of_a_sign_in_or_a_refusal_shows_the_secret_or_a_token(
    client, oidc_provider, caplog
):
    oidc_provider.add_user("ana", "pw-ana-provider")
    caplog.set_level(logging.DEBUG)
    sign_in(client, "ana", "pw-ana-provider")
    client.post("/accounts/logout/")
    client.get("/oidc/callback/", {"code": "stolen-code", "state": "made-up"})

    logged = "\n".join(record.getMessage() for record in caplog.records)

    assert CLIENT_SECRET not in logged and not JWT.search(logged)
    assert "stolen-code" not in logged


def test_a_crash_while_signing_in_shows_no_secret_on_the_debug_page(
    client, oidc_provider, settings, monkeypatch
):
    settings.DEBUG = True  # the page a developer sees, which shows every frame's variables
    oidc_provider.add_user("ana", "pw-ana-provider")
    start = client.get("/oidc/authenticate/")
    # A bug while the token request (and the client's secret) is in hand: a built-in that
    # cannot take these arguments raises without a frame of its own.
    monkeypatch.setattr(http.requests, "request", sorted)
    client.raise_request_exception = False

    back = urlsplit(sign_in_at_provider(start["Location"], "ana", "pw-ana-provider"))
    response = client.get(f"{back.path}?{back.query}")

    page = response.content.decode()
    assert response.status_code == 500 and "Traceback" in page  # it is the debug page
    assert CLIENT_SECRET not in page
    assert "OIDC_RP_CLIENT_SECRET" in page and "********************" in page
