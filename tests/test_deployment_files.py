"""The files that start the project elsewhere stay in step with the code."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def settings_variables() -> set[str]:
    source = (ROOT / "imagetasks" / "settings.py").read_text()
    return set(re.findall(r'env\.(?:str|bool|int|float|list|url)\(\s*"([A-Z0-9_]+)"', source))


def test_every_variable_the_settings_read_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in settings_variables() if f"`{name}`" not in readme)
    assert missing == []


def test_compose_runs_every_part_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "dispatcher", "cloudworker", "beat"} <= set(
        services
    )
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    assert set(compose["volumes"]) >= {"postgres-data", "redis-data", "imagetasks-data"}


def test_compose_points_the_app_at_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("web", "worker", "dispatcher", "cloudworker", "beat", "migrate"):
        environment = compose["services"][name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["CELERY_BROKER_URL"].startswith("redis://")


def procfile_queues() -> dict[str, set[str]]:
    """The queues each Celery worker of the Procfile consumes, by process name."""
    procfile = (ROOT / "Procfile").read_text()
    processes = dict(line.split(":", 1) for line in procfile.splitlines() if line.strip())
    return {
        name: set(re.search(r"--queues (\S+)", command)[1].split(","))
        for name, command in processes.items()
        if " worker " in command
    }


def compose_queues() -> dict[str, set[str]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found = {}
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if "worker" in command:
            (option,) = [word for word in command if word.startswith("--queues=")]
            found[name] = set(option.removeprefix("--queues=").split(","))
    return found


def routed_queues() -> dict[str, str]:
    """The queue every job of the project is sent to, by job name, as Celery routes it."""
    from imagetasks.celery import app

    app.loader.import_default_modules()
    router = app.amqp.Router()
    return {
        name: router.route({}, name)["queue"].name
        for name in app.tasks
        if name.startswith("imagetasks.")
    }


def test_make_run_starts_web_the_workers_and_beat():
    procfile = (ROOT / "Procfile").read_text()
    processes = dict(line.split(":", 1) for line in procfile.splitlines() if line.strip())
    assert set(processes) == {"web", "worker", "dispatcher", "cloudworker", "beat"}
    assert procfile_queues() == {
        "worker": {"dashboard", "dispatch"},
        "dispatcher": {"dispatch"},
        "cloudworker": {"localcloud"},
    }


@pytest.mark.parametrize("started_by", [procfile_queues, compose_queues])
def test_some_worker_consumes_every_queue_a_job_is_sent_to(started_by):
    consumed = set().union(*started_by().values())
    assert set(routed_queues().values()) <= consumed


def test_beats_sweeps_wait_behind_no_poll_job():
    """A sweep (claim what is due, send a job for each) that shared the poll jobs' queue
    waited behind them under load and expired unrun; the dispatcher takes nothing else."""
    queue_of = routed_queues()
    sweeps = {"dispatch_polls", "advance_copies", "dispatch_notifications", "check_capabilities"}
    for job, queue in queue_of.items():
        short_name = job.removeprefix("imagetasks.dashboard.")
        assert (queue == "dispatch") == (short_name in sweeps), job
    for started_by in (procfile_queues(), compose_queues()):
        assert started_by["dispatcher"] == {"dispatch"}


def test_compose_serves_no_built_in_cloud_unless_asked():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["web"]["environment"]["LOCALCLOUD_ENABLED"].endswith(":-false}")


def test_make_run_and_compose_serve_with_an_event_loop_worker():
    procfile = (ROOT / "Procfile").read_text()
    assert "--worker-class gevent" in procfile
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "--worker-class=gevent" in compose["services"]["web"]["command"]


def locked_versions(lock_file: str) -> dict[str, Version]:
    """The pinned release of each package in a lock file, by normalised name."""
    pins = re.findall(r"^([A-Za-z0-9._-]+)==(\S+) \\$", (ROOT / lock_file).read_text(), re.M)
    return {canonicalize_name(name): Version(version) for name, version in pins}


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    ("lock_file", "requirements"),
    [("requirements.txt", declared()), ("requirements-dev.txt", declared() + declared("dev"))],
)
def test_the_lock_files_pin_every_declared_dependency_within_its_range(lock_file, requirements):
    locked = locked_versions(lock_file)
    outside = [
        str(requirement)
        for requirement in requirements
        if locked.get(canonicalize_name(requirement.name)) not in requirement.specifier
    ]
    assert outside == [], f"run `make lock`: {lock_file} does not satisfy {outside}"


def test_the_runtime_lock_names_the_same_versions_as_the_dev_lock():
    runtime, dev = locked_versions("requirements.txt"), locked_versions("requirements-dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime


def test_the_image_installs_the_locked_releases_by_hash():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements.txt" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile


def test_compose_scrapes_metrics_only_under_its_profile_and_with_the_token():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    prometheus = compose["services"]["prometheus"]
    assert prometheus["profiles"] == ["metrics"], "plain `docker compose up` runs no Prometheus"
    assert all("profiles" not in compose["services"][name] for name in ("web", "worker", "beat"))
    source, target = prometheus["volumes"][0].split(":")[:2]
    config = yaml.safe_load((ROOT / source).read_text())
    assert (
        target == "/etc/prometheus/prometheus.yml"
        and f"--config.file={target}" in (prometheus["command"])
    )
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["web:8000"]
    secret = prometheus["secrets"][0]
    assert job["authorization"] == {
        "type": "Bearer",
        "credentials_file": f"/run/secrets/{secret}",
    }
    assert compose["secrets"][secret] == {"environment": "IMAGETASKS_METRICS_TOKEN"}
    web = compose["services"]["web"]["environment"]
    assert web["IMAGETASKS_METRICS_TOKEN"] == "${IMAGETASKS_METRICS_TOKEN:-}"
    assert web["ALLOWED_HOSTS"].split(",")[-1] == "web", "Prometheus asks for the host web"
    assert "prometheus-data" in compose["volumes"]
