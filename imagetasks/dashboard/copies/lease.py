"""A copy's writes under the lease of the job that advances it.

The sweep claims due copies with ``leases.claim_due``; the job holding one
writes only through this module's ``Lease``, which names the claim's fencing
token in every update, bumps the copy's ``version`` and records its timeline. A job
whose lease ran out and was taken over writes nothing and stops with
``leases.Superseded``. A long step (the transfer) renews the lease as it goes;
a worker that dies stops renewing, and the sweep claims the copy again once
the lease has run out.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from imagetasks.dashboard import leases, statuses
from imagetasks.dashboard.models import Copy, CopyEvent

# How long a claim lasts without renewal; the transfer renews it every RENEW_EVERY.
LEASE = timedelta(seconds=30)
RENEW_EVERY = 2.0


def event(copy: Copy, step: str, status: str, message: str = "", at: datetime | None = None):
    return CopyEvent.objects.create(
        copy_id=copy.pk, step=step, status=status, message=message, at=at or timezone.now()
    )


class Lease(leases.Lease):
    """The claim a job holds on one copy; all its writes go through here.

    Its lease is ``LEASE`` as it is when the lease is taken or renewed (tests shorten it).
    """

    def __init__(self, copy_id: uuid.UUID | str, token: int):
        super().__init__(Copy.objects.all(), leases.Claim(str(copy_id), token))

    def load(self) -> Copy:
        copy = self.held().select_related("source_cloud", "target_cloud").first()
        if copy is None:
            raise leases.Superseded(str(self.pk))
        return copy

    def begin(self, lease: timedelta | None = None, **fields) -> None:
        """Take the copy over from the sweep that sent this job; ``Superseded`` if it was lost."""
        super().begin(lease or LEASE, **fields)

    def renew(self, lease: timedelta | None = None, **fields) -> None:
        """Extend the claim (and store progress); ``Superseded`` when it was lost."""
        if fields:
            fields.update(version=F("version") + 1, updated_at=timezone.now())
        super().renew(lease or LEASE, **fields)

    def update(self, **fields) -> None:
        """Store facts about the current step without moving to another one."""
        self.write(version=F("version") + 1, updated_at=timezone.now(), **fields)

    def note(self, copy: Copy, step: str, status: str, message: str = "") -> None:
        """A timeline entry that changes no state (a start, a retry), under the lease."""
        with transaction.atomic():
            self.update()
            event(copy, step, status, message)

    def move(self, copy: Copy, status: str, step: str, outcome: str, message: str = "", **fields):
        """Go from the copy's current status to ``status``, with its timeline entry, at once."""
        now = timezone.now()
        if status in statuses.COPY_FINAL:
            # Nothing is left to do, so nothing is held: whoever sees the end sees no claim.
            fields.update(next_step_at=None, finished_at=now, claimed_until=None)
        else:
            fields.setdefault("next_step_at", now)
        with transaction.atomic():
            moved = (
                self.held()
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
                raise leases.Superseded(str(self.pk))
            event(copy, step, outcome, message, at=now)
        copy.refresh_from_db()
