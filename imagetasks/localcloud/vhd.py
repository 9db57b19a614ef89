"""Reading, validating and writing Microsoft VHD (Virtual Hard Disk) files.

The built-in cloud imports images the way Rackspace Cloud Images does: it
accepts only stand-alone fixed or dynamic VHDs and refuses anything else with
one of Rackspace's documented three-digit error codes. It exports images as
fixed VHDs, which are the raw disk followed by a 512-byte footer.

Validation reads the footer, and for a dynamic disk its header and block
allocation table (BAT), never the disk's data, so it costs the same for a
2 MiB disk and a 2 TiB one.

Precedence of the codes, first match wins::

    396  no VHD footer: the file is smaller than a footer, or neither its end
         nor its start carries the ``conectix`` cookie
    111  a footer exists but its checksum is wrong, or only the copy at the
         start of the file is left (the file was cut short)
    721  differencing disk (type 4): it needs a parent
    523  any other disk type the specification defines (0, 1, 5, 6);
         a value it does not define is a corrupt footer and gives 111
    614  the unique id is all zeros
    413  the virtual size is over the limit
    609  the file size is over the limit
    111  any structural inconsistency: a size that is not whole sectors, a
         fixed disk whose file is not its size plus the footer, a dynamic
         header or BAT that is outside the file or corrupt, a data block
         outside the file or over the header or the BAT, an unknown format
         version

The footer-only checks come first because they are the ones a person can act
on (merge the parent, convert the disk, give it an id, shrink it); the codes
that need the header and the BAT come last, so a file that is both too big and
damaged is reported as too big without reading more than its footer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar, Literal, Self

from imagetasks.localcloud import sparse

SECTOR_SIZE = 512
FOOTER_SIZE = 512
DYNAMIC_HEADER_SIZE = 1024
DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024
UNALLOCATED = 0xFFFF_FFFF
NO_DATA_OFFSET = 0xFFFF_FFFF_FFFF_FFFF

FOOTER_COOKIE = b"conectix"
DYNAMIC_HEADER_COOKIE = b"cxsparse"
FORMAT_VERSION = 0x0001_0000
# The specification requires this "reserved" feature bit to be set.
FEATURES = 0x0000_0002

# Readers such as qemu and Virtual PC size a disk from its CHS geometry, which
# rounds most sizes down and so cuts off the end of the disk, unless the
# creator is one known to mean the stored current size. Hyper-V's "win " is the
# most widely recognised of those.
CREATOR_APPLICATION = b"win "
CREATOR_VERSION = 0x000A_0000
CREATOR_HOST_OS = b"Wi2k"

DISK_TYPE_FIXED = 2
DISK_TYPE_DYNAMIC = 3
DISK_TYPE_DIFFERENCING = 4
_DISK_TYPE_NUMBERS = {
    "fixed": DISK_TYPE_FIXED,
    "dynamic": DISK_TYPE_DYNAMIC,
    "differencing": DISK_TYPE_DIFFERENCING,
}
# 0 none, 1 and 5 and 6 reserved (deprecated): defined, but not importable disks.
_DEFINED_DISK_TYPES = frozenset(range(7))

_VHD_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_FOOTER = struct.Struct(">8sIIQI4sI4sQQHBBII16sB427x")
_DYNAMIC_HEADER = struct.Struct(">8sQQIIII16sII512s192s256x")
FOOTER_CHECKSUM_OFFSET = 64
DYNAMIC_HEADER_CHECKSUM_OFFSET = 36
# Old writers (Virtual PC before 2004) wrote one byte fewer; that byte is reserved.
_SHORT_FOOTER_SIZE = 511
# Large enough that reading the BAT costs few system calls, small enough to
# keep memory flat for any disk.
_BAT_CHUNK_ENTRIES = 16 * 1024

EXPLANATIONS: dict[str, str] = {
    "396": "The file is not a VHD: it has no VHD footer. Convert the disk to VHD first.",
    "111": "The VHD is damaged or inconsistent (checksum, header, allocation table or sizes). "
    "Recreate or repair the VHD.",
    "721": "The VHD is a differencing disk: it has a parent. "
    "Merge it into a stand-alone VHD first.",
    "523": "The VHD is neither a fixed nor a dynamic disk. Convert it to a fixed or dynamic VHD.",
    "614": "The VHD's unique id is all zeros. Give the disk a unique id (for example with "
    "Set-VHD -ResetDiskIdentifier) and import it again.",
    "413": "The disk's virtual size is larger than the cloud accepts. "
    "Shrink the disk or its partitions first.",
    "609": "The VHD file is larger than the cloud accepts. Compact it, or use a dynamic VHD.",
}


class VhdError(Exception):
    """A VHD the cloud refuses, with the code the import reports for it.

    ``str()`` is the detailed reason for logs and operators; ``code`` is what
    the task shows, so tasks never leak file layout details to end users.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code

    @property
    def explanation(self) -> str:
        """What the code means to the person who uploaded the image."""
        return EXPLANATIONS[self.code]

    def __repr__(self) -> str:
        return f"VhdError({self.code!r}, {str(self)!r})"


