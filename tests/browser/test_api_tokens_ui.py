"""A person makes an API token on their profile page, copies it (shown once), uses it,
and revokes it; the API's docs page works under the site's Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from imagetasks.dashboard.models import ApiToken
from tests.browser.looks import look_at, shoot
from tests.browser.people import log_in, make_person

pytestmark = pytest.mark.browser


def test_a_person_makes_a_token_sees_it_once_uses_it_and_revokes_it(
    page, live_server, django_user_model, cloud
):
    make_person(django_user_model, cloud, "paula", "operators")
    log_in(page, "paula")
    page.get_by_role("link", name="paula").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()

    page.get_by_label("Token name").fill("nightly report")
    page.get_by_role("button", name="Make a token").click()

    shown = page.get_by_label("The new token")
    expect(shown).to_have_value(re.compile(r"^itk_"))
    expect(page.get_by_text("cannot be shown again")).to_be_visible()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    value = shown.input_value()
    look_at(page, "profile-token-made")

    answer = requests.get(
        f"{live_server.url}/api/v1/clouds",
        headers={"Authorization": f"Bearer {value}"},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json()[0]["name"] == cloud.name

    page.goto("/profile/")
    expect(page.get_by_label("The new token")).to_have_count(0)
    assert value not in page.content()
    row = page.get_by_role("row", name=re.compile("nightly report"))
    expect(row).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d"))  # last used: just now

    row.get_by_role("button", name="Revoke nightly report").click()

    expect(page.get_by_text("The token “nightly report” is revoked")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("nightly report"))).to_contain_text("Revoked")
    look_at(page, "profile-token-revoked")
    assert ApiToken.objects.get().revoked_at is not None
    again = requests.get(
        f"{live_server.url}/api/v1/clouds",
        headers={"Authorization": f"Bearer {value}"},
        timeout=10,
    )
    assert again.status_code == 401
    assert again.headers["Content-Type"].startswith("application/json")


def test_the_api_docs_page_draws_the_operations_from_this_site_alone(page, db):
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            not request.url.startswith(("http://localhost", "data:"))
            and outside.append(request.url)
        ),
    )

    page.goto("/api/docs")

    # Swagger UI's bundle is large: a loaded machine takes a while to parse and draw it.
    expect(page.get_by_text("imagetasks API").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("/api/v1/tasks/{task_id}").first).to_be_visible(timeout=60_000)
    assert not outside, f"the docs page asked other sites: {outside}"
    shoot(page, "api-docs-desktop")  # Swagger UI's own page: not held to our axe rules
