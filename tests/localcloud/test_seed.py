"""The commands that create accounts and demo content: localcloud_seed and localcloud_user."""

from __future__ import annotations

import hashlib
import re
import time
from io import StringIO

import pytest
import requests
from django.core.management import CommandError, call_command

from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.models import CloudUser, Container, Image, Project, StoredObject

pytestmark = pytest.mark.usefixtures("fast_hashing")

SEEDED_FILES = {
    "fixed.vhd",
    "dynamic.vhd",
    "differencing.vhd",
    "bad-checksum.vhd",
    "raw-disk.img",
}


@pytest.fixture(autouse=True)
def no_demo_secrets(monkeypatch):
    monkeypatch.delenv("LOCALCLOUD_DEMO_PASSWORD", raising=False)
    monkeypatch.delenv("LOCALCLOUD_DEMO_API_KEY", raising=False)
    monkeypatch.delenv("LOCALCLOUD_DEMO2_PASSWORD", raising=False)
    monkeypatch.delenv("LOCALCLOUD_DEMO2_API_KEY", raising=False)
    monkeypatch.delenv("LOCALCLOUD_DEMO_GLANCE_PASSWORD", raising=False)
    monkeypatch.delenv("LOCALCLOUD_DEMO_GLANCE_API_KEY", raising=False)


def run(*args: str) -> str:
    output = StringIO()
    call_command(*args, stdout=output)
    return output.getvalue()


