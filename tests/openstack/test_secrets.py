"""Passwords, API keys and tokens never show in a repr, an exception or a log line, even
when a misbehaving server echoes them back. Real HTTP against a scripted server on
127.0.0.1 that returns the request it got (body and headers) as its error text."""

from __future__ import annotations

import logging
import traceback

import pytest

from imagetasks.openstack import (
    AuthError,
    CloudClient,
    CloudConfig,
    CloudError,
    CloudTimeout,
    MalformedResponse,
    ServerError,
    Unavailable,
    connect,
)
from imagetasks.openstack.auth import plugin_for
from tests.openstack.samples import (
    IDENTITY_PATH,
    IMAGE_PATH,
    SECRET,
    SWIFT_PATH,
    TASK_ID,
    TOKEN,
    keystone_reply,
    v3_config,
)
from tests.openstack.scripted import Received, Reply

TASK_PATH = f"{IMAGE_PATH}/v2/tasks/{TASK_ID}"


def echo(status: int, content_type: str = "text/plain"):
    """A handler that tells the client everything it sent, as a careless server might."""

    def handler(request: Received) -> Reply:
        headers = "\n".join(f"{name}: {value}" for name, value in request.headers.items())
        text = f"You sent {request.method} {request.path}\n{headers}\n\n{request.body.decode()}"
        return Reply(status, body=text, headers={"Content-Type": content_type})

    return handler


def everything_about(error: BaseException) -> str:
    """All the text an error could show: repr, str, args, body and the whole traceback."""
    parts = [repr(error), str(error), repr(error.args), "".join(traceback.format_exception(error))]
    if isinstance(error, CloudError):
        parts.append(error.body or "")
    return "\n".join(parts)


def assert_no_secret(text: str) -> None:
    assert SECRET not in text
    assert TOKEN not in text


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def logged(caplog) -> str:
    lines = [record.getMessage() for record in caplog.records]
    lines += [logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info]
    return "\n".join(lines)


@pytest.mark.parametrize("status", [400, 401, 403])
def test_an_identity_error_that_echoes_the_password_does_not_leak_it(cloud, debug_logs, status):
    cloud.on("POST", IDENTITY_PATH, handler=echo(status))

    with pytest.raises(AuthError) as caught:
        connect(v3_config(cloud))

    assert SECRET in cloud.requests()[0].body.decode()  # it really was echoed
    assert "***" in caught.value.body
    assert_no_secret(everything_about(caught.value))
    assert_no_secret(logged(debug_logs))


def test_a_rackspace_identity_error_that_echoes_the_api_key_does_not_leak_it(cloud, debug_logs):
    cloud.on("POST", "/v2.0/tokens", handler=echo(401, "application/json"))
    config = CloudConfig(auth_url=cloud.url, auth_type="rackspace_apikey", secret=SECRET)

    with pytest.raises(AuthError) as caught:
        connect(config)

    assert_no_secret(everything_about(caught.value))
    assert_no_secret(logged(debug_logs))


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_a_service_error_that_echoes_the_token_does_not_leak_it(cloud, client, debug_logs, status):
    cloud.on("GET", TASK_PATH, handler=echo(status))

    with pytest.raises(CloudError) as caught:
        client.images.get_task(TASK_ID)

    assert "X-Auth-Token: ***" in caught.value.body
    assert_no_secret(everything_about(caught.value))
    assert_no_secret(logged(debug_logs))


def test_a_malformed_answer_that_echoes_the_token_does_not_leak_it(cloud, client, debug_logs):
    cloud.on("GET", TASK_PATH, handler=echo(200))

    with pytest.raises(MalformedResponse) as caught:
        client.images.get_task(TASK_ID)

    assert_no_secret(everything_about(caught.value))
    assert_no_secret(logged(debug_logs))


def test_a_refused_stream_that_echoes_the_old_token_does_not_leak_it(cloud, client, debug_logs):
    cloud.on("PUT", f"{SWIFT_PATH}/exports/a.vhd", handler=echo(401))

    with pytest.raises(AuthError) as caught:
        client.objects.put_object("exports", "a.vhd", iter([b"data"]))

    assert_no_secret(everything_about(caught.value))
    assert_no_secret(logged(debug_logs))


def test_a_timeout_does_not_leak_secrets(cloud, client, debug_logs):
    cloud.on("POST", f"{IMAGE_PATH}/v2/tasks", Reply(201, delay=2))

    with pytest.raises(CloudTimeout) as caught:
        client.images.create_task("import", {"password": SECRET}, timeout=(1.0, 0.3))

    assert_no_secret(everything_about(caught.value))
    assert_no_secret(logged(debug_logs))


def test_an_unreachable_cloud_does_not_leak_secrets(unused_port, debug_logs):
    config = CloudConfig(auth_url=f"http://127.0.0.1:{unused_port}", secret=SECRET, retries=1)

    with pytest.raises(Unavailable) as caught:
        connect(config)

    assert_no_secret(everything_about(caught.value))
    assert_no_secret(logged(debug_logs))
    assert "retrying" in logged(debug_logs)


def test_logs_say_what_happened_without_secrets(cloud, client, debug_logs):
    cloud.on("GET", TASK_PATH, Reply(500, body="boom"))

    with pytest.raises(ServerError):
        client.images.get_task(TASK_ID)

    text = logged(debug_logs)
    assert f"http method=GET url={cloud.url}{TASK_PATH} status=500" in text
    assert "authenticated auth_type=v3password" in text
    assert_no_secret(text)


def test_no_repr_shows_the_secret_or_the_token(cloud):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))
    config = v3_config(cloud)
    client = connect(config)
    token = client.session.authenticate()
    token_config = CloudConfig(auth_type="token", secret=TOKEN)

    shown = [config, client, client.session, token, plugin_for(config), token_config]
    shown += [CloudClient(token_config), plugin_for(token_config)]

    assert token.value == TOKEN
    for thing in shown:
        assert_no_secret(repr(thing))
        assert_no_secret(str(thing))
