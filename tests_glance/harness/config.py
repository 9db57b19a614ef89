"""The configuration files of one Glance instance, written into its own folder.

Glance reads ``glance-api.conf`` from ``OS_GLANCE_CONFIG_DIR``; that file points at the
paste pipeline and the policy file beside it. Everything else Glance writes (image
stores, staging area, task work folder, locks, log) lives under the same folder, and each
instance has a database of its own (``database.py``), so instances share no state.

Every instance offers Glance's interoperable import as a cloud that enables it does:
``web-download``, ``glance-direct`` and ``copy-image``, with two file stores (``fast``,
the default, and ``cheap``) and Glance's reserved staging and tasks stores. The import
flow runs on the API worker's own threads (``taskflow``), as under uWSGI in production.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Policy = Literal["open", "default"]

HARNESS_DIR = Path(__file__).resolve().parent

# The stores images may be kept in, the first one the default (``enabled_backends``).
STORES = ("fast", "cheap")
IMPORT_METHODS = ("glance-direct", "web-download", "copy-image")

# The policy file Glance reads. "open" lets members use the tasks API; "default" keeps
# Glance's own rule (admin only), which is what a cloud out of the box does.
_POLICIES: dict[str, str] = {
    "open": '"tasks_api_access": ""\n',
    "default": "{}\n",
}


@dataclass(frozen=True)
class GlanceOptions:
    """What a test may choose about an instance."""

    policy: Policy = "open"
    task_ttl_hours: int = 48
    default_project: str = "project-a"
    default_roles: str = "member,reader"
    default_user: str = "user-a"

    def __post_init__(self) -> None:
        if self.policy not in _POLICIES:
            raise ValueError(f"policy {self.policy!r} is not one of {sorted(_POLICIES)}")
        if self.task_ttl_hours < 0:
            raise ValueError("task_ttl_hours must be 0 or more")


@dataclass(frozen=True)
class InstanceFiles:
    """Where one instance keeps its configuration and its state."""

    root: Path

    @property
    def config_dir(self) -> Path:
        return self.root / "etc"

    @property
    def api_conf(self) -> Path:
        return self.config_dir / "glance-api.conf"

    @property
    def glance_log(self) -> Path:
        return self.root / "glance-api.log"

    @property
    def uwsgi_log(self) -> Path:
        return self.root / "uwsgi.log"

    @property
    def uwsgi_ini(self) -> Path:
        return self.config_dir / "uwsgi.ini"

    def store_dir(self, store: str) -> Path:
        """Where the file store ``store`` keeps its images."""
        return self.root / "stores" / store

    def state_dirs(self) -> dict[str, Path]:
        dirs = {name: self.root / name for name in ("staging", "work", "locks")}
        return {**dirs, **{f"store-{store}": self.store_dir(store) for store in STORES}}


def write_config(
    files: InstanceFiles,
    options: GlanceOptions,
    *,
    port: int,
    file_server_port: int,
    database_url: str,
    python: Path,
    venv: Path,
) -> None:
    """Write every file Glance and uWSGI read for this instance (rewritten on restart)."""
    files.config_dir.mkdir(parents=True, exist_ok=True)
    dirs = files.state_dirs()
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    files.api_conf.write_text(_api_conf(files, options, dirs, port, file_server_port, database_url))
    (files.config_dir / "glance-api-paste.ini").write_text(_paste_ini(options))
    (files.config_dir / "policy.yaml").write_text(_POLICIES[options.policy])
    # Copied beside the config so that only this one module joins Glance's import path.
    shutil.copyfile(HARNESS_DIR / "identity_filter.py", files.config_dir / "identity_filter.py")
    files.uwsgi_ini.write_text(_uwsgi_ini(files, port, python, venv))


def _api_conf(
    files: InstanceFiles,
    options: GlanceOptions,
    dirs: dict[str, Path],
    port: int,
    file_server_port: int,
    database_url: str,
) -> str:
    etc = files.config_dir
    stores = "".join(
        f"""
[{store}]
filesystem_store_datadir = {files.store_dir(store)}
"""
        for store in STORES
    )
    return f"""\
[DEFAULT]
debug = false
use_stderr = false
log_file = {files.glance_log}
enabled_import_methods = [{", ".join(IMPORT_METHODS)}]
enabled_backends = {", ".join(f"{store}:file" for store in STORES)}
# Where a glance-direct upload was staged: this instance itself (one host, no proxying).
worker_self_reference_url = http://127.0.0.1:{port}

[database]
connection = {database_url}

[glance_store]
default_backend = {STORES[0]}
{stores}
[os_glance_staging_store]
filesystem_store_datadir = {dirs["staging"]}

# The legacy import's work folder (with enabled_backends, [task] work_dir is not read).
[os_glance_tasks_store]
filesystem_store_datadir = {dirs["work"]}

[task]
task_executor = taskflow
task_time_to_live = {options.task_ttl_hours}

[taskflow_executor]
engine_mode = parallel

[import_filtering_opts]
allowed_schemes = [http]
allowed_hosts = [127.0.0.1]
allowed_ports = [{file_server_port}]

[oslo_concurrency]
lock_path = {dirs["locks"]}

[oslo_policy]
policy_file = {etc / "policy.yaml"}

[paste_deploy]
config_file = {etc / "glance-api-paste.ini"}
"""


def _paste_ini(options: GlanceOptions) -> str:
    # Glance's own pipeline with keystonemiddleware's place taken by the stand-in filter.
    return f"""\
[pipeline:glance-api]
pipeline = versionnegotiation identity context rootapp

[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app

[app:apiversions]
paste.app_factory = glance.api.versions:create_resource

[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory

[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory

[filter:identity]
paste.filter_factory = identity_filter:filter_factory
default_project = {options.default_project}
default_roles = {options.default_roles}
default_user = {options.default_user}

[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
"""


def _uwsgi_ini(files: InstanceFiles, port: int, python: Path, venv: Path) -> str:
    # One worker: Glance runs its tasks on threads of the worker that took the POST, and a
    # single worker keeps a task's log lines in one place. Threads serve polls meanwhile.
    return f"""\
[uwsgi]
http-socket = 127.0.0.1:{port}
module = glance.wsgi.api:application
virtualenv = {venv}
py-sys-executable = {python}
pythonpath = {files.config_dir}
env = OS_GLANCE_CONFIG_DIR={files.config_dir}
master = true
processes = 1
threads = 4
enable-threads = true
single-interpreter = true
lazy-apps = true
need-app = true
die-on-term = true
buffer-size = 65535
add-header = Connection: close
hook-master-start = unix_signal:15 gracefully_kill_them_all
worker-reload-mercy = 5
disable-logging = true
"""
