"""Settings come from the environment, strictly: a bad value stops start-up and names itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from imagetasks.env import Env, parse_database_url
from tests.support.settings import CONFIG_VARIABLES, ROOT, prepare, run_python, start_django


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("DATABASE_URL", "mysql://db/app", "DATABASE_URL='mysql://db/app' must start with"),
        ("DATABASE_URL", "postgres://user:hunter2@db:99999/app", "DATABASE_URL"),
        ("DATABASE_URL", "postgres://db", "names no database"),
        ("CELERY_BROKER_URL", "kafka://broker", "CELERY_BROKER_URL='kafka://broker'"),
        ("TIME_ZONE", "Mars/Olympus_Mons", "TIME_ZONE='Mars/Olympus_Mons'"),
        ("EMAIL_PORT", "smtp", "EMAIL_PORT='smtp' is not a whole number"),
        ("HEARTBEAT_MAX_AGE", "1", "HEARTBEAT_MAX_AGE=1.0 must be at least 2.0"),
        ("CSRF_TRUSTED_ORIGINS", "example.com", "CSRF_TRUSTED_ORIGINS entry 'example.com'"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL='LOUD' is not a log level"),
        ("SECURE_HSTS_SECONDS", "-5", "SECURE_HSTS_SECONDS=-5 must be at least 0"),
        ("OIDC_ISSUER", "keycloak.example/realms/x", "OIDC_ISSUER='keycloak.example/realms/x'"),
        ("OIDC_ISSUER", "https://id.example.org", "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET"),
        ("PASSWORD_LOGIN", "false", "PASSWORD_LOGIN=false needs OIDC_ISSUER"),
        ("OIDC_SCOPES", "email profile", "must include openid"),
        ("OIDC_SIGN_ALGO", "HS256", "use an asymmetric algorithm"),
        (
            "IMAGETASKS_KEEP_SNAPSHOTS_DAYS",
            "90d",
            "IMAGETASKS_KEEP_SNAPSHOTS_DAYS='90d' is not a whole number",
        ),
        (
            "IMAGETASKS_KEEP_NOTIFICATIONS_DAYS",
            "0",
            "IMAGETASKS_KEEP_NOTIFICATIONS_DAYS=0 must be at least 1",
        ),
        (
            "IMAGETASKS_KEEP_REJECTED_DAYS",
            "-7",
            "IMAGETASKS_KEEP_REJECTED_DAYS=-7 must be at least 1",
        ),
        ("IMAGETASKS_PRUNE_BATCH_SIZE", "0", "IMAGETASKS_PRUNE_BATCH_SIZE=0 must be at least 1"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(tmp_path, variable, value, says):
    result = start_django(tmp_path, "", **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert says in result.stderr


def test_a_database_password_is_not_repeated_in_the_error(tmp_path):
    result = start_django(tmp_path, "", DATABASE_URL="mysql://app:hunter2@db/app")
    assert "ImproperlyConfigured" in result.stderr
    assert "hunter2" not in result.stderr


def test_importing_the_settings_creates_and_writes_nothing(tmp_path):
    code = (
        "from django.conf import settings; from imagetasks.celery import app\n"
        "app.finalize(); print(settings.STATIC_ROOT, settings.CELERY_BROKER_TRANSPORT_OPTIONS)"
    )
    result = start_django(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()


def test_prepare_makes_the_folders_and_a_key_readable_by_the_owner_only(tmp_path):
    result = prepare(tmp_path)
    var = tmp_path / "var"
    assert "Generated a secret key" in result.stdout
    for folder in ("static", "broker/queue", "broker/processed", "broker/control"):
        assert (var / folder).is_dir(), folder
    key_file = var / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert len(key_file.read_text()) >= 50


def test_prepare_again_changes_nothing(tmp_path):
    prepare(tmp_path)
    key = (tmp_path / "var" / "secret_key").read_text()
    again = prepare(tmp_path)
    assert again.stdout == ""
    assert (tmp_path / "var" / "secret_key").read_text() == key


def test_with_a_configured_key_prepare_writes_none(tmp_path):
    prepare(tmp_path, SECRET_KEY="k" * 50)
    assert (tmp_path / "var" / "broker" / "queue").is_dir()
    assert not (tmp_path / "var" / "secret_key").exists()


def test_without_a_key_or_prepare_the_checks_name_the_command_to_run(tmp_path):
    (tmp_path / "var").mkdir()
    result = run_python(tmp_path, "manage.py", "check")
    assert result.returncode != 0
    assert "imagetasks.E001" in result.stderr
    assert "manage.py prepare" in result.stderr


def test_over_https_the_secure_switches_are_on_and_over_http_they_are_off(tmp_path):
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    plain = start_django(tmp_path, code)
    assert plain.stdout.split() == ["False", "False", "False", "0"], plain.stderr
    tls = start_django(tmp_path, code, IMAGETASKS_BASE_URL="https://images.example.com")
    assert tls.stdout.split() == ["True", "True", "True", "31536000"], tls.stderr


def test_the_links_in_emails_follow_the_address_make_run_serves_on(tmp_path):
    code = "from django.conf import settings; print(settings.IMAGETASKS_BASE_URL)"
    assert start_django(tmp_path, code).stdout.strip() == "http://127.0.0.1:8000"
    moved = start_django(tmp_path, code, IMAGETASKS_BIND="127.0.0.1:8123")
    assert moved.stdout.strip() == "http://127.0.0.1:8123"
    named = start_django(
        tmp_path, code, IMAGETASKS_BIND="0.0.0.0:80", IMAGETASKS_BASE_URL="https://img.example"
    )
    assert named.stdout.strip() == "https://img.example"


def test_defaults_are_the_embedded_configuration(tmp_path):
    code = (
        "from django.conf import settings as s; import json; print(json.dumps({"
        "'engine': s.DATABASES['default']['ENGINE'], 'db': s.DATABASES['default']['NAME'],"
        "'options': s.DATABASES['default']['OPTIONS'], 'broker': s.CELERY_BROKER_URL,"
        "'broker_in': s.CELERY_BROKER_TRANSPORT_OPTIONS.get('data_folder_in'),"
        "'debug': s.DEBUG, 'email': s.EMAIL_BACKEND, 'acks_late': s.CELERY_TASK_ACKS_LATE,"
        "'serializer': s.CELERY_TASK_SERIALIZER, 'prefetch': s.CELERY_WORKER_PREFETCH_MULTIPLIER}))"
    )
    result = start_django(tmp_path, code)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    var = tmp_path / "var"
    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["db"] == str(var / "db.sqlite3")
    assert config["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["options"]["init_command"]
    assert config["options"]["timeout"] >= 10
    assert config["broker"] == "filesystem://"
    assert config["broker_in"] == str(var / "broker" / "queue")
    assert config["debug"] is False  # no debug pages unless asked for
    assert config["email"] == "django.core.mail.backends.console.EmailBackend"
    assert (config["acks_late"], config["serializer"], config["prefetch"]) == (True, "json", 1)


def test_the_generated_secret_key_is_kept_across_restarts(tmp_path):
    prepare(tmp_path)
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = start_django(tmp_path, code)
    second = start_django(tmp_path, code)
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.strip()) >= 50
    assert first.stdout == second.stdout
    assert first.stdout.strip() == (tmp_path / "var" / "secret_key").read_text()


def test_production_settings_pass_the_deploy_checks(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    environ.update(
        IMAGETASKS_VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY="x7!" + "k" * 20 + "q9#" + "z" * 30 + "AbCdEfGhIj",
        ALLOWED_HOSTS="images.example.com",
        IMAGETASKS_BASE_URL="https://images.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_database_url_for_postgres_is_split_into_django_settings():
    config = parse_database_url(
        "DATABASE_URL", "postgres://app:p%40ss@db.local:5433/images", base_dir=ROOT
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "app",
        "p@ss",
        "db.local",
        "5433",
    )
    assert config["NAME"] == "images"


def test_relative_sqlite_paths_are_relative_to_the_project():
    config = parse_database_url("DATABASE_URL", "sqlite:///var/other.sqlite3", base_dir=ROOT)
    assert config["NAME"] == str(ROOT / "var" / "other.sqlite3")


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_booleans_accept_the_usual_spellings_of_true(value):
    assert Env({"FLAG": value}).bool("FLAG", False) is True


def test_a_list_ignores_blank_entries():
    assert Env({"HOSTS": "a.example, ,b.example,"}).list("HOSTS", []) == ["a.example", "b.example"]


def test_a_blank_variable_means_the_default():
    assert Env({"EMAIL_PORT": "  "}).int("EMAIL_PORT", 25) == 25


def test_retention_is_forever_unless_a_number_of_days_is_set(tmp_path):
    code = (
        "from django.conf import settings as s; print(s.KEEP_SNAPSHOTS_DAYS,"
        " s.KEEP_NOTIFICATIONS_DAYS, s.KEEP_REJECTED_DAYS, s.PRUNE_BATCH_SIZE)"
    )
    assert start_django(tmp_path, code).stdout.split() == ["None", "None", "None", "2000"]
    result = start_django(
        tmp_path,
        code,
        IMAGETASKS_KEEP_SNAPSHOTS_DAYS="90",
        IMAGETASKS_KEEP_NOTIFICATIONS_DAYS=" ",
        IMAGETASKS_KEEP_REJECTED_DAYS="30",
    )
    assert result.stdout.split() == ["90", "None", "30", "2000"]


def test_an_http_url_without_host_is_refused():
    with pytest.raises(ImproperlyConfigured, match="has no host name"):
        Env({"HOOK": "http://"}).url("HOOK", "", schemes=("http",))


def test_a_deployment_without_the_built_in_cloud_serves_none_of_it(tmp_path):
    code = (
        "from django.conf import settings; from django.urls import Resolver404, resolve\n"
        "from imagetasks.celery import app; app.finalize()\n"
        "try: resolve('/localcloud/identity/v3'); served = 'served'\n"
        "except Resolver404: served = '404'\n"
        "print(served,"
        " any('FaultInjection' in m for m in settings.MIDDLEWARE),"
        " any(job.startswith('localcloud') for job in app.conf.beat_schedule))"
    )
    off = start_django(tmp_path, code, LOCALCLOUD_ENABLED="false")
    assert off.stdout.split() == ["404", "False", "False"], off.stderr
    on = start_django(tmp_path, code)
    assert on.stdout.split() == ["served", "True", "True"], on.stderr


def test_the_env_file_fills_in_what_the_environment_leaves_unset(tmp_path):
    (tmp_path / ".env").write_text("# local\nTIME_ZONE='Europe/Paris'\nLOG_LEVEL=WARNING\n")
    code = "from django.conf import settings as s; print(s.TIME_ZONE, s.LOG_LEVEL)"
    result = start_django(tmp_path, code, LOG_LEVEL="ERROR")
    assert result.stdout.split() == ["Europe/Paris", "ERROR"], result.stderr


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("LOG_LEVEL=loud", "LOG_LEVEL='LOUD' is not a log level"),
        ("this is not a setting", ".env line 1 is not KEY=value"),
    ],
)
def test_a_bad_env_file_stops_start_up_naming_what_to_fix(tmp_path, line, says):
    (tmp_path / ".env").write_text(line + "\n")
    result = start_django(tmp_path, "")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and says in result.stderr


def test_the_provider_is_configured_from_the_environment_and_its_secret_is_hidden(tmp_path):
    code = (
        "from django.conf import settings\n"
        "from django.views.debug import SafeExceptionReporterFilter\n"
        "from imagetasks.dashboard.signin.discovery import provider_name\n"
        "shown = SafeExceptionReporterFilter().get_safe_settings()\n"
        "print(provider_name(), settings.OIDC_RP_SCOPES, settings.OIDC_GROUPS_CLAIM,\n"
        "      settings.PASSWORD_LOGIN, shown['OIDC_RP_CLIENT_SECRET'])"
    )
    result = start_django(
        tmp_path, code, OIDC_ISSUER="https://id.example.org/realms/acme",
        OIDC_CLIENT_ID="imagetasks", OIDC_CLIENT_SECRET="s3cret-of-the-client",
        PASSWORD_LOGIN="off", SECRET_KEY="a-key-for-this-test-only",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "id.example.org", "openid", "email", "profile", "groups", "False", "********************"
    ]  # fmt: skip
