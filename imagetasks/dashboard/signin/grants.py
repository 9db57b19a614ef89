"""Roles and cloud grants kept in step with the provider at each sign-in.

The provider's groups claim is the truth for what it gave: a role or cloud that it
gives and the person lacks is added and recorded on their ``ProviderIdentity``; one it
gave before and gives no more is taken away. What an administrator gave by hand is
never touched: a grant the person already had when the claim first named it stays
the administrator's (it is not recorded), so it outlives the claim. Staff and
superuser status never come from the provider.
"""

from __future__ import annotations

from django.contrib.auth.models import Group

from imagetasks.dashboard.models import Cloud, ProviderIdentity
from imagetasks.dashboard.signin.claims import Granted


def sync(identity: ProviderIdentity, granted: Granted) -> None:
    """Make the person's provider-given roles and clouds what ``granted`` says."""
    user = identity.user
    groups = {group.name: group for group in Group.objects.filter(name__in=granted.roles)}
    for name in granted.roles - groups.keys():  # the migration made them; a deleted one again
        groups[name] = Group.objects.get_or_create(name=name)[0]
    _sync(
        wanted=set(groups.values()),
        held=set(user.groups.all()),
        recorded=set(identity.granted_groups.all()),
        give=user.groups.add,
        take=user.groups.remove,
        record=identity.granted_groups,
    )
    clouds = set(Cloud.objects.filter(name__in=granted.clouds))
    _sync(
        wanted=clouds,
        held=set(Cloud.objects.filter(users=user)),
        recorded=set(identity.granted_clouds.all()),
        give=lambda *rows: user.clouds.add(*rows),
        take=lambda *rows: user.clouds.remove(*rows),
        record=identity.granted_clouds,
    )


def _sync(*, wanted: set, held: set, recorded: set, give, take, record) -> None:
    """Add what is wanted and not held, recorded as the provider's; take away what the
    provider gave and wants no more. A wanted grant held but not recorded was given by
    hand and stays the administrator's. One the provider gave and an administrator took
    away is given back while the claim names it: it is taken away at the provider."""
    new = wanted - held
    if new:
        give(*new)
        record.add(*new)
    gone = recorded - wanted
    if gone:
        take(*(gone & held))
        record.remove(*gone)
