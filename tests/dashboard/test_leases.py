"""The one claim-under-lease mechanism, against the real database (SQLite or PostgreSQL).

Copies stand in for any fenced row: what holds for them holds for notifications,
and for tasks without the token.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from imagetasks.dashboard import leases
from imagetasks.dashboard.models import Cloud, Copy, ImageTask

LEASE = timedelta(seconds=30)


def make_copies(count: int, due) -> list[Copy]:
    cloud = Cloud.objects.create(name="here", auth_type="none", image_endpoint="http://127.0.0.1:9")
    return Copy.objects.bulk_create(
        Copy(
            source_cloud=cloud,
            target_cloud=cloud,
            source_image_id=f"image-{n}",
            target_name=f"copy-{n}",
            next_step_at=due,
        )
        for n in range(count)
    )


def due_copies(now):
    return Copy.objects.filter(next_step_at__lte=now).order_by("next_step_at")


def claim_one(now) -> leases.Claim:
    [claim] = leases.claim_due(due_copies(now), now=now, lease=LEASE, limit=1)
    return claim


def claimed_copy(now) -> tuple[Copy, leases.Lease]:
    """A copy due at ``now``, claimed, and the lease its job would hold."""
    [copy] = make_copies(1, due=now)
    return copy, leases.Lease(Copy.objects.all(), claim_one(now))


@pytest.mark.django_db
def test_a_claimed_row_is_not_claimed_again_while_its_lease_holds():
    now = timezone.now()
    [copy] = make_copies(1, due=now)

    assert claim_one(now) == (str(copy.pk), 1)
    assert leases.claim_due(due_copies(now), now=now + LEASE / 2, lease=LEASE, limit=10) == []


@pytest.mark.django_db(transaction=True)
def test_two_claimers_at_once_never_take_the_same_row():
    now = timezone.now()
    make_copies(60, due=now)
    start = threading.Barrier(2)
    claims: list[list[leases.Claim]] = []

    def claim():
        try:
            start.wait()
            claims.append(leases.claim_due(due_copies(now), now=now, lease=LEASE, limit=40))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    first, second = ({pk for pk, _ in taken} for taken in claims)
    assert not first & second, "a row was claimed by both"
    assert len(first | second) == 60


@pytest.mark.django_db
def test_an_expired_claim_is_taken_over_and_the_old_holders_writes_are_refused():
    now = timezone.now()
    copy, held = claimed_copy(now)
    held.begin(LEASE)

    # Its worker stopped renewing: once the lease has run out the row is free again.
    later = timezone.now() + LEASE + timedelta(seconds=1)
    new = claim_one(later)

    assert new.pk == held.pk and new.token > held.token
    with pytest.raises(leases.Superseded):
        held.write(target_image_id="from the old holder")
    with pytest.raises(leases.Superseded):
        held.renew(LEASE)
    assert not held.release(error="from the old holder")
    leases.Lease(Copy.objects.all(), new).write(target_image_id="from the new holder")
    copy.refresh_from_db()
    assert (copy.target_image_id, copy.error) == ("from the new holder", "")


@pytest.mark.django_db
def test_a_second_delivery_of_the_same_claim_does_nothing():
    now = timezone.now()
    _, first = claimed_copy(now)
    duplicate = leases.Lease(Copy.objects.all(), leases.Claim(first.pk, first.token))

    first.begin(LEASE)

    assert not duplicate.held().exists()
    with pytest.raises(leases.Superseded):
        duplicate.begin(LEASE)


@pytest.mark.django_db
def test_a_released_row_is_claimed_again_when_due_and_its_old_token_is_spent():
    now = timezone.now()
    copy, lease = claimed_copy(now)
    spent = lease.token

    assert lease.release(next_step_at=now)

    with pytest.raises(leases.Superseded):
        lease.write(error="after giving it back")
    again = claim_one(now)
    assert again.pk == str(copy.pk) and again.token > spent


@pytest.mark.django_db
def test_rows_without_a_fence_are_claimed_under_the_lease_alone():
    now = timezone.now()
    cloud = Cloud.objects.create(name="here", auth_type="none", image_endpoint="http://127.0.0.1:9")
    task = ImageTask.objects.create(cloud=cloud, type="import", status="pending", next_poll_at=now)
    due = ImageTask.objects.filter(next_poll_at__lte=now)

    claims = leases.claim_due(due, now=now, lease=LEASE, limit=5, fenced=False)

    assert claims == [(str(task.pk), None)]
    assert leases.claim_due(due, now=now, lease=LEASE, limit=5, fenced=False) == []
    with pytest.raises(ValueError, match="fenced"):
        leases.Lease(due, claims[0])
