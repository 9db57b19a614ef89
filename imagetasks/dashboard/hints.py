"""What a cloud's failure message means, in words, and what to do about it.

Clouds answer with terse strings (``Image cannot be imported. Error code:
'396'``); the people reading the table need the cause and the next step. The
strings matched here are the ones Rackspace and Glance document or are seen
to send; anything else gets no hint rather than a wrong one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Hint:
    title: str
    advice: str
    resubmit: bool = False  # a new attempt with the same input may well succeed
    repeats: bool = False  # the same input fails the same way: fix it before trying again


VHD_CODES: dict[str, Hint] = {
    "111": Hint(
        "The VHD did not pass validation",
        "The file is not a usable VHD for an unspecified reason. Re-create it with a "
        "tool that writes standard VHDs (qemu-img convert -O vpc, Hyper-V) and upload again.",
        repeats=True,
    ),
    "396": Hint(
        "The VHD could not be read (often a passing problem)",
        "Rackspace reports this intermittently; resubmitting the same import usually works. "
        "If it fails again, check the file is a complete, valid VHD.",
        resubmit=True,
    ),
    "413": Hint(
        "The disk is too large",
        "Its virtual size is over the 40 GB limit. Shrink the disk inside the guest, "
        "then convert and upload it again.",
        repeats=True,
    ),
    "523": Hint(
        "Wrong kind of VHD",
        "Only fixed or dynamic disks can be imported. Convert the differencing or other "
        "disk to a fixed or dynamic VHD first.",
        repeats=True,
    ),
    "609": Hint(
        "The file is too large",
        "Its physical size is over 40 GB. Use a dynamic VHD or a smaller disk.",
        repeats=True,
    ),
    "614": Hint(
        "The VHD has no identity",
        "Its internal unique id is all zeros. Re-create it with a tool that sets the id "
        "(for example qemu-img convert) and upload again.",
        repeats=True,
    ),
    "721": Hint(
        "The VHD depends on a parent disk",
        "Only stand-alone VHDs can be imported. Merge the chain (coalesce the snapshot) "
        "into one VHD and upload that.",
        repeats=True,
    ),
}

_VHD_CODE = re.compile(r"Error code:\s*'?(\d{3})'?")

# (pattern, hint), first match wins; patterns are case-insensitive.
_PATTERNS: list[tuple[re.Pattern[str], Hint]] = [
    (
        re.compile(r"Image not found for import|Swift could not find object", re.I),
        Hint(
            "The source object was not found",
            "The container or object named in the import does not exist in this account and "
            "region. Check the spelling (names are case-sensitive) and that the upload finished.",
        ),
    ),
    (
        re.compile(r"Object already exists|already has an object", re.I),
        Hint(
            "The export would overwrite an object",
            "The container already holds <image id>.vhd from an earlier export. Export to "
            "another container, or delete that object first.",
            repeats=True,
        ),
    ),
    (
        re.compile(r"may only be exported by the image owner", re.I),
        Hint(
            "The image belongs to another account",
            "Only images this account owns can be exported; shared images cannot. Export it "
            "from the owner's account.",
            repeats=True,
        ),
    ),
    (
        re.compile(r"Container not found", re.I),
        Hint(
            "The receiving container does not exist",
            "Create the container (the export form can do it) and export again.",
        ),
    ),
    (
        re.compile(r"licensing or billing restrictions", re.I),
        Hint(
            "This image may not leave the cloud",
            "Images with licensing restrictions (Windows, some commercial images) cannot "
            "be exported.",
            repeats=True,
        ),
    ),
    (
        re.compile(r"Task failed due to Internal Error", re.I),
        Hint(
            "Glance failed without saying why",
            "The cause is only in the Glance API log (look for the task id). Common causes: "
            "the URL is not reachable from the cloud, an unsupported disk format, or a full store.",
        ),
    ),
    (
        re.compile(r"may not use the tasks API", re.I),
        Hint(
            "This account may not use tasks",
            "The cloud's policy refuses the tasks API to this account (Glance makes it "
            "admin-only by default). Ask the cloud's operators, or use another account.",
            repeats=True,
        ),
    ),
    (
        re.compile(r"Unsupported element in image_properties", re.I),
        Hint(
            "Only the image name may be set",
            "Rackspace accepts only 'name' in image_properties; remove every other property "
            "and submit again.",
            repeats=True,
        ),
    ),
]


NOT_A_VHD = Hint(
    "This file is not a VHD",
    "The cloud imports only VHD disks, and this object is none: it has no VHD footer, or "
    "its name does not end in .vhd. Convert the disk first (qemu-img convert -O vpc "
    "disk.img disk.vhd), upload the VHD and import that.",
    repeats=True,
)


def hint_for_task(task, message: str | None = None) -> Hint | None:
    """The hint for a task's failure (its message, or ``message``), knowing what it imported.

    Rackspace's 396 is often a passing problem, but not for an object that is no VHD
    at all: that one fails the same way every time.
    """
    hint = hint_for(task.message if message is None else message)
    if hint is VHD_CODES["396"] and (task.source_is_vhd is False or not _looks_like_vhd(task)):
        return NOT_A_VHD
    return hint


def _looks_like_vhd(task) -> bool:
    source = task.input.get("import_from") if isinstance(task.input, dict) else None
    return not isinstance(source, str) or source.lower().endswith(".vhd")


def hint_for(message: str | None) -> Hint | None:
    """The hint for a failure message, or None when the message is not a known one."""
    if not message:
        return None
    code = _VHD_CODE.search(message)
    if code and code.group(1) in VHD_CODES:
        return VHD_CODES[code.group(1)]
    for pattern, hint in _PATTERNS:
        if pattern.search(message):
            return hint
    return None
