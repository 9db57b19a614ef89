"""A hostile provider: a scripted one on loopback that signs ID tokens as each test says
(expired, with another key, for another client…) and sends broken answers. Every one is
refused with a message saying why, on the login page, never with a 500."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from imagetasks.dashboard.models import ProviderIdentity
from imagetasks.dashboard.signin import discovery
from tests.openstack.scripted import Received, Reply, ScriptedCloud
from tests.support.factories import closed_port

pytestmark = pytest.mark.django_db

CLIENT_ID = "imagetasks-dashboard"
CLIENT_SECRET = "hostile-test-secret-Yb3"
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class HostileProvider:
    """Discovery, keys, token and user info, scripted; ``claims`` shape the next ID token."""

    def __init__(self, server: ScriptedCloud):
        self.server = server
        self.issuer = server.url
        self.nonce = ""
        self.claims: dict = {}
        self.key = SIGNING_KEY
        self.headers: dict = {"kid": "k1"}
        self.algorithm = "RS256"
        self.userinfo: dict | None = None
        public = RSAAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True)
        self.jwks = {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}
        self.discovery = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
        }
        server.on("GET", "/.well-known/openid-configuration", handler=lambda r: self._discovery())
        server.on("GET", "/jwks", handler=lambda r: Reply(json=self.jwks))
        server.on("POST", "/token", handler=self._token)
        server.on("GET", "/userinfo", handler=self._userinfo)

    def _discovery(self) -> Reply:
        return Reply(json=self.discovery)

    def id_token(self, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": CLIENT_ID, "sub": "ana", "iat": now, "exp": now + 300,
            "nonce": self.nonce, **self.claims, **overrides,
        }  # fmt: skip
        claims = {name: value for name, value in claims.items() if value is not None}
        if self.algorithm == "none":
            return jwt.encode(claims, None, algorithm="none")
        return jwt.encode(claims, self.key, algorithm=self.algorithm, headers=self.headers)

    def _token(self, request: Received) -> Reply:
        token = self.id_token()
        return Reply(json={"access_token": "at-1", "token_type": "Bearer", "id_token": token})

    def _userinfo(self, request: Received) -> Reply:
        if self.userinfo is None:
            return Reply(json={"sub": "ana", "preferred_username": "ana"})
        return Reply(json=self.userinfo)


@pytest.fixture
def hostile(settings):
    server = ScriptedCloud().start()
    provider = HostileProvider(server)
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = "Hostile Org"
    discovery.forget()
    yield provider
    server.stop()
    discovery.forget()


def come_back(client, hostile, **callback):
    """Start a sign-in, then come back to the site as the provider would send the browser."""
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302
    sent = parse_qs(urlsplit(start["Location"]).query)
    hostile.nonce = sent["nonce"][0]
    query = {"code": "code-1", "state": sent["state"][0], **callback}
    return client.get("/oidc/callback/", query)


def refused(response, words: str) -> str:
    page = response.content.decode()
    assert response.status_code in (400, 403, 503), response.status_code
    assert words in page, page
    assert "Sign in with Hostile Org" in page  # the login page, to try again from
    assert "_auth_user_id" not in response.wsgi_request.session
    return page


def test_the_scripted_provider_signs_in_when_nothing_is_wrong(client, hostile):
    response = come_back(client, hostile)

    assert response.status_code == 302 and response["Location"] == "/"
    assert ProviderIdentity.objects.get(subject="ana").user.username == "ana"
    token_request = hostile.server.requests("POST", "/token")[0]
    assert token_request.headers["Authorization"].startswith("Basic ")
    assert b"client_secret" not in token_request.body and b"code_verifier=" in token_request.body


def test_an_expired_id_token_is_refused_with_a_message(client, hostile):
    hostile.claims = {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}

    refused(come_back(client, hostile), "ID token has expired")


def test_an_id_token_signed_with_another_key_is_refused(client, hostile):
    hostile.key = OTHER_KEY  # same kid, another key: a forged or tampered token

    refused(come_back(client, hostile), "signature does not match the provider&#x27;s keys")


def test_an_id_token_whose_payload_was_changed_is_refused(client, hostile):
    genuine = hostile.id_token()
    header, _payload, signature = genuine.split(".")
    forged = jwt.encode(
        {"iss": hostile.issuer, "aud": CLIENT_ID, "sub": "admin", "iat": int(time.time()),
         "exp": int(time.time()) + 300, "nonce": "x"},
        OTHER_KEY, algorithm="RS256", headers={"kid": "k1"},
    ).split(".")[1]  # fmt: skip
    hostile.id_token = lambda **overrides: f"{header}.{forged}.{signature}"

    refused(come_back(client, hostile), "signature does not match")


def test_a_key_the_provider_does_not_publish_is_refused(client, hostile):
    hostile.headers = {"kid": "unknown-key"}

    refused(come_back(client, hostile), "None of the provider&#x27;s signing keys matches")


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"aud": "another-client"}, "issued to another client"),
        ({"aud": [CLIENT_ID, "another"], "azp": "another"}, "another client as its party"),
        ({"iss": "http://127.0.0.1:1/elsewhere"}, "issued by another provider"),
        ({"nonce": "not-this-sign-in"}, "does not belong to this sign-in"),
        ({"iat": int(time.time()) + 3600}, "issued in the future"),
        ({"exp": None}, "ID token is not valid"),
        ({"sub": "s" * 300}, "names nobody"),
        ({"sub": "ana\u0000"}, "names nobody"),
        ({"sub": ["ana"]}, "ID token is not valid"),
    ],
)
def test_id_tokens_that_are_not_for_this_sign_in_are_refused(client, hostile, claims, words):
    hostile.claims = claims

    refused(come_back(client, hostile), words)


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
def test_an_id_token_signed_another_way_than_configured_is_refused(client, hostile, algorithm):
    # HS256 keyed with the public key is the classic confusion attack; "none" is unsigned.
    hostile.algorithm = algorithm
    if algorithm == "HS256":
        hostile.key = "a shared secret that is not the provider's key"

    refused(come_back(client, hostile), "it was refused")


def test_the_providers_own_refusal_is_shown_as_text(client, hostile):
    response = come_back(
        client, hostile, error="access_denied", error_description="<b>Denied</b> by policy"
    )

    page = refused(response, "Hostile Org did not sign you in: &lt;b&gt;Denied&lt;/b&gt;")
    assert "<b>Denied" not in page


def test_an_error_link_made_by_someone_else_shows_none_of_their_words(client, hostile):
    response = client.get(
        "/oidc/callback/",
        {"error": "access_denied", "error_description": "Call 555-0100 to unlock your account"},
    )

    page = refused(response, "Hostile Org did not sign you in. Start again.")
    assert "555-0100" not in page


def test_a_token_endpoint_that_refuses_the_code_says_so(client, hostile):
    hostile.server.on(
        "POST",
        "/token",
        Reply(400, json={"error": "invalid_grant", "error_description": "<i>x\nFAKE LOG LINE"}),
    )

    response = come_back(client, hostile)

    page = refused(response, "refused to finish the sign-in (HTTP 400: invalid_grant")
    assert "<i>x" not in page and "&lt;i&gt;xFAKE LOG LINE" in page


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, body="<html>not json</html>"),
        Reply(200, json=["a", "list"]),
        Reply(200, json={"access_token": "at", "id_token": {"an": "object"}}),
        Reply(200, body="[" * 100_000),
        Reply(200, body=b"x" * (2 * 1024 * 1024)),
    ],
    ids=["html", "list", "object-token", "deep", "huge"],
)
@pytest.mark.usefixtures("garbage_collected")
def test_a_token_endpoint_that_answers_nonsense_is_refused(client, hostile, reply):
    hostile.server.on("POST", "/token", reply)

    refused(come_back(client, hostile), "Signing in with Hostile Org failed")


@pytest.mark.parametrize(
    "jwks",
    [{"keys": "not a list"}, {"keys": [1, None, {"kty": "RSA", "kid": "k1", "n": "?"}]}, []],
    ids=["string", "junk-keys", "list"],
)
def test_signing_keys_that_cannot_be_read_refuse_the_sign_in(client, hostile, jwks):
    hostile.jwks = jwks

    refused(come_back(client, hostile), "None of the provider&#x27;s signing keys matches")


def test_user_info_about_someone_else_is_refused(client, hostile):
    hostile.userinfo = {"sub": "admin", "groups": ["imagetasks:operators"]}

    refused(come_back(client, hostile), "about someone else than the ID token")
    assert not ProviderIdentity.objects.exists()


@pytest.mark.parametrize(
    "document",
    [
        {"issuer": "https://elsewhere.example"},
        {"authorization_endpoint": "javascript:alert(1)"},
        {"token_endpoint": None},
        {"jwks_uri": "ftp://keys"},
    ],
    ids=["issuer", "authorization", "token", "jwks"],
)
def test_a_discovery_document_that_cannot_be_used_says_so_at_the_button(client, hostile, document):
    hostile.discovery = {**hostile.discovery, **document}

    response = client.get("/oidc/authenticate/")

    page = refused(response, "Signing in is not possible right now.")
    assert response.status_code == 503
    assert "javascript:" not in response.get("Location", "")
    assert "OIDC_ISSUER" in page or "usable" in page


def test_a_provider_that_is_down_is_named_at_the_button(client, settings, hostile):
    settings.OIDC_ISSUER = f"http://127.0.0.1:{closed_port()}"
    discovery.forget()

    response = client.get("/oidc/authenticate/")

    refused(response, "could not be reached: the connection failed")


def test_the_discovery_document_is_fetched_once(client, hostile):
    come_back(client, hostile)
    client.logout()
    come_back(client, hostile)

    assert len(hostile.server.requests("GET", "/.well-known/openid-configuration")) == 1


def test_a_spent_or_unknown_state_is_refused(client, hostile):
    start = client.get("/oidc/authenticate/")
    sent = parse_qs(urlsplit(start["Location"]).query)
    hostile.nonce = sent["nonce"][0]
    first = client.get("/oidc/callback/", {"code": "c", "state": sent["state"][0]})
    assert first.status_code == 302
    client.logout()

    again = client.get("/oidc/callback/", {"code": "c", "state": sent["state"][0]})

    refused(again, "expired or was already used")
    refused(client.get("/oidc/callback/", {"code": "c", "state": "made-up"}), "already used")


def test_without_an_end_session_endpoint_logging_out_ends_only_this_sites_session(client, hostile):
    come_back(client, hostile)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
