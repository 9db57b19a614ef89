"""Warnings on the import and export forms: things that will probably fail, said before.

A warning is not a refusal. It is shown as soon as the form knows it (on the
page, and live as the person picks, through the ``check`` fragments), and it
carries a hidden ``warned`` field naming what it warned about. A form sent
with warnings its sender has not seen (without JavaScript, say) is shown
again with them instead of being submitted; sending it again goes ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from imagetasks.dashboard import access
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.views.common import Request
from imagetasks.openstack import CloudError, NotFound


@dataclass
class Warnings:
    """What a form warns about, and the key its hidden ``warned`` field carries."""

    kind: str  # "import" or "export": which check fragment refreshes it
    cloud: str
    messages: list[str] = field(default_factory=list)
    key: str = ""

    @property
    def check_url(self) -> str:
        return reverse(f"dashboard:{self.kind}_check", args=[self.cloud])

    def seen_in(self, data) -> bool:
        """Whether the form was sent after these very warnings were shown."""
        return not self.messages or data.get("warned") == self.key


def for_import(cloud, style: str, container: str, name: str) -> Warnings:
    """Rackspace-style clouds import only VHDs: an object not named ``….vhd`` likely fails."""
    warnings = Warnings("import", cloud.name)
    if style == "rackspace" and name and not name.lower().endswith(".vhd"):
        warnings.messages.append(
            f"“{name}” does not end in .vhd. This cloud imports only VHD files, so the import "
            "will probably fail with error 396. Convert the disk to VHD first "
            "(qemu-img convert -O vpc) unless you know it is one."
        )
        warnings.key = f"{container}/{name}"
    return warnings


def for_export(cloud, image_id: str, container: str) -> Warnings:
    """An export writes ``<container>/<image id>.vhd`` and never overwrites it."""
    warnings = Warnings("export", cloud.name)
    if not (image_id and container):
        return warnings
    name = f"{image_id}.vhd"
    try:
        client_for(cloud).objects.head_object(container, name)
    except NotFound:
        return warnings
    except CloudError:
        return warnings  # the submission itself will say what is wrong with the cloud
    except ValueError:
        return warnings  # a name no store can have ("."): the form says so on the field
    warnings.messages.append(
        f"{container}/{name} already exists, and an export does not overwrite it: this "
        "export will fail. Choose another container, or delete that object first."
    )
    warnings.key = f"{container}/{name}"
    return warnings


def _value(request: Request, key: str, limit: int) -> str:
    return request.GET.get(key, "").strip()[:limit]


@require_GET
def import_check(request: Request, cloud_name: str) -> HttpResponse:
    """The import form's warnings for what it holds now (htmx swaps them in)."""
    cloud = access.get_cloud_for_user(request, cloud_name)
    access.require_operator(request)
    try:
        style = client_for(cloud).tasks_flavour().import_style
    except CloudError:
        style = "rackspace"
    warnings = for_import(
        cloud, style, _value(request, "container", 256), _value(request, "object", 1024)
    )
    return render(request, "dashboard/_form_warnings.html", {"warnings": warnings})


@require_GET
def export_check(request: Request, cloud_name: str) -> HttpResponse:
    """The export form's warnings for the image and container it holds now."""
    cloud = access.get_cloud_for_user(request, cloud_name)
    access.require_operator(request)
    warnings = for_export(cloud, _value(request, "image_id", 64), _value(request, "container", 256))
    return render(request, "dashboard/_form_warnings.html", {"warnings": warnings})
