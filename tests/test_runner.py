"""`make run`'s process runner: every part started and prefixed, Ctrl-C stops them all
cleanly (each its own way), a part that ignores it is handed its work back, then
killed, and a part that dies stops the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

# A part that listens for SIGTERM, then says hello (and leaves NAME.ready in the runner's
# folder), then waits; on SIGTERM it says goodbye and exits. Its hello means it is ready.
POLITE = (
    f'{PY} -u -c "import signal, sys, time; '
    "signal.signal(signal.SIGTERM, lambda *a: (print('bye'), sys.exit(0))); "
    "print('hello from', sys.argv[1]); open(sys.argv[1] + '.ready', 'w').close(); "
    'time.sleep(60)" '
)
# A part that ignores SIGTERM and leaves only on SIGQUIT.
STUBBORN = (
    f'{PY} -u -c "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); '
    "signal.signal(signal.SIGQUIT, lambda *a: (print('handing back'), sys.exit(0))); "
    "print('busy'); time.sleep(60)\""
)


def start(tmp_path: Path, procfile: str, **env: str) -> subprocess.Popen:
    (tmp_path / "Procfile").write_text(procfile)
    return subprocess.Popen(
        [PY, "-m", "imagetasks.runner", str(tmp_path / "Procfile")],
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(ROOT)} | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_output(
    runner: subprocess.Popen, text: str, timeout: float = 20, count: int = 1
) -> list[str]:
    """The runner's lines up to the ``count``-th that contains ``text``."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = runner.stdout.readline()
        lines.append(line)
        if sum(text in seen for seen in lines) == count:
            return lines
    raise AssertionError(f"no {count} × {text!r} in {lines}")


def test_ctrl_c_stops_every_part_cleanly_and_exits_zero(tmp_path):
    runner = start(tmp_path, f"web: {POLITE} web\nworker: {POLITE} worker\n")
    # Both ready: a part stopped before it listens for SIGTERM could not say goodbye.
    wait_for_output(runner, "hello from", count=2)
    runner.send_signal(signal.SIGINT)
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 0
    assert output.count("| bye") == 2
    assert "runner | stopped" in output and "SIGKILL" not in output


def test_a_part_that_ignores_the_stop_is_handed_its_work_back_after_the_grace(tmp_path):
    runner = start(tmp_path, f"web: {POLITE} web\nworker: {STUBBORN}\n", IMAGETASKS_STOP_GRACE="1")
    wait_for_output(runner, "busy")
    runner.send_signal(signal.SIGTERM)
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 0
    assert "handing unfinished work back (SIGQUIT)" in output
    assert "worker | handing back" in output


def test_a_part_that_dies_stops_the_others_and_the_runner_fails(tmp_path):
    # It dies once web is ready, however slowly web starts: stopped before it listens for
    # SIGTERM, web could not say goodbye.
    broken = "sh -c 'until [ -e web.ready ]; do sleep 0.05; done; exit 3'"
    runner = start(tmp_path, f"web: {POLITE} web\nbroken: {broken}\n")
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 3
    assert "broken exited (3): stopping" in output
    assert "web    | bye" in output


def test_dotenv_values_reach_the_parts_unless_set_already(tmp_path):
    (tmp_path / ".env").write_text("# settings\nGREETING='from the file'\nexport PLACE=here\n")
    echo = f"{PY} -c \"import os; print(os.environ['GREETING'], os.environ['PLACE'])\""
    runner = start(tmp_path, f"echo: {echo}\n", PLACE="the shell")
    output, _ = runner.communicate(timeout=30)
    assert "echo   | from the file the shell" in output
