"""Beat asks clouds what they offer by itself: those never asked, those asked more than a
day ago and those whose last check failed (again after a few minutes, not at every sweep),
never a switched-off cloud, each check in a job of its own under a lease. Against the live
built-in cloud with a real worker, and a cloud nobody answers for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.beat import ScheduleEntry
from django.utils import timezone

from imagetasks.celery import app as celery_app
from imagetasks.dashboard import jobs
from imagetasks.dashboard.clouds import capabilities, capability_checks
from imagetasks.dashboard.models import Cloud
from imagetasks.localcloud.stores import IMPORT_METHODS
from tests.support.beat import ticking
from tests.support.clouds import register_cloud
from tests.support.factories import make_cloud
from tests.support.waiting import wait_for

OFFERED = list(IMPORT_METHODS)  # what the built-in cloud lists


def cloud_checked(name: str, checked_at, *, error: str = "", **fields) -> Cloud:
    return make_cloud(name, capabilities_checked_at=checked_at, capabilities_error=error, **fields)


def claimed_names(now) -> list[str]:
    claims = capability_checks.claim_due(now)
    return list(Cloud.objects.filter(pk__in=[c.pk for c in claims]).values_list("name", flat=True))


# Which clouds a sweep takes (the database alone) ------------------------------------------


@pytest.mark.django_db
def test_a_sweep_takes_clouds_never_checked_stale_or_failed_a_while_ago_and_no_others():
    now = timezone.now()
    cloud_checked("never", None)
    cloud_checked("fresh", now - timedelta(hours=23))
    cloud_checked("stale", now - timedelta(hours=25))
    cloud_checked("failed-just-now", now - timedelta(minutes=1), error="no answer: timed out")
    cloud_checked("failed-earlier", now - timedelta(minutes=6), error="no answer: timed out")
    cloud_checked("switched-off", None, enabled=False)
    cloud_checked("switched-off-stale", now - timedelta(days=3), enabled=False)

    claims = capability_checks.claim_due(now)

    names = dict(Cloud.objects.values_list("pk", "name"))
    assert [names[c.pk] for c in claims] == ["never", "stale", "failed-earlier"]
    assert all(c.token is None for c in claims)


@pytest.mark.django_db
def test_a_failed_cloud_is_asked_again_every_few_minutes_not_at_every_sweep():
    now = timezone.now()
    cloud_checked("flaky", now, error="tasks API: 503 busy")

    assert claimed_names(now + timedelta(seconds=30)) == []
    assert claimed_names(now + timedelta(minutes=4)) == []
    assert claimed_names(now + timedelta(minutes=5, seconds=1)) == ["flaky"]


@pytest.mark.django_db
def test_how_old_an_answer_may_get_is_a_setting(settings):
    now = timezone.now()
    settings.CAPABILITIES_MAX_AGE = 1.0  # hours
    cloud_checked("hourly", now - timedelta(minutes=61))
    cloud_checked("recent", now - timedelta(minutes=59))

    assert claimed_names(now) == ["hourly"]


@pytest.mark.django_db
def test_a_cloud_being_checked_is_not_taken_again_until_its_lease_runs_out():
    now = timezone.now()
    cloud_checked("never", None)

    assert claimed_names(now) == ["never"]
    assert claimed_names(now + timedelta(seconds=30)) == []  # a sweep while it runs
    # The check was lost with its worker: once the lease has run out it is sent again.
    assert claimed_names(now + capability_checks.LEASE + timedelta(seconds=1)) == ["never"]


@pytest.mark.django_db
def test_a_sweep_takes_a_bounded_number_and_the_next_sweep_the_rest():
    now = timezone.now()
    for n in range(capability_checks.BATCH + 3):
        cloud_checked(f"new-{n:02}", None)

    first, second = claimed_names(now), claimed_names(now)

    assert len(first) == capability_checks.BATCH
    assert len(second) == 3 and not set(first) & set(second)


@pytest.mark.django_db
def test_the_import_page_claims_a_first_check_once_and_never_after_an_answer():
    now = timezone.now()
    cloud = cloud_checked("new", None)
    asked = cloud_checked("asked", now - timedelta(days=30))

    assert capability_checks.claim_first_check(cloud, now)
    assert not capability_checks.claim_first_check(cloud, now + timedelta(seconds=10))
    assert capability_checks.claim_first_check(cloud, now + timedelta(minutes=2))
    assert not capability_checks.claim_first_check(asked, now), "a stale answer is beat's"


@pytest.mark.django_db
def test_an_error_of_ours_during_a_check_holds_the_cloud_off_for_a_while(monkeypatch):
    # Nothing the cloud does raises (refresh records it); a database failure would. It is
    # stood in for by a refresh that raises, the one fault no real peer can cause.
    cloud = cloud_checked("never", None)
    [claim] = capability_checks.claim_due(timezone.now())

    def broken(cloud):
        raise RuntimeError("database went away")

    monkeypatch.setattr(capabilities, "refresh", broken)
    with pytest.raises(RuntimeError):
        capability_checks.check(claim.pk)

    cloud.refresh_from_db()
    assert cloud.capabilities_claimed_until > timezone.now() + timedelta(minutes=4)
    assert claimed_names(timezone.now() + timedelta(minutes=2)) == []


def test_beat_sends_the_first_sweep_within_a_minute_of_starting():
    sent = jobs.beat_schedule()["check-capabilities"]
    # As beat makes an entry it has no record of: last run "now", so due one period later.
    entry = ScheduleEntry(
        name="check-capabilities",
        task=sent["task"],
        schedule=timedelta(seconds=sent["schedule"]),
        app=celery_app,
    )

    due, next_in = entry.is_due()

    assert not due and next_in <= 60


# Real checks by a real worker against the built-in cloud ------------------------------------


@pytest.fixture
def built_in(live_server, account):
    """Clouds of ``account`` on the live built-in cloud, checked when a test says."""

    def make(name: str, checked_at, *, error: str = "", **fields) -> Cloud:
        return register_cloud(
            live_server,
            account,
            name=name,
            capabilities_checked_at=checked_at,
            capabilities_error=error,
            **fields,
        )

    return make


def asked(cloud: Cloud) -> bool:
    cloud.refresh_from_db()
    return cloud.import_methods == OFFERED and cloud.capabilities_claimed_until is None


@pytest.mark.django_db(transaction=True)
def test_beat_asks_the_due_clouds_over_http_and_leaves_the_others(built_in, workers):
    now = timezone.now()
    never = built_in("never", None)
    stale = built_in("stale", now - timedelta(days=2))
    failed = built_in("failed", now - timedelta(minutes=10), error="no answer: timed out")
    fresh = built_in("fresh", now - timedelta(hours=1))
    failed_just_now = built_in("failed-now", now - timedelta(seconds=20), error="stores: 503")
    off = built_in("off", None, enabled=False)

    with ticking(jobs.check_capabilities.delay, interval=1.0):
        for cloud in (never, stale, failed):
            wait_for(lambda cloud=cloud: asked(cloud), timeout=60, what=f"{cloud.name} asked")

    for cloud in (never, stale, failed):
        assert cloud.capabilities_error == ""
        assert cloud.tasks_api == Cloud.TasksApi.PERMITTED
        assert cloud.capabilities_checked_at > now
    for cloud, checked_at in ((fresh, fresh.capabilities_checked_at),
                              (failed_just_now, failed_just_now.capabilities_checked_at),
                              (off, None)):  # fmt: skip
        cloud.refresh_from_db()
        assert cloud.capabilities_checked_at == checked_at, f"{cloud.name} was asked"
        assert cloud.import_methods is None and cloud.capabilities_claimed_until is None


@pytest.mark.django_db(transaction=True)
def test_a_cloud_that_does_not_answer_does_not_stop_the_others(built_in, workers):
    nobody = make_cloud("nobody", capabilities_checked_at=None)
    never = built_in("never", None)

    with ticking(jobs.check_capabilities.delay, interval=1.0):
        wait_for(lambda: asked(never), timeout=60, what="the built-in cloud asked")
        wait_for(
            lambda: Cloud.objects.filter(pk=nobody.pk, capabilities_checked_at__isnull=False),
            timeout=60,
            what="the cloud nobody answers for asked",
        )

    nobody.refresh_from_db()
    assert nobody.capabilities_error.startswith("no answer: ")
    assert nobody.import_methods is None
    # Failed: not asked again at the next sweeps, but after a few minutes.
    assert claimed_names(timezone.now() + timedelta(seconds=30)) == []
    assert claimed_names(timezone.now() + timedelta(minutes=6)) == ["nobody"]
