"""Claiming due rows under a lease, and writing to a claimed row only while the claim holds.

This is the one mechanism by which periodic work is handed to Celery jobs: tasks
due for a poll, copies with a step due, notifications due for an attempt. The row
is the truth; a message only says "you may work on this row, with this token".

- **Claiming.** ``claim_due`` takes, in the caller's order, up to N rows of the
  caller's "due" queryset whose ``claimed_until`` is empty or has passed, and sets
  ``claimed_until`` to now plus the lease, in one transaction. On PostgreSQL the
  rows are read ``FOR UPDATE SKIP LOCKED``, so claimers running at once take
  different rows; on SQLite the IMMEDIATE transaction makes claimers wait for each
  other. Either way only one claimer wins a row.
- **Fencing.** A row with a ``claim`` column (``FENCE``) has it raised by one at
  each claim, and the new value is the claim's token. Every write of a job names
  that token (``Lease``), so a job whose lease ran out and was taken over matches
  no row: it writes nothing and stops with ``Superseded``. A job begins by taking
  the claim over from the sweep that sent it (a new token), so a second delivery of
  the same message finds its token spent.
- **Recovery.** A worker that dies stops renewing; once its ``claimed_until`` has
  passed the row is free, and the next sweep claims it again.

Rows without a fence column (tasks, whose poll writes are compare-and-set on their
``version``) are guarded by the lease alone: their claims carry no token.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

FENCE = "claim"


class Superseded(Exception):
    """The claim was lost (its lease ran out and another job took the row): stop, write nothing."""


class Claim(NamedTuple):
    """A row taken under a lease: its primary key, ready for a JSON message, and its token.

    A tuple, so that a sweep's caller may unpack ``for pk, token in claims``.
    """

    pk: int | str
    token: int | None


def claim_due(
    rows: QuerySet,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    fenced: bool = True,
    until: str = "claimed_until",
) -> list[Claim]:
    """Claim up to ``limit`` of ``rows`` (due, in their order) that nobody holds; return them.

    ``rows`` says which rows are due and in what order; whether one is held is
    decided here. ``fenced=False`` is for rows without a ``claim`` column; ``until``
    names the lease's column where a row's lease is for one kind of work among others
    (a cloud's capability check).
    """
    free = Q(**{f"{until}__isnull": True}) | Q(**{f"{until}__lt": now})
    fields = ("pk", FENCE) if fenced else ("pk",)
    with transaction.atomic():
        due = list(
            rows.select_for_update(skip_locked=True, of=("self",))
            .filter(free)
            .values_list(*fields)[:limit]
        )
        if not due:
            return []
        taken: dict[str, Any] = {until: now + lease}
        if fenced:
            taken[FENCE] = F(FENCE) + 1
        rows.model._base_manager.filter(pk__in=[row[0] for row in due]).update(**taken)
    # The rows are locked (or the database is) until the update: each token is the old one + 1.
    return [Claim(_json_key(row[0]), row[1] + 1 if fenced else None) for row in due]


def _json_key(pk: Any) -> int | str:
    return str(pk) if isinstance(pk, uuid.UUID) else pk


class Lease:
    """A job's hold on one claimed row: its writes name the token and fail once it is lost."""

    def __init__(self, rows: QuerySet, claim: Claim):
        """``rows``: the rows this kind of job may write (e.g. only pending notifications)."""
        if claim.token is None:
            raise ValueError("a lease needs a fenced claim")
        self._rows = rows
        self.pk = claim.pk
        self.token: int = claim.token

    def held(self) -> QuerySet:
        """The row while this lease holds it; empty once it was lost or given back."""
        return self._rows.filter(pk=self.pk, **{FENCE: self.token})

    def begin(self, lease: timedelta, **fields: Any) -> None:
        """Take the claim over from the sweep that sent this job: a new token, a fresh lease.

        A duplicated message carries the sweep's token, which this spends, so it
        finds nothing to do. ``Superseded`` when the claim was lost before the job began.
        """
        self.write(**{FENCE: self.token + 1}, claimed_until=timezone.now() + lease, **fields)
        self.token += 1

    def renew(self, lease: timedelta, **fields: Any) -> None:
        """Extend the lease (and store ``fields``); ``Superseded`` when it was lost."""
        self.write(claimed_until=timezone.now() + lease, **fields)

    def write(self, **fields: Any) -> None:
        """Update the row only while the lease holds it; ``Superseded`` otherwise."""
        if not self.held().update(**fields):
            raise Superseded(str(self.pk))

    def release(self, **fields: Any) -> bool:
        """Give the row back (with ``fields``), spending the token; whether it was still held.

        A sweep may claim it again as soon as it is due.
        """
        return bool(self.held().update(**{FENCE: self.token + 1}, claimed_until=None, **fields))
