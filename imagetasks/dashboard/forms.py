"""The import and export forms: Swift's name rules here, existence checks through the client.

Each form carries the id of the task it will create (``submission_id``), so a
form sent twice creates one task. Checks that need the cloud (the object
exists, the image is owned) run in the view, which holds the client.
"""

from __future__ import annotations

import uuid

from django import forms

CONTAINER_MAX_BYTES = 256
OBJECT_MAX_BYTES = 1024
IMAGE_NAME_MAX = 255
DISK_FORMATS = ["vhd", "qcow2", "raw", "vmdk", "vdi", "iso", "ami", "ari", "aki"]
CONTAINER_FORMATS = ["bare", "ovf", "ova", "docker", "ami", "ari", "aki"]


def validate_container_name(name: str, *, export: bool = False) -> None:
    """Swift: at most 256 bytes of UTF-8, no ``/``; a Rackspace export also refuses ``?``, ``.``."""
    if len(name.encode()) > CONTAINER_MAX_BYTES:
        raise forms.ValidationError(
            f"A container name is at most {CONTAINER_MAX_BYTES} bytes (this one is "
            f"{len(name.encode())})."
        )
    if "/" in name:
        raise forms.ValidationError("A container name cannot contain '/'.")
    if name in (".", ".."):
        raise forms.ValidationError(f"A container cannot be named “{name}”.")
    if "\x00" in name:
        raise forms.ValidationError("A container name cannot contain a NUL character.")
    if export and ("?" in name or "." in name):
        raise forms.ValidationError("An export's container name cannot contain '?' or '.'.")


def validate_object_name(name: str) -> None:
    """Swift: at most 1024 bytes of UTF-8, no NUL."""
    if "\x00" in name:
        raise forms.ValidationError("An object name cannot contain a NUL character.")
    if len(name.encode()) > OBJECT_MAX_BYTES:
        raise forms.ValidationError(
            f"An object name is at most {OBJECT_MAX_BYTES} bytes (this one is "
            f"{len(name.encode())})."
        )


class SubmissionForm(forms.Form):
    cloud = forms.CharField(widget=forms.HiddenInput)
    submission_id = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


def store_choices(image_stores: object) -> list[tuple[str, str]]:
    """A cloud's stores as it last listed them (``Cloud.image_stores``), as choices; any
    entry that is not a store with an id is left out."""
    listed = image_stores if isinstance(image_stores, list) else []
    return [
        (store["id"], f"{store['id']} (default)" if store.get("default") is True else store["id"])
        for store in listed
        if isinstance(store, dict) and isinstance(store.get("id"), str) and store["id"]
    ]


def default_store(image_stores: object) -> str:
    """The store a cloud imports to unless told otherwise ("" when it lists none)."""
    listed = image_stores if isinstance(image_stores, list) else []
    for store in listed:
        if isinstance(store, dict) and store.get("default") is True:
            return str(store.get("id") or "")
    choices = store_choices(image_stores)
    return choices[0][0] if choices else ""


def stores_field(choices: list[tuple[str, str]], **options) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one store."},
        **options,
    )


def add_stores_field(form: forms.Form, image_stores: object) -> None:
    """On a cloud with several stores, the stores an import goes to (its default one
    ticked); nothing to choose on a cloud with one."""
    choices = store_choices(image_stores)
    if len(choices) > 1:
        form.fields["stores"] = stores_field(
            choices,
            label="Stores",
            initial=[default_store(image_stores)],
            required=False,
            help_text="Where the cloud keeps the image (none ticked: its default store).",
        )


class ImageImportForm(SubmissionForm):
    """An interoperable import into a new image: its name and formats, and on a cloud
    with several stores the stores to import to (the cloud's default one unless changed)."""

    name = forms.CharField(label="Image name", max_length=IMAGE_NAME_MAX)
    disk_format = forms.ChoiceField(choices=[(f, f) for f in DISK_FORMATS], initial="qcow2")
    container_format = forms.ChoiceField(
        choices=[(f, f) for f in CONTAINER_FORMATS], initial="bare"
    )

    def __init__(self, *args, image_stores: object = None, **kwargs):
        super().__init__(*args, **kwargs)
        add_stores_field(self, image_stores)

    def task_input(self) -> dict[str, object]:
        data = self.cleaned_data
        properties = {key: data[key] for key in ("name", "disk_format", "container_format")}
        task_input: dict[str, object] = {"image_properties": properties}
        if data.get("stores"):
            task_input["stores"] = list(data["stores"])
        return task_input


