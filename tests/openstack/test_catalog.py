"""Catalog lookup by service type, interface and region, and the image root with or
without ``/v2``. The HTTP tests use a scripted server on 127.0.0.1."""

from __future__ import annotations

import pytest

from imagetasks.openstack import CloudClient, CloudConfig, EndpointNotFound
from imagetasks.openstack.catalog import Catalog
from imagetasks.openstack.images import image_root
from tests.openstack.samples import (
    IDENTITY_PATH,
    IMAGE_PATH,
    TASK_ID,
    TOKEN,
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


# Other regions ----------------------------------------------------------------------------


def test_the_regions_of_a_service_are_named_once_each_in_the_catalogs_order():
    catalog = Catalog.from_v3(
        [
            *V3_CATALOG,
            {
                "type": "image",
                "endpoints": [
                    {"interface": "public", "region": "regiontwo", "url": "http://again"},
                    {"interface": "public", "region": "", "url": "http://nameless"},
                    {"interface": "public", "region": "RegionThree", "url": "http://three"},
                ],
            },
        ]
    )

    assert catalog.regions_of("image") == ("RegionOne", "RegionTwo", "RegionThree")
    assert catalog.regions_of("image", interface="internal") == ("RegionOne",)
    assert catalog.regions_of("volume") == ()


def test_a_v2_catalog_names_its_regions_too():
    access = reference_json("rackspace_access")["access"]

    regions = Catalog.from_v2(access["serviceCatalog"]).regions_of("image")

    assert "DFW" in regions and len(regions) == len(set(regions))


def test_another_regions_images_are_read_from_its_endpoint_with_the_same_token(cloud):
    two = f"{cloud.url}/two/image"
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud, image_regions={"RegionTwo": two}))
    cloud.on("GET", "/two/image/v2/images", Reply(json={"images": [], "first": "/v2/images"}))
    client = CloudClient(v3_config(cloud, region="RegionOne"))

    assert client.other_image_regions() == ("RegionTwo",)
    assert list(client.images_in("RegionTwo").list_images()) == []

    (listed,) = cloud.requests("GET")
    assert listed.path.startswith("/two/image/v2/images")
    assert listed.headers["X-Auth-Token"] == TOKEN
    assert len(cloud.requests("POST", IDENTITY_PATH)) == 1, "one sign-in for both regions"


def test_without_a_configured_region_the_first_one_listed_is_the_accounts_own(cloud):
    regions = {"RegionTwo": f"{cloud.url}/two", "RegionThree": f"{cloud.url}/three"}
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud, image_regions=regions))

    assert CloudClient(v3_config(cloud)).other_image_regions() == ("RegionTwo", "RegionThree")
    assert CloudClient(v3_config(cloud, region="regiontwo")).other_image_regions() == (
        "RegionOne",
        "RegionThree",
    )


def test_an_override_stands_for_the_accounts_own_region_only(cloud):
    two = f"{cloud.url}/two/image"
    cloud.on("POST", IDENTITY_PATH, keystone_reply(cloud, image_regions={"RegionTwo": two}))
    cloud.on("GET", f"/override/v2/tasks/{TASK_ID}", PENDING)
    cloud.on("GET", "/two/image/v2/images/x", Reply(json={"id": "x", "status": "active"}))
    config = v3_config(cloud, endpoint_overrides={"image": cloud.url + "/override/v2"})
    client = CloudClient(config)

    client.images.get_task(TASK_ID)
    client.images_in("RegionTwo").get_image("x")

    assert [r.path for r in cloud.requests("GET")] == [
        f"/override/v2/tasks/{TASK_ID}",
        "/two/image/v2/images/x",
    ]


def test_a_cloud_without_a_catalog_has_no_other_region(cloud):
    config = CloudConfig(auth_type="none", endpoint_overrides={"image": cloud.url + "/image"})

    assert CloudClient(config).other_image_regions() == ()
    assert cloud.received == []
