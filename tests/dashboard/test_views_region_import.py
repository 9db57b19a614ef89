""" "From another region" (Glance's glance-download) on the import page, against a scripted
Glance on loopback whose catalog names a second image region: when the form is offered,
the region's images in the picker (whatever their names), and exactly what is sent.
The same path against the built-in cloud is in test_region_import_live.py."""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, ImageTask
from tests.openstack.samples import keystone_reply, reference_json
from tests.openstack.scripted import Reply
from tests.support.factories import logged_in, make_cloud

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_hashing")]

PAGE = "/tasks/new/import/"
TWO = "RegionTwo"
REMOTE_ID = "7e1d6b8c-2f4a-4c1e-9a33-0d5b9e8f1a21"
NEW_ID = "b4c3a2d1-1111-4222-8333-944455556666"
WAY = "From another region"


def image(**fields) -> dict:
    return {**reference_json("glance_image"), **fields}


def two_regions(scripted, *, regions: dict[str, str] | None = None, images=None) -> None:
    """A Glance whose catalog has RegionOne (here) and RegionTwo (``/two/image``), listing
    ``images`` there."""
    regions = regions or {TWO: f"{scripted.url}/two/image"}
    scripted.on("POST", "/identity/v3/auth/tokens", keystone_reply(scripted, image_regions=regions))
    listed = images if images is not None else [image(id=REMOTE_ID, name="debian-13")]
    for url in regions.values():
        path = url.removeprefix(scripted.url)
        scripted.on("GET", f"{path}/v2/images", Reply(json={"images": listed}))


@pytest.fixture
def glance(db, scripted) -> Cloud:
    """A Keystone v3 account on the scripted Glance, its capabilities as a refresh of a
    cloud offering glance-download with a second region would record them."""
    cloud = make_cloud(
        "glance",
        auth_type=Cloud.AuthType.V3_PASSWORD,
        auth_url=f"{scripted.url}/identity/v3",
        username="olivia",
        image_endpoint="",
        tasks_api=Cloud.TasksApi.ADMIN_ONLY,
        import_methods=["web-download", "glance-download"],
        image_regions=[TWO],
    )
    cloud.set_secret("pw-olivia")
    cloud.save()
    return cloud


@pytest.fixture
def operator(client, cloud_operator, glance):
    return logged_in(client, cloud_operator, glance)


def page(operator, cloud: Cloud, query: str = "") -> str:
    return operator.get(f"{PAGE}?cloud={cloud.name}&how=glance-download{query}").content.decode()


@pytest.mark.parametrize(
    ("methods", "regions"),
    [
        (["web-download"], [TWO]),
        (["web-download", "glance-download"], []),
        (["web-download", "glance-download"], None),
    ],
    ids=["method-not-offered", "no-other-region", "regions-unknown"],
)
def test_the_way_is_not_offered_without_the_method_or_another_region(
    operator, glance, scripted, methods, regions
):
    two_regions(scripted)
    Cloud.objects.filter(pk=glance.pk).update(import_methods=methods, image_regions=regions)

    html = page(operator, glance)

    assert WAY not in html
    assert 'name="url"' in html, "the form of a way the cloud offers, whatever was asked for"
    assert scripted.requests("GET") == []


def test_the_form_lists_the_regions_and_the_chosen_regions_images(operator, glance, scripted):
    regions = {TWO: f"{scripted.url}/two/image", "RegionThree": f"{scripted.url}/three/image"}
    two_regions(scripted, regions=regions)
    Cloud.objects.filter(pk=glance.pk).update(image_regions=[TWO, "RegionThree"])

    html = page(operator, glance, "&region=RegionThree")

    assert f'aria-current="page">{WAY}</a>' in html
    assert '<option value="RegionThree" selected>' in html and f'<option value="{TWO}">' in html
    assert 'name="glance_region" value="RegionThree"' in html
    assert "debian-13" in html and f'value="{REMOTE_ID}"' in html
    (listed,) = scripted.requests("GET")
    assert listed.path == "/three/image/v2/images"
    assert "owner" not in listed.query, "any image the account sees there may be copied"


def test_names_from_the_cloud_are_shown_as_text(operator, glance, scripted):
    region = "<script>alert('region')</script>"
    hostile = image(id=REMOTE_ID, name='<img src=x onerror="alert(1)">', disk_format="<b>")
    two_regions(scripted, regions={region: f"{scripted.url}/two/image"}, images=[hostile])
    Cloud.objects.filter(pk=glance.pk).update(image_regions=[region])

    html = page(operator, glance)
    fragment = operator.get(
        f"/clouds/glance/image-picker/?for=region&region={region}&q=img"
    ).content.decode()

    for shown in (html, fragment):
        assert "<script>alert" not in shown and "<img src=x" not in shown and "<b>" not in shown
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in shown
    assert "&lt;script&gt;alert(&#x27;region&#x27;)&lt;/script&gt;" in html
    assert "region=%3Cscript%3Ealert%28%27region%27%29%3C%2Fscript%3E" in html


def test_the_picker_answers_only_for_a_region_the_cloud_names(operator, glance, scripted):
    two_regions(scripted)

    response = operator.get("/clouds/glance/image-picker/?for=region&region=Elsewhere")

    assert response.status_code == 404
    assert scripted.requests("GET") == []