def import_failure_message(code: str) -> str:
    """The message a failed import task shows, worded as Rackspace words it."""
    return f"Image cannot be imported. Error code: '{code}'"


@dataclass(frozen=True, slots=True)
class VhdInfo:
    """What an import needs to know about a VHD that passed validation."""

    disk_type: Literal["fixed", "dynamic"]
    virtual_size: int
    file_size: int
    unique_id: uuid.UUID
    block_size: int | None
    allocated_blocks: int | None


def checksum(structure: bytes, checksum_offset: int) -> int:
    """The VHD checksum: one's complement of the byte sum, the field itself taken as zero."""
    total = sum(structure) - sum(structure[checksum_offset : checksum_offset + 4])
    return ~total & 0xFFFF_FFFF


class _Structure:
    """A fixed-size structure of the format: its fields, read and written with ``_LAYOUT``,
    one of them a checksum of the others (at byte ``_CHECKSUM_OFFSET``)."""

    __slots__ = ()
    # Every subclass is a dataclass; saying so lets astuple and replace accept them.
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    _LAYOUT: ClassVar[struct.Struct]
    _CHECKSUM_OFFSET: ClassVar[int]

    @classmethod
    def unpack(cls, raw: bytes) -> Self:
        """Reads the structure's bytes; a reserved tail is ignored."""
        return cls(*cls._LAYOUT.unpack(raw))

    def pack(self) -> bytes:
        """The structure's bytes, with the checksum field exactly as stored in this object."""
        return self._LAYOUT.pack(*dataclasses.astuple(self))

    def computed_checksum(self) -> int:
        """The checksum these fields should carry."""
        return checksum(self.pack(), self._CHECKSUM_OFFSET)

    def sealed(self) -> Self:
        """A copy whose checksum matches its fields."""
        return dataclasses.replace(self, checksum=self.computed_checksum())


@dataclass(frozen=True, slots=True)
class Footer(_Structure):
    """Every field of a VHD footer, as stored (sizes in bytes, timestamp in VHD seconds)."""

    _LAYOUT = _FOOTER
    _CHECKSUM_OFFSET = FOOTER_CHECKSUM_OFFSET

    cookie: bytes
    features: int
    format_version: int
    data_offset: int
    timestamp: int
    creator_application: bytes
    creator_version: int
    creator_host_os: bytes
    original_size: int
    current_size: int
    cylinders: int
    heads: int
    sectors_per_track: int
    disk_type: int
    checksum: int
    unique_id: bytes
    saved_state: int


@dataclass(frozen=True, slots=True)
class DynamicHeader(_Structure):
    """Every field of the 1024-byte header of a dynamic or differencing disk."""

    _LAYOUT = _DYNAMIC_HEADER
    _CHECKSUM_OFFSET = DYNAMIC_HEADER_CHECKSUM_OFFSET

    cookie: bytes
    data_offset: int
    table_offset: int
    header_version: int
    max_table_entries: int
    block_size: int
    checksum: int
    parent_unique_id: bytes
    parent_timestamp: int
    reserved: int
    parent_unicode_name: bytes
    parent_locators: bytes


