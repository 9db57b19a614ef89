"""The HTTP rules every call obeys: headers, timeouts, retries, re-authentication.

Real HTTP against a scripted server on 127.0.0.1; waits and timeouts are real too, kept to
about a second.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from imagetasks.openstack import (
    AuthError,
    CloudClient,
    CloudConfig,
    CloudError,
    CloudTimeout,
    MalformedResponse,
    RateLimited,
    Unavailable,
)
from imagetasks.openstack.retry import RetryPolicy, parse_retry_after
from imagetasks.openstack.session import USER_AGENT
from tests.openstack.samples import (
    IDENTITY_PATH,
    IMAGE_PATH,
    SECOND_TOKEN,
    TASK_ID,
    TOKEN,
    keystone_reply,
    reference_json,
    v3_config,
)
from tests.openstack.scripted import Reply

TASK_PATH = f"{IMAGE_PATH}/v2/tasks/{TASK_ID}"
TASKS_PATH = f"{IMAGE_PATH}/v2/tasks"
PENDING = Reply(json=reference_json("rackspace_import_pending"))
UNAUTHORIZED = Reply(401, json={"message": "This server could not verify that you are authorized"})
IMPORT_INPUT = {"import_from": "exports/a.vhd", "image_properties": {"name": "a"}}


def test_every_request_sends_accept_json_our_user_agent_and_the_token(cloud, client):
    cloud.on("GET", TASK_PATH, PENDING)

    client.images.get_task(TASK_ID)

    for request in cloud.requests():
        assert request.headers["Accept"] == "application/json"
        assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("imagetasks/")
    assert cloud.requests("GET")[0].headers["X-Auth-Token"] == TOKEN


def test_a_401_reauthenticates_once_and_retries_once(cloud):
    cloud.on(
        "POST", IDENTITY_PATH, keystone_reply(cloud, TOKEN), keystone_reply(cloud, SECOND_TOKEN)
    )
    cloud.on("GET", TASK_PATH, UNAUTHORIZED, PENDING)
    client = CloudClient(v3_config(cloud))

    task = client.images.get_task(TASK_ID)

    assert task.id == TASK_ID
    assert len(cloud.requests("POST", IDENTITY_PATH)) == 2
    tokens = [r.headers["X-Auth-Token"] for r in cloud.requests("GET")]
    assert tokens == [TOKEN, SECOND_TOKEN]


def test_a_401_that_persists_after_reauthentication_is_an_auth_error(cloud):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))
    cloud.on("GET", TASK_PATH, UNAUTHORIZED)
    client = CloudClient(v3_config(cloud))

    with pytest.raises(AuthError, match="could not verify"):
        client.images.get_task(TASK_ID)

    assert len(cloud.requests("POST", IDENTITY_PATH)) == 2
    assert len(cloud.requests("GET")) == 2


def test_a_401_for_a_given_token_is_an_auth_error_at_once(cloud):
    cloud.on("GET", TASK_PATH, UNAUTHORIZED)
    override = {"image": cloud.url + IMAGE_PATH}
    client = CloudClient(CloudConfig(auth_type="token", secret=TOKEN, endpoint_overrides=override))

    with pytest.raises(AuthError):
        client.images.get_task(TASK_ID)

    assert len(cloud.requests()) == 1


def test_a_post_refused_with_401_is_sent_again_after_reauthentication(cloud):
    """A 401 comes from the auth middleware before the service sees the task: no duplicate."""
    cloud.on(
        "POST", IDENTITY_PATH, keystone_reply(cloud, TOKEN), keystone_reply(cloud, SECOND_TOKEN)
    )
    cloud.on(
        "POST",
        TASKS_PATH,
        UNAUTHORIZED,
        Reply(201, json=reference_json("rackspace_import_pending")),
    )
    client = CloudClient(v3_config(cloud))

    client.images.create_task("import", IMPORT_INPUT)

    assert [r.headers["X-Auth-Token"] for r in cloud.requests("POST", TASKS_PATH)] == [
        TOKEN,
        SECOND_TOKEN,
    ]


def test_a_503_with_retry_after_is_retried_on_get_after_waiting(cloud, client):
    cloud.on("GET", TASK_PATH, Reply(503, body="busy", headers={"Retry-After": "1"}), PENDING)

    started = time.monotonic()
    task = client.images.get_task(TASK_ID)

    assert time.monotonic() - started >= 0.95
    assert task.status == "pending"
    assert len(cloud.requests("GET")) == 2


def test_a_503_on_post_is_not_retried(cloud, client):
    cloud.on("POST", TASKS_PATH, Reply(503, body="busy", headers={"Retry-After": "0"}))

    with pytest.raises(Unavailable) as caught:
        client.images.create_task("import", IMPORT_INPUT)

    assert caught.value.status == 503
    assert caught.value.outcome_unknown is True
    assert caught.value.retry_after == 0
    assert len(cloud.requests("POST", TASKS_PATH)) == 1


def test_get_retries_stop_after_the_configured_number(cloud, client):
    cloud.on("GET", TASK_PATH, Reply(502, body="bad gateway", headers={"Retry-After": "0"}))

    with pytest.raises(Unavailable, match="bad gateway"):
        client.images.get_task(TASK_ID)

    assert len(cloud.requests("GET")) == 1 + client.config.retries


def test_a_429_is_retried_on_get_and_then_raised_as_rate_limited(cloud, client):
    cloud.on(
        "GET", TASK_PATH, Reply(429, json={"message": "Slow down"}, headers={"Retry-After": "0"})
    )

    with pytest.raises(RateLimited, match="Slow down") as caught:
        client.images.get_task(TASK_ID)

    assert caught.value.outcome_unknown is False
    assert len(cloud.requests("GET")) == 3


def test_a_post_read_timeout_is_a_cloud_timeout_with_unknown_outcome_after_one_post(cloud, client):
    # The answer would come after 30 s, and a connect timeout taken for the read timeout
    # would wait 10 s: the bound is far from both, for a loaded machine.
    cloud.on(
        "POST", TASKS_PATH, Reply(201, json=reference_json("rackspace_import_pending"), delay=30)
    )

    started = time.monotonic()
    with pytest.raises(CloudTimeout) as caught:
        client.images.create_task("import", IMPORT_INPUT, timeout=(10.0, 0.5))

    assert time.monotonic() - started < 5
    assert caught.value.outcome_unknown is True
    assert "no answer within 0.5 s" in caught.value.message
    assert isinstance(caught.value, Unavailable)
    assert len(cloud.requests("POST", TASKS_PATH)) == 1


def test_a_get_read_timeout_is_retried(cloud):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))
    cloud.on(
        "GET",
        TASK_PATH,
        Reply(200, json=reference_json("rackspace_import_pending"), delay=3),
        PENDING,
    )
    client = CloudClient(v3_config(cloud, timeout=(2.0, 0.5), max_retry_wait=0.1))

    assert client.images.get_task(TASK_ID).id == TASK_ID
    assert len(cloud.requests("GET")) == 2


def test_a_refused_connection_is_retried_on_get_and_known_to_have_sent_nothing(unused_port):
    override = {"image": f"http://127.0.0.1:{unused_port}"}
    config = CloudConfig(auth_type="none", endpoint_overrides=override, max_retry_wait=0.05)

    with pytest.raises(Unavailable) as caught:
        CloudClient(config).images.get_task(TASK_ID)

    assert caught.value.outcome_unknown is False
    assert "Connection refused" in caught.value.message


def test_a_redirect_is_not_followed_so_the_token_stays_home(cloud, client):
    cloud.on("GET", TASK_PATH, Reply(302, headers={"Location": "http://127.0.0.2:9/steal"}))

    with pytest.raises(CloudError) as caught:
        client.images.get_task(TASK_ID)

    assert caught.value.status == 302
    assert len(cloud.requests("GET")) == 1


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)

    assert parse_retry_after("3") == 3
    assert parse_retry_after(later, now) == 7
    assert parse_retry_after(format_datetime(now - timedelta(seconds=7), usegmt=True), now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_long_retry_after_is_capped():
    assert RetryPolicy(max_wait=5).delay(0, "86400") == 5


def test_backoff_without_retry_after_grows_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=1, max_wait=6)

    for attempt, (low, high) in enumerate([(0.5, 1), (1, 2), (2, 4), (3, 6), (3, 6)]):
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(low <= delay <= high for delay in delays)
        assert len(delays) > 1


def test_a_failure_to_sign_in_before_a_post_is_known_to_have_posted_nothing(cloud):
    cloud.on("POST", IDENTITY_PATH, Reply(503, body="identity down"))
    client = CloudClient(v3_config(cloud, retries=0))

    with pytest.raises(Unavailable) as caught:
        client.images.create_task("import", IMPORT_INPUT)

    assert caught.value.outcome_unknown is False
    assert cloud.requests("POST", TASKS_PATH) == []


@pytest.mark.parametrize(("timeout", "timeouts"), [(4, (4.0, 4.0)), ([3, 7], (3.0, 7.0))])
def test_a_timeout_may_be_one_number_or_a_connect_read_pair(timeout, timeouts):
    assert CloudConfig(auth_type="none", timeout=timeout).timeouts == timeouts


NESTED = b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"  # deeper than a stack


@pytest.mark.usefixtures("garbage_collected")
def test_an_identity_answer_nested_too_deeply_is_a_clear_cloud_error(cloud):
    cloud.on("POST", IDENTITY_PATH, Reply(201, body=NESTED))
    client = CloudClient(v3_config(cloud, retries=0))

    with pytest.raises(MalformedResponse) as caught:
        client.images.get_task("t-1")

    assert "identity service" in caught.value.message
    assert "not JSON" in caught.value.message


@pytest.mark.parametrize("status", [200, 404, 500])
@pytest.mark.usefixtures("garbage_collected")
def test_a_task_or_error_body_nested_too_deeply_is_a_cloud_error(cloud, client, status):
    cloud.on("GET", f"{TASKS_PATH}/t-1", Reply(status, body=NESTED))

    with pytest.raises(CloudError) as caught:
        client.images.get_task("t-1")

    assert caught.value.status == status or isinstance(caught.value, MalformedResponse)
