"""What the benchmarks share: their run directories, ports, PostgreSQL scratch databases
and the way Ctrl-C and SIGTERM end a run."""

from __future__ import annotations

import os
import secrets
import signal
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def var_dir(default: str) -> Path:
    """Where a benchmark makes its run directories: ``$IMAGETASKS_VAR_DIR`` if set, else
    ``var/<default>`` of the checkout."""
    configured = os.environ.get("IMAGETASKS_VAR_DIR")
    return (Path(configured) if configured else BASE_DIR / "var" / default).resolve()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the server binds it a moment later), so runs
    (and other servers) never collide."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- PostgreSQL scratch databases ------------------------------------------------------------


def is_postgres(url: str) -> bool:
    return url.split(":", 1)[0] in ("postgres", "postgresql", "pgsql")


def create_pg_database(configured: str, label: str) -> tuple[str, str]:
    """A fresh database on the server ``configured`` names, called after its database plus
    ``label``; returns its name and URL. The configured database, which may hold someone's
    data (or not exist), is never touched."""
    from psycopg import sql

    base = urlsplit(configured).path.lstrip("/") or "imagetasks"
    name = f"{base}_{label}_{secrets.token_hex(4)}"
    with _pg_connect(configured) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, urlunsplit(urlsplit(configured)._replace(path="/" + name))


def drop_pg_database(admin_url: str, name: str) -> None:
    """Drop a database ``create_pg_database`` made (FORCE: a killed worker may still hold a
    session)."""
    from psycopg import sql

    with _pg_connect(admin_url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _pg_connect(url: str):
    """An autocommit connection for CREATE/DROP DATABASE: to the server's ``postgres``
    maintenance database, as Django's test runner does, else to the one ``url`` names."""
    import psycopg

    from imagetasks.env import parse_database_url

    database = parse_database_url("DATABASE_URL", url, base_dir=BASE_DIR)
    options = {
        "user": database["USER"] or None,
        "password": database["PASSWORD"] or None,
        "host": database["HOST"] or None,
        "port": database["PORT"] or None,
        "autocommit": True,
    }
    try:
        return psycopg.connect(dbname="postgres", **options)
    except psycopg.OperationalError:
        return psycopg.connect(dbname=database["NAME"], **options)


# --- Ending a run ----------------------------------------------------------------------------


def interrupt_on_signals() -> None:
    """Ctrl-C and SIGTERM both raise KeyboardInterrupt, so the run's clean-up runs.

    SIGINT explicitly: a process started in the background by a script inherits it ignored.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)


def ignore_signals() -> None:
    """From here on Ctrl-C and SIGTERM are ignored: a second one must not cut the clean-up
    short and leave processes or files behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
