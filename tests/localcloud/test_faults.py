"""Fault injection on the service APIs (Images, Object Storage), never on Identity.

Through the Django test client: it builds its middleware chain on its first
request, so adding the middleware for a test takes effect at once, while the
live server's chain is built once per session from the settings file.
"""

from __future__ import annotations

import json
import time

import pytest

from imagetasks.localcloud.objectstore import service

pytestmark = pytest.mark.usefixtures("fast_hashing")

FAULTS = "imagetasks.localcloud.faults.FaultInjectionMiddleware"


@pytest.fixture
def faults(settings):
    """The middleware installed, with every fault off; tests turn on the ones they need."""
    if FAULTS not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, FAULTS]
    settings.LOCALCLOUD_FAULT_ERROR_RATE = 0.0
    settings.LOCALCLOUD_FAULT_LATENCY = 0.0
    settings.LOCALCLOUD_FAULT_MALFORMED_RATE = 0.0
    settings.LOCALCLOUD_FAULT_UNAUTHORIZED_RATE = 0.0
    return settings


@pytest.fixture
def call(client, account):
    """GET a path of the built-in cloud as ``account``."""
    token = account.token()

    def get(path: str):
        return client.get(
            f"/localcloud/{path}", HTTP_X_AUTH_TOKEN=token, HTTP_ACCEPT="application/json"
        )

    return get


@pytest.fixture
def account_path(account) -> str:
    service.create_container(account.project, "docs")
    return f"object/v1/AUTH_{account.project.id}"


def v3_token_request(client, account):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": account.user.name,
                        "domain": {"id": "default"},
                        "password": account.password,
                    }
                },
            }
        }
    }
    return client.post(
        "/localcloud/identity/v3/auth/tokens", json.dumps(body), content_type="application/json"
    )


def test_with_error_rate_1_every_service_call_is_a_500_or_503(faults, call, account_path):
    faults.LOCALCLOUD_FAULT_ERROR_RATE = 1.0

    responses = [call(account_path) for _ in range(30)] + [call("image/v2/images")]

    # Both kinds turn up: 31 draws all alike would happen once in a billion runs.
    assert {response.status_code for response in responses} == {500, 503}
    for response in responses:
        if response.status_code == 503:
            assert response["Retry-After"] == "1"


def test_with_error_rate_1_identity_still_issues_tokens(faults, client, account):
    faults.LOCALCLOUD_FAULT_ERROR_RATE = 1.0
    faults.LOCALCLOUD_FAULT_UNAUTHORIZED_RATE = 1.0
    faults.LOCALCLOUD_FAULT_MALFORMED_RATE = 1.0

    response = v3_token_request(client, account)

    assert response.status_code == 201
    assert response.json()["token"]["project"]["id"] == account.project.id


def test_latency_delays_each_service_answer_by_at_least_the_setting(faults, call, account_path):
    faults.LOCALCLOUD_FAULT_LATENCY = 0.3

    started = time.monotonic()
    response = call(account_path)

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200


def test_with_malformed_rate_1_a_json_body_is_not_valid_json(faults, call, account_path):
    faults.LOCALCLOUD_FAULT_MALFORMED_RATE = 1.0

    response = call(account_path)

    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.content)
    assert int(response["Content-Length"]) == len(response.content)


def test_malformed_bodies_leave_object_bytes_alone(faults, client, account, account_path):
    faults.LOCALCLOUD_FAULT_MALFORMED_RATE = 1.0
    token = account.token()
    client.generic(
        "PUT", f"/localcloud/{account_path}/docs/data.json", b'{"a": 1}', HTTP_X_AUTH_TOKEN=token
    )

    response = client.get(f"/localcloud/{account_path}/docs/data.json", HTTP_X_AUTH_TOKEN=token)

    assert b"".join(response.streaming_content) == b'{"a": 1}'


def test_with_unauthorized_rate_1_a_valid_token_gets_a_401(faults, call, account_path):
    faults.LOCALCLOUD_FAULT_UNAUTHORIZED_RATE = 1.0

    response = call(account_path)

    assert response.status_code == 401
    assert response.json()["code"] == "401 Unauthorized"


def test_with_every_fault_at_0_nothing_changes(faults, call, account_path):
    responses = [call(account_path) for _ in range(20)]

    assert {response.status_code for response in responses} == {200}
    assert all([entry["name"] for entry in response.json()] == ["docs"] for response in responses)


def test_the_dashboard_and_the_admin_are_never_faulted(faults, admin_client):
    faults.LOCALCLOUD_FAULT_ERROR_RATE = 1.0

    response = admin_client.get("/admin/")

    assert response.status_code == 200
