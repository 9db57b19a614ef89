"""Making an image straight from a local file, for the demo seed and for benchmarks.

The API uploads only through an import (a task, or the interoperable import),
so demos and benchmarks that need an image to export start here. The file is
copied into the blob store by the kernel and hashed like an import.
"""

from __future__ import annotations

import struct
from pathlib import Path

from django.conf import settings

from imagetasks.localcloud import blobstore, sparse, stores, vhd
from imagetasks.localcloud.executors.hashing import digests_of
from imagetasks.localcloud.executors.throttle import Pacer
from imagetasks.localcloud.models import Image, Project

DISK_FORMATS = ("raw", "vhd", "qcow2")
_QCOW2_MAGIC = b"QFI\xfb"
_QCOW2_HEADER = struct.Struct(">4sIQIIQ")  # magic, version, backing offset/size, cluster bits, size


class NotAnImage(ValueError):
    """The file is not of the disk format it was said to be."""


def create_image_from_file(
    project: Project, name: str | None, path: str | Path, disk_format: str, *, region: str = ""
) -> Image:
    """An active, private image of ``project`` holding a copy of the file at ``path``, in
    the Images endpoint of ``region`` ("" for the main region)."""
    if disk_format not in DISK_FORMATS:
        raise NotAnImage(f"disk format must be one of {', '.join(DISK_FORMATS)}")
    blob_id = blobstore.new_blob_id()
    target = blobstore.create_path(blob_id)
    try:
        sparse.copy_file(path, target)
        virtual_size = virtual_size_of(target, disk_format)
        digests = digests_of(target, Pacer(0))
        return Image.objects.create(
            project=project,
            region=region,
            name=name,
            status=Image.Status.ACTIVE,
            disk_format=disk_format,
            container_format="bare",
            size=digests.size,
            virtual_size=virtual_size,
            checksum=digests.md5,
            os_hash_algo="sha512",
            os_hash_value=digests.sha512,
            blob_id=blob_id,
            stores=[stores.default_store()],
        )
    except BaseException:
        blobstore.delete(blob_id)
        raise


def virtual_size_of(path: Path, disk_format: str) -> int:
    """The disk size a guest would see, read from the format's own header or footer."""
    if disk_format == "raw":
        return path.stat().st_size
    if disk_format == "vhd":
        limit = settings.LOCALCLOUD_MAX_IMAGE_SIZE
        try:
            return vhd.inspect_vhd(path, max_virtual_size=limit, max_file_size=limit).virtual_size
        except vhd.VhdError as error:
            raise NotAnImage(f"not an importable VHD (code {error.code}): {error}") from None
    with open(path, "rb") as source:
        header = source.read(_QCOW2_HEADER.size)
    if len(header) < _QCOW2_HEADER.size or not header.startswith(_QCOW2_MAGIC):
        raise NotAnImage("not a qcow2 image: no QFI magic")
    return _QCOW2_HEADER.unpack(header)[5]
