"""Strict, typed reading of settings from the environment.

Every reader names the variable in its error, so a typo in a deployment stops
start-up with a message that says what to fix instead of surfacing later as a
confusing failure deep inside a request or a worker.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, overload
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


Number = TypeVar("Number", int, float)


def _number(
    name: str, value: str, parse: Callable[[str], Number], kind: str, minimum: Number | None
) -> Number:
    """``value`` read with ``parse``; an error naming ``name`` if it is not ``kind`` or is
    below ``minimum``."""
    try:
        number = parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not {kind}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


class Env:
    """Reads typed values from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    # The readers are named after the types they return, so inside the class those names
    # are the methods: the annotations below say builtins.str where they mean the type.
    @overload
    def str(self, name: builtins.str, default: builtins.str) -> builtins.str: ...
    @overload
    def str(self, name: builtins.str, default: None = None) -> builtins.str | None: ...
    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str | None:
        value = self.raw(name)
        return default if value is None else value

    def bool(self, name: builtins.str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean: use one of true/false, yes/no, on/off, 1/0."
        )

    def int(self, name: builtins.str, default: int, *, minimum: int | None = None) -> int:
        value = self.raw(name)
        return default if value is None else _number(name, value, int, "a whole number", minimum)

    def optional_int(
        self, name: builtins.str, *, minimum: builtins.int | None = None
    ) -> builtins.int | None:
        """A whole number, or None when the variable is unset or blank (no default: "never")."""
        value = self.raw(name)
        return None if value is None else _number(name, value, int, "a whole number", minimum)

    def float(self, name: builtins.str, default: float, *, minimum: float | None = None) -> float:
        value = self.raw(name)
        return default if value is None else _number(name, value, float, "a number", minimum)

    def list(self, name: builtins.str, default: list[builtins.str]) -> list[builtins.str]:
        value = self.raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def url(
        self, name: builtins.str, default: builtins.str, *, schemes: tuple[builtins.str, ...]
    ) -> builtins.str:
        value = self.raw(name) or default
        parts = urlsplit(value)
        if parts.scheme not in schemes:
            raise ImproperlyConfigured(
                f"{name}={_without_password(value)!r} must start with one of: "
                + ", ".join(f"{s}://" for s in schemes)
            )
        if parts.scheme.startswith("http") and not parts.hostname:
            raise ImproperlyConfigured(f"{name}={value!r} has no host name.")
        return value


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def parse_database_url(name: str, url: str, *, base_dir: Path) -> dict[str, Any]:
    """Turn ``sqlite:///path`` or ``postgres://user:pass@host:port/db`` into DATABASES['default'].

    SQLite gets WAL, a busy timeout and IMMEDIATE transactions so that web,
    worker and beat can all write to one file without "database is locked".
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if path.startswith("/"):  # sqlite:///relative/path, sqlite:////absolute/path
            path = path[1:]
        if not path:
            raise ImproperlyConfigured(f"{name}={url!r} names no database file.")
        file = Path(path) if Path(path).is_absolute() else base_dir / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(file),
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
            "TEST": {"NAME": None},
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise ImproperlyConfigured(f"{name}={_without_password(url)!r} names no database.")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}={_without_password(url)!r} has an invalid port."
            ) from None
        options = dict(parse_qsl(parts.query))
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
        test_name = options.pop("test_name", None)
        if test_name:
            config["TEST"] = {"NAME": test_name}
        return config
    raise ImproperlyConfigured(
        f"{name}={_without_password(url)!r}: use sqlite:///path or postgres://user@host/db."
    )
