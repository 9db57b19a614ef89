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
    assert {"postgres", "redis", "web", "worker", "cloudworker", "beat"} <= set(services)
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    assert set(compose["volumes"]) >= {"postgres-data", "redis-data", "imagetasks-data"}


def test_compose_points_the_app_at_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("web", "worker", "cloudworker", "beat", "migrate"):
        environment = compose["services"][name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["CELERY_BROKER_URL"].startswith("redis://")


def test_make_run_starts_web_both_workers_and_beat():
    procfile = (ROOT / "Procfile").read_text()
    processes = dict(line.split(":", 1) for line in procfile.splitlines() if line.strip())
    assert set(processes) == {"web", "worker", "cloudworker", "beat"}
    assert "--queues dashboard" in processes["worker"]
    assert "--queues localcloud" in processes["cloudworker"]


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
