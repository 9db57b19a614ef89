"""Catalog lookup by service type, interface and region, and the image root with or
without ``/v2``. The HTTP tests use a scripted server on 127.0.0.1."""

from __future__ import annotations

import pytest

from imagetasks.openstack import CloudClient, EndpointNotFound
from imagetasks.openstack.catalog import Catalog
from imagetasks.openstack.images import image_root
from tests.openstack.samples import (
    IDENTITY_PATH,
    IMAGE_PATH,
    TASK_ID,
    keystone_reply,
    reference_json,
    v3_config,
)
from tests.openstack.scripted import Reply

PENDING = Reply(json=reference_json("rackspace_import_pending"))
V3_CATALOG = [
    {
        "type": "image",
        "name": "glance",
        "endpoints": [
            {"interface": "public", "region": "RegionOne", "url": "http://one-public:9292"},
            {"interface": "internal", "region": "RegionOne", "url": "http://one-internal:9292"},
            {"interface": "public", "region_id": "RegionTwo", "url": "http://two-public:9292"},
        ],
    },
    {
        "type": "object-store",
        "name": "swift",
        "endpoints": [{"interface": "public", "region": "RegionOne", "url": "http://swift/v1/A"}],
    },
]


@pytest.mark.parametrize("suffix", ["", "/", "/v2", "/v2/"])
def test_the_image_endpoint_with_or_without_v2_gives_the_same_task_url(cloud, suffix):
    image_url = cloud.url + IMAGE_PATH + suffix
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud, image_url=image_url))
    cloud.on("GET", f"{IMAGE_PATH}/v2/tasks/{TASK_ID}", PENDING)

    CloudClient(v3_config(cloud)).images.get_task(TASK_ID)

    assert cloud.requests("GET")[0].path == f"{IMAGE_PATH}/v2/tasks/{TASK_ID}"


@pytest.mark.parametrize(
    ("url", "root"),
    [
        (
            "https://dfw.images.api.rackspacecloud.com/v2",
            "https://dfw.images.api.rackspacecloud.com",
        ),
        ("http://host:9292", "http://host:9292"),
        ("http://host:9292/", "http://host:9292"),
        ("http://host/localcloud/image/v2/", "http://host/localcloud/image"),
        ("http://host:9292/v2.1", "http://host:9292"),
    ],
)
def test_image_root_cuts_the_version_suffix(url, root):
    assert image_root(url) == root


@pytest.mark.parametrize(
    ("interface", "region", "url"),
    [
        ("public", "", "http://one-public:9292"),
        ("internal", "RegionOne", "http://one-internal:9292"),
        ("public", "RegionTwo", "http://two-public:9292"),
        ("public", "regiontwo", "http://two-public:9292"),
    ],
)
def test_a_v3_catalog_is_searched_by_interface_and_region(interface, region, url):
    catalog = Catalog.from_v3(V3_CATALOG)

    assert catalog.url_for("image", interface=interface, region=region) == url


def test_a_v2_catalog_offers_public_and_internal_urls_by_region():
    access = reference_json("rackspace_access")["access"]
    catalog = Catalog.from_v2(access["serviceCatalog"])

    assert catalog.url_for("image", region="DFW") == "https://dfw.images.api.rackspacecloud.com/v2"
    assert catalog.url_for("object-store", interface="internal", region="DFW") == (
        "https://snet-storage101.dfw1.clouddrive.com/v1/MossoCloudFS_<uuid>"
    )


def test_a_missing_endpoint_is_reported_with_what_the_catalog_has():
    catalog = Catalog.from_v3(V3_CATALOG)

    with pytest.raises(EndpointNotFound) as caught:
        catalog.url_for("image", interface="admin", region="RegionOne")

    assert caught.value.message == (
        "no 'image' endpoint with interface 'admin' in region 'RegionOne'; the catalog has: "
        "image public RegionOne, image internal RegionOne, image public RegionTwo, "
        "object-store public RegionOne"
    )


def test_a_region_missing_from_the_catalog_is_not_silently_replaced(cloud):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud))

    with pytest.raises(EndpointNotFound, match="in region 'RegionNine'"):
        CloudClient(v3_config(cloud, region="RegionNine")).images.get_task(TASK_ID)


def test_endpoint_overrides_win_over_the_catalog(cloud):
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud, image_url="http://127.0.0.1:9/elsewhere"))
    cloud.on("GET", f"/override/v2/tasks/{TASK_ID}", PENDING)
    config = v3_config(cloud, endpoint_overrides={"image": cloud.url + "/override/v2"})

    CloudClient(config).images.get_task(TASK_ID)

    assert [r.path for r in cloud.requests()] == [IDENTITY_PATH, f"/override/v2/tasks/{TASK_ID}"]
