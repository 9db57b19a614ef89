"""Glance's discovery: GET /v2/info/import and /v2/info/stores (Images API 2.6 and 2.8)."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse

from imagetasks.localcloud import stores
from imagetasks.localcloud.api import CloudRequest, authenticated
from imagetasks.localcloud.images.errors import glance_api
from imagetasks.localcloud.images.methods import by_method


@glance_api
@authenticated
def import_methods(request: CloudRequest) -> HttpResponse:
    return by_method(request, {"GET": lambda request: JsonResponse(stores.import_info())})


@glance_api
@authenticated
def image_stores(request: CloudRequest) -> HttpResponse:
    return by_method(request, {"GET": lambda request: JsonResponse(stores.stores_info())})
