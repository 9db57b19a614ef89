"""Liveness of the worker, of beat and of the dispatcher, recorded where /healthz can read it.

Beat publishes the heartbeat job on a fixed schedule; the publishing side
records beat's pulse (``before_task_publish`` fires in the beat process) and
the job itself, run by a worker, records the worker's. So a stale "beat" row
means nothing schedules work, and a fresh "beat" with a stale "worker" means
jobs are queued but nothing consumes them.

The dispatcher's pulse comes from its ticks (``dispatch_polls``, every second, from
the ``dispatch`` queue): a stale "dispatcher" with a fresh "worker" means nothing
hands out the polls, so no task moves on while the rest looks alive. A tick runs every
second; its pulse is written once per heartbeat interval per process.
"""

from __future__ import annotations

import socket
import time

from celery.signals import beat_init, before_task_publish
from django.utils import timezone

HEARTBEAT_JOB = "imagetasks.dashboard.heartbeat"

DISPATCHER = "dispatcher"

_in_beat_process = False
_dispatcher_pulse_at = float("-inf")
_clock = time.monotonic


def record_pulse(part: str, detail: str = "") -> None:
    """Note that ``part`` ("worker" or "beat") is alive now, on ``detail`` (its host)."""
    from imagetasks.dashboard.models import Heartbeat

    Heartbeat.objects.update_or_create(
        part=part, defaults={"last_seen": timezone.now(), "detail": detail[:200]}
    )


@beat_init.connect
def _mark_beat_process(sender=None, **kwargs) -> None:
    global _in_beat_process
    _in_beat_process = True


@before_task_publish.connect
def _record_beat_pulse(sender=None, **kwargs) -> None:
    if _in_beat_process and sender == HEARTBEAT_JOB:
        record_pulse("beat", socket.gethostname())


def record_dispatcher_pulse() -> bool:
    """A dispatcher tick ran here: record its pulse if this process has not for a
    heartbeat interval; whether it did."""
    global _dispatcher_pulse_at
    from django.conf import settings

    now = _clock()
    if now - _dispatcher_pulse_at < settings.HEARTBEAT_INTERVAL:
        return False
    record_pulse(DISPATCHER, socket.gethostname())
    _dispatcher_pulse_at = now
    return True
