"""What this installation keeps on disk, made by `manage.py prepare` and checked at start.

That is the data folder (``IMAGETASKS_VAR_DIR``, where SQLite lives), the static files'
folder, the filesystem broker's folders when that broker is configured, and, when no
``SECRET_KEY`` is set, a generated key kept in the data folder (readable by us only), so
that sessions and encrypted cloud secrets survive restarts. Settings only compute these
paths, so importing them creates nothing.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

# kombu's filesystem transport options that name a folder it reads or writes.
_BROKER_FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def prepare() -> list[str]:
    """Create whatever is missing; returns what it did, for the command to say."""
    for folder in folders():
        folder.mkdir(parents=True, exist_ok=True)
    if has_secret_key():
        return []
    write_secret_key()
    return [f"Generated a secret key in {settings.SECRET_KEY_FILE}."]


def folders() -> list[Path]:
    """Every folder the configured settings expect to exist."""
    transport = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    broker = [Path(transport[name]) for name in _BROKER_FOLDER_OPTIONS if name in transport]
    return [Path(settings.VAR_DIR), Path(settings.STATIC_ROOT), *broker]


def has_secret_key() -> bool:
    """Whether SECRET_KEY is set or a generated key was there when settings were read."""
    try:
        return bool(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django's "must not be empty"
        return False


def write_secret_key() -> None:
    """Generate the key file, and make the key this process's SECRET_KEY too.

    So a process that read the settings before the file existed (the test suite)
    signs with the key that every process started after it reads.
    """
    key = secrets.token_urlsafe(50)
    # Created with its final mode, so never readable by others, and never overwritten.
    descriptor = os.open(settings.SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(key)
    settings.SECRET_KEY = key


@register()
def secret_key_check(**kwargs) -> list[CheckMessage]:
    """No SECRET_KEY and no generated key yet: name the command that makes one."""
    if has_secret_key():
        return []
    return [
        Error(
            f"SECRET_KEY is not set and {settings.SECRET_KEY_FILE} does not exist.",
            hint="Run `manage.py prepare` once (make run does), or set SECRET_KEY.",
            id="imagetasks.E001",
        )
    ]
