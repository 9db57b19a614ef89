"""The built-in Identity over real HTTP: Keystone v3 and Rackspace v2.0 tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from imagetasks.bearer import hash_token
from imagetasks.localcloud.models import Token

pytestmark = pytest.mark.usefixtures("fast_hashing")

KEYSTONE_401 = {
    "error": {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }
}
RACKSPACE_401 = {
    "unauthorized": {
        "code": 401,
        "message": "Unable to authenticate user with credentials provided.",
    }
}
RACKSPACE_400_MESSAGE = (
    "Invalid request body: unable to parse Auth data. Please review XML or JSON formatting"
)


def v3_password_body(user: dict, password: str, scope: object = None) -> dict:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {**user, "password": password}},
            }
        }
    }
    if scope is not None:
        body["auth"]["scope"] = scope
    return body


def v3_login(anonymous_cloud, user: dict, password: str, scope: object = None):
    """A Keystone v3 password login to the built-in cloud, as a client sends it."""
    return anonymous_cloud.post(
        "identity/v3/auth/tokens", json=v3_password_body(user, password, scope)
    )


def by_name(account) -> dict:
    return {"name": account.user.name, "domain": {"id": "default"}}


def endpoint_urls(catalog: list, service_type: str) -> dict:
    (service,) = [entry for entry in catalog if entry["type"] == service_type]
    return {endpoint["interface"]: endpoint["url"] for endpoint in service["endpoints"]}


def test_v3_password_auth_answers_201_with_the_token_in_x_subject_token(
    anonymous_cloud, account, live_server, settings
):
    response = v3_login(
        anonymous_cloud,
        by_name(account),
        account.password,
        {"project": {"name": "acme", "domain": {"id": "default"}}},
    )

    assert response.status_code == 201
    assert response.headers["X-Subject-Token"].startswith("lc")
    token = response.json()["token"]
    assert set(token) == {
        "methods",
        "expires_at",
        "issued_at",
        "audit_ids",
        "user",
        "project",
        "is_domain",
        "roles",
        "catalog",
    }
    assert token["methods"] == ["password"]
    assert token["user"]["id"] == account.user.id
    assert token["user"]["name"] == account.user.name
    assert token["project"] == {
        "domain": {"id": "default", "name": "Default"},
        "id": account.project.id,
        "name": "acme",
    }
    assert {role["name"] for role in token["roles"]} == {"member", "reader"}
    assert token["expires_at"].endswith("Z")
    base = live_server.url
    assert endpoint_urls(token["catalog"], "image") == dict.fromkeys(
        ("public", "internal", "admin"), f"{base}/localcloud/image"
    )
    assert endpoint_urls(token["catalog"], "object-store")["public"] == (
        f"{base}/localcloud/object/v1/AUTH_{account.project.id}"
    )
    regions = {endpoint["region"] for entry in token["catalog"] for endpoint in entry["endpoints"]}
    assert regions == {settings.LOCALCLOUD_REGION}


def test_the_issued_token_opens_the_object_store_of_its_project(anonymous_cloud, account):
    response = v3_login(anonymous_cloud, by_name(account), account.password)
    object_store = endpoint_urls(response.json()["token"]["catalog"], "object-store")["public"]

    listing = anonymous_cloud.get(
        object_store, headers={"X-Auth-Token": response.headers["X-Subject-Token"]}
    )

    assert listing.status_code == 200
    assert listing.json() == []


@pytest.mark.parametrize(
    "user_spec",
    [
        pytest.param(lambda a: {"id": a.user.id}, id="user-by-id"),
        pytest.param(lambda a: {"name": a.user.name, "domain": {"name": "Default"}}, id="domain"),
    ],
)
def test_an_unscoped_v3_request_is_scoped_to_the_users_project(anonymous_cloud, account, user_spec):
    response = v3_login(anonymous_cloud, user_spec(account), account.password)

    assert response.status_code == 201
    assert response.json()["token"]["project"]["id"] == account.project.id


def test_a_project_scope_by_id_is_accepted(anonymous_cloud, account):
    response = v3_login(
        anonymous_cloud, by_name(account), account.password, {"project": {"id": account.project.id}}
    )

    assert response.status_code == 201


def test_the_api_key_works_as_an_application_credential_with_the_user_id(anonymous_cloud, account):
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": account.user.id, "secret": account.api_key},
            }
        }
    }

    response = anonymous_cloud.post("identity/v3/auth/tokens", json=body)

    assert response.status_code == 201
    token = response.json()["token"]
    assert token["methods"] == ["application_credential"]
    assert token["project"]["id"] == account.project.id


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda a, body: body, id="wrong-password"),
        pytest.param(
            lambda a, body: {**body, "name": "nobody"},
            id="unknown-user",
        ),
        pytest.param(
            lambda a, body: {**body, "domain": {"id": "other"}},
            id="other-domain",
        ),
    ],
)
def test_wrong_v3_credentials_are_a_401_in_keystones_shape(anonymous_cloud, account, change):
    user = change(account, by_name(account))

    response = v3_login(anonymous_cloud, user, "not-the-password")

    assert response.status_code == 401
    assert response.json() == KEYSTONE_401
    assert "X-Subject-Token" not in response.headers


def test_a_disabled_user_cannot_get_a_v3_token(anonymous_cloud, account):
    account.user.enabled = False
    account.user.save()

    response = v3_login(anonymous_cloud, by_name(account), account.password)

    assert response.status_code == 401
    assert response.json() == KEYSTONE_401


def test_a_scope_on_another_project_is_a_401(anonymous_cloud, account, other_account):
    response = v3_login(
        anonymous_cloud,
        by_name(account),
        account.password,
        {"project": {"id": other_account.project.id}},
    )

    assert response.status_code == 401


def test_an_unsupported_v3_method_is_a_401(anonymous_cloud, account):
    body = {"auth": {"identity": {"methods": ["totp"], "totp": {}}}}

    response = anonymous_cloud.post("identity/v3/auth/tokens", json=body)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="malformed-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[]", id="not-an-object"),
        pytest.param(b'{"auth": {}}', id="no-identity"),
        pytest.param(b'{"auth": {"identity": {"methods": "password"}}}', id="methods-not-list"),
        pytest.param(
            b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": '
            b'"x"}}}}}',
            id="user-without-id-or-name",
        ),
    ],
)
def test_a_malformed_v3_body_is_a_400(anonymous_cloud, body):
    response = anonymous_cloud.post(
        "identity/v3/auth/tokens", data=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


def test_a_token_can_be_validated_and_revoked_by_its_user(anonymous_cloud, account):
    subject = account.token()
    headers = {"X-Auth-Token": account.token(), "X-Subject-Token": subject}

    validated = anonymous_cloud.get("identity/v3/auth/tokens", headers=headers)
    revoked = anonymous_cloud.delete("identity/v3/auth/tokens", headers=headers)

    assert validated.status_code == 200
    assert validated.headers["X-Subject-Token"] == subject
    assert validated.json()["token"]["user"]["id"] == account.user.id
    assert revoked.status_code == 204
    listing = anonymous_cloud.get(
        f"object/v1/AUTH_{account.project.id}", headers={"X-Auth-Token": subject}
    )
    assert listing.status_code == 401


def test_another_users_token_cannot_be_validated(anonymous_cloud, account, other_account):
    headers = {"X-Auth-Token": account.token(), "X-Subject-Token": other_account.token()}

    response = anonymous_cloud.get("identity/v3/auth/tokens", headers=headers)

    assert response.status_code == 404


def test_validation_without_a_valid_token_is_a_401(anonymous_cloud, account):
    headers = {"X-Auth-Token": "lc-unknown", "X-Subject-Token": account.token()}

    response = anonymous_cloud.get("identity/v3/auth/tokens", headers=headers)

    assert response.status_code == 401
    assert response.json() == KEYSTONE_401


def test_v2_password_auth_answers_200_with_a_rackspace_catalog(
    anonymous_cloud, account, live_server, settings
):
    body = {
        "auth": {
            "passwordCredentials": {"username": account.user.name, "password": account.password},
            "tenantName": "acme",
        }
    }

    response = anonymous_cloud.post("identity/v2.0/tokens", json=body)

    assert response.status_code == 200
    access = response.json()["access"]
    assert set(access) == {"token", "serviceCatalog", "user", "metadata"}
    token = access["token"]
    assert set(token) == {"id", "issued_at", "expires", "tenant", "RAX-AUTH:authenticatedBy"}
    assert token["tenant"] == {"id": account.project.id, "name": "acme"}
    assert token["RAX-AUTH:authenticatedBy"] == ["PASSWORD"]
    assert token["expires"].endswith("Z")
    services = {service["type"]: service for service in access["serviceCatalog"]}
    images = services["image"]
    assert images["name"] == "cloudImages"
    assert images["endpoints"] == [
        {
            "publicURL": f"{live_server.url}/localcloud/image/v2",
            "internalURL": f"{live_server.url}/localcloud/image/v2",
            "adminURL": f"{live_server.url}/localcloud/image/v2",
            "region": settings.LOCALCLOUD_REGION,
            "tenantId": account.project.id,
        }
    ]
    files = services["object-store"]
    assert files["name"] == "cloudFiles"
    assert files["endpoints"][0]["publicURL"] == (
        f"{live_server.url}/localcloud/object/v1/AUTH_{account.project.id}"
    )
    assert access["user"]["id"] == account.user.id
    assert {role["name"] for role in access["user"]["roles"]} == {"member", "reader"}


def test_v2_api_key_auth_is_reported_as_apikey(anonymous_cloud, account):
    body = {
        "auth": {
            "RAX-KSKEY:apiKeyCredentials": {
                "username": account.user.name,
                "apiKey": account.api_key,
            },
            "tenantId": account.project.id,
        }
    }

    response = anonymous_cloud.post("identity/v2.0/tokens", json=body)

    assert response.status_code == 200
    token = response.json()["access"]["token"]
    assert token["RAX-AUTH:authenticatedBy"] == ["APIKEY"]
    listing = anonymous_cloud.get(
        f"object/v1/AUTH_{account.project.id}", headers={"X-Auth-Token": token["id"]}
    )
    assert listing.status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(
            lambda a: {"passwordCredentials": {"username": a.user.name, "password": "wrong"}},
            id="wrong-password",
        ),
        pytest.param(
            lambda a: {"passwordCredentials": {"username": "nobody", "password": a.password}},
            id="unknown-user",
        ),
        pytest.param(
            lambda a: {"RAX-KSKEY:apiKeyCredentials": {"username": a.user.name, "apiKey": "x"}},
            id="wrong-api-key",
        ),
        pytest.param(
            lambda a: {"RAX-KSKEY:apiKeyCredentials": {"username": a.user.name, "apiKey": ""}},
            id="empty-api-key",
        ),
        pytest.param(
            lambda a: {
                "passwordCredentials": {"username": a.user.name, "password": a.password},
                "tenantName": "globex",
            },
            id="another-tenant",
        ),
    ],
)
def test_wrong_v2_credentials_are_a_401_in_rackspaces_shape(anonymous_cloud, account, credentials):
    response = anonymous_cloud.post("identity/v2.0/tokens", json={"auth": credentials(account)})

    assert response.status_code == 401
    assert response.json() == RACKSPACE_401


def test_a_disabled_user_cannot_get_a_v2_token(anonymous_cloud, account):
    account.user.enabled = False
    account.user.save()
    credentials = {"username": account.user.name, "apiKey": account.api_key}
    body = {"auth": {"RAX-KSKEY:apiKeyCredentials": credentials}}

    response = anonymous_cloud.post("identity/v2.0/tokens", json=body)

    assert response.status_code == 401
    assert response.json() == RACKSPACE_401


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="malformed-json"),
        pytest.param(b'{"auth": {}}', id="no-credentials"),
        pytest.param(b'{"auth": {"passwordCredentials": {"username": "x"}}}', id="no-password"),
        pytest.param(b'{"auth": {"passwordCredentials": []}}', id="credentials-not-object"),
    ],
)
def test_a_malformed_v2_body_is_a_400_in_rackspaces_shape(anonymous_cloud, body):
    response = anonymous_cloud.post(
        "identity/v2.0/tokens", data=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json() == {"badRequest": {"code": 400, "message": RACKSPACE_400_MESSAGE}}


def test_tenant_name_and_tenant_id_together_are_a_400(anonymous_cloud, account):
    body = {
        "auth": {
            "passwordCredentials": {"username": account.user.name, "password": account.password},
            "tenantName": "acme",
            "tenantId": account.project.id,
        }
    }

    response = anonymous_cloud.post("identity/v2.0/tokens", json=body)

    assert response.status_code == 400
    assert response.json()["badRequest"]["code"] == 400


def test_an_expired_token_is_a_401_on_the_object_store(anonymous_cloud, account):
    expired = account.token(ttl=timedelta(seconds=-1))

    response = anonymous_cloud.get(
        f"object/v1/AUTH_{account.project.id}", headers={"X-Auth-Token": expired}
    )

    assert response.status_code == 401


def test_tokens_live_for_the_configured_ttl(anonymous_cloud, account, settings):
    settings.LOCALCLOUD_TOKEN_TTL = 90

    response = v3_login(anonymous_cloud, by_name(account), account.password)

    token = Token.objects.get(key_hash=hash_token(response.headers["X-Subject-Token"]))
    lifetime = token.expires_at - token.issued_at
    assert lifetime == pytest.approx(timedelta(seconds=90), abs=timedelta(seconds=1))


def test_only_a_digest_of_the_token_is_stored(anonymous_cloud, account):
    response = v3_login(anonymous_cloud, by_name(account), account.password)
    value = response.headers["X-Subject-Token"]

    stored = [
        str(field)
        for row in Token.objects.values_list("key_hash", "user_id", "project_id")
        for field in row
    ]
    assert value not in stored
    assert not any(value in field for field in stored)
    assert Token.objects.filter(key_hash=hash_token(value)).count() == 1


def test_the_root_lists_both_versions_with_absolute_links(anonymous_cloud, live_server):
    response = anonymous_cloud.get("identity/")

    assert response.status_code == 300
    versions = {value["id"]: value for value in response.json()["versions"]["values"]}
    assert set(versions) == {"v3.14", "v2.0"}
    assert versions["v3.14"]["links"] == [
        {"rel": "self", "href": f"{live_server.url}/localcloud/identity/v3/"}
    ]


@pytest.mark.parametrize(
    ("path", "version"),
    [("identity/v3", "v3.14"), ("identity/v3/", "v3.14"), ("identity/v2.0", "v2.0")],
)
def test_each_version_describes_itself(anonymous_cloud, path, version):
    response = anonymous_cloud.get(path, allow_redirects=False)

    assert response.status_code == 200
    assert response.json()["version"]["id"] == version


def test_the_admin_never_shows_a_users_secrets(admin_client, account):
    response = admin_client.get(f"/admin/localcloud/clouduser/{account.user.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert account.user.password_hash not in page
    assert account.user.api_key_hash not in page
    assert account.password not in page


def test_the_admin_sets_a_new_password_as_a_hash(admin_client, account):
    response = admin_client.post(
        f"/admin/localcloud/clouduser/{account.user.pk}/change/",
        {
            "name": account.user.name,
            "project": account.project.pk,
            "enabled": "on",
            "new_password": "a-new-secret",
            "new_api_key": "",
        },
    )

    assert response.status_code == 302
    account.user.refresh_from_db()
    assert account.user.check_password("a-new-secret")
    assert "a-new-secret" not in account.user.password_hash
    assert account.user.check_api_key(account.api_key)


@pytest.mark.parametrize("model", ["project", "clouduser", "token"])
def test_the_identity_admin_pages_never_show_a_token_or_its_digest(admin_client, account, model):
    value = account.token()
    token = Token.objects.get(key_hash=hash_token(value))

    listing = admin_client.get(f"/admin/localcloud/{model}/")
    detail = admin_client.get(f"/admin/localcloud/token/{token.pk}/change/")

    assert listing.status_code == 200
    assert detail.status_code == 200
    for page in (listing.content.decode(), detail.content.decode()):
        assert value not in page
        assert token.key_hash not in page


def test_guessing_a_password_is_slowed_to_a_429_for_that_client_and_account(
    anonymous_cloud, account, other_account, settings
):
    settings.LOCALCLOUD_LOGIN_FAILURE_LIMIT = 3
    wrong = v3_password_body(by_name(account), "not-the-password")
    for _ in range(3):
        assert anonymous_cloud.post("identity/v3/auth/tokens", json=wrong).status_code == 401
    refused = anonymous_cloud.post("identity/v3/auth/tokens", json=wrong)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(settings.LOCALCLOUD_LOGIN_WINDOW)
    assert "Too many failed authentication attempts" in refused.json()["error"]["message"]
    right = v3_password_body(by_name(account), account.password)
    assert anonymous_cloud.post("identity/v3/auth/tokens", json=right).status_code == 429

    # Another account from the same address (the dashboard signs in for every cloud
    # from one address) is not held back by it.
    theirs = v3_password_body(by_name(other_account), other_account.password)
    assert anonymous_cloud.post("identity/v3/auth/tokens", json=theirs).status_code == 201


def test_the_rackspace_api_key_endpoint_is_throttled_too(anonymous_cloud, account, settings):
    settings.LOCALCLOUD_LOGIN_FAILURE_LIMIT = 2
    wrong = {"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": account.user.name,
                                                       "apiKey": "wrong"}}}  # fmt: skip
    statuses = [anonymous_cloud.post("identity/v2.0/tokens", json=wrong).status_code
                for _ in range(3)]  # fmt: skip
    assert statuses == [401, 401, 429]
