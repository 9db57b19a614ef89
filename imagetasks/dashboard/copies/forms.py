"""The copy form: which image, which target cloud, which name there.

The choice of target is checked here (not the same account and region);
whatever needs the clouds (the image is the account's own, the target can
import from object storage) is checked in the view, which holds the clients.
"""

from __future__ import annotations

import uuid

from django import forms

from imagetasks.dashboard.forms import IMAGE_NAME_MAX
from imagetasks.dashboard.models import Cloud

NO_TARGETS = (
    "No other cloud is available to you to copy to. Ask an administrator to grant you "
    "access to a second cloud (or to another region of this account)."
)


def same_place(a: Cloud, b: Cloud) -> bool:
    """The same cloud, or another entry for the same account in the same region."""
    if a.pk == b.pk:
        return True
    account = ("auth_url", "project_name", "project_id", "image_endpoint", "region")
    return all(getattr(a, field) == getattr(b, field) for field in account)


class CopyForm(forms.Form):
    cloud = forms.CharField(widget=forms.HiddenInput)
    copy_id = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    image_id = forms.CharField(
        label="Image", max_length=64, error_messages={"required": "Pick the image to copy."}
    )
    target = forms.CharField(
        label="Target cloud",
        help_text="Another cloud, or another region of the same account.",
        widget=forms.Select,
    )
    name = forms.CharField(
        label="Name in the target",
        max_length=IMAGE_NAME_MAX,
        required=False,
        help_text=f"At most {IMAGE_NAME_MAX} characters; empty keeps the image's name.",
    )

    def __init__(self, *args, source: Cloud, targets: list[Cloud], **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        self.targets = {cloud.name: cloud for cloud in targets}
        choices = [("", "choose…")] + [
            (c.name, f"{c.name} ({c.region})" if c.region else c.name) for c in targets
        ]
        self.fields["target"].widget.choices = choices

    def clean_target(self) -> Cloud:
        name = self.cleaned_data["target"]
        if name == self.source.name:
            raise forms.ValidationError(
                f"The image is already in {name}: pick another cloud or region."
            )
        target = self.targets.get(name)
        if target is None:
            raise forms.ValidationError("Pick one of the clouds in the list.")
        if same_place(self.source, target):
            raise forms.ValidationError(
                f"{name} is the same account and region as {self.source.name}: "
                "pick another cloud or region."
            )
        return target

    def clean(self):
        cleaned = super().clean()
        if not self.targets:
            raise forms.ValidationError(NO_TARGETS)
        return cleaned
