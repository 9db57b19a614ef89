"""Whatever a cloud sends as a task, the poller records it (or records that it could not)
and every page that shows the task renders for everyone: the table, its rows fragment,
the task page, the audit's list and page, its snapshots and the CSV.

The bodies come from hypothesis and are served by a scripted cloud on loopback through
the real client and poller: any text in every string (markup, '/', NUL, right-to-left
marks, 3,000 characters), wrong types, nesting, odd timestamps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imagetasks.dashboard.models import ImageTask, TaskSnapshot
from imagetasks.dashboard.tracking import poller
from tests.openstack.scripted import Reply

pytestmark = pytest.mark.django_db

MARKUP = "<script>alert('x')</script>"
NASTY = st.sampled_from(
    [MARKUP, "a/b", "../..", "x/../../y", "\u202e", "", " ", "\x00", "%2F", "?q=1#f", "x" * 3000]
)
TEXT = NASTY | st.text(max_size=40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12,
)
WHEN = st.sampled_from(["2026-05-05T17:15:10Z", "2026-05-05T17:15:10.123456", "yesterday", ""])


@st.composite
def task_bodies(draw):
    kind = draw(st.sampled_from(["import", "export", "api_image_import"]) | TEXT)
    body = {
        "id": "t-1",
        "type": kind,
        "status": draw(st.sampled_from(["pending", "processing", "success", "failure"]) | TEXT),
        "input": draw(
            st.fixed_dictionaries(
                {
                    "import_from": TEXT,
                    "image_properties": st.fixed_dictionaries({"name": TEXT}) | JSON,
                    "image_uuid": TEXT,
                    "receiving_swift_container": TEXT,
                }
            )
            | JSON
        ),
        "result": draw(
            st.none()
            | st.fixed_dictionaries({"image_id": TEXT | JSON})
            | st.fixed_dictionaries({"export_location": TEXT | JSON, "image_id": TEXT})
            | JSON
        ),
        "message": draw(TEXT | JSON),
        "created_at": draw(WHEN),
        "updated_at": draw(WHEN),
    }
    if draw(st.booleans()):
        body["expires_at"] = draw(WHEN)
    if draw(st.booleans()):
        body[draw(TEXT)] = draw(JSON)  # a field nobody asked for
    return body


@pytest.fixture
def auditor(client, django_user_model, cloud):
    """A staff operator granted the cloud, with the audit's view permissions."""
    from django.contrib.auth.models import Permission

    person = django_user_model.objects.create_user("audrey", password="pw-audrey-123")
    person.is_staff = True
    person.save()
    person.groups.add(Group.objects.get_or_create(name="operators")[0])
    person.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_imagetask", "view_tasksnapshot"])
    )
    cloud.users.add(person)
    client.force_login(person)
    return client


def pages(task: ImageTask) -> list[str]:
    return [
        "/",
        "/tasks/rows/",
        f"/tasks/{task.pk}/",
        "/admin/dashboard/imagetask/",
        f"/admin/dashboard/imagetask/{task.pk}/change/",
        "/admin/dashboard/tasksnapshot/",
        "/tasks/export.csv",
    ]


def worst(**fields) -> dict:
    body = {"id": "t-1", "type": "import", "status": "failure", "input": {}, "result": None}
    return body | {"message": "", "created_at": "", "updated_at": ""} | fields


@given(body=task_bodies())
@example(body=worst(message="bad\x00byte", result={"image_id": "a\x00b"}))
@example(body=worst(status="x" * 40, result={"image_id": "../" + MARKUP}))
@example(body=worst(status="success", result={"image_id": "a/b"}, message=MARKUP))
@example(body=worst(input={"image_properties": ["name", "web"]}, result={"image_id": 7}))
@example(body=worst(status="success", type="export", result={"export_location": "/"}))
@settings(
    max_examples=40,
    deadline=None,
    database=None,  # no example database written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_whatever_a_cloud_sends_is_recorded_and_every_page_renders(body, scripted, cloud, auditor):
    TaskSnapshot.objects.all().delete()
    ImageTask.objects.all().delete()
    task = ImageTask.objects.create(
        cloud=cloud, type="import", remote_id="t-1", status="pending", name="watched",
        input={"import_from": "images/a.vhd", "image_properties": {"name": "watched"}},
        next_poll_at=timezone.now(), claimed_until=timezone.now() + timedelta(seconds=60),
    )  # fmt: skip
    scripted.on("GET", "/image/v2/tasks/t-1", Reply(json=body))

    poller.poll(cloud.pk, [str(task.pk)])

    task.refresh_from_db()
    assert task.snapshots.exists() or task.last_error, "neither recorded nor said why"
    live = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "task-status"}
    for url, headers in [(url, {}) for url in pages(task)] + [(f"/tasks/{task.pk}/", live)]:
        response = auditor.get(url, **headers)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        content = b"".join(response.streaming_content) if response.streaming else response.content
        if not url.endswith(".csv"):
            assert MARKUP.encode() not in content, f"{url} shows markup unescaped"
