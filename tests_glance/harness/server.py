"""One real Glance API under uWSGI on a loopback port: start, restart, stop.

uWSGI runs in a session of its own, so stopping it signals the whole process group
(master, worker and whatever a task spawned, such as ``qemu-img``) and nothing outlives
the test run.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

from tests_glance.harness.config import GlanceOptions, InstanceFiles, Policy, write_config
from tests_glance.harness.database import Databases
from tests_glance.harness.files import FileServer
from tests_glance.harness.venv import GlanceVenv

START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
PR_SET_PDEATHSIG = 1


class GlanceStartError(RuntimeError):
    """Glance did not answer in time; the message carries the end of its logs."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Loaded here, not in the child: between fork and exec only the prctl call is safe.
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """Ask Linux to stop uWSGI if the test process dies without running its teardown."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class GlanceServer:
    """A Glance API for tests to talk to.

    ``url`` is the image endpoint (no ``/v2``); ``project_id`` is the project a request
    acts as when it names none. ``token(...)`` makes a token that acts as any project and
    roles (see ``identity_filter``).
    """

    def __init__(
        self,
        venv: GlanceVenv,
        root: Path,
        file_server: FileServer,
        databases: Databases,
        options: GlanceOptions | None = None,
    ):
        self.venv = venv
        self.files = InstanceFiles(root)
        self.file_server = file_server
        self.options = options or GlanceOptions()
        self.port = free_port()
        self._databases = databases
        self._database_url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"<GlanceServer {self.url} policy={self.options.policy} ttl={self.ttl_hours}h>"

    # What tests use -------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def project_id(self) -> str:
        return self.options.default_project

    @property
    def ttl_hours(self) -> int:
        return self.options.task_ttl_hours

    def token(
        self, project: str | None = None, roles: str | None = None, user: str | None = None
    ) -> str:
        """A token the stand-in identity filter reads as this project, roles and user."""
        return urlencode(
            {
                "project": project or self.options.default_project,
                "roles": roles or self.options.default_roles,
                "user": user or f"user-of-{project or self.options.default_project}",
            }
        )

    def token_headers(self, project: str | None = None, roles: str | None = None) -> dict[str, str]:
        """Headers for a raw request to Glance acting as ``project`` with ``roles``."""
        return {"X-Auth-Token": self.token(project, roles), "Accept": "application/json"}

    def serve_file(self, path: Path, name: str | None = None) -> str:
        """A URL Glance may import from (the file server passes its import filter)."""
        return self.file_server.serve_file(path, name)

    def serve_bytes(self, data: bytes, name: str) -> str:
        return self.file_server.serve_bytes(data, name)

    def log_tail(self, lines: int = 40) -> str:
        """The end of Glance's log, where the cause of a task failure is written."""
        return _tail(self.files.glance_log, lines)

    # Lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError(f"{self!r} is already running")
        self.files.root.mkdir(parents=True, exist_ok=True)
        if self._database_url is None:
            self._database_url = self._databases.create(self.files.root.name, self.files.root)
        write_config(
            self.files,
            self.options,
            port=self.port,
            file_server_port=self.file_server.port,
            database_url=self._database_url,
            python=self.venv.python,
            venv=self.venv.root,
        )
        with self.files.uwsgi_log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self.venv.uwsgi), "--ini", str(self.files.uwsgi_ini)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.files.root,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self._wait_until_up()

    def restart(self, *, policy: Policy | None = None, ttl: int | None = None) -> None:
        """Stop, rewrite the config with new options, start again on the same port.

        The database, images and staging area survive, as in a real redeploy.
        """
        changes: dict[str, object] = {}
        if policy is not None:
            changes["policy"] = policy
        if ttl is not None:
            changes["task_ttl_hours"] = ttl
        self.stop()
        self.options = dataclasses.replace(self.options, **changes)
        self.start()

    def stop(self) -> None:
        """Stop uWSGI and every process it started; safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)
        except ProcessLookupError:
            pass
        # A worker may outlive its master while it drains its running tasks (a graceful
        # stop): it is given the same time to end before it is killed. Killed at once, an
        # import that could have finished was cut off now and then on a loaded machine.
        # A worker left behind would hold the port and break the next start on it.
        _wait_for_group(process.pid, STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop Glance for good and drop its database."""
        self.stop()
        if self._database_url is not None:
            self._databases.drop(self.files.root.name, self.files.root)
            self._database_url = None

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                self._fail("uWSGI exited")
            try:
                # Any answer but a 5xx comes from Glance's own app, so the app has loaded.
                if requests.get(f"{self.url}/versions", timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        self._fail(f"no answer on /versions within {START_TIMEOUT:g} s")

    def _fail(self, reason: str) -> None:
        raise GlanceStartError(
            f"Glance at {self.url}: {reason}\n"
            f"--- {self.files.uwsgi_log}\n{_tail(self.files.uwsgi_log)}\n"
            f"--- {self.files.glance_log}\n{_tail(self.files.glance_log)}"
        )


def _wait_for_group(group: int, timeout: float) -> None:
    """Until no process of the group is left, or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
