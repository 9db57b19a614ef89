"""Fixtures of the Glance tier: a real OpenStack Glance on 127.0.0.1, and clients for it.

The session installs Glance into its own virtualenv once (``var/glance-venv``, reused
while its stamp matches), serves image files from a thread of this process, and starts
Glance instances under uWSGI as tests ask for them. Each kind of instance (policy, task
lifetime) is started once per session and stopped, children and all, at the end; its
database is dropped, its folder (config and logs) kept for the last few runs.

Environment:
- ``IMAGETASKS_GLANCE_VENV``: where Glance's virtualenv lives (default ``var/glance-venv``).
- ``IMAGETASKS_GLANCE_DATABASE``: a PostgreSQL server URL (default
  ``postgresql://postgres@127.0.0.1:5432``) or ``sqlite`` (see ``harness/database.py``).
- ``IMAGETASKS_VAR_DIR``: where the run folders go (``glance-runs/<pid>``).
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from imagetasks.openstack import CloudClient
from imagetasks.processes import process_exists
from tests_glance.harness.config import GlanceOptions, Policy
from tests_glance.harness.database import Databases, databases_from_environment
from tests_glance.harness.files import FileServer
from tests_glance.harness.server import GlanceServer
from tests_glance.harness.venv import GlanceVenv, ensure_glance_venv
from tests_glance.support import client_for

REPO_ROOT = Path(__file__).resolve().parent.parent
_VENV_KEY = pytest.StashKey[GlanceVenv]()
KEPT_RUNS = 3


def pytest_configure(config):
    """The tier's data folder gets what `make run` prepares: folders and a kept secret key."""
    call_command("prepare", verbosity=0)


class GlanceFactory:
    """Starts Glance instances on demand; one per set of options unless ``private``."""

    def __init__(self, venv: GlanceVenv, base: Path, file_server: FileServer, databases: Databases):
        self._venv = venv
        self._base = base
        self._file_server = file_server
        self._databases = databases
        self._shared: dict[GlanceOptions, GlanceServer] = {}
        self._all: list[GlanceServer] = []

    def __call__(
        self, *, policy: Policy = "open", ttl: int = 48, private: bool = False
    ) -> GlanceServer:
        """A running Glance with this policy and task lifetime (hours).

        ``private`` gives a test an instance of its own: a test that calls ``restart``
        should ask for one, so the shared instances keep the options they were asked for.
        """
        options = GlanceOptions(policy=policy, task_ttl_hours=ttl)
        shared = self._shared.get(options)
        # A shared instance that a test restarted with other options no longer fits.
        if not private and shared is not None and shared.options == options:
            return shared
        name = f"glance-{len(self._all) + 1}-{policy}-ttl{ttl}"
        server = GlanceServer(
            self._venv, self._base / name, self._file_server, self._databases, options
        )
        self._all.append(server)
        server.start()
        if not private:
            self._shared[options] = server
        return server

    def close_all(self) -> None:
        """Stop every instance at once (each takes a second to drain), then drop its database."""
        threads = [threading.Thread(target=server.close) for server in self._all]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


@pytest.fixture(scope="session")
def glance_venv(pytestconfig: pytest.Config) -> GlanceVenv:
    root = Path(os.environ.get("IMAGETASKS_GLANCE_VENV", REPO_ROOT / "var" / "glance-venv"))
    venv = ensure_glance_venv(root)
    pytestconfig.stash[_VENV_KEY] = venv
    return venv


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config):
    """Say which Glance the tier ran against, and what installing it cost this time."""
    venv = config.stash.get(_VENV_KEY, None)
    if venv is None:
        return
    versions = ", ".join(f"{name} {version}" for name, version in venv.versions.items())
    installed = (
        f"installed in {venv.install_seconds:.0f} s"
        if venv.install_seconds is not None
        else "reused"
    )
    terminalreporter.write_line(f"Glance tier: {versions} ({installed}: {venv.root})")


@pytest.fixture(scope="session")
def glance_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    """The HTTP server on 127.0.0.1 that Glance imports from."""
    server = FileServer(tmp_path_factory.mktemp("glance-files"))
    yield server
    server.stop()


def _runs_folder() -> Path:
    """This run's folder for Glance's files, kept after the run for its logs.

    Under the project's var dir rather than pytest's temporary one, which other test runs
    on the machine rotate away within minutes. The folders of the last few finished runs
    stay; older ones go.
    """
    var = Path(os.environ.get("IMAGETASKS_VAR_DIR", REPO_ROOT / "var" / "test-glance"))
    runs = var / "glance-runs"
    runs.mkdir(parents=True, exist_ok=True)
    finished = sorted(
        (path for path in runs.iterdir() if path.name.isdigit() and path.name != str(os.getpid())),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for old in finished[KEPT_RUNS:]:
        if not process_exists(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    folder = runs / str(os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def glance_factory(glance_venv: GlanceVenv, glance_files: FileServer) -> Iterator[GlanceFactory]:
    # Glance's legacy import flow runs qemu-img on every image it brings in: better to say
    # up front that it is missing than to read it out of a failed task's log.
    if shutil.which("qemu-img") is None:
        raise RuntimeError("the Glance tier needs qemu-img: apt-get install qemu-utils")
    databases = databases_from_environment(glance_venv)
    factory = GlanceFactory(glance_venv, _runs_folder(), glance_files, databases)
    yield factory
    factory.close_all()


@pytest.fixture(scope="session")
def glance(glance_factory: GlanceFactory) -> GlanceServer:
    """Glance with the tasks API open to members and tasks kept 48 hours."""
    return glance_factory()


@pytest.fixture(scope="session")
def glance_admin_only(glance_factory: GlanceFactory) -> GlanceServer:
    """Glance as shipped: the tasks API is for admins only."""
    return glance_factory(policy="default")


@pytest.fixture(scope="session")
def glance_expiring(glance_factory: GlanceFactory) -> GlanceServer:
    """Glance with ``task_time_to_live = 0``: a task expires the moment it ends."""
    return glance_factory(ttl=0)


@pytest.fixture
def project() -> str:
    """A project of this test's own, so its task lists hold only its own tasks."""
    return f"p-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def connect() -> Iterator[Callable[..., CloudClient]]:
    """``connect(server, project=..., roles=...)``: the project's client on that Glance."""
    clients: list[CloudClient] = []

    def make(
        server: GlanceServer, project: str | None = None, roles: str | None = None
    ) -> CloudClient:
        client = client_for(server, project, roles)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def disk_image(tmp_path: Path) -> Path:
    """A 2 MiB raw disk: big enough to be a real upload, small enough to be quick."""
    path = tmp_path / "disk.raw"
    path.write_bytes(os.urandom(64 * 1024) + bytes(2 * 1024 * 1024 - 64 * 1024))
    return path