def chs_geometry(virtual_size: int) -> tuple[int, int, int]:
    """Cylinders, heads and sectors per track, by the specification's algorithm.

    The geometry is what BIOS-era guests see; computing it exactly as the
    specification does keeps such guests seeing the same disk as Hyper-V's.
    """
    total = min(virtual_size // SECTOR_SIZE, 65535 * 16 * 255)
    if total >= 65535 * 16 * 63:
        sectors_per_track, heads = 255, 16
        cylinders_times_heads = total // sectors_per_track
    else:
        sectors_per_track = 17
        cylinders_times_heads = total // sectors_per_track
        heads = max((cylinders_times_heads + 1023) // 1024, 4)
        if cylinders_times_heads >= heads * 1024 or heads > 16:
            sectors_per_track, heads = 31, 16
            cylinders_times_heads = total // sectors_per_track
        if cylinders_times_heads >= heads * 1024:
            sectors_per_track, heads = 63, 16
            cylinders_times_heads = total // sectors_per_track
    return cylinders_times_heads // heads, heads, sectors_per_track


def vhd_timestamp(moment: datetime) -> int:
    """Seconds since 2000-01-01 UTC, clamped to the field's 32 bits; ``moment`` must be aware."""
    seconds = int((moment - _VHD_EPOCH).total_seconds())
    return min(max(seconds, 0), 0xFFFF_FFFF)


def block_bitmap_size(block_size: int) -> int:
    """Bytes of the sector bitmap before each data block: one bit a sector, whole sectors."""
    bitmap_bytes = -(-block_size // SECTOR_SIZE // 8)
    return -(-bitmap_bytes // SECTOR_SIZE) * SECTOR_SIZE


def make_footer(
    virtual_size: int,
    *,
    disk_type: Literal["fixed", "dynamic", "differencing"] = "fixed",
    unique_id: uuid.UUID | None = None,
    timestamp: datetime | None = None,
    data_offset: int | None = None,
) -> bytes:
    """A 512-byte footer with a valid checksum for a disk of ``virtual_size`` bytes.

    A fresh random unique id by default, because two disks sharing an id
    confuse hypervisors that attach both. ``data_offset`` defaults to "none"
    for a fixed disk and to the header right after the footer copy otherwise.
    """
    if data_offset is None:
        data_offset = NO_DATA_OFFSET if disk_type == "fixed" else FOOTER_SIZE
    cylinders, heads, sectors_per_track = chs_geometry(virtual_size)
    footer = Footer(
        cookie=FOOTER_COOKIE,
        features=FEATURES,
        format_version=FORMAT_VERSION,
        data_offset=data_offset,
        timestamp=vhd_timestamp(datetime.now(UTC) if timestamp is None else timestamp),
        creator_application=CREATOR_APPLICATION,
        creator_version=CREATOR_VERSION,
        creator_host_os=CREATOR_HOST_OS,
        original_size=virtual_size,
        current_size=virtual_size,
        cylinders=cylinders,
        heads=heads,
        sectors_per_track=sectors_per_track,
        disk_type=_DISK_TYPE_NUMBERS[disk_type],
        checksum=0,
        unique_id=(uuid.uuid4() if unique_id is None else unique_id).bytes,
        saved_state=0,
    )
    return footer.sealed().pack()


def make_dynamic_header(
    virtual_size: int,
    *,
    table_offset: int,
    block_size: int = DEFAULT_BLOCK_SIZE,
    parent_unique_id: uuid.UUID | None = None,
    parent_timestamp: datetime | None = None,
    parent_name: str = "",
) -> bytes:
    """A 1024-byte dynamic disk header with a BAT entry for every block of the disk.

    The parent fields are for differencing disks; a dynamic disk leaves them
    zero. Parent locators are left empty: a parent is then found by its name.
    """
    header = DynamicHeader(
        cookie=DYNAMIC_HEADER_COOKIE,
        data_offset=NO_DATA_OFFSET,
        table_offset=table_offset,
        header_version=FORMAT_VERSION,
        max_table_entries=-(-virtual_size // block_size),
        block_size=block_size,
        checksum=0,
        parent_unique_id=bytes(16) if parent_unique_id is None else parent_unique_id.bytes,
        parent_timestamp=0 if parent_timestamp is None else vhd_timestamp(parent_timestamp),
        reserved=0,
        parent_unicode_name=parent_name.encode("utf-16-be"),
        parent_locators=b"",
    )
    return header.sealed().pack()


def fixed_vhd_size(raw_size: int) -> int:
    """Bytes of the fixed VHD made from ``raw_size`` bytes of disk (for Content-Length)."""
    return _padded(raw_size) + FOOTER_SIZE


def fixed_vhd_footer_for(
    raw_size: int, *, unique_id: uuid.UUID | None = None, timestamp: datetime | None = None
) -> bytes:
    """What to send after streaming ``raw_size`` bytes of disk to make a fixed VHD.

    That is zero padding up to the next whole sector, then the footer; with
    it an export can stream a disk without ever writing a copy of it.
    """
    padding = _padded(raw_size) - raw_size
    footer = make_footer(_padded(raw_size), unique_id=unique_id, timestamp=timestamp)
    return bytes(padding) + footer


def write_fixed_vhd(
    raw_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    unique_id: uuid.UUID | None = None,
    timestamp: datetime | None = None,
) -> int:
    """Writes raw disk ``raw_path`` as the fixed VHD ``dst_path``; returns the bytes written.

    The data is copied by the kernel where it can, so an export costs no more
    than ``cp``, and never passes through memory; the raw disk's holes stay holes.
    A half-written VHD is removed, since without its footer it is no VHD at all.
    """
    if os.path.exists(dst_path) and os.path.samefile(raw_path, dst_path):
        raise ValueError(f"{dst_path} is the raw disk itself; writing it would destroy the disk")
    with open(raw_path, "rb", buffering=0) as src, open(dst_path, "wb", buffering=0) as dst:
        try:
            raw_size = os.fstat(src.fileno()).st_size
            sparse.copy(src.fileno(), dst.fileno(), raw_size)
            dst.seek(raw_size)
            trailer = fixed_vhd_footer_for(raw_size, unique_id=unique_id, timestamp=timestamp)
            _write_all(dst, trailer)
        except BaseException:
            # The original error matters more than a failed clean-up.
            with contextlib.suppress(OSError):
                os.unlink(dst_path)
            raise
    return raw_size + len(trailer)


def is_vhd(path: str | os.PathLike[str]) -> bool:
    """Whether the file ends with a VHD footer cookie; cheap enough for listings."""
    with open(path, "rb", buffering=0) as stream:
        size = stream.seek(0, os.SEEK_END)
        if size < _SHORT_FOOTER_SIZE:
            return False
        tail_size = min(size, FOOTER_SIZE)
        stream.seek(size - tail_size)
        tail = stream.read(tail_size)
    return tail.startswith(FOOTER_COOKIE) or tail[-_SHORT_FOOTER_SIZE:].startswith(FOOTER_COOKIE)


def inspect_vhd(
    path: str | os.PathLike[str], *, max_virtual_size: int, max_file_size: int
) -> VhdInfo:
    """Validates the VHD at ``path`` for import; raises ``VhdError`` with the code to report."""
    with open(path, "rb", buffering=0) as stream:
        return inspect_vhd_stream(
            stream, max_virtual_size=max_virtual_size, max_file_size=max_file_size
        )


def inspect_vhd_stream(stream: BinaryIO, *, max_virtual_size: int, max_file_size: int) -> VhdInfo:
    """Validates a seekable binary stream holding a VHD, as ``inspect_vhd`` does a file."""
    file_size = stream.seek(0, os.SEEK_END)
    footer, footer_size = _read_footer(stream, file_size)
    _check_footer_checksum(footer)
    _check_disk_type(footer.disk_type)
    unique_id = uuid.UUID(bytes=footer.unique_id)
    if unique_id.int == 0:
        raise VhdError("614", "the footer's unique id is all zeros")
    if footer.current_size > max_virtual_size:
        raise VhdError(
            "413",
            f"virtual size {footer.current_size} bytes is over the limit of "
            f"{max_virtual_size} bytes",
        )
    if file_size > max_file_size:
        raise VhdError(
            "609", f"file size {file_size} bytes is over the limit of {max_file_size} bytes"
        )
    _check_footer_structure(footer)
    data_end = file_size - footer_size
    if footer.disk_type == DISK_TYPE_FIXED:
        _check_fixed_layout(footer, data_end)
        return VhdInfo("fixed", footer.current_size, file_size, unique_id, None, None)
    header = _read_dynamic_header(stream, footer, data_end)
    allocated = _count_allocated_blocks(stream, footer, header, data_end)
    return VhdInfo(
        "dynamic", footer.current_size, file_size, unique_id, header.block_size, allocated
    )


def _padded(size: int) -> int:
    """``size`` rounded up to whole sectors, as a fixed disk's data must be."""
    return -(-size // SECTOR_SIZE) * SECTOR_SIZE


def _write_all(dst: BinaryIO, data: bytes) -> None:
    """Writes all of ``data``: an unbuffered write may write only part of it."""
    view = memoryview(data)
    while view:
        view = view[dst.write(view) :]


def _read_at(stream: BinaryIO, offset: int, size: int) -> bytes:
    """Exactly ``size`` bytes at ``offset``; a file that shrank under us is inconsistent."""
    stream.seek(offset)
    chunks = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise VhdError("111", f"the file ends before byte {offset + size}")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_footer(stream: BinaryIO, file_size: int) -> tuple[Footer, int]:
    """The footer at the end of the file, and how many bytes it takes there (512 or 511)."""
    if file_size < _SHORT_FOOTER_SIZE:
        raise VhdError(
            "396", f"the file is {file_size} bytes, too small to hold a {FOOTER_SIZE}-byte footer"
        )
    tail_size = min(file_size, FOOTER_SIZE)
    tail = _read_at(stream, file_size - tail_size, tail_size)
    if tail_size == FOOTER_SIZE and tail.startswith(FOOTER_COOKIE):
        return Footer.unpack(tail), FOOTER_SIZE
    short_tail = tail[-_SHORT_FOOTER_SIZE:]
    if short_tail.startswith(FOOTER_COOKIE):
        return Footer.unpack(short_tail + bytes(1)), _SHORT_FOOTER_SIZE
    if file_size >= FOOTER_SIZE and _read_at(stream, 0, len(FOOTER_COOKIE)) == FOOTER_COOKIE:
        raise VhdError(
            "111",
            "the footer at the end of the file is missing; only the copy at the start is left, "
            "so the file was probably cut short",
        )
    raise VhdError("396", "no VHD footer: neither the end nor the start of the file is 'conectix'")


def _check_footer_checksum(footer: Footer) -> None:
    """A footer that fails its checksum is corrupt, so none of its fields can be trusted."""
    expected = footer.computed_checksum()
    if footer.checksum != expected:
        raise VhdError(
            "111",
            f"the footer checksum is {footer.checksum:#010x} but its fields give {expected:#010x}",
        )


def _check_disk_type(disk_type: int) -> None:
    """Differencing disks get their own code; other defined types share 523."""
    if disk_type == DISK_TYPE_DIFFERENCING:
        raise VhdError("721", "the disk is a differencing disk (type 4): it needs a parent disk")
    if disk_type not in _DEFINED_DISK_TYPES:
        raise VhdError("111", f"disk type {disk_type} is not one the VHD specification defines")
    if disk_type not in (DISK_TYPE_FIXED, DISK_TYPE_DYNAMIC):
        raise VhdError("523", f"disk type {disk_type} is neither fixed (2) nor dynamic (3)")


def _check_footer_structure(footer: Footer) -> None:
    """Checks of the footer's own fields that no more specific code covers."""
    if footer.format_version >> 16 != FORMAT_VERSION >> 16:
        raise VhdError("111", f"unknown file format version {footer.format_version:#010x}")
    if footer.current_size % SECTOR_SIZE:
        raise VhdError(
            "111", f"the current size {footer.current_size} is not a whole number of sectors"
        )


def _check_fixed_layout(footer: Footer, data_end: int) -> None:
    """A fixed disk's data is everything before the footer, so the sizes must agree."""
    if data_end != footer.current_size:
        raise VhdError(
            "111",
            f"the fixed disk holds {data_end} bytes of data but its footer says "
            f"{footer.current_size}",
        )


def _read_dynamic_header(stream: BinaryIO, footer: Footer, data_end: int) -> DynamicHeader:
    """The header a dynamic disk's footer points at, checked field by field."""
    offset = footer.data_offset
    if not FOOTER_SIZE <= offset <= data_end - DYNAMIC_HEADER_SIZE:
        raise VhdError("111", f"the dynamic header offset {offset} points outside the file")
    header = DynamicHeader.unpack(_read_at(stream, offset, DYNAMIC_HEADER_SIZE))
    if header.cookie != DYNAMIC_HEADER_COOKIE:
        raise VhdError("111", f"the dynamic header at {offset} has cookie {header.cookie!r}")
    expected = header.computed_checksum()
    if header.checksum != expected:
        raise VhdError(
            "111",
            f"the dynamic header checksum is {header.checksum:#010x} "
            f"but its fields give {expected:#010x}",
        )
    if header.header_version >> 16 != FORMAT_VERSION >> 16:
        raise VhdError("111", f"unknown dynamic header version {header.header_version:#010x}")
    block_size = header.block_size
    if block_size < SECTOR_SIZE or block_size & (block_size - 1):
        raise VhdError("111", f"the block size {block_size} is not a power of two of sectors")
    needed = -(-footer.current_size // block_size)
    if header.max_table_entries < needed:
        raise VhdError(
            "111",
            f"the BAT has {header.max_table_entries} entries but the disk needs {needed}",
        )
    bat_end = header.table_offset + 4 * header.max_table_entries
    if header.table_offset < FOOTER_SIZE or bat_end > data_end:
        raise VhdError(
            "111",
            f"the BAT (bytes {header.table_offset} to {bat_end}) lies outside the file's "
            f"{data_end} bytes of data",
        )
    return header


def _count_allocated_blocks(
    stream: BinaryIO, footer: Footer, header: DynamicHeader, data_end: int
) -> int:
    """Allocated blocks among those the disk uses, each checked to lie among the data.

    Entries past the disk's last block address nothing and are not read, and
    the BAT is read in chunks so memory stays flat however big the disk is.
    """
    needed = -(-footer.current_size // header.block_size)
    block_span = block_bitmap_size(header.block_size) + header.block_size
    # A block over the header or the BAT would be overwritten by the first write to it.
    metadata = (
        (footer.data_offset, footer.data_offset + DYNAMIC_HEADER_SIZE),
        (header.table_offset, header.table_offset + 4 * header.max_table_entries),
    )
    allocated = 0
    for first in range(0, needed, _BAT_CHUNK_ENTRIES):
        count = min(_BAT_CHUNK_ENTRIES, needed - first)
        raw = _read_at(stream, header.table_offset + 4 * first, 4 * count)
        for index, (sector,) in enumerate(struct.iter_unpack(">I", raw), start=first):
            if sector == UNALLOCATED:
                continue
            start, end = sector * SECTOR_SIZE, sector * SECTOR_SIZE + block_span
            if start < FOOTER_SIZE or end > data_end:
                raise VhdError(
                    "111",
                    f"block {index} (bytes {start} to {end}) lies outside "
                    f"the file's {data_end} bytes of data",
                )
            if any(start < high and low < end for low, high in metadata):
                raise VhdError(
                    "111",
                    f"block {index} (bytes {start} to {end}) overlaps the header or the BAT",
                )
            allocated += 1
    return allocated
