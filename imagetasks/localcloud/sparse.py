"""Writing disk images so that their zeros take no disk: holes stay holes.

A disk image is mostly zeros (the unwritten parts of a disk), and a file system
keeps zeros for free as holes, which read back as zeros. A copy that writes
those zeros out spends the image's whole size in disk: a sparse 6 GiB image,
400 KiB as a file, would take 6 GiB for every object, segment or image made from
it. So the store never writes a chunk that is all zeros (``is_zeros``: the caller
seeks over it and sets the file's size at the end), and a file-to-file copy
(``copy``) copies only the source's data, in the kernel where it can.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator

ZEROS = bytes(1024 * 1024)
_KERNEL_CHUNK = 1 << 30  # the kernel copies at most about 2 GiB a call
_BUFFER = 8 * 1024 * 1024
# Errors that mean "no kernel-side copy between these two files", not a failure.
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL})


def is_zeros(chunk: bytes) -> bool:
    """Whether ``chunk`` holds only zeros (a comparison at memory speed, no Python loop)."""
    return chunk == (ZEROS if len(chunk) == len(ZEROS) else bytes(len(chunk)))


def copy(src_fd: int, dst_fd: int, size: int) -> None:
    """Copy the first ``size`` bytes of ``src_fd`` to the same offsets of ``dst_fd`` and
    make ``dst_fd`` that long: the source's data, in the kernel when it allows, and its
    holes left holes. Neither file's offset is used or moved."""
    in_kernel = hasattr(os, "copy_file_range")
    for start, length in data_extents(src_fd, size):
        if in_kernel:
            try:
                _copy_in_kernel(src_fd, dst_fd, start, length)
                continue
            except OSError as error:
                if error.errno not in _NO_KERNEL_COPY:
                    raise
                in_kernel = False
        _copy_by_reading(src_fd, dst_fd, start, length)
    os.ftruncate(dst_fd, size)


def copy_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """``target`` made a copy of the file ``source``, as ``copy`` copies."""
    with open(source, "rb", buffering=0) as src, open(target, "wb", buffering=0) as dst:
        copy(src.fileno(), dst.fileno(), os.fstat(src.fileno()).st_size)


def data_extents(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, length) of each stretch of the first ``size`` bytes that is not a hole;
    all of them as one stretch where the file system cannot tell."""
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as error:
            if error.errno == errno.ENXIO:  # nothing but a hole up to the end
                return
            if error.errno != errno.EINVAL:
                raise
            start, end = offset, size  # the file system cannot say where its holes are
        else:
            end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        if start >= size:
            return
        yield start, end - start
        offset = end


def _copy_in_kernel(src_fd: int, dst_fd: int, start: int, length: int) -> None:
    copied = 0
    while copied < length:
        at = start + copied
        count = os.copy_file_range(src_fd, dst_fd, min(length - copied, _KERNEL_CHUNK), at, at)
        if count == 0:
            return
        copied += count


def _copy_by_reading(src_fd: int, dst_fd: int, start: int, length: int) -> None:
    end = start + length
    while start < end:
        chunk = memoryview(os.pread(src_fd, min(_BUFFER, end - start), start))
        if not chunk:
            return
        written = 0
        while written < len(chunk):  # a write may write only part of it
            written += os.pwrite(dst_fd, chunk[written:], start + written)
        start += len(chunk)
