"""Calling the JSON API through the test client, every answer checked against its own
OpenAPI document (/api/openapi.json): the status must be one the operation declares,
and the body must match that status's schema."""

from __future__ import annotations

import json
import re
from functools import cache
from urllib.parse import urlencode

from jsonschema import Draft202012Validator

SAME = object()  # the token the Api was made with


@cache
def _document(raw: bytes) -> dict:
    return json.loads(raw)


def document(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return _document(response.content)


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def operation_of(doc: dict, method: str, path: str) -> str | None:
    """The JSON pointer of the operation that serves ``method path``, if one does."""
    for template, operations in doc["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return f"#/paths/{_escape(template)}/{method.lower()}"
    return None


def check(doc: dict, method: str, path: str, response) -> None:
    """Fails unless ``response`` is JSON that the document allows for this request."""
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = json.loads(response.content)
    pointer = operation_of(doc, method, path.partition("?")[0])
    if pointer is None:  # an address the API does not have
        assert response.status_code in (404, 405), response.status_code
        assert isinstance(body.get("detail"), str)
        return
    operation = doc
    for part in pointer[2:].split("/"):
        operation = operation[part.replace("~1", "/").replace("~0", "~")]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path}: {status} is not documented"
    schema_pointer = f"{pointer}/responses/{status}/content/application~1json/schema"
    validator = Draft202012Validator({**doc, "$ref": schema_pointer})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, f"{method} {path} {status} does not match its schema:\n" + "\n".join(errors)


class Api:
    """The API as a script sees it: a bearer token (or, with None, the client's session)."""

    def __init__(self, client, token: str | None = None):
        self.client = client
        self.token = token

    def _headers(self, token, headers: dict | None) -> dict:
        token = self.token if token is SAME else token
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return sent

    def get(self, path: str, params=None, *, token=SAME, headers=None):
        response = self.client.get(path, params or {}, headers=self._headers(token, headers))
        check(document(self.client), "GET", path, response)
        return response

    def post(self, path: str, body=None, *, raw: bytes | None = None, token=SAME, headers=None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        response = self.client.post(
            path, data, content_type="application/json", headers=self._headers(token, headers)
        )
        check(document(self.client), "POST", path, response)
        return response

    def put(self, path: str, raw: bytes, params=None, *, token=SAME, headers=None, **extra):
        """A raw body (a file's bytes); the query from ``params``; ``extra`` for the WSGI
        environment (a ``CONTENT_LENGTH`` of its own, say)."""
        query = f"?{urlencode(params or {}, doseq=True)}" if params else ""
        response = self.client.put(
            f"{path}{query}",
            raw,
            content_type="application/octet-stream",
            headers=self._headers(token, headers),
            **extra,
        )
        check(document(self.client), "PUT", path, response)
        return response
