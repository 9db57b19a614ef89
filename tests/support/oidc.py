"""A real OpenID Connect provider on loopback: oidc-provider (npm) run by node.

``tests/support/oidc_provider/`` holds the provider script and its locked packages;
``install()`` runs ``npm ci`` there when its ``node_modules`` is missing (a fresh clone),
once even with several test processes. ``start()`` runs the provider on a free loopback
port for the client and users a test gives it; the users can be changed while it runs.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID = "imagetasks-dashboard"
CLIENT_SECRET = "client-secret-Zq8-never-shown"


class NodeMissing(Exception):
    """node or npm is not installed here."""


def install() -> None:
    """``npm ci`` in the provider's folder if its packages are not there yet."""
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    if not (shutil.which("node") and shutil.which("npm")):
        raise NodeMissing("node and npm are needed for the OpenID Connect provider's tests")
    with open(PROVIDER_DIR / ".install-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=PROVIDER_DIR,
                check=True,
                timeout=300,
            )


@dataclass
class Provider:
    """The provider as a test sees it: its issuer, its client and its people."""

    issuer: str
    users_file: Path
    process: subprocess.Popen
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def add_user(self, login: str, password: str, **claims: Any) -> None:
        """A person who signs in with ``login`` and ``password``; the provider sends
        ``claims`` as they are (any JSON), ``sub`` being the login."""
        self.users[login] = {"password": password, "claims": claims}
        self._write()

    def set_claims(self, login: str, **claims: Any) -> None:
        """What the provider says about ``login`` from their next sign-in on."""
        self.users[login]["claims"] = claims
        self._write()

    def _write(self) -> None:
        partial = self.users_file.with_suffix(".tmp")
        partial.write_text(json.dumps(self.users))
        partial.replace(self.users_file)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(folder: Path, *site_urls: str) -> Provider:
    """The provider on a free loopback port, with one client for the sites at ``site_urls``
    (the test client's ``http://testserver``, the live server's address)."""
    install()
    users_file = folder / "users.json"
    users_file.write_text("{}")
    config = {
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [f"{url}/oidc/callback/" for url in site_urls],
                "post_logout_redirect_uris": [f"{url}/accounts/login/" for url in site_urls],
            }
        ],
        "users_file": str(users_file),
    }
    config_file = folder / "provider.json"
    config_file.write_text(json.dumps(config))
    log = open(folder / "provider.log", "wb")  # noqa: SIM115 (the process writes to it)
    process = subprocess.Popen(
        ["node", "provider.mjs", str(config_file)],
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=log,
        env={**os.environ, "NODE_ENV": "test"},
    )
    log.close()
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline().decode()
            if line.startswith("listening "):
                return Provider(line.split()[1], users_file, process)
            if not line:
                break
    process.kill()
    process.wait()
    raise RuntimeError(
        "the OpenID Connect provider did not start:\n" + (folder / "provider.log").read_text()
    )


def sign_in_at_provider(authorize_url: str, login: str, password: str) -> str:
    """What a browser does at the provider: follow the sign-in request to the provider's
    login form, send it, and follow the redirects until one leads off the provider.
    Returns that address (the site's callback, with its code and state)."""
    provider_host = urlsplit(authorize_url).netloc
    session = requests.Session()
    url = authorize_url
    for _ in range(10):
        response = session.get(url, allow_redirects=False, timeout=10)
        if response.status_code == 200 and "/interaction/" in url:
            response = session.post(
                url, data={"login": login, "password": password}, allow_redirects=False, timeout=10
            )
            assert response.status_code in (302, 303), response.text
        assert response.status_code in (302, 303), (response.status_code, response.text[:500])
        url = urljoin(url, response.headers["Location"])
        if urlsplit(url).netloc != provider_host:
            return url
    raise AssertionError("the provider kept redirecting")


def sign_in(client, login: str, password: str):
    """Signing in through the site's button with the test client, and at the provider as a
    browser would (``sign_in_at_provider``); returns the site's answer to the callback."""
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302, start.content.decode()[:1000]
    back = urlsplit(sign_in_at_provider(start["Location"], login, password))
    assert back.netloc == "testserver", back
    return client.get(f"{back.path}?{back.query}")
