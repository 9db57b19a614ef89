"""A form's submission id is a key of the person and cloud that sent it: the same form
twice is one task, but another person's (or cloud's) id never hands back their task."""

from __future__ import annotations

import uuid

import pytest

from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking.submission import submit
from tests.support.factories import make_cloud, make_user

pytestmark = pytest.mark.django_db

INPUT = {"import_from": "images/web.vhd", "image_properties": {"name": "web"}}


def test_the_same_form_sent_twice_by_its_sender_is_one_task(cloud, django_user_model):
    ann = make_user(django_user_model, "ann", "operators")
    key = uuid.uuid4()
    first = submit(cloud, "import", INPUT, user=ann, submission_id=key)
    again = submit(cloud, "import", INPUT, user=ann, submission_id=key)
    assert again.pk == first.pk == key
    assert ImageTask.objects.count() == 1


def test_another_person_s_or_cloud_s_id_makes_a_new_task_of_their_own(cloud, django_user_model):
    ann = make_user(django_user_model, "ann", "operators")
    bob = make_user(django_user_model, "bob", "operators")
    key = uuid.uuid4()
    anns = submit(cloud, "import", INPUT, user=ann, submission_id=key)
    ImageTask.objects.filter(pk=anns.pk).update(message="ann's private message")

    bobs = submit(cloud, "import", INPUT, user=bob, submission_id=key)
    elsewhere = submit(make_cloud("globex"), "import", INPUT, user=ann, submission_id=key)

    assert bobs.pk != key and bobs.submitted_by == bob and "ann's" not in bobs.message
    assert elsewhere.pk != key and elsewhere.cloud.name == "globex"
    assert ImageTask.objects.get(pk=key).submitted_by == ann
