"""What the benchmarks share: their run directories, ports, PostgreSQL scratch databases
and the way Ctrl-C and SIGTERM end a run."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
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


def get_healthz(port: int, timeout: float) -> None:
    """One GET of /healthz on 127.0.0.1:``port``; OSError unless an HTTP answer (of any
    status) comes within ``timeout``."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        if not sock.recv(64).startswith(b"HTTP/1."):
            raise OSError("no HTTP answer")


def start_gunicorn(port: int, options: list[str], environment: dict[str, str]) -> subprocess.Popen:
    """gunicorn serving the app on 127.0.0.1:``port`` with ``options``, returned once it
    answers HTTP (its workers have imported Django), so no measurement times its start-up.

    No control socket: gunicorn's default is one path in $HOME, shared with any other server.
    """
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "imagetasks.wsgi",
        "--bind", f"127.0.0.1:{port}", "--no-control-socket", *options,
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=BASE_DIR, env=os.environ | environment, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            get_healthz(port, timeout=5)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


# --- PostgreSQL scratch databases ------------------------------------------------------------


@dataclass(frozen=True)
class ScratchDatabase:
    """A PostgreSQL database a run created for itself, to drop at its end."""

    admin_url: str  # the configured URL, whose server holds it
    name: str
    url: str

    @classmethod
    def create_if_configured(cls, label: str) -> ScratchDatabase | None:
        """With DATABASE_URL naming PostgreSQL, a fresh database on that server called after
        the configured one plus ``label``; else None. The configured database, which may hold
        someone's data (or not exist), is never touched."""
        configured = os.environ.get("DATABASE_URL", "")
        if configured.split(":", 1)[0] not in ("postgres", "postgresql", "pgsql"):
            return None
        from psycopg import sql

        base = urlsplit(configured).path.lstrip("/") or "imagetasks"
        name = f"{base}_{label}_{secrets.token_hex(4)}"
        with _pg_connect(configured) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return cls(configured, name, urlunsplit(urlsplit(configured)._replace(path="/" + name)))

    def drop(self) -> None:
        """FORCE: a killed worker may still hold a session."""
        from psycopg import sql

        with _pg_connect(self.admin_url) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
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
