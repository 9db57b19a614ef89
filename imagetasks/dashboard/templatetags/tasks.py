"""How a task reads in the table and on its page: source, target, result link, expiry.

Everything is computed from the row itself (input, result, timestamps), so a
page of rows costs no further query.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html

from imagetasks.dashboard import dismissal, hints, statuses

register = template.Library()


def _mapping(value) -> dict:
    """A JSON object as a dict; anything else a cloud sent (a list, a string) as empty."""
    return value if isinstance(value, dict) else {}


@register.filter
def source(task) -> str:
    """Import: where the bytes come from. Export: the image id."""
    data = _mapping(task.input)
    if task.type == "import" and task.method == "copy-image":
        return f"image {data.get('image_id') or ''}"
    if task.type == "import" and task.method == "glance-download":
        return f"image {data.get('glance_image_id') or ''} in {data.get('glance_region') or ''}"
    if task.type == "import":
        return str(data.get("import_from") or data.get("uri") or data.get("filename") or "")
    return str(data.get("image_uuid") or "")


def _names(value) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


@register.filter
def import_state(task) -> dict:
    """An interoperable import's state as its image showed it last, every value as text."""
    result = _mapping(task.result)
    return {
        "image_status": str(result.get("image_status") or ""),
        "stores": _names(result.get("stores")),
        "importing_to": _names(result.get("importing_to")),
        "failed_stores": _names(result.get("failed_stores")),
        "task_status": str(result.get("task_status") or ""),
        "task_message": str(result.get("task_message") or ""),
    }


@register.filter
def partial_note(task) -> str:
    """ "partly succeeded: failed in X" for an import that reached only some stores."""
    result = _mapping(task.result)
    if task.status != statuses.SUCCESS or result.get("partial") is not True:
        return ""
    return f"partly succeeded: failed in {', '.join(_names(result.get('failed_stores')))}"


@register.filter
def target(task) -> str:
    """Import: the image name (a copy: the stores it goes to). Export: the receiving container."""
    data = _mapping(task.input)
    if task.type == "import" and task.method == "copy-image":
        return f"stores {', '.join(_names(data.get('stores')))}"
    if task.type == "import":
        return str(_mapping(data.get("image_properties")).get("name") or "(no name)")
    return str(data.get("receiving_swift_container") or "")


@register.filter
def display_name(task) -> str:
    """What people call the task: its image's name, else what it works on."""
    return task.name or source(task) or task.remote_id or "(no name)"


def split_location(location: str) -> tuple[str, str]:
    container, _, name = location.partition("/")
    return container, name


@register.filter
def result_url(task) -> str:
    """The dashboard page of what the task made: the imported image or the exported object.

    Whatever a cloud put in the result, the page renders: a value no URL can carry
    (a ``/`` in an image id, a number, a list) is shown as text, not linked.
    """
    result = _mapping(task.result)
    try:
        if task.type == "import" and isinstance(result.get("image_id"), str):
            return reverse("dashboard:image", args=[task.cloud.name, result["image_id"]])
        if task.type == "export" and isinstance(result.get("export_location"), str):
            container, name = split_location(result["export_location"])
            if container and name:
                return reverse("dashboard:object", args=[task.cloud.name, container, name])
    except NoReverseMatch:
        return ""
    return ""


@register.filter
def result_label(task) -> str:
    """The imported image by its name (as the task named it), or the exported object."""
    result = _mapping(task.result)
    if task.type == "import":
        if "image_id" not in result:
            return ""
        return f"Image {task.name}" if task.name else f"Image {result['image_id']!s}"
    return str(result.get("export_location", ""))


@register.filter
def origin_label(task) -> str:
    """How the task came here, said once: "Submitted", "Resubmitted", "Found on the cloud"."""
    return {"discovered": "Found on the cloud"}.get(task.origin, task.get_origin_display())


@register.filter
def run_time(task) -> timedelta | None:
    """Submitted to its end (the last observed change), or to now while it runs."""
    end = timezone.now() if task.status_info.in_flight else task.changed_at
    if not (end and task.submitted_at):
        return None
    return max(end - task.submitted_at, timedelta(0))


@register.filter
def table_duration(task) -> str:
    """Submitted → end ("4.1 s"), or "running for 3 min" (rows are redrawn each minute)."""
    took = run_time(task)
    if took is None:
        return ""
    if task.status_info.terminal:
        return duration(took)
    minutes = int(took.total_seconds() // 60)
    if minutes < 1:
        return "running, under a minute"
    if minutes < 60:
        return f"running for {minutes} min"
    return f"running for {minutes // 60} h {minutes % 60} min"


@register.simple_tag
def sort_header(query, column: str, label: str) -> str:
    """A column header that sorts the table by it, and reverses on the next click."""
    state = query.aria_sort(column)
    arrow = {"ascending": " ▲", "descending": " ▼"}.get(state, "")
    href = table_url(query, sort=query.sort_link(column), page=1)
    return format_html(
        '<th scope="col"{}><a href="{}">{}<span aria-hidden="true">{}</span></a></th>',
        format_html(' aria-sort="{}"', state) if state else "",
        href,
        label,
        arrow,
    )


ABSOLUTE = "Y-m-d H:i:s T"


def _absolute(moment: datetime) -> str:
    return format_date(timezone.localtime(moment), ABSOLUTE)


@register.simple_tag
def timestamp(moment: datetime | None) -> str:
    """A moment to the second with its time zone, as a <time> element."""
    if not moment:
        return "—"
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), _absolute(moment))


@register.simple_tag
def ago(moment: datetime | None) -> str:
    """ "5 minutes ago", with the moment to the second and its time zone on hover."""
    if not moment:
        return "—"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        _absolute(moment),
        naturaltime(moment),
    )


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
def can_dismiss(task) -> bool:
    """Whether the task may be dismissed (failed, rejected, vanished, stale; see dismissal.py)."""
    return dismissal.can_dismiss(task)


@register.filter
def task_hint(task):
    """What the task's failure means and what to do (see hints.py)."""
    return hints.hint_for_task(task)


@register.simple_tag
def table_url(query, **changes) -> str:
    """The table's URL for the same filters with ``changes`` (page, sort…) applied."""
    qs = query.querystring(**changes)
    return reverse("dashboard:home") + (f"?{qs}" if qs else "")


@register.simple_tag
def live_trigger(every: str) -> str:
    """The hx-trigger of a live part: every ``every``, and at once when its tab is shown
    again. The element also carries ``data-live``: static/js/imagetasks.js cancels its
    requests while the tab is hidden (a filter in the trigger would need eval)."""
    return format_html("every {}, visibilitychange from:document", every)


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
    if seconds < 0.01:
        return "under 0.01 s"
    if seconds < 10:
        return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(int(seconds), 60)
        return f"{minutes} min {rest} s" if minutes else f"{rest} s"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60} min"


@register.filter
def status_of(code: str):
    """The status map's entry for a code (label, badge, icon)."""
    return statuses.get(code)
