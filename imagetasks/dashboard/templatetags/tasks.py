"""How a task reads in the table and on its page: source, target, result link, expiry.

Everything is computed from the row itself (input, result, timestamps), so a
page of rows costs no further query.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import timezone

from imagetasks.dashboard import hints, statuses

register = template.Library()


@register.filter
def source(task) -> str:
    """Import: where the bytes come from. Export: the image id."""
    data = task.input or {}
    if task.type == "import":
        return str(data.get("import_from") or "")
    return str(data.get("image_uuid") or "")


@register.filter
def target(task) -> str:
    """Import: the image name. Export: the receiving container."""
    data = task.input or {}
    if task.type == "import":
        return str((data.get("image_properties") or {}).get("name") or "(no name)")
    return str(data.get("receiving_swift_container") or "")


def split_location(location: str) -> tuple[str, str]:
    container, _, name = location.partition("/")
    return container, name


@register.filter
def result_url(task) -> str:
    """The dashboard page of what the task made: the imported image or the exported object."""
    result = task.result or {}
    if task.type == "import" and result.get("image_id"):
        return reverse("dashboard:image", args=[task.cloud.name, result["image_id"]])
    if task.type == "export" and result.get("export_location"):
        container, name = split_location(str(result["export_location"]))
        if container and name:
            return reverse("dashboard:object", args=[task.cloud.name, container, name])
    return ""


@register.filter
def result_label(task) -> str:
    result = task.result or {}
    if task.type == "import":
        return "Image " + str(result.get("image_id", ""))[:8]
    return str(result.get("export_location", ""))


@register.filter
def expiry(task) -> str:
    """ "expires in 47 hours", or that the cloud has forgotten it while the result stays."""
    now = timezone.now()
    if task.remote_gone_at or (task.expires_at and task.expires_at <= now):
        return "expired on the cloud — result kept"
    if task.expires_at:
        seconds = (task.expires_at - now).total_seconds()
        if seconds >= 3600:
            return f"expires in {int(seconds // 3600)} h"
        return f"expires in {max(1, int(seconds // 60))} min"
    return ""


@register.filter
def hint(message: str):
    return hints.hint_for(message)


@register.simple_tag
def table_url(query, **changes) -> str:
    """The table's URL for the same filters with ``changes`` (page, sort…) applied."""
    qs = query.querystring(**changes)
    return reverse("dashboard:home") + (f"?{qs}" if qs else "")


@register.simple_tag
def rows_url(page) -> str:
    """The rows fragment's URL for what the page shows, naming the version it shows."""
    qs = page.query.querystring()
    return f"{reverse('dashboard:rows')}?{qs + '&' if qs else ''}v={page.version}"


@register.filter
def pretty_json(value) -> str:
    """JSON indented for reading (escaped by the template like any text)."""
    import json

    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def duration(value) -> str:
    """A time span as people say it: "0.06 s", "4.1 s", "2 min 5 s", "3 h 10 min"."""
    if value is None:
        return ""
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{seconds:.2g} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(int(seconds), 60)
        return f"{minutes} min {rest} s" if minutes else f"{rest} s"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60} min"


@register.filter
def status_of(code: str):
    """The status map's entry for a code (label, badge, icon)."""
    return statuses.get(code)
