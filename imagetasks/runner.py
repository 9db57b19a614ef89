"""Run the processes of a Procfile in one terminal, and stop them cleanly on Ctrl-C.

    python -m imagetasks.runner [Procfile] [--default NAME=VALUE]... [--banner TEXT]

Each process runs in a session of its own and its output is printed line by line
with its name in front. Ctrl-C (or SIGTERM) sends SIGTERM to each process's main
process only, so that it stops its own children in its own way: gunicorn finishes
the requests it is serving, a Celery worker finishes the jobs it is running (a
warm shutdown) and beat stops sending. Whatever still runs after the grace time
(``IMAGETASKS_STOP_GRACE`` seconds, 20 by default), or after a second Ctrl-C, gets
SIGQUIT: a Celery worker's cold shutdown, which hands its unfinished jobs back (they
are acknowledged late, and database leases send lost work again). Only a process
still there five seconds after that is killed.

A process that exits by itself stops the others, as when one part fails to start.
The exit status is 0 after a stop that was asked for, else the failed process's.
Variables in ``.env`` (see ``imagetasks.dotenv``) are set for every process, then
each ``--default`` for a variable still unset; ``$NAME`` in the Procfile and in the
``--banner`` (printed once everything has started) are expanded from them.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from imagetasks import dotenv

QUIT_WAIT = 5.0  # after SIGQUIT, before SIGKILL


@dataclass
class Part:
    """One line of the Procfile and the process running it."""

    name: str
    command: str
    process: subprocess.Popen | None = None
    printer: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def read_procfile(path: Path) -> list[Part]:
    """``name: command`` lines; blank lines and ``#`` comments are skipped."""
    parts = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, command = line.partition(":")
        if not separator or not name.strip() or not command.strip():
            raise SystemExit(f"{path}: not a 'name: command' line: {line!r}")
        parts.append(Part(name.strip(), command.strip()))
    return parts


class Runner:
    def __init__(self, parts: list[Part], grace: float, out=sys.stdout, banner: str = ""):
        self.parts = parts
        self.banner = banner
        self.grace = grace
        self.out = out
        self.width = max(len(name) for name in ["runner", *(part.name for part in parts)])
        self.lock = threading.Lock()
        self.stop_asked = threading.Event()
        self.force_asked = threading.Event()

    def say(self, name: str, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self.lock:
            self.out.write(f"{stamp} {name.ljust(self.width)} | {text}\n")
            self.out.flush()

    def start(self) -> None:
        for part in self.parts:
            part.process = subprocess.Popen(
                shlex.split(os.path.expandvars(part.command)),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the terminal's Ctrl-C reaches us, not them
            )
            part.printer = threading.Thread(target=self._print_output, args=(part,), daemon=True)
            part.printer.start()
            self.say("runner", f"started {part.name} (pid {part.process.pid})")
        if self.banner:
            self.say("runner", self.banner)

    def _print_output(self, part: Part) -> None:
        assert part.process is not None and part.process.stdout is not None
        for raw in part.process.stdout:
            self.say(part.name, raw.decode(errors="replace").rstrip("\n"))

    def ask_to_stop(self, signum, frame) -> None:
        if self.stop_asked.is_set():
            self.force_asked.set()
        self.stop_asked.set()

    def run(self) -> int:
        """Start everything, wait for a stop (asked for, or a process ending), stop."""
        self.start()
        exit_code = 0
        while not self.stop_asked.is_set():
            failed = next((part for part in self.parts if not part.running), None)
            if failed:
                assert failed.process is not None
                exit_code = failed.process.returncode or 1
                self.say("runner", f"{failed.name} exited ({failed.process.returncode}): stopping")
                break
            self.stop_asked.wait(0.2)
        self.stop()
        return exit_code

    def _signal_all(self, signum: int, group: bool = False) -> None:
        for part in self.parts:
            if part.running:
                assert part.process is not None
                try:
                    if group:
                        os.killpg(part.process.pid, signum)
                    else:
                        os.kill(part.process.pid, signum)
                except ProcessLookupError:
                    pass

    def _wait_all(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while any(part.running for part in self.parts):
            if time.monotonic() >= deadline or self.force_asked.is_set():
                return False
            time.sleep(0.1)
        return True

    def stop(self) -> None:
        running = [part.name for part in self.parts if part.running]
        if running:
            self.say(
                "runner",
                f"stopping {', '.join(running)}: running jobs may finish for "
                f"{self.grace:g} s (Ctrl-C again to hand them back now)",
            )
        self._signal_all(signal.SIGTERM)
        if not self._wait_all(self.grace):
            self.say("runner", "handing unfinished work back (SIGQUIT)")
            self._signal_all(signal.SIGQUIT)
            if not self._wait_all(QUIT_WAIT):
                self.say("runner", "killing what is left (SIGKILL)")
                self._signal_all(signal.SIGKILL, group=True)
        for part in self.parts:
            if part.process is not None:
                part.process.wait()
            if part.printer is not None:
                part.printer.join(timeout=2)
        self.say("runner", "stopped")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m imagetasks.runner")
    parser.add_argument("procfile", nargs="?", default="Procfile", type=Path)
    parser.add_argument("--default", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--banner", default="")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    procfile = args.procfile
    try:
        dotenv.load(Path(".env"))
    except ValueError as error:
        raise SystemExit(str(error)) from None
    for default in args.default:
        name, _, value = default.partition("=")
        os.environ.setdefault(name, value)
    try:
        grace = float(os.environ.get("IMAGETASKS_STOP_GRACE", "20"))
    except ValueError:
        raise SystemExit("IMAGETASKS_STOP_GRACE must be a number of seconds") from None
    runner = Runner(read_procfile(procfile), grace=grace, banner=os.path.expandvars(args.banner))
    signal.signal(signal.SIGINT, runner.ask_to_stop)
    signal.signal(signal.SIGTERM, runner.ask_to_stop)
    return runner.run()


if __name__ == "__main__":
    sys.exit(main())
