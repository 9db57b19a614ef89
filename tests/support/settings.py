"""Django started in a fresh interpreter, with only the configuration a test gives it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG_VARIABLES = (
    "DEBUG SECRET_KEY ALLOWED_HOSTS DATABASE_URL CELERY_BROKER_URL TIME_ZONE EMAIL_HOST "
    "EMAIL_PORT EMAIL_USE_TLS EMAIL_USE_SSL CSRF_TRUSTED_ORIGINS HEARTBEAT_MAX_AGE LOG_LEVEL "
    "SECURE_SSL_REDIRECT SECURE_HSTS_SECONDS SECURE_PROXY_SSL_HEADER DJANGO_ALLOW_ASYNC_UNSAFE "
    "IMAGETASKS_BIND IMAGETASKS_BASE_URL LOCALCLOUD_ENABLED OIDC_ISSUER OIDC_CLIENT_ID "
    "OIDC_CLIENT_SECRET OIDC_SCOPES OIDC_GROUPS_CLAIM OIDC_PROVIDER_NAME OIDC_SIGN_ALGO "
    "PASSWORD_LOGIN IMAGETASKS_KEEP_SNAPSHOTS_DAYS "
    "IMAGETASKS_KEEP_NOTIFICATIONS_DAYS IMAGETASKS_KEEP_REJECTED_DAYS IMAGETASKS_PRUNE_BATCH_SIZE"
).split()


def run_python(tmp_path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    """Python in a fresh process of the project, with only the given configuration."""
    environ = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    environ.update(
        IMAGETASKS_VAR_DIR=str(tmp_path / "var"),
        DJANGO_SETTINGS_MODULE="imagetasks.settings",
        IMAGETASKS_ENV_FILE=str(tmp_path / ".env"),  # a developer's own .env stays out
    )
    environ.update(variables)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def start_django(tmp_path, code: str, **variables: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter, with only the given configuration."""
    return run_python(tmp_path, "-c", "import django; django.setup()\n" + code, **variables)


def prepare(tmp_path, **variables: str) -> subprocess.CompletedProcess:
    """``manage.py prepare``, as `make run` runs it before anything else."""
    result = run_python(tmp_path, "manage.py", "prepare", **variables)
    assert result.returncode == 0, result.stderr
    return result
