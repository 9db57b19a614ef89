"""The image picker shared by the export, copy and region import forms, by name.

Only an account's own, active images can be exported (and so copied); a copy from
another region of the cloud (glance-download) may take any active image the account
sees there, so that picker lists the other region's images through its endpoint. Glance
filters names only by equality, so the picker reads the account's images in
one walk (sorted by name, at most ``SCAN_LIMIT``) and searches and pages them
here. The image a person chose stays chosen across searches and pages: it is
pinned above the list when it is not on the page shown.

The picker's radio buttons belong to the form they sit in, so choosing one and
pressing the form's button submits it, with or without JavaScript; the search
box belongs to a small GET form of its own, which htmx turns into a live
search of the list alone (the box keeps its focus).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from imagetasks.dashboard import access
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud
from imagetasks.dashboard.views.common import Request
from imagetasks.openstack import CloudClient, CloudError, Image, NotFound

PAGE_SIZE = 20
SCAN_LIMIT = 1000
# The form each picker belongs to, by the URL name of its page (for links without
# JavaScript) and what that page needs in its query besides the cloud.
PURPOSES = {
    "export": ("dashboard:export", {}),
    "copy": ("dashboard:copy_new", {}),
    "region": ("dashboard:import", {"how": "glance-download"}),
}
# The purpose whose picker lists the images another region shows the account: not only
# its own, since a glance-download may copy any image the account may see there.
OTHER_REGION = "region"


@dataclass
class ImageChoices:
    """One page of the account's images that match a search, and the chosen one."""

    cloud: Cloud
    purpose: str
    region: str = ""
    q: str = ""
    page: int = 1
    selected_id: str = ""
    images: list[Image] = field(default_factory=list)
    matched: int = 0
    selected: Image | None = None
    truncated: bool = False
    error: str = ""

    @property
    def pinned(self) -> Image | None:
        """The chosen image when it is not on this page (shown above the list)."""
        if self.selected and all(image.id != self.selected.id for image in self.images):
            return self.selected
        return None

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.images else 0

    @property
    def last(self) -> int:
        return self.first + len(self.images) - 1 if self.images else 0

    @property
    def has_next(self) -> bool:
        return self.page * PAGE_SIZE < self.matched

    @property
    def scope(self) -> str:
        """Whose images the list shows, in words."""
        if self.region:
            return f"The images of region {self.region}"
        return "The account's images"

    @property
    def page_fields(self) -> list[tuple[str, str]]:
        """What the form's page needs in its query besides the cloud and the search."""
        fixed = PURPOSES[self.purpose][1]
        return [*fixed.items(), *([("region", self.region)] if self.region else [])]

    def _params(self, **changes) -> dict[str, str]:
        values: dict[str, object] = {"cloud": self.cloud.name, **dict(self.page_fields)}
        values |= {"q": self.q, "page": self.page, "image": self.selected_id} | changes
        return {key: str(value) for key, value in values.items() if value not in ("", 1, None)}

    def page_url(self, **changes) -> str:
        """The form's own page with this search (works without JavaScript)."""
        return f"{reverse(PURPOSES[self.purpose][0])}?{urlencode(self._params(**changes))}"

    def fragment_url(self, **changes) -> str:
        """The list alone, for htmx; the chosen image is sent along by the page."""
        params = {"for": self.purpose, **self._params(**changes)}
        for key in ("cloud", "image", *PURPOSES[self.purpose][1]):
            params.pop(key, None)
        return f"{reverse('dashboard:image_picker', args=[self.cloud.name])}?{urlencode(params)}"

    @property
    def previous_page_url(self) -> str:
        return self.page_url(page=self.page - 1)

    @property
    def next_page_url(self) -> str:
        return self.page_url(page=self.page + 1)

    @property
    def previous_fragment_url(self) -> str:
        return self.fragment_url(page=self.page - 1)

    @property
    def next_fragment_url(self) -> str:
        return self.fragment_url(page=self.page + 1)

    @property
    def search_action(self) -> str:
        """Where the search box's own form goes without JavaScript: the form's page."""
        return reverse(PURPOSES[self.purpose][0])

    @property
    def search_fragment_url(self) -> str:
        """The list for a new search (the box's value and the choice are added by htmx)."""
        params = {"for": self.purpose, **({"region": self.region} if self.region else {})}
        return f"{reverse('dashboard:image_picker', args=[self.cloud.name])}?{urlencode(params)}"


