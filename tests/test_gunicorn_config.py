"""gunicorn's hooks keep one metrics directory per running master, and none of dead ones.

The counting across web processes is tested through gunicorn itself
(``tests/metrics/test_web_processes.py``); this is the directory's life."""

from __future__ import annotations

import os
import subprocess
import sys

from imagetasks import gunicorn_config


def a_dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_master_gets_a_fresh_directory_and_clears_those_of_masters_no_longer_running(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(gunicorn_config.tempfile, "gettempdir", lambda: str(tmp_path))
    # on_starting sets the variable in this process: set first, monkeypatch restores it
    # afterwards (a delenv of an unset variable records nothing to undo, and the
    # directory it named leaked into every later subprocess of the run).
    monkeypatch.setenv(gunicorn_config.MULTIPROCESS_ENV, "")
    prefix = gunicorn_config.PREFIX
    dead = tmp_path / f"{prefix}{a_dead_pid()}"
    running = tmp_path / f"{prefix}{os.getppid()}"  # another server's, still running
    own = tmp_path / f"{prefix}{os.getpid()}"  # left by an earlier master with this pid
    unrelated = tmp_path / "someone-elses"
    for directory in (dead, running, own, unrelated):
        directory.mkdir()
        (directory / "histogram_1.db").write_bytes(b"counts")

    gunicorn_config.on_starting(server=None)

    assert os.environ[gunicorn_config.MULTIPROCESS_ENV] == str(own)
    assert own.is_dir() and not any(own.iterdir()), "its own starts empty"
    assert not dead.exists()
    assert (running / "histogram_1.db").exists()
    assert (unrelated / "histogram_1.db").exists(), "nothing else in the folder is touched"

    gunicorn_config.on_exit(server=None)

    assert not own.exists()
    assert gunicorn_config.MULTIPROCESS_ENV not in os.environ, "nothing started later uses it"
    assert running.exists()
