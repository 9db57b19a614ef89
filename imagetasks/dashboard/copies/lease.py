"""Who may advance a copy right now: a lease on the row, and the writes made under it.

The sweep claims a copy by setting ``lease_token`` and ``claimed_until`` in one
conditional update; only one claimer can win. Every later write of the job
names that token (a fencing token), so a job whose lease ran out and was
taken over by another cannot write anything: its update matches no row and
it stops with ``Superseded``. A long step (the transfer) renews the lease as
it goes; a worker that dies stops renewing, and the sweep claims the copy
again once the lease has run out.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Copy, CopyEvent

# How long a claim lasts without renewal; the transfer renews it every RENEW_EVERY.
LEASE = timedelta(seconds=30)
RENEW_EVERY = 2.0


class Superseded(Exception):
    """The lease was lost (it ran out and another job took the copy): stop, write nothing."""


def claim(copy_id: uuid.UUID | str, now: datetime) -> str | None:
    """Take the copy's lease if nobody holds it; the token, or None when another job has it."""
    token = uuid.uuid4().hex
    taken = (
        Copy.objects.filter(pk=copy_id, next_step_at__isnull=False)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(lease_token=token, claimed_until=now + LEASE)
    )
    return token if taken else None


def event(copy: Copy, step: str, status: str, message: str = "", at: datetime | None = None):
    return CopyEvent.objects.create(
        copy_id=copy.pk, step=step, status=status, message=message, at=at or timezone.now()
    )


class Lease:
    """The claim a job holds on one copy; all its writes go through here."""

    def __init__(self, copy_id: uuid.UUID | str, token: str):
        self.copy_id = copy_id
        self.token = token

    def _rows(self):
        return Copy.objects.filter(pk=self.copy_id, lease_token=self.token)

    def load(self) -> Copy:
        copy = self._rows().select_related("source_cloud", "target_cloud").first()
        if copy is None:
            raise Superseded(str(self.copy_id))
        return copy

    def renew(self, **fields) -> None:
        """Extend the claim (and store progress); ``Superseded`` when it was lost."""
        now = timezone.now()
        if fields:
            fields.update(version=F("version") + 1, updated_at=now)
        if not self._rows().update(claimed_until=now + LEASE, **fields):
            raise Superseded(str(self.copy_id))

    def update(self, **fields) -> None:
        """Store facts about the current step without moving to another one."""
        now = timezone.now()
        if not self._rows().update(version=F("version") + 1, updated_at=now, **fields):
            raise Superseded(str(self.copy_id))

    def note(self, copy: Copy, step: str, status: str, message: str = "") -> None:
        """A timeline entry that changes no state (a start, a retry), under the lease."""
        with transaction.atomic():
            self.update()
            event(copy, step, status, message)

    def move(self, copy: Copy, status: str, step: str, outcome: str, message: str = "", **fields):
        """Go from the copy's current status to ``status``, with its timeline entry, at once."""
        now = timezone.now()
        if status in statuses.COPY_FINAL:
            fields.update(next_step_at=None, finished_at=now)
        else:
            fields.setdefault("next_step_at", now)
        with transaction.atomic():
            moved = (
                self._rows()
                .filter(status=copy.status)
                .update(
                    status=status,
                    attempts=0,
                    updated_at=now,
                    version=F("version") + 1,
                    **fields,
                )
            )
            if not moved:
                raise Superseded(str(self.copy_id))
            event(copy, step, outcome, message, at=now)
        copy.refresh_from_db()

    def release(self, **fields) -> None:
        """Give the claim back, so the sweep may hand the copy out again when it is due."""
        self._rows().update(lease_token="", claimed_until=None, **fields)
