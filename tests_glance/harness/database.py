"""Glance's database: one per instance, copied from a template migrated once.

PostgreSQL is the default. Glance writes to its database from the request thread and
from task threads at once, and a task list writes too (it sweeps expired tasks). On
SQLite two such writers collide with "database is locked" at once, without waiting, and
when the loser is a task thread starting its work the task stays ``pending`` for good
(the error goes nowhere but an unread future). PostgreSQL locks rows and waits, as the
MySQL or PostgreSQL of a real cloud does. SQLite remains available for a machine without
a database server, with that caveat.

``IMAGETASKS_GLANCE_DATABASE`` picks: a PostgreSQL server URL (default
``postgresql://postgres@127.0.0.1:5432``), or ``sqlite``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from imagetasks.processes import process_exists
from tests_glance.harness.venv import GlanceVenv

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
_INSTANCE_PREFIX = "imagetasks_glance_"


def databases_from_environment(venv: GlanceVenv) -> Databases:
    choice = os.environ.get("IMAGETASKS_GLANCE_DATABASE", DEFAULT_SERVER)
    if choice == "sqlite":
        return SqliteDatabases(venv)
    if urlsplit(choice).scheme not in ("postgresql", "postgres"):
        raise ValueError(
            f"IMAGETASKS_GLANCE_DATABASE is neither 'sqlite' nor a postgresql:// URL: {choice!r}"
        )
    return PostgresDatabases(venv, choice)


def _db_sync(venv: GlanceVenv, connection: str, workdir: Path) -> None:
    conf = workdir / "db-sync.conf"
    conf.write_text(f"[database]\nconnection = {connection}\n")
    result = subprocess.run(
        [str(venv.glance_manage), "--config-file", str(conf), "db_sync"],
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    if result.returncode != 0:
        raise RuntimeError(f"glance-manage db_sync failed:\n{result.stderr[-3000:]}")


class Databases(ABC):
    """Makes and removes the database of each Glance instance."""

    @abstractmethod
    def create(self, name: str, folder: Path) -> str:
        """A fresh, migrated database for instance ``name``; returns Glance's connection URL."""

    @abstractmethod
    def drop(self, name: str, folder: Path) -> None:
        """Remove the database of instance ``name`` (its Glance must be stopped)."""


class SqliteDatabases(Databases):
    """A file in the instance's folder, copied from a template beside the virtualenv."""

    def __init__(self, venv: GlanceVenv):
        self._template = venv.root / "template-glance.sqlite"
        if not self._template.exists():
            building = self._template.with_suffix(f".{os.getpid()}.building")
            building.unlink(missing_ok=True)
            _db_sync(venv, f"sqlite:///{building}", venv.root)
            building.replace(self._template)

    def create(self, name: str, folder: Path) -> str:
        path = folder / "glance.sqlite"
        shutil.copyfile(self._template, path)
        return f"sqlite:///{path}"

    def drop(self, name: str, folder: Path) -> None:
        (folder / "glance.sqlite").unlink(missing_ok=True)


class PostgresDatabases(Databases):
    """One database per instance on a PostgreSQL server, made with ``CREATE DATABASE …
    TEMPLATE``, which copies a migrated template in a fraction of a second.

    The template's name carries the Glance install's stamp, so a new Glance gets a new
    template; an advisory lock keeps two test runs from building it at once.
    """

    def __init__(self, venv: GlanceVenv, server: str):
        import psycopg  # the project's own driver; only this backend needs it

        self._psycopg = psycopg
        self._server = server.rstrip("/")
        self._template = f"imagetasks_glance_template_{venv.stamp_id}"
        self._venv = venv
        try:
            self._ensure_template()
        except psycopg.OperationalError as exc:
            raise RuntimeError(
                f"the Glance tier needs PostgreSQL at {self._server} ({exc}); set "
                "IMAGETASKS_GLANCE_DATABASE to another server, or to 'sqlite' (see docs/GLANCE.md)"
            ) from exc
        self._drop_leftovers()

    def _url(self, database: str, driver: str = "") -> str:
        parts = urlsplit(self._server)
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return urlunsplit((scheme, parts.netloc, f"/{database}", "", ""))

    def _admin(self):
        return self._psycopg.connect(self._url("postgres"), autocommit=True)

    def _exists(self, connection, database: str) -> bool:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        return connection.execute(query, (database,)).fetchone() is not None

    def _ensure_template(self) -> None:
        with self._admin() as connection:
            connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (self._template,))
            try:
                if self._exists(connection, self._template):
                    return
                building = f"{self._template}_building"
                connection.execute(f'DROP DATABASE IF EXISTS "{building}"')
                connection.execute(f'CREATE DATABASE "{building}"')
                _db_sync(self._venv, self._url(building, "psycopg"), self._venv.root)
                connection.execute(f'ALTER DATABASE "{building}" RENAME TO "{self._template}"')
            finally:
                connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._template,))

    def _drop_leftovers(self) -> None:
        """Drop the databases of earlier runs on this machine whose process is gone."""
        pattern = re.compile(rf"^{_INSTANCE_PREFIX}(\d+)_")
        with self._admin() as connection:
            names = [row[0] for row in connection.execute("SELECT datname FROM pg_database")]
            for name in names:
                match = pattern.match(name)
                if match and not process_exists(int(match.group(1))):
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create(self, name: str, folder: Path) -> str:
        database = self._database_name(name)
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{database}" TEMPLATE "{self._template}"')
        return self._url(database, "psycopg")

    def drop(self, name: str, folder: Path) -> None:
        with self._admin() as connection:
            connection.execute(
                f'DROP DATABASE IF EXISTS "{self._database_name(name)}" WITH (FORCE)'
            )

    @staticmethod
    def _database_name(name: str) -> str:
        # The test process's id comes first, so leftovers of a killed run can be found.
        return f"{_INSTANCE_PREFIX}{os.getpid()}_{re.sub(r'[^a-z0-9]', '_', name.lower())}"[:63]
