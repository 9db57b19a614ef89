"""Running one long, opaque step (a kernel-side copy, qemu-img) while keeping the claim alive.

Such a step has no byte loop to renew the task's claim from, so it runs
beside a loop that does; a task taken over meanwhile stops the step (a child
process is killed; a thread is waited for, since it cannot be interrupted).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

T = TypeVar("T")
POLL = 0.5


def call_keeping_alive(keep_alive: Callable[[], None], function: Callable[[], T]) -> T:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="step") as pool:
        future = pool.submit(function)
        while True:
            try:
                return future.result(timeout=POLL)
            except FutureTimeout:
                keep_alive()


def run_keeping_alive(keep_alive: Callable[[], None], command: list[str]) -> tuple[int, str]:
    """Run a command to its end; returns its exit status and the tail of its error output."""
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        try:
            while True:
                try:
                    _, stderr = process.communicate(timeout=POLL)
                    return process.returncode, stderr.decode(errors="replace")[-2000:]
                except subprocess.TimeoutExpired:
                    keep_alive()
        except BaseException:
            process.kill()
            raise
