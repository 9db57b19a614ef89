"""Each identity type sends the body its service expects and uses the token and catalog it
gets back. Real HTTP against a scripted server on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from imagetasks.openstack import (
    AuthError,
    CloudClient,
    CloudConfig,
    EndpointNotFound,
    MalformedResponse,
    ServerError,
    Unavailable,
    connect,
)
from tests.openstack.samples import (
    IDENTITY_PATH,
    IMAGE_PATH,
    PROJECT_ID,
    SECOND_TOKEN,
    SECRET,
    TOKEN,
    keystone_body,
    keystone_reply,
    reference_text,
    task_schema,
    v3_config,
)
from tests.openstack.scripted import Reply, ScriptedCloud

SCHEMA = Reply(json=task_schema("import", "export"))


def test_v3_password_posts_the_keystone_body_and_sends_the_subject_token(cloud):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))
    cloud.on("GET", IMAGE_PATH + "/v2/schemas/task", SCHEMA)
    client = CloudClient(v3_config(cloud, project_domain="Engineering"))

    client.images.get_task_schema()

    [auth] = cloud.requests("POST", IDENTITY_PATH)
    assert auth.json() == {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "olivia", "domain": {"id": "default"}, "password": SECRET}
                },
            },
            "scope": {"project": {"name": "demo", "domain": {"name": "Engineering"}}},
        }
    }
    assert auth.headers["Content-Type"] == "application/json"
    [schema] = cloud.requests("GET")
    assert schema.headers["X-Auth-Token"] == TOKEN
    assert client.project_id == PROJECT_ID


@pytest.mark.parametrize("suffix", ["", "/", "/v3", "/v3/"])
def test_v3_accepts_the_auth_url_with_or_without_v3(cloud, suffix):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))

    connect(v3_config(cloud, auth_url=cloud.url + "/identity" + suffix)).close()

    assert len(cloud.requests("POST", IDENTITY_PATH)) == 1


def test_v3_scopes_by_project_id_when_one_is_given(cloud):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))

    connect(v3_config(cloud, project_id=PROJECT_ID)).close()

    assert cloud.requests()[0].json()["auth"]["scope"] == {"project": {"id": PROJECT_ID}}


def test_v3_application_credential_sends_its_id_and_secret_and_no_scope(cloud):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))
    config = v3_config(cloud, auth_type="v3applicationcredential", app_credential_id="ac-42")

    connect(config).close()

    assert cloud.requests()[0].json() == {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": "ac-42", "secret": SECRET},
            }
        }
    }


def v2_access(cloud: ScriptedCloud, token: str = TOKEN) -> str:
    """Rackspace's sample answer, its endpoints moved onto the scripted cloud."""
    return (
        reference_text("rackspace_access")
        .replace('"<token>"', f'"{token}"')
        .replace("2014-11-24T22:05:39.115Z", "2999-11-24T22:05:39.115Z")
        .replace("https://dfw.images.api.rackspacecloud.com", cloud.url + IMAGE_PATH)
        .replace("https://storage101.dfw1.clouddrive.com", cloud.url + "/swift")
    )


@pytest.mark.parametrize("auth_url_suffix", ["", "/v2.0", "/v2.0/"])
def test_v2_password_sends_password_credentials_with_the_tenant_name(cloud, auth_url_suffix):
    cloud.on("POST", "/identity/v2.0/tokens", Reply(200, body=v2_access(cloud)))
    config = CloudConfig(
        auth_url=cloud.url + "/identity" + auth_url_suffix,
        auth_type="v2password",
        username="jsmith",
        secret=SECRET,
        project_name="110011",
    )

    client = connect(config)

    assert cloud.requests()[0].json() == {
        "auth": {
            "passwordCredentials": {"username": "jsmith", "password": SECRET},
            "tenantName": "110011",
        }
    }
    assert client.project_id == "110011"


def test_rackspace_api_key_sends_rax_kskey_and_uses_the_v2_catalog(cloud):
    cloud.on("POST", "/identity/v2.0/tokens", Reply(200, body=v2_access(cloud)))
    cloud.on("GET", IMAGE_PATH + "/v2/schemas/task", SCHEMA)
    config = CloudConfig(
        auth_url=cloud.url + "/identity/v2.0/",
        auth_type="rackspace_apikey",
        username="jsmith",
        secret=SECRET,
        project_id="110011",
        region="DFW",
    )

    CloudClient(config).images.get_task_schema()

    auth, schema = cloud.requests()
    assert auth.json() == {
        "auth": {
            "RAX-KSKEY:apiKeyCredentials": {"username": "jsmith", "apiKey": SECRET},
            "tenantId": "110011",
        }
    }
    assert schema.headers["X-Auth-Token"] == TOKEN


def test_token_auth_sends_the_given_token_to_the_overridden_endpoint(cloud):
    cloud.on("GET", IMAGE_PATH + "/v2/schemas/task", SCHEMA)
    config = CloudConfig(
        auth_type="token",
        secret=TOKEN,
        endpoint_overrides={"image": cloud.url + IMAGE_PATH + "/v2/"},
    )

    CloudClient(config).images.get_task_schema()

    [schema] = cloud.requests()
    assert schema.headers["X-Auth-Token"] == TOKEN


