"""The image stores and import methods the built-in cloud offers (Glance's discovery).

Stores are names from LOCALCLOUD_STORES, the first the default, as Glance's
``enabled_backends``. An image's bytes are one immutable blob; the stores it
is in are a list on the image, and writing to a store is a pass over the blob
that checks its checksum (see ``executors.image_import``).
"""

from __future__ import annotations

from django.conf import settings

IMPORT_METHODS = ("glance-direct", "web-download", "copy-image", "glance-download")
DESCRIPTIONS = {0: "The default store: new images go here unless told otherwise."}


def store_ids() -> list[str]:
    return list(settings.LOCALCLOUD_STORES)


def default_store() -> str:
    return settings.LOCALCLOUD_STORES[0]


def import_info() -> dict:
    """The body of GET /v2/info/import."""
    return {
        "import-methods": {
            "description": "Import methods available.",
            "type": "array",
            "value": list(IMPORT_METHODS),
        }
    }


def stores_info() -> dict:
    """The body of GET /v2/info/stores; Glance writes ``default`` as the string "true"."""
    stores = []
    for index, store_id in enumerate(store_ids()):
        entry = {"id": store_id, "description": DESCRIPTIONS.get(index, f"The {store_id} store.")}
        if index == 0:
            entry["default"] = "true"
        stores.append(entry)
    return {"stores": stores}


def discovery_headers() -> dict[str, str]:
    """What Glance adds to image answers so clients can choose the import path."""
    return {
        "OpenStack-image-import-methods": ",".join(IMPORT_METHODS),
        "OpenStack-image-store-ids": ",".join(store_ids()),
    }
