"""Stalled clients against the web server: does everyone else still get an answer?

    .venv/bin/python bench/slow_clients.py [--stalled 60] [--probes 20]

For each serving setup, gunicorn is started as the Procfile starts it (a fresh SQLite
database under ``$IMAGETASKS_VAR_DIR``, default ``var/bench-slow``), ``--stalled``
sockets each send the headers of a POST announcing a 1,000-byte body and then one byte
of it, and never the rest; meanwhile ``--probes`` GETs of ``/healthz``, one after the
other, are timed (a probe that gets no answer in 5 s counts as 5 s). The baseline in the
same run is the previous setup (gthread: 2 processes x 8 threads), where each stalled
body holds a thread for as long as the client likes. Printed: the probes' p50 / p95 /
max and how many got no answer, for each setup. It measures; it never asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import common  # noqa: E402
from tests.fixtures.gunicorn import procfile_web_options  # noqa: E402
from tests.support.stalling import stall_request_bodies  # noqa: E402

PROBE_TIMEOUT = 5.0
SETUPS = {
    "gthread (2 x 8 threads, the former setup)": [
        "--worker-class", "gthread", "--workers", "2", "--threads", "8",
    ],
    "Procfile's web (as make run serves)": None,  # read from the Procfile
}  # fmt: skip


PORT = 0


def probe() -> float:
    started = time.monotonic()
    common.get_healthz(PORT, PROBE_TIMEOUT)
    return time.monotonic() - started


def stall(count: int) -> list[socket.socket]:
    return stall_request_bodies(PORT, count)


def measure(label: str, options: list[str], args, environment) -> dict:
    global PORT
    PORT = common.free_port()
    server = common.start_gunicorn(PORT, options, environment)
    stalled = []
    try:
        stalled = stall(args.stalled)
        time.sleep(1)  # let every stalled request reach a worker
        times, unanswered = [], 0
        for _ in range(args.probes):
            try:
                times.append(probe())
            except OSError:
                times.append(PROBE_TIMEOUT)
                unanswered += 1
    finally:
        for sock in stalled:
            sock.close()
        server.terminate()
        server.wait(timeout=20)
    ordered = sorted(times)
    return {
        "label": label,
        "p50": statistics.median(ordered),
        "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)],
        "max": ordered[-1],
        "unanswered": unanswered,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stalled", type=int, default=60)
    parser.add_argument("--probes", type=int, default=20)
    args = parser.parse_args(argv)
    directory = common.var_dir("bench-slow") / f"run-{os.getpid()}"
    directory.mkdir(parents=True)
    environment = {
        "IMAGETASKS_VAR_DIR": str(directory),
        "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "LOG_LEVEL": "WARNING",
        "IMAGETASKS_ENV_FILE": "/dev/null",
    }
    try:
        for command in (["prepare"], ["migrate", "--no-input"], ["collectstatic", "--no-input"]):
            subprocess.run(
                [sys.executable, "manage.py", *command, "-v0"],
                cwd=BASE_DIR, env=os.environ | environment, check=True,
            )  # fmt: skip
        results = [
            measure(label, options or procfile_web_options(), args, environment)
            for label, options in SETUPS.items()
        ]
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"\n{args.stalled} stalled request bodies, {args.probes} /healthz probes one by one")
    print(f"{'':44}{'p50':>8}{'p95':>8}{'max':>8}{'no answer':>11}")
    for r in results:
        print(
            f"{r['label']:44}{r['p50']:>7.3f}s{r['p95']:>7.3f}s{r['max']:>7.3f}s"
            f"{r['unanswered']:>11}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
