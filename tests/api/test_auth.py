"""Who may call the API: a live bearer token, or a logged-in browser session. Anything
else is a 401 in JSON; the token is never stored or logged in clear."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from imagetasks.bearer import hash_token
from imagetasks.dashboard.api import tokens
from imagetasks.dashboard.models import ApiToken

CLOUDS = "/api/v1/clouds"


def detail(response) -> str:
    return json.loads(response.content)["detail"]


def test_a_token_lists_its_persons_clouds(api, owner, cloud, token_for):
    response = api.get(CLOUDS, token=token_for(owner))

    assert response.status_code == 200
    assert [entry["name"] for entry in json.loads(response.content)] == [cloud.name]


def test_an_anonymous_call_is_a_401_in_json_that_asks_for_a_bearer_token(api, db):
    response = api.get(CLOUDS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer <token>" in detail(response)


@pytest.mark.parametrize("sent", ["itk_not-a-token", "", "x" * 5000, "itk_\x01"])
def test_an_unknown_token_is_a_401(api, owner, token_for, sent):
    token_for(owner)

    response = api.get(CLOUDS, token=sent)

    assert response.status_code == 401
    assert "unknown or revoked" in detail(response) or "Bearer <token>" in detail(response)


def test_a_revoked_token_is_a_401_even_beside_a_logged_in_session(api, client, owner, token_for):
    value = token_for(owner)
    tokens.revoke(ApiToken.objects.filter(user=owner))
    client.force_login(owner)

    response = api.get(CLOUDS, token=value)

    assert response.status_code == 401
    assert "revoked" in detail(response)


def test_the_token_of_a_switched_off_login_is_a_401(api, owner, token_for):
    value = token_for(owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)

    assert api.get(CLOUDS, token=value).status_code == 401


def test_another_scheme_than_bearer_is_no_login(api, owner, cloud):
    response = api.get(CLOUDS, token=None, headers={"Authorization": "Basic b3dlbjpwdw=="})

    assert response.status_code == 401


def test_a_browser_session_reads_the_api_without_a_token(api, client, viewer, cloud):
    client.force_login(viewer)

    response = api.get(CLOUDS)

    assert response.status_code == 200
    assert json.loads(response.content)[0]["may_submit"] is False


def test_only_the_digest_of_a_token_is_stored(owner):
    value, token = tokens.issue(owner, "backup script")

    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["key_hash"] == hash_token(value)
    assert all(value not in str(column) for column in row.values())
    assert value.startswith("itk_") and len(value) > 40


def test_no_log_line_carries_the_token(api, owner, cloud, token_for, caplog):
    value = token_for(owner)
    caplog.set_level(logging.DEBUG)

    api.get(CLOUDS, token=value)
    api.get("/api/v1/tasks/not-a-uuid", token=value)
    api.get(CLOUDS, token=value + "x")

    assert caplog.records, "the requests logged nothing at all: the check would prove nothing"
    assert all(value not in record.getMessage() for record in caplog.records)


def test_last_used_is_written_at_most_once_a_minute(api, owner, cloud, token_for):
    value = token_for(owner)

    api.get(CLOUDS, token=value)
    first = ApiToken.objects.get().last_used_at
    with CaptureQueriesContext(connection) as queries:
        api.get(CLOUDS, token=value)
    assert first is not None
    assert ApiToken.objects.get().last_used_at == first
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]

    ApiToken.objects.update(last_used_at=first - timedelta(seconds=61))
    api.get(CLOUDS, token=value)
    assert ApiToken.objects.get().last_used_at > first - timedelta(seconds=1)
    assert ApiToken.objects.get().last_used_at <= timezone.now()


def test_too_many_calls_are_a_429_that_says_when_to_come_back(api, owner, token_for, settings):
    settings.API_RATE_LIMIT = "2/m"
    value = token_for(owner)

    answers = [api.get(CLOUDS, token=value).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    last = api.get(CLOUDS, token=value)
    assert int(last["Retry-After"]) > 0
    assert detail(last)