def submit_form(operator, glance, **fields) -> object:
    form = {
        "cloud": glance.name,
        "how": "glance-download",
        "submission_id": str(uuid.uuid4()),
        "glance_region": TWO,
        "image_id": REMOTE_ID,
        "name": "debian-here",
    } | fields
    return operator.post(f"{PAGE}?cloud={glance.name}", form)


def accepting(scripted) -> None:
    """The cloud creates the new image and accepts its import."""
    created = image(id=NEW_ID, status="queued", name="debian-here", disk_format=None)
    scripted.on("POST", "/image/v2/images", Reply(201, json=created))
    scripted.on("POST", f"/image/v2/images/{NEW_ID}/import", Reply(202))
    importing = {**created, "status": "importing", "os_glance_importing_to_stores": "fast"}
    scripted.on("GET", f"/image/v2/images/{NEW_ID}", Reply(json=importing))


def test_the_form_creates_an_image_without_formats_and_asks_for_a_glance_download(
    operator, glance, scripted
):
    two_regions(scripted)
    accepting(scripted)

    response = submit_form(operator, glance)

    assert response.status_code == 302
    (task,) = ImageTask.objects.all()
    assert (task.method, task.name) == ("glance-download", "debian-here")
    assert task.status == statuses.PROCESSING, "the image shows the import under way"
    assert task.input == {
        "glance_region": TWO,
        "glance_image_id": REMOTE_ID,
        "image_properties": {"name": "debian-here"},
    }
    (created,) = scripted.requests("POST", "/image/v2/images")
    assert created.json() == {"name": "debian-here"}
    (asked,) = scripted.requests("POST", f"/image/v2/images/{NEW_ID}/import")
    assert asked.json() == {
        "method": {"name": "glance-download", "glance_region": TWO, "glance_image_id": REMOTE_ID}
    }
    assert task.get_method_display() == WAY


def test_without_a_name_the_new_image_takes_the_copied_ones(operator, glance, scripted):
    two_regions(scripted)
    accepting(scripted)
    scripted.on(
        "GET", f"/two/image/v2/images/{REMOTE_ID}", Reply(json=image(id=REMOTE_ID, name="deb"))
    )

    assert submit_form(operator, glance, name="").status_code == 302

    (created,) = scripted.requests("POST", "/image/v2/images")
    assert created.json() == {"name": "deb"}


def test_without_a_name_an_image_gone_from_the_region_is_said_on_the_form(
    operator, glance, scripted
):
    two_regions(scripted)
    scripted.on("GET", f"/two/image/v2/images/{REMOTE_ID}", Reply(404, body="Not Found"))

    html = submit_form(operator, glance, name="").content.decode()

    assert f"There is no image {REMOTE_ID} in region {TWO}." in html
    assert ImageTask.objects.count() == 0
    assert scripted.requests("POST", "/image/v2/images") == []


def test_a_region_the_cloud_does_not_name_is_refused_and_nothing_is_sent(
    operator, glance, scripted
):
    two_regions(scripted)

    html = submit_form(operator, glance, glance_region="RegionNine").content.decode()

    assert "The cloud does not list this region (any more)" in html
    assert ImageTask.objects.count() == 0
    assert scripted.requests("POST", "/image/v2/images") == []


def test_a_refused_import_is_shown_on_the_form_with_the_clouds_words(operator, glance, scripted):
    two_regions(scripted)
    accepting(scripted)
    refusal = {"error": {"message": "Import method glance-download is not enabled."}}
    scripted.on("POST", f"/image/v2/images/{NEW_ID}/import", Reply(400, json=refusal))

    html = submit_form(operator, glance).content.decode()

    assert "The cloud refused it: Import method glance-download is not enabled." in html
    assert ImageTask.objects.get().status == statuses.REJECTED


# The command --------------------------------------------------------------------------------


def command(glance, task_input: dict) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(
        "submit_task",
        "--cloud",
        glance.name,
        "--method",
        "glance-download",
        "--input",
        json.dumps(task_input),
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def test_the_command_submits_a_glance_download(glance, scripted):
    two_regions(scripted)
    accepting(scripted)

    out, err = command(
        glance,
        {
            "glance_region": TWO,
            "glance_image_id": REMOTE_ID,
            "image_properties": {"name": "debian-here"},
        },
    )

    task = ImageTask.objects.get()
    assert out.strip() == str(task.pk) and err.startswith("status: processing")
    (asked,) = scripted.requests("POST", f"/image/v2/images/{NEW_ID}/import")
    assert asked.json()["method"]["glance_image_id"] == REMOTE_ID


@pytest.mark.parametrize(
    ("task_input", "said"),
    [
        (
            {"glance_region": TWO, "image_properties": {"name": "x"}},
            "needs glance_image_id",
        ),
        (
            {"glance_image_id": REMOTE_ID, "image_properties": {"name": "x"}},
            "needs glance_region",
        ),
        ({"glance_region": TWO, "glance_image_id": REMOTE_ID}, "needs image_properties"),
        (
            {"glance_region": "RegionNine", "glance_image_id": REMOTE_ID},
            "names no other image region 'RegionNine' (it names: RegionTwo)",
        ),
    ],
    ids=["no-image", "no-region", "no-name", "unknown-region"],
)
def test_the_command_refuses_an_incomplete_copy_before_creating_an_image(
    glance, scripted, task_input, said
):
    two_regions(scripted)

    with pytest.raises(CommandError, match=said.replace("(", r"\(").replace(")", r"\)")):
        command(glance, task_input)

    assert scripted.requests("POST", "/image/v2/images") == []
