"""The object browser of the import form: containers, then a container's objects.

Listings come from the cloud page by page (Swift's ``marker``), filtered by
name prefix, through ``clouds/listings.py`` as the API's. Each link is a real URL
of the import page (so the browser works without JavaScript); with htmx only the
browser part is fetched and swapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from imagetasks.dashboard import access
from imagetasks.dashboard.clouds import listings
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud
from imagetasks.dashboard.views.common import Request
from imagetasks.openstack import CloudClient, CloudError


@dataclass
class Listing:
    cloud: str
    container: str = ""
    prefix: str = ""
    marker: str = ""
    entries: list = field(default_factory=list)
    next_marker: str = ""
    error: str = ""

    def _query(self, **params) -> str:
        return urlencode({"cloud": self.cloud, **{k: v for k, v in params.items() if v}})

    def import_url(self, **params) -> str:
        return f"{reverse('dashboard:import')}?{self._query(**params)}"

    def browse_url(self, **params) -> str:
        return f"{reverse('dashboard:browse', args=[self.cloud])}?{urlencode(params)}"


def list_location(
    client: CloudClient, cloud: str, container: str, prefix: str, marker: str
) -> Listing:
    """One page of the account's containers, or of a container's objects after ``marker``."""
    listing = Listing(cloud=cloud, container=container, prefix=prefix, marker=marker)
    try:
        if not container:
            listing.entries = listings.containers(client, prefix).entries
            return listing
        page = listings.objects(client, container, prefix, marker)
    except CloudError as error:
        listing.error = f"The cloud could not list this: {error.message}"
        return listing
    except ValueError as error:  # a name no store can have, such as "."
        listing.error = f"There is nothing to list here: {error}."
        return listing
    listing.entries, listing.next_marker = page.entries, page.next_marker
    return listing


def listing_for(request: Request, cloud: Cloud) -> Listing:
    get = request.GET
    return list_location(
        client_for(cloud),
        cloud.name,
        get.get("container", "")[:256],
        get.get("prefix", "")[:1024],
        get.get("marker", "")[:1024],
    )


@require_GET
def browse(request: Request, cloud_name: str) -> HttpResponse:
    """The browser part alone, for htmx; operators only, like the form it belongs to."""
    cloud = access.get_cloud_for_user(request, cloud_name)
    access.require_operator(request)
    listing = listing_for(request, cloud)
    return render(request, "dashboard/import.html#browser", {"listing": listing})