def exportable(client: CloudClient, image_id: str, in_words: str) -> tuple[Image | None, str]:
    """The image and "" when it can be exported (so copied); else what is wrong with it.

    Only an account's own, active image can be exported. ``in_words`` names the account in
    the message ("this account", "acme-dfw").
    """
    try:
        image = client.images.get_image(image_id)
    except NotFound:
        return None, f"There is no image {image_id} in {in_words}."
    if image.owner != client.project_id:
        return image, "This image belongs to another account: only the image owner may export it."
    if image.status != "active":
        return image, f"The image is {image.status}; only an active image can be exported."
    return image, ""


def _matches(image: Image, needle: str) -> bool:
    return needle in (image.name or "").lower() or needle == image.id.lower()


def _listed(client: CloudClient, purpose: str, region: str) -> list[Image]:
    """The images a picker chooses from, by name: the account's own in its region, or
    every image another region shows it."""
    if purpose == OTHER_REGION:
        images = client.images_in(region)
        return list(images.list_images(sort_key="name", sort_dir="asc", limit=SCAN_LIMIT))
    return list(
        client.images.list_images(
            owner=client.project_id, sort_key="name", sort_dir="asc", limit=SCAN_LIMIT
        )
    )


def image_choices(
    cloud: Cloud,
    *,
    purpose: str,
    q: str = "",
    page: int = 1,
    selected_id: str = "",
    region: str = "",
) -> ImageChoices:
    """The page of the images matching ``q`` (name contains, or the exact id)."""
    choices = ImageChoices(
        cloud, purpose, region=region, q=q.strip(), page=max(page, 1), selected_id=selected_id
    )
    try:
        owned = _listed(client_for(cloud), purpose, region)
    except CloudError as error:
        where = f" in region {region}" if region else ""
        choices.error = f"The cloud {cloud.name} could not list its images{where}: {error.message}"
        return choices
    choices.truncated = len(owned) >= SCAN_LIMIT
    needle = choices.q.lower()
    matching = [image for image in owned if _matches(image, needle)] if needle else owned
    choices.matched = len(matching)
    last_page = max(1, -(-len(matching) // PAGE_SIZE))
    choices.page = min(choices.page, last_page)
    start = (choices.page - 1) * PAGE_SIZE
    choices.images = matching[start : start + PAGE_SIZE]
    choices.selected = next((image for image in owned if image.id == selected_id), None)
    return choices


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 10_000))
    except ValueError:
        return 1


def choices_from(
    request: Request, cloud: Cloud, purpose: str, selected_id: str = "", region: str = ""
):
    """The picker for a form page: search and page from the URL, the choice from the form."""
    return image_choices(
        cloud,
        purpose=purpose,
        q=request.GET.get("q", "")[:255],
        page=_page_number(request.GET.get("page")),
        selected_id=selected_id[:64],
        region=region,
    )


@require_GET
def pick_image(request: Request, cloud_name: str) -> HttpResponse:
    """The picker's list alone (search, paging), for htmx; operators only, like its forms.

    Another region's list is given only for a region the cloud's catalog names.
    """
    cloud = access.get_cloud_for_user(request, cloud_name)
    access.require_operator(request)
    purpose = request.GET.get("for", "export")
    if purpose not in PURPOSES:
        purpose = "export"
    region = ""
    if purpose == OTHER_REGION:
        region = request.GET.get("region", "")
        if region not in (cloud.image_regions or []):
            raise Http404("The cloud lists no such region.")
    selected = request.GET.get("image_id") or request.GET.get("image") or ""
    choices = choices_from(request, cloud, purpose, selected, region)
    return render(request, "dashboard/_image_picker.html#choices", {"choices": choices})
