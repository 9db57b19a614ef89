"""The task schema tells Rackspace from Glance, and task inputs are built in each style.
The client tests use a scripted server on 127.0.0.1 over real HTTP."""

from __future__ import annotations

import pytest

from imagetasks.openstack import (
    TasksFlavour,
    build_export_input,
    build_import_input,
    detect_flavour,
)
from tests.openstack.samples import (
    IMAGE_PATH,
    PROJECT_ID,
    glance_import_input,
    reference_json,
    task_schema,
)
from tests.openstack.scripted import Reply

RACKSPACE = TasksFlavour("rackspace", True, ("import", "export"))
GLANCE = TasksFlavour("glance", False, ("import", "api_image_import", "location_import"))


def test_the_rackspace_schema_offers_export_and_container_object_imports():
    flavour = detect_flavour(reference_json("rackspace_task_schema"))

    assert flavour == RACKSPACE


def test_the_glance_schema_offers_url_imports_and_no_export():
    assert detect_flavour(task_schema("import", "api_image_import", "location_import")) == GLANCE


def test_the_glance_api_reference_sample_with_import_only_is_glance():
    assert detect_flavour(task_schema("import")).import_style == "glance"


def test_a_schema_with_export_and_glance_types_is_glance_style_with_export():
    flavour = detect_flavour(task_schema("import", "export", "api_image_import"))

    assert (flavour.import_style, flavour.offers_export) == ("glance", True)


def test_a_schema_without_a_type_enum_is_taken_for_glance_without_export():
    assert detect_flavour({"name": "task", "properties": {}}) == TasksFlavour("glance", False, ())


def test_a_rackspace_import_reads_container_object_and_sends_only_the_name():
    task_input = build_import_input(
        RACKSPACE, source="exports/my-excellent-image.vhd", name="My excellent custom image"
    )

    assert task_input == {
        "import_from": "exports/my-excellent-image.vhd",
        "image_properties": {"name": "My excellent custom image"},
    }


@pytest.mark.parametrize("source", ["no-slash", "/object", "container/", "http://h/x.vhd"])
def test_a_rackspace_import_refuses_a_source_that_is_not_container_object(source):
    with pytest.raises(ValueError, match="container/object"):
        build_import_input(RACKSPACE, source=source, name="x")


def test_a_glance_import_carries_formats_and_the_owner():
    task_input = build_import_input(
        GLANCE,
        source="http://127.0.0.1:8000/cirros.raw",
        name="cirros",
        disk_format="raw",
        owner=PROJECT_ID,
    )

    assert task_input == glance_import_input()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"source": "exports/a.vhd"}, "http"),
        ({"source": "file:///etc/passwd"}, "http"),
        ({"disk_format": ""}, "disk_format"),
        ({"owner": ""}, "owner"),
    ],
)
def test_a_glance_import_refuses_what_glance_would_fail(fields, says):
    good = {"source": "https://h/x.qcow2", "disk_format": "qcow2", "owner": PROJECT_ID}

    with pytest.raises(ValueError, match=says):
        build_import_input(GLANCE, **{**good, **fields})


def test_an_export_input_names_the_image_and_the_container():
    assert build_export_input(RACKSPACE, image_id="ca5e", container="exports") == {
        "image_uuid": "ca5e",
        "receiving_swift_container": "exports",
    }


def test_an_export_is_refused_where_the_cloud_offers_none():
    with pytest.raises(ValueError, match="no export"):
        build_export_input(GLANCE, image_id="ca5e", container="exports")


def test_the_client_reads_the_schema_once_and_fills_in_its_project_as_owner(cloud, client):
    schema = task_schema("import", "api_image_import", "location_import")
    cloud.on("GET", f"{IMAGE_PATH}/v2/schemas/task", Reply(json=schema))

    first = client.import_input(source="http://127.0.0.1:1/a.raw", name="a", disk_format="raw")
    client.import_input(source="http://127.0.0.1:1/b.raw", name="b", disk_format="raw")

    assert first["image_properties"]["owner"] == PROJECT_ID
    assert len(cloud.requests("GET")) == 1


def test_the_client_builds_rackspace_inputs_for_a_rackspace_schema(cloud, client):
    cloud.on("GET", f"{IMAGE_PATH}/v2/schemas/task", Reply(json=task_schema("import", "export")))

    assert client.import_input(source="exports/a.vhd", name="a") == {
        "import_from": "exports/a.vhd",
        "image_properties": {"name": "a"},
    }
    assert client.export_input(image_id="ca5e", container="exports")["image_uuid"] == "ca5e"
