"""schemathesis's default checks against the live server for every operation, reads and
writes, from the API's own OpenAPI document: no 5xx, only documented statuses and content
types, bodies that match their schemas, invalid input refused and valid input accepted.

The cloud is the built-in cloud on the same live server, so a write that passes the checks
really submits (its jobs parked). Each operation is driven three times: as schemathesis
generates it (mostly a cloud, task or copy nobody has: a 404), with the caller's own cloud
and, half the time each, the other values that name real things (an image, an object, a
task, the other cloud) put in, so that the forms and the cloud are reached; and with
input the schema does not allow (schemathesis's negative mode), which must be refused.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from imagetasks.dashboard import statuses
from imagetasks.dashboard.api import tokens
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from tests.support.clouds import register_cloud
from tests.support.factories import add_snapshot, make_copy, make_task, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_hashing", "parked_jobs"),
]

READS = 20
WRITES = 15
NEGATIVE = 8


def without_cursor(case):
    """A cursor is opaque: any string the schema allows is valid to schemathesis, but only
    those this API made are (test_tasks.py tests the others, a 400 each)."""
    if case.query:
        case.query.pop("cursor", None)
    return case


def knowing(strategy, known: dict):
    """The cases of ``strategy`` naming the caller's cloud, and each other field ``known``
    names its real value (an image that exists, say) or, half the time, what was drawn."""

    @st.composite
    def cases(draw):
        case = draw(strategy)
        for fields in (case.body, case.query, case.path_parameters):
            if not isinstance(fields, dict):
                continue
            for name, value in known.items():
                if name in fields and (name == "cloud" or draw(st.booleans())):
                    fields[name] = value
        return case

    return cases()


def run(strategy, world: dict, examples: int, excluded=()):
    """Every case hypothesis draws from ``strategy``, called and checked by schemathesis."""
    headers = world["headers"]

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(case):
        case.call_and_validate(headers=headers, excluded_checks=list(excluded))

    check()


@pytest.fixture
def world(live_server, account, other_account, django_user_model, settings, tmp_path):
    """The built-in cloud as ``local`` (its capabilities known, a second region), a second
    cloud to copy to, an operator granted both with a token, tasks, a copy, an image and
    an object; and the real values of the fields that name them."""
    settings.API_RATE_LIMIT = "100000/m"
    account.project.extra_regions = [settings.LOCALCLOUD_SECOND_REGION]
    account.project.save(update_fields=["extra_regions"])
    local = register_cloud(live_server, account)
    capabilities.refresh(local)
    local.refresh_from_db()
    other = register_cloud(live_server, other_account, name="globex")
    owner = make_user(django_user_model, "owen", "operators")
    local.users.add(owner)
    other.users.add(owner)
    tasks = []
    for index, status in enumerate([statuses.PENDING, statuses.SUCCESS, statuses.FAILURE]):
        task = make_task(local, owner, name=f"image-{index}", status=status)
        add_snapshot(task, status)
        tasks.append(task)
    copy = make_copy(local, other, created_by=owner)
    client_for(local).objects.create_container("images")
    client_for(local).objects.put_object("images", "web-01.vhd", vhd_samples.fixed_vhd())
    disk = tmp_path / "web-02.vhd"
    disk.write_bytes(vhd_samples.fixed_vhd())
    image = create_image_from_file(account.project, "web-02", disk, "vhd")
    value, _ = tokens.issue(owner, "schemathesis")
    return {
        "schema": schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json"),
        "headers": {"Authorization": f"Bearer {value}"},
        "known": {
            "cloud": local.name,
            "task_id": str(tasks[2].pk),
            "copy_id": str(copy.pk),
            "container": "images",
            "object": "web-01.vhd",
            "image_id": str(image.id),
            "target": other.name,
            "stores": ["cheap"],
            "region": settings.LOCALCLOUD_SECOND_REGION,
        },
    }


def operations(schema, *methods: str) -> dict:
    found = [
        result.ok()
        for method in methods
        for result in schema.include(method=method).get_all_operations()
    ]
    return {operation.definition.raw["operationId"]: operation for operation in found}


def test_the_read_operations_pass_schemathesis_default_checks(world):
    reads = operations(world["schema"], "GET")
    assert set(reads) == {
        "listClouds", "listTasks", "getTask", "listContainers", "listObjects", "listImages",
        "getCopy",
    }  # fmt: skip

    for operation in reads.values():
        positive = operation.as_strategy()
        run(positive.map(without_cursor), world, READS)
        run(knowing(positive, world["known"]).map(without_cursor), world, READS)
        run(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), world, NEGATIVE)


def test_the_write_operations_pass_schemathesis_default_checks(world):
    writes = operations(world["schema"], "POST", "PUT")
    assert set(writes) == {
        "submitImport", "submitExport", "copyToStores", "resubmitTask", "stopWatching",
        "startCopy", "uploadImage", "dismissTask", "restoreTask",
    }  # fmt: skip

    for operation in writes.values():
        positive = operation.as_strategy()
        run(positive, world, WRITES)
        # A form checks what only the cloud knows (an object that exists, an image of the
        # account's): a body the schema allows may still be the form's 422, as documented.
        form = "requestBody" in operation.definition.raw
        excluded = [positive_data_acceptance] if form else []
        run(knowing(positive, world["known"]), world, WRITES, excluded)
        run(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), world, NEGATIVE)
