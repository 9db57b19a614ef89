"""Signing in with the organisation's OpenID Connect provider, in a real browser: a real
provider on loopback (oidc-provider, run by node) with its own sign-in page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.looks import look_at
from tests.support.factories import make_cloud

pytestmark = pytest.mark.browser

BUTTON = "Sign in with Example Org"


def sign_in_at_the_provider(page, login: str, password: str) -> None:
    """What a person does on the provider's own page."""
    expect(page.get_by_role("heading", name="Sign in to the test provider")).to_be_visible()
    page.get_by_label("Username").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_person_signs_in_with_the_provider_and_sees_their_role_and_clouds(
    page, live_oidc_provider
):
    make_cloud("acme"), make_cloud("globex")
    live_oidc_provider.add_user(
        "ana", "pw-ana-provider", preferred_username="ana",
        groups=["imagetasks:operators", "imagetasks:cloud:acme"],
    )  # fmt: skip
    page.goto("/")
    assert "/accounts/login/" in page.url
    expect(page.get_by_role("link", name=BUTTON)).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()  # the password form is still there
    look_at(page, "login-with-provider")

    page.get_by_role("link", name=BUTTON).click()
    sign_in_at_the_provider(page, "ana", "pw-ana-provider")

    expect(page.get_by_role("heading", name="Image tasks")).to_be_visible()
    expect(page.get_by_role("link", name="ana")).to_be_visible()
    expect(page.get_by_role("link", name="Import", exact=True)).to_be_visible()  # an operator
    clouds = page.locator("select[name=cloud] option").all_text_contents()
    assert clouds == ["any", "acme"]


def test_a_person_whose_groups_grant_nothing_sees_that_they_have_no_access_yet(
    page, live_oidc_provider
):
    make_cloud("acme")
    live_oidc_provider.add_user("nia", "pw-nia-provider", preferred_username="nia")
    page.goto("/accounts/login/")

    page.get_by_role("link", name=BUTTON).click()
    sign_in_at_the_provider(page, "nia", "pw-nia-provider")

    expect(page.get_by_role("heading", name="Your account has no access yet")).to_be_visible()
    expect(page.get_by_text("Ask an administrator for access")).to_be_visible()
    expect(page.get_by_role("link", name="Import", exact=True)).to_have_count(0)
    look_at(page, "no-access")


def test_logging_out_ends_the_providers_session_too(page, live_oidc_provider, live_server):
    make_cloud("acme")
    live_oidc_provider.add_user(
        "ana", "pw-ana-provider", preferred_username="ana", groups=["imagetasks:cloud:acme"]
    )
    page.goto("/accounts/login/")
    page.get_by_role("link", name=BUTTON).click()
    sign_in_at_the_provider(page, "ana", "pw-ana-provider")
    expect(page.get_by_role("heading", name="Image tasks")).to_be_visible()
    # While the provider's session lives, signing in here again asks for no password:
    page.context.clear_cookies(domain="localhost")  # this site's session only
    page.goto("/accounts/login/")
    page.get_by_role("link", name=BUTTON).click()
    expect(page.get_by_role("heading", name="Image tasks")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # the provider asks

    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.url == f"{live_server.url}/accounts/login/"
    page.get_by_role("link", name=BUTTON).click()
    sign_in_at_the_provider(page, "ana", "pw-ana-provider")  # the password is asked again
    expect(page.get_by_role("heading", name="Image tasks")).to_be_visible()


def test_with_password_logins_off_only_the_providers_button_is_offered(
    page, live_oidc_provider, settings
):
    settings.PASSWORD_LOGIN = False

    page.goto("/accounts/login/")

    expect(page.get_by_role("link", name=BUTTON)).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)
    look_at(page, "login-provider-only")


def test_a_refused_sign_in_is_explained_on_the_login_page(page, live_oidc_provider):
    live_oidc_provider.add_user("ana", "pw-ana-provider")
    page.goto("/accounts/login/")
    page.get_by_role("link", name=BUTTON).click()
    expect(page.get_by_role("heading", name="Sign in to the test provider")).to_be_visible()
    live_oidc_provider.stop()  # the provider goes away while the person types

    page.goto("/oidc/callback/?code=late&state=gone")

    expect(page.get_by_role("alert")).to_contain_text("expired or was already used")
    expect(page.get_by_role("link", name=BUTTON)).to_be_visible()
