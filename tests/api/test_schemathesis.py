"""schemathesis's default checks against the live server, for the read operations, from the
API's own OpenAPI document: no 5xx, only documented statuses and content types, bodies
that match their schemas, invalid input refused and valid input accepted."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from imagetasks.dashboard import statuses
from imagetasks.dashboard.api import tokens
from tests.support.factories import add_snapshot, make_cloud, make_task, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def without_cursor(case):
    """A cursor is opaque: any string the schema allows is valid to schemathesis, but only
    those this API made are (test_tasks.py tests the others, a 400 each)."""
    if case.query:
        case.query.pop("cursor", None)
    return case


def test_the_read_operations_pass_schemathesis_default_checks(live_server, django_user_model):
    cloud = make_cloud("acme")
    owner = make_user(django_user_model, "owen", "operators")
    cloud.users.add(owner)
    for index, status in enumerate([statuses.PENDING, statuses.SUCCESS, statuses.FAILURE]):
        task = make_task(cloud, owner, name=f"image-{index}", status=status)
        add_snapshot(task, status)
    value, _ = tokens.issue(owner, "schemathesis")
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")
    headers = {"Authorization": f"Bearer {value}"}
    # schemathesis's own pytest loader does not run under this pytest; each operation's
    # strategy is driven by hypothesis here instead, with the same checks.
    operations = [result.ok() for result in schema.include(method="GET").get_all_operations()]
    assert len(operations) == 3

    for operation in operations:

        @given(case=operation.as_strategy().map(without_cursor))
        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        def check(case):
            case.call_and_validate(headers=headers)

        check()
