"""What the benchmarks share: their run directories, ports, the processes they start (and
their CPU time and memory), PostgreSQL scratch databases and the way Ctrl-C and SIGTERM
end a run."""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
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


# --- Processes: their lifetime, CPU time and memory -----------------------------------------


class BenchError(Exception):
    """The benchmark could not measure (a service did not start, a task failed)."""


def tree_pids(root: int) -> list[int]:
    """``root`` and its descendants, from /proc/<pid>/task/<tid>/children (no full /proc scan)."""
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError):
                    children = Path(f"/proc/{pid}/task/{task}/children").read_text()
                    pending.extend(int(child) for child in children.split())
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (all their threads), in seconds."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, key: str) -> int:
    """A ``kB`` line of /proc/<pid>/status (VmRSS, VmHWM); 0 once the process is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Service:
    """A child process in a session of its own, its output in a log file.

    Its own session keeps a Ctrl-C in the terminal from reaching it before
    the benchmark stops it in order; stopping signals its process group, so
    gunicorn's workers go with their master.
    """

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path):
        self.name = name
        self.log = log
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise BenchError(f"{self.name} exited ({self.process.returncode}):\n{self.tail()}")

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-3000:]
        return ""

    def stop(self) -> None:
        """SIGTERM to the group, then SIGKILL after 15 s."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # A child of gunicorn's that outlived its master would still be in the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


class RssPeaks:
    """The peak resident memory of named process trees while a block runs, sampled every
    ``interval`` seconds: of the largest single process of each tree, and of the tree's sum.

    Each sample re-reads the tree, so workers a server starts or replaces meanwhile count.
    """

    def __init__(self, roots: dict[str, int], interval: float = 0.1):
        self.roots = roots
        self.interval = interval
        self.process_kib = dict.fromkeys(roots, 0)
        self.tree_kib = dict.fromkeys(roots, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RssPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        for name, root in self.roots.items():
            sizes = [status_kib(pid, "VmRSS") for pid in tree_pids(root)]
            self.process_kib[name] = max(self.process_kib[name], max(sizes, default=0))
            self.tree_kib[name] = max(self.tree_kib[name], sum(sizes))

    def _sample(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def process_mib(self, name: str) -> float:
        return self.process_kib[name] / 1024

    def tree_mib(self, name: str) -> float:
        return self.tree_kib[name] / 1024


# --- The built-in cloud, through its HTTP API ----------------------------------------------


class CloudApi:
    """An authenticated client of the built-in cloud: Images v2 and the object store."""

    def __init__(self, base_url: str, username: str, password: str):
        import requests

        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.image_url = f"{base_url}/localcloud/image/v2"
        body = {"auth": {"passwordCredentials": {"username": username, "password": password}}}
        answer = self.session.post(f"{base_url}/localcloud/identity/v2.0/tokens", json=body)
        answer.raise_for_status()
        access = answer.json()["access"]
        self.session.headers["X-Auth-Token"] = access["token"]["id"]
        (store,) = [s for s in access["serviceCatalog"] if s["type"] == "object-store"]
        self.object_url = store["endpoints"][0]["publicURL"]

    def close(self) -> None:
        self.session.close()

    def expect(self, method: str, url: str, *statuses: int, **kwargs):
        """One request; anything but the expected status stops the benchmark."""
        kwargs.setdefault("timeout", 60)
        answer = self.session.request(method, url, **kwargs)
        if answer.status_code not in statuses:
            raise BenchError(f"{method} {url}: {answer.status_code} {answer.text[:500]}")
        return answer

    def create_container(self, name: str) -> None:
        self.expect("PUT", f"{self.object_url}/{name}", 201, 202)

    def upload(self, container: str, name: str, path: Path) -> None:
        """PUT the file as an object, streamed (requests sends a file with its Content-Length)."""
        headers = {"Content-Type": "application/octet-stream"}
        with open(path, "rb") as body:
            url = f"{self.object_url}/{container}/{name}"
            self.expect("PUT", url, 201, data=body, headers=headers, timeout=3600)

    def delete_object(self, container: str, name: str) -> None:
        self.expect("DELETE", f"{self.object_url}/{container}/{name}", 204)

    def delete_large_object(self, container: str, name: str) -> None:
        """Delete a static large object with its segments (or a plain object)."""
        url = f"{self.object_url}/{container}/{name}?multipart-manifest=delete"
        self.expect("DELETE", url, 200, 204)

    def head(self, container: str, name: str):
        return self.expect("HEAD", f"{self.object_url}/{container}/{name}", 200)

    def image(self, image_id: str) -> dict:
        return self.expect("GET", f"{self.image_url}/images/{image_id}", 200).json()

    def delete_image(self, image_id: str) -> None:
        self.expect("DELETE", f"{self.image_url}/images/{image_id}", 204)

    def create_task(self, body: dict) -> str:
        return self.expect("POST", f"{self.image_url}/tasks", 201, json=body).json()["id"]

    def task(self, task_id: str) -> dict:
        return self.expect("GET", f"{self.image_url}/tasks/{task_id}", 200).json()


# --- PostgreSQL scratch databases ------------------------------------------------------------


@dataclass(frozen=True)
class ScratchDatabase:
    """A PostgreSQL database a run created for itself, to drop at its end."""

    admin_url: str  # the configured URL, whose server holds it
    name: str
    url: str

    @classmethod
    def create_if_configured(cls, label: str, name: str | None = None) -> ScratchDatabase | None:
        """With DATABASE_URL naming PostgreSQL, a fresh database on that server called after
        the configured one plus ``label`` (or exactly ``name``, which must not exist yet);
        else None. The configured database, which may hold someone's data (or not exist),
        is never touched."""
        configured = os.environ.get("DATABASE_URL", "")
        if configured.split(":", 1)[0] not in ("postgres", "postgresql", "pgsql"):
            return None
        from psycopg import sql

        base = urlsplit(configured).path.lstrip("/") or "imagetasks"
        if name is None:
            name = f"{base}_{label}_{secrets.token_hex(4)}"
        elif name == base:
            raise BenchError(f"{name} is the configured database, which a run never touches")
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


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: every value reported was measured)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]