class RackspaceImportForm(SubmissionForm):
    container = forms.CharField(
        max_length=1000, help_text="The Cloud Files container holding the VHD."
    )
    object = forms.CharField(
        label="Object", max_length=4000, help_text="The VHD's object name (it may contain '/')."
    )
    name = forms.CharField(
        label="Image name", max_length=IMAGE_NAME_MAX, required=False,
        help_text=f"At most {IMAGE_NAME_MAX} characters; empty keeps the cloud's default.",
    )  # fmt: skip
    delete_source = forms.BooleanField(
        label="Delete the source object once the import succeeds", required=False,
        help_text="The image keeps the bytes; nothing is deleted if the import fails.",
    )  # fmt: skip

    def clean_container(self) -> str:
        name = self.cleaned_data["container"]
        validate_container_name(name)
        return name

    def clean_object(self) -> str:
        name = self.cleaned_data["object"]
        validate_object_name(name)
        return name

    def source(self) -> str:
        return f"{self.cleaned_data['container']}/{self.cleaned_data['object']}"


class GlanceImportForm(SubmissionForm):
    url = forms.URLField(
        label="Image URL", max_length=2000, assume_scheme="https",
        help_text="An http(s) URL the cloud itself can reach.",
    )  # fmt: skip
    disk_format = forms.ChoiceField(choices=[(f, f) for f in DISK_FORMATS], initial="qcow2")
    container_format = forms.ChoiceField(
        choices=[(f, f) for f in CONTAINER_FORMATS], initial="bare"
    )
    name = forms.CharField(label="Image name", max_length=IMAGE_NAME_MAX, required=False)

    def source(self) -> str:
        return self.cleaned_data["url"]


class WebDownloadForm(ImageImportForm):
    """An interoperable import by ``web-download``: the cloud fetches the URL itself into a
    new image (stock Glance lets project members do this; its tasks API is admin-only)."""

    url = forms.URLField(
        label="Image URL", max_length=2000, assume_scheme="https",
        help_text="An http(s) URL the cloud itself can reach.",
    )  # fmt: skip
    field_order = ["url", "name", "disk_format", "container_format", "stores"]

    def task_input(self) -> dict[str, object]:
        return {"uri": self.cleaned_data["url"], **super().task_input()}


class GlanceDirectForm(ImageImportForm):
    """An interoperable import by ``glance-direct``: the file comes from the person's
    computer, as the body of the request that carries these fields in its query."""

    filename = forms.CharField(max_length=IMAGE_NAME_MAX, required=False, widget=forms.HiddenInput)

    def task_input(self) -> dict[str, object]:
        task_input = super().task_input()
        if self.cleaned_data.get("filename"):
            task_input = {"filename": self.cleaned_data["filename"], **task_input}
        return task_input


class RegionImportForm(SubmissionForm):
    """A copy of an image of another region of the same cloud into a new image here
    (``glance-download``). The new image takes its formats and properties from the one it
    copies; its name too unless one is given."""

    glance_region = forms.ChoiceField(widget=forms.HiddenInput, choices=())
    image_id = forms.CharField(
        label="Image", max_length=64, error_messages={"required": "Pick the image to copy."}
    )
    name = forms.CharField(
        label="Image name", max_length=IMAGE_NAME_MAX, required=False,
        help_text="Empty: the name of the image copied.",
    )  # fmt: skip

    def __init__(self, *args, regions: list[str], image_stores: object = None, **kwargs):
        super().__init__(*args, **kwargs)
        region = self.fields["glance_region"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = [(name, name) for name in regions]
        region.error_messages["invalid_choice"] = (
            "The cloud does not list this region (any more): choose one of its regions."
        )
        add_stores_field(self, image_stores)

    def task_input(self, name: str) -> dict[str, object]:
        data = self.cleaned_data
        task_input: dict[str, object] = {
            "glance_region": data["glance_region"],
            "glance_image_id": data["image_id"],
            "image_properties": {"name": name},
        }
        if data.get("stores"):
            task_input["stores"] = list(data["stores"])
        return task_input


class StoreCopyForm(SubmissionForm):
    """Copy an image the cloud holds to more of its stores (``copy-image``)."""

    allow_failures = forms.BooleanField(
        label="Allow some stores to fail",
        required=False,
        help_text="The copy counts as done in the stores it reached; otherwise one store "
        "that fails fails the copy.",
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stores"] = stores_field(
            choices, label="Copy to", help_text="The stores that do not hold the image yet."
        )
        self.order_fields(["stores", "allow_failures"])

    def task_input(self, image_id: str) -> dict[str, object]:
        task_input: dict[str, object] = {
            "image_id": image_id,
            "stores": self.cleaned_data["stores"],
        }
        if self.cleaned_data["allow_failures"]:
            task_input["all_stores_must_succeed"] = False
        return task_input


class ExportForm(SubmissionForm):
    image_id = forms.CharField(
        label="Image", max_length=64, error_messages={"required": "Pick the image to export."}
    )
    container = forms.CharField(
        label="Receiving container", max_length=1000,
        widget=forms.TextInput(attrs={"list": "containers"}),
        help_text="The image is written there as <image id>.vhd.",
    )  # fmt: skip
    create_container = forms.BooleanField(
        label="Create the container if it does not exist", required=False, initial=True
    )

    def clean_container(self) -> str:
        name = self.cleaned_data["container"]
        validate_container_name(name, export=True)
        return name
