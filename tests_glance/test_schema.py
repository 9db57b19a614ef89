"""A real Glance's task schema is what tells the client it talks to Glance, not Rackspace."""

from __future__ import annotations


def test_the_served_task_schema_offers_glance_types_and_no_export(glance, connect):
    schema = connect(glance).images.get_task_schema()

    types = schema["properties"]["type"]["enum"]
    assert "api_image_import" in types
    assert "import" in types
    assert "export" not in types


def test_the_client_reads_glance_style_imports_without_export_from_the_schema(glance, connect):
    flavour = connect(glance).tasks_flavour()

    assert flavour.import_style == "glance"
    assert flavour.offers_export is False
    assert "location_import" in flavour.task_types