def test_none_auth_sends_no_token_header_at_all(cloud):
    cloud.on("GET", IMAGE_PATH + "/v2/schemas/task", SCHEMA)
    config = CloudConfig(auth_type="none", endpoint_overrides={"image": cloud.url + IMAGE_PATH})

    CloudClient(config).images.get_task_schema()

    assert "X-Auth-Token" not in cloud.requests()[0].headers


def test_token_auth_without_an_override_names_the_missing_endpoint():
    client = CloudClient(CloudConfig(auth_type="token", secret=TOKEN))

    with pytest.raises(EndpointNotFound, match=r"endpoint_overrides\['image'\]"):
        client.images.get_task("x")


def test_a_refusal_by_keystone_is_an_auth_error_with_its_message(cloud):
    message = "The request you have made requires authentication."
    refusal = {"error": {"code": 401, "message": message, "title": "Unauthorized"}}
    headers = {"x-openstack-request-id": "req-1"}
    cloud.on("POST", IDENTITY_PATH, Reply(401, json=refusal, headers=headers))

    with pytest.raises(AuthError) as caught:
        connect(v3_config(cloud))

    assert "requires authentication" in caught.value.message
    assert caught.value.status == 401
    assert caught.value.request_id == "req-1"


def test_a_refusal_by_rackspace_identity_is_an_auth_error_with_its_message(cloud):
    message = "Unable to authenticate user with credentials provided."
    cloud.on(
        "POST", "/v2.0/tokens", Reply(401, json={"unauthorized": {"code": 401, "message": message}})
    )
    config = CloudConfig(auth_url=cloud.url, auth_type="rackspace_apikey", secret=SECRET)

    with pytest.raises(AuthError, match="Unable to authenticate user with credentials provided"):
        connect(config)


def test_an_identity_service_that_is_down_is_unavailable_not_an_auth_error(cloud):
    cloud.on("POST", IDENTITY_PATH, Reply(500, body="boom"))

    with pytest.raises(ServerError, match="boom") as caught:
        connect(v3_config(cloud, retries=0))

    assert not isinstance(caught.value, AuthError)
    assert caught.value.status == 500


def test_identity_posts_are_retried_on_503_because_a_token_request_is_harmless(cloud):
    cloud.on(
        "POST",
        IDENTITY_PATH,
        Reply(503, headers={"Retry-After": "0"}),
        keystone_reply(cloud),
    )

    connect(v3_config(cloud)).close()

    assert len(cloud.requests("POST", IDENTITY_PATH)) == 2


def test_an_answer_without_a_subject_token_is_malformed(cloud):
    body = keystone_body(cloud, expires_at=datetime.now(UTC) + timedelta(hours=1))
    cloud.on("POST", IDENTITY_PATH, Reply(201, json=body))

    with pytest.raises(MalformedResponse, match="X-Subject-Token"):
        connect(v3_config(cloud))


def test_a_v2_answer_that_is_not_json_is_malformed(cloud):
    cloud.on("POST", "/v2.0/tokens", Reply(200, body="<html>maintenance</html>"))
    config = CloudConfig(auth_url=cloud.url, auth_type="v2password", secret=SECRET)

    with pytest.raises(MalformedResponse, match="not JSON"):
        connect(config)


def test_a_token_is_reused_until_two_minutes_before_it_expires(cloud):
    issued = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
    expires = issued + timedelta(minutes=10)
    cloud.on(
        "POST",
        IDENTITY_PATH,
        keystone_reply(cloud, TOKEN, expires_at=expires),
        keystone_reply(cloud, SECOND_TOKEN, expires_at=expires + timedelta(hours=1)),
    )
    cloud.on("GET", IMAGE_PATH + "/v2/schemas/task", SCHEMA)
    now = [issued]
    client = CloudClient(v3_config(cloud), clock=lambda: now[0])

    for minutes in (0, 5, 7, 7.9):
        now[0] = issued + timedelta(minutes=minutes)
        client.images.get_task_schema()
    now[0] = issued + timedelta(minutes=8, seconds=1)
    client.images.get_task_schema()

    assert len(cloud.requests("POST", IDENTITY_PATH)) == 2
    tokens = [r.headers["X-Auth-Token"] for r in cloud.requests("GET")]
    assert tokens == [TOKEN] * 4 + [SECOND_TOKEN]


def test_connect_authenticates_at_once_and_the_client_lazily(cloud):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))

    CloudClient(v3_config(cloud)).close()
    assert cloud.requests() == []

    connect(v3_config(cloud)).close()
    assert len(cloud.requests()) == 1


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"auth_type": "kerberos"}, "auth_type 'kerberos'"),
        ({"interface": "private"}, "interface 'private'"),
        ({"auth_url": ""}, "needs an auth_url"),
        ({"auth_type": "v3applicationcredential"}, "needs an app_credential_id"),
        ({"endpoint_overrides": {"compute": "http://127.0.0.1:1"}}, "unknown service types"),
        ({"timeout": 0}, "timeouts must be positive"),
    ],
)
def test_a_config_that_cannot_work_is_refused_when_made(fields, says):
    with pytest.raises(ValueError, match=says):
        CloudConfig(**{"auth_url": "http://127.0.0.1:1", **fields})


def test_an_unreachable_identity_service_is_unavailable_and_nothing_was_sent(unused_port):
    config = CloudConfig(auth_url=f"http://127.0.0.1:{unused_port}", secret=SECRET, retries=0)

    with pytest.raises(Unavailable) as caught:
        connect(config)

    assert caught.value.outcome_unknown is False
    assert "could not connect" in caught.value.message