def printed(label: str, output: str) -> str:
    match = re.search(rf"^{label}: (\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


# --- localcloud_seed ------------------------------------------------------------------------


def test_seeding_twice_creates_everything_once_and_keeps_the_secrets(db, store_dir):
    first = run("localcloud_seed")
    user = CloudUser.objects.get(name="demo")
    hashes = (user.password_hash, user.api_key_hash)

    second = run("localcloud_seed")

    user.refresh_from_db()
    assert (user.password_hash, user.api_key_hash) == hashes
    assert user.check_password(printed("Password", first))
    assert user.check_api_key(printed("API key", first))
    assert user.project.name == "demo"
    assert Project.objects.filter(name="demo").count() == 1
    containers = Container._default_manager.filter(project=user.project)
    assert sorted(containers.values_list("name", flat=True)) == ["exports", "images"]
    objects = StoredObject.objects.filter(container__project=user.project)
    assert set(objects.values_list("name", flat=True)) == SEEDED_FILES
    assert set(objects.values_list("container__name", flat=True)) == {"images"}
    assert "Password:" not in second
    assert "API key:" not in second
    assert printed("Password", first) not in second


def test_secrets_from_the_environment_are_used_and_never_printed(db, store_dir, monkeypatch):
    monkeypatch.setenv("LOCALCLOUD_DEMO_PASSWORD", "demo-password-from-env")
    monkeypatch.setenv("LOCALCLOUD_DEMO_API_KEY", "demo-key-from-env")
    monkeypatch.setenv("LOCALCLOUD_DEMO2_PASSWORD", "demo2-password-from-env")
    monkeypatch.setenv("LOCALCLOUD_DEMO2_API_KEY", "demo2-key-from-env")
    monkeypatch.setenv("LOCALCLOUD_DEMO_GLANCE_PASSWORD", "glance-password-from-env")
    monkeypatch.setenv("LOCALCLOUD_DEMO_GLANCE_API_KEY", "glance-key-from-env")

    output = run("localcloud_seed")

    user = CloudUser.objects.get(name="demo")
    assert user.check_password("demo-password-from-env")
    assert user.check_api_key("demo-key-from-env")
    second = CloudUser.objects.get(name="demo2")
    assert second.check_password("demo2-password-from-env")
    assert second.check_api_key("demo2-key-from-env")
    assert "from-env" not in output
    assert "Password" not in output


def test_seeding_makes_a_second_project_and_an_image_to_copy_to_it(db, store_dir):
    first = run("localcloud_seed")
    second = run("localcloud_seed")

    demo2 = CloudUser.objects.get(name="demo2")
    assert demo2.project.name == "demo2"
    assert demo2.check_password(printed("Password of demo2", first))
    assert printed("Password of demo2", first) != printed("Password", first)
    assert "Password of demo2" not in second
    (image,) = Image.objects.filter(project__name="demo")
    assert (image.name, image.status, image.disk_format) == ("demo-web", "active", "vhd")
    assert image.checksum == hashlib.md5(vhd_samples.fixed_vhd(), usedforsecurity=False).hexdigest()
    assert str(image.id) in first and str(image.id) in second
    assert not Image.objects.filter(project__name="demo2").exists()


def test_a_missing_sample_is_put_back_and_a_present_one_left_alone(db, store_dir):
    run("localcloud_seed")
    StoredObject.objects.filter(name="fixed.vhd").delete()
    untouched = StoredObject.objects.get(name="dynamic.vhd").last_modified

    output = run("localcloud_seed")

    assert "fixed.vhd" in output
    assert StoredObject.objects.filter(name="fixed.vhd").exists()
    assert StoredObject.objects.get(name="dynamic.vhd").last_modified == untouched


def test_the_sample_images_come_back_byte_for_byte_through_the_api(
    live_server, store_dir, monkeypatch
):
    monkeypatch.setenv("LOCALCLOUD_DEMO_PASSWORD", "demo-password")
    run("localcloud_seed")
    auth = requests.post(
        f"{live_server.url}/localcloud/identity/v2.0/tokens",
        json={"auth": {"passwordCredentials": {"username": "demo", "password": "demo-password"}}},
        timeout=30,
    )
    access = auth.json()["access"]
    (files,) = [entry for entry in access["serviceCatalog"] if entry["type"] == "object-store"]
    images = files["endpoints"][0]["publicURL"] + "/images"
    headers = {"X-Auth-Token": access["token"]["id"]}

    listing = requests.get(images, params={"format": "json"}, headers=headers, timeout=30)

    assert {entry["name"] for entry in listing.json()} == SEEDED_FILES
    for sample in vhd_samples.SAMPLES:
        if sample.filename in SEEDED_FILES:
            expected = sample.build()
            response = requests.get(f"{images}/{sample.filename}", headers=headers, timeout=30)
            assert response.content == expected, sample.filename
            assert (
                response.headers["ETag"] == hashlib.md5(expected, usedforsecurity=False).hexdigest()
            )


def test_seeding_refuses_a_demo_user_of_another_project(db, store_dir):
    run("localcloud_user", "elsewhere", "demo", "--generate")

    with pytest.raises(CommandError, match="belongs to project 'elsewhere'"):
        run("localcloud_seed")


# --- localcloud_user ------------------------------------------------------------------------


def test_a_new_user_gets_a_generated_password_printed_once(db):
    output = run("localcloud_user", "labs", "alice")

    user = CloudUser.objects.get(name="alice")
    assert user.project.name == "labs"
    assert user.check_password(printed("Password", output))
    assert "API key:" not in output
    assert f"AUTH_{user.project.id}" in output


def test_secrets_can_come_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("ALICE_PASSWORD", "alice-password-from-env")
    monkeypatch.setenv("ALICE_KEY", "alice-key-from-env")

    output = run(
        "localcloud_user",
        "labs",
        "alice",
        "--password-from-env",
        "ALICE_PASSWORD",
        "--api-key-from-env",
        "ALICE_KEY",
    )

    user = CloudUser.objects.get(name="alice")
    assert user.check_password("alice-password-from-env")
    assert user.check_api_key("alice-key-from-env")
    assert "from-env" not in output


def test_an_existing_user_keeps_its_secrets_unless_asked(db):
    run("localcloud_user", "labs", "alice")
    before = CloudUser.objects.get(name="alice").password_hash

    unchanged = run("localcloud_user", "labs", "alice")
    with_key = run("localcloud_user", "labs", "alice", "--generate-api-key")

    user = CloudUser.objects.get(name="alice")
    assert user.password_hash == before
    assert "Password:" not in unchanged
    assert "Password:" not in with_key
    assert user.check_api_key(printed("API key", with_key))


def test_a_user_can_be_disabled_and_enabled_again(db):
    run("localcloud_user", "labs", "alice")

    run("localcloud_user", "labs", "alice", "--disable")
    disabled = CloudUser.objects.get(name="alice").enabled
    run("localcloud_user", "labs", "alice", "--enable")

    assert disabled is False
    assert CloudUser.objects.get(name="alice").enabled is True


def test_an_unset_variable_is_an_error_and_creates_nothing(db, monkeypatch):
    monkeypatch.delenv("NO_SUCH_VARIABLE", raising=False)

    with pytest.raises(CommandError, match="NO_SUCH_VARIABLE"):
        run("localcloud_user", "labs", "alice", "--password-from-env", "NO_SUCH_VARIABLE")

    assert not CloudUser.objects.filter(name="alice").exists()
    assert not Project.objects.filter(name="labs").exists()


def test_a_user_never_moves_to_another_project(db):
    run("localcloud_user", "labs", "alice")

    with pytest.raises(CommandError, match="belongs to project 'labs'"):
        run("localcloud_user", "other", "alice")

    assert CloudUser.objects.get(name="alice").project.name == "labs"


def test_the_seed_writes_a_clouds_yaml_entry_the_dashboard_can_import(db, store_dir, tmp_path):
    import yaml as yaml_module

    path = tmp_path / "clouds.yaml"
    call_command(
        "localcloud_seed", clouds_yaml=path, public_url="http://127.0.0.1:8123", stdout=StringIO()
    )
    entry = yaml_module.safe_load(path.read_text())["clouds"]["localcloud-demo"]
    assert entry["auth"]["auth_url"] == "http://127.0.0.1:8123/localcloud/identity/v3"
    assert CloudUser.objects.get(name="demo").check_password(entry["auth"]["password"])
    assert path.stat().st_mode & 0o777 == 0o600

    # A later run on another address refreshes the URL and keeps the password.
    call_command(
        "localcloud_seed", clouds_yaml=path, public_url="http://127.0.0.1:9000", stdout=StringIO()
    )
    again = yaml_module.safe_load(path.read_text())["clouds"]["localcloud-demo"]
    assert again["auth"]["auth_url"] == "http://127.0.0.1:9000/localcloud/identity/v3"
    assert again["auth"]["password"] == entry["auth"]["password"]


def test_the_seed_writes_clouds_the_admin_can_use_to_copy_between(
    live_server, store_dir, tmp_path, django_user_model
):
    """What `make run` does: seed, import the file, log in as the admin it creates."""
    from imagetasks.dashboard import access
    from imagetasks.dashboard.clouds.clients import client_for, forget_clients

    path = tmp_path / "clouds.yaml"
    call_command("localcloud_seed", clouds_yaml=path, public_url=live_server.url, stdout=StringIO())
    call_command("import_clouds", str(path), stdout=StringIO())
    admin = django_user_model.objects.create_superuser("admin", password="pw-admin-seed")

    usable = {cloud.name: cloud for cloud in access.visible_clouds(admin)}
    assert set(usable) == {"localcloud-demo", "localcloud-demo2", "localcloud-demo-glance"}
    assert access.can_submit(admin)
    forget_clients()
    try:
        demo = client_for(usable["localcloud-demo"])
        demo2 = client_for(usable["localcloud-demo2"])
        (image,) = demo.images.list_images(name="demo-web")
        assert image.owner == demo.project_id != demo2.project_id
        assert demo2.tasks_flavour().import_style == "rackspace"
        glance_like = client_for(usable["localcloud-demo-glance"])
        assert list(glance_like.images.list_images()) == []
    finally:
        forget_clients()


def test_the_seed_makes_one_account_of_each_tasks_api_flavour(db, store_dir):
    """The demo shows a Rackspace-like cloud and a stock-Glance one side by side."""
    run("localcloud_seed")

    assert dict(Project.objects.values_list("name", "tasks_api")) == {
        "demo": "members",
        "demo2": "members",
        "demo-glance": "admin",
    }


def test_the_glance_like_account_can_copy_the_seeded_image_from_its_second_region(
    live_server, store_dir, task_worker, settings
):
    """What a person tries after `make run`: demo-glance's second region has an image,
    and glance-download copies it into the main region."""
    from tests.localcloud.conftest import CloudSession

    first = run("localcloud_seed")
    run("localcloud_seed")
    region = settings.LOCALCLOUD_SECOND_REGION
    (seeded,) = Image.objects.filter(project__name="demo-glance")
    assert (seeded.name, seeded.region, seeded.status) == ("demo-region-web", region, "active")
    assert Project.objects.get(name="demo-glance").extra_regions == [region]
    assert not Project.objects.exclude(name="demo-glance").exclude(extra_regions=[]).exists()

    login = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "demo-glance",
                        "domain": {"id": "default"},
                        "password": printed("Password of demo-glance", first),
                    }
                },
            }
        }
    }
    with CloudSession(live_server.url, None) as anonymous:
        issued = anonymous.post("identity/v3/auth/tokens", json=login)
    catalog = issued.json()["token"]["catalog"]
    (images,) = [service for service in catalog if service["type"] == "image"]
    second = next(e["url"] for e in images["endpoints"] if e["region"] == region)
    with CloudSession(live_server.url, issued.headers["X-Subject-Token"]) as cloud:
        listed = cloud.get(f"{second}/v2/images").json()["images"]
        assert [image["name"] for image in listed] == ["demo-region-web"]
        assert cloud.get("image/v2/images").json()["images"] == []
        created = cloud.post("image/v2/images", json={"name": "copy of demo-region-web"}).json()
        method = {
            "name": "glance-download",
            "glance_image_id": listed[0]["id"],
            "glance_region": region,
        }
        accepted = cloud.post(f"image/v2/images/{created['id']}/import", json={"method": method})
        assert accepted.status_code == 202
        deadline = time.monotonic() + 120
        while (copy := cloud.get(f"image/v2/images/{created['id']}").json())["status"] != "active":
            assert time.monotonic() < deadline, copy
            time.sleep(0.1)
    assert (copy["checksum"], copy["disk_format"]) == (seeded.checksum, "vhd")
