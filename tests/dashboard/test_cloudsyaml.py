"""Clouds come from OpenStack clouds.yaml files, keeping their names and hiding their secrets."""

import pytest
from django.core.management import CommandError, call_command

from imagetasks.dashboard.models import Cloud

CLOUDS_YAML = """
clouds:
  lab:
    auth:
      auth_url: https://keystone.lab.example:5000/v3
      username: ops
      password: lab-password-7731
      project_name: images
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
  rackspace-dfw:
    auth_type: rackspace_apikey
    auth:
      auth_url: https://identity.api.rackspacecloud.com/v2.0/
      username: jsmith
      api_key: rax-key-0042
    region_name: DFW
  glance-noauth:
    auth_type: none
    image_endpoint_override: http://127.0.0.1:9292
"""


@pytest.fixture
def clouds_yaml(tmp_path):
    path = tmp_path / "clouds.yaml"
    path.write_text(CLOUDS_YAML)
    return path


def test_importing_creates_one_cloud_per_entry_with_its_name(db, clouds_yaml, capsys):
    call_command("import_clouds", str(clouds_yaml))
    assert set(Cloud.objects.values_list("name", flat=True)) == {
        "lab",
        "rackspace-dfw",
        "glance-noauth",
    }
    lab = Cloud.objects.get(name="lab")
    assert (lab.auth_type, lab.username, lab.project_name) == ("v3password", "ops", "images")
    assert (lab.region, lab.interface) == ("RegionOne", "internal")
    assert Cloud.objects.get(name="rackspace-dfw").auth_type == "rackspace_apikey"
    assert Cloud.objects.get(name="glance-noauth").image_endpoint == "http://127.0.0.1:9292"
    assert "created cloud lab" in capsys.readouterr().out


def test_secrets_are_stored_encrypted_and_read_back(db, clouds_yaml):
    call_command("import_clouds", str(clouds_yaml))
    lab = Cloud.objects.get(name="lab")
    assert "lab-password-7731" not in lab.secret_encrypted
    assert lab.reveal_secret() == "lab-password-7731"
    assert Cloud.objects.get(name="rackspace-dfw").reveal_secret() == "rax-key-0042"
    assert "lab-password-7731" not in repr(lab)


def test_importing_again_updates_instead_of_duplicating(db, clouds_yaml, capsys):
    call_command("import_clouds", str(clouds_yaml))
    clouds_yaml.write_text(CLOUDS_YAML.replace("RegionOne", "RegionTwo"))
    call_command("import_clouds", str(clouds_yaml))
    assert Cloud.objects.count() == 3
    assert Cloud.objects.get(name="lab").region == "RegionTwo"
    assert "updated cloud lab" in capsys.readouterr().out


def test_an_unsupported_auth_type_is_refused_by_name(db, tmp_path):
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds:\n  odd:\n    auth_type: kerberos\n    auth: {auth_url: http://x}\n")
    with pytest.raises(CommandError, match="cloud 'odd': auth_type 'kerberos' is not supported"):
        call_command("import_clouds", str(path))
    assert not Cloud.objects.exists()


def test_a_file_without_clouds_says_so(db, tmp_path):
    path = tmp_path / "clouds.yaml"
    path.write_text("profiles: {}\n")
    with pytest.raises(CommandError, match="no 'clouds' mapping"):
        call_command("import_clouds", str(path))


def test_a_secret_survives_only_with_the_key_that_encrypted_it(db, settings, clouds_yaml):
    call_command("import_clouds", str(clouds_yaml))
    settings.SECRET_KEY = "another-secret-key-entirely-" + "x" * 30
    from imagetasks.dashboard.clouds.secretbox import SecretUnreadable

    with pytest.raises(SecretUnreadable, match="Enter the secret again"):
        Cloud.objects.get(name="lab").reveal_secret()


def test_a_segment_size_in_the_file_is_the_cloud_s_and_its_absence_the_default(db, tmp_path):
    path = tmp_path / "clouds.yaml"
    path.write_text(
        "clouds:\n"
        "  big:\n    auth_type: none\n    segment_size: 104857600\n"
        "  quoted:\n    auth_type: none\n    segment_size: '2097152'\n"
        "  plain:\n    auth_type: none\n"
    )
    call_command("import_clouds", str(path))
    sizes = dict(Cloud.objects.values_list("name", "segment_size"))
    assert sizes == {"big": 104_857_600, "quoted": 2_097_152, "plain": 1024**3}


@pytest.mark.parametrize(
    ("value", "message"),
    [("1000", "Ensure this value is greater than or equal to 1048576"), ("lots", "not a number")],
)
def test_a_segment_size_below_a_mebibyte_or_not_a_number_is_refused(db, tmp_path, value, message):
    path = tmp_path / "clouds.yaml"
    path.write_text(f"clouds:\n  odd:\n    auth_type: none\n    segment_size: {value}\n")
    with pytest.raises(CommandError, match=message):
        call_command("import_clouds", str(path))
    assert not Cloud.objects.exists()
