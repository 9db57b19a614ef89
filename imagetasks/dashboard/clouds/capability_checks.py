"""When a cloud is asked again what it offers for imports, and one check at a time.

Beat's sweep (``jobs.check_capabilities``) claims the enabled clouds that are due: never
checked, checked more than ``CAPABILITIES_MAX_AGE`` hours ago, or whose last check failed
(``capabilities_error``) at least ``RETRY_AFTER`` ago. The import page of a cloud never
checked asks for that cloud alone (``claim_first_check``), so its forms need not wait for
beat. Both claim through ``leases.claim_due`` on ``capabilities_claimed_until``: while a
check is queued or running nobody sends another, however many sweeps run or pages are
viewed, and a check lost with its worker is sent again once its lease has run out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from imagetasks.dashboard import leases
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import Cloud

# Longer than a check can take (a sign-in, then four questions at once, each at most
# capabilities.PROBE_TIMEOUT), so a running check is never sent a second time.
LEASE = timedelta(seconds=60)
# A cloud whose last check failed is asked again this long after it, not at every sweep.
RETRY_AFTER = timedelta(minutes=5)
# Clouds claimed by one sweep; the next sweep takes the rest.
BATCH = 20
UNTIL = "capabilities_claimed_until"


def due(now: datetime) -> QuerySet[Cloud]:
    """Enabled clouds whose capabilities should be asked for again, the least recent first."""
    checked = "capabilities_checked_at"
    max_age = timedelta(hours=settings.CAPABILITIES_MAX_AGE)
    failed = ~Q(capabilities_error="") & Q(**{f"{checked}__lt": now - RETRY_AFTER})
    return (
        Cloud.objects.filter(enabled=True)
        .filter(Q(**{f"{checked}__isnull": True}) | Q(**{f"{checked}__lt": now - max_age}) | failed)
        .order_by(F(checked).asc(nulls_first=True), "pk")
    )


def claim_due(now: datetime) -> list[leases.Claim]:
    """Claim up to ``BATCH`` due clouds that no check holds."""
    return leases.claim_due(due(now), now=now, lease=LEASE, limit=BATCH, fenced=False, until=UNTIL)


def claim_first_check(cloud: Cloud, now: datetime) -> bool:
    """Claim ``cloud`` for its first check; False once it was checked or while one is held."""
    rows = Cloud.objects.filter(pk=cloud.pk, enabled=True, capabilities_checked_at__isnull=True)
    return bool(leases.claim_due(rows, now=now, lease=LEASE, limit=1, fenced=False, until=UNTIL))


def check(cloud_id: int) -> bool:
    """Ask one claimed cloud what it offers, then give its claim back; whether it was asked.

    A cloud deleted or switched off since it was claimed is not asked. Whatever the cloud
    does is recorded by ``capabilities.refresh`` and never raises; an error of ours
    (the database) keeps the claim for ``RETRY_AFTER``, so one bad row cannot loop.
    """
    cloud = Cloud.objects.filter(pk=cloud_id, enabled=True).first()
    if cloud is None:
        Cloud.objects.filter(pk=cloud_id).update(**{UNTIL: None})
        return False
    try:
        capabilities.refresh(cloud)
    except Exception:
        Cloud.objects.filter(pk=cloud_id).update(**{UNTIL: timezone.now() + RETRY_AFTER})
        raise
    Cloud.objects.filter(pk=cloud_id).update(**{UNTIL: None})
    return True
