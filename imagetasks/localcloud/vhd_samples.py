"""Small sample VHD files, good and bad, for seeding the demo cloud and for tests.

Every sample is built with the writers of ``vhd`` and is byte-for-byte the
same on every run: the data is a readable pattern (each sector names its own
number, so a hex dump shows where a block landed), and unique ids and
timestamps are fixed. Their checksums therefore never change, and an import
of a sample always ends the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from imagetasks.localcloud import vhd

MIB = 1024 * 1024
SAMPLE_VIRTUAL_SIZE = 4 * MIB
SAMPLE_DYNAMIC_VIRTUAL_SIZE = 6 * MIB
SAMPLE_TIMESTAMP = datetime(2024, 1, 1, tzinfo=UTC)
SAMPLE_PARENT_NAME = "fixed.vhd"
_NAMESPACE = uuid.UUID("6c1f3a52-0d8e-4b8f-9a57-3e0f2b9c7d41")


def sample_unique_id(name: str) -> uuid.UUID:
    """A unique id that is the same on every run for the sample called ``name``."""
    return uuid.uuid5(_NAMESPACE, name)


def pattern(size: int) -> bytes:
    """``size`` bytes (whole sectors) in which every sector spells out its own number."""
    if size % vhd.SECTOR_SIZE:
        raise ValueError(f"{size} is not a whole number of {vhd.SECTOR_SIZE}-byte sectors")
    return b"".join(_marked_sector(number) for number in range(size // vhd.SECTOR_SIZE))


def raw_disk_image(virtual_size: int = SAMPLE_VIRTUAL_SIZE) -> bytes:
    """A raw disk image, the commonest thing uploaded by mistake instead of a VHD."""
    return pattern(virtual_size)


def fixed_vhd(
    virtual_size: int = SAMPLE_VIRTUAL_SIZE, *, unique_id: uuid.UUID | None = None
) -> bytes:
    """A valid fixed VHD: the patterned disk followed by its footer."""
    footer = vhd.make_footer(
        virtual_size,
        unique_id=sample_unique_id("fixed") if unique_id is None else unique_id,
        timestamp=SAMPLE_TIMESTAMP,
    )
    return pattern(virtual_size) + footer


def dynamic_vhd(
    virtual_size: int = SAMPLE_DYNAMIC_VIRTUAL_SIZE,
    *,
    block_size: int = vhd.DEFAULT_BLOCK_SIZE,
    unique_id: uuid.UUID | None = None,
) -> bytes:
    """A valid dynamic VHD whose odd-numbered blocks are empty and so left unallocated."""
    return _dynamic_layout(
        _every_other_block(pattern(virtual_size), block_size),
        disk_type="dynamic",
        block_size=block_size,
        unique_id=sample_unique_id("dynamic") if unique_id is None else unique_id,
    )


def differencing_vhd(virtual_size: int = SAMPLE_VIRTUAL_SIZE) -> bytes:
    """A differencing VHD whose parent is the fixed sample; it changes the first block."""
    data = bytearray(virtual_size)
    first_block = min(vhd.DEFAULT_BLOCK_SIZE, virtual_size)
    data[:first_block] = pattern(first_block)
    return _dynamic_layout(
        bytes(data),
        disk_type="differencing",
        block_size=vhd.DEFAULT_BLOCK_SIZE,
        unique_id=sample_unique_id("differencing"),
        parent_unique_id=sample_unique_id("fixed"),
        parent_name=SAMPLE_PARENT_NAME,
    )


def zero_unique_id_vhd() -> bytes:
    """A fixed VHD whose unique id is all zeros, as some converters leave it."""
    return fixed_vhd(unique_id=uuid.UUID(int=0))


def bad_cookie_vhd() -> bytes:
    """A fixed VHD with one byte of its footer cookie damaged, so nothing marks it as a VHD."""
    disk = bytearray(fixed_vhd())
    disk[-vhd.FOOTER_SIZE + 1] = ord("0")
    return bytes(disk)


def bad_checksum_vhd() -> bytes:
    """A fixed VHD whose footer checksum is off by one bit: the footer is corrupt."""
    return _with_footer(
        fixed_vhd(), lambda footer: dataclasses.replace(footer, checksum=footer.checksum ^ 1)
    )


def disk_type_vhd(disk_type: int) -> bytes:
    """A fixed VHD relabelled with ``disk_type`` and a checksum that matches it."""
    return _with_footer(
        fixed_vhd(), lambda footer: dataclasses.replace(footer, disk_type=disk_type).sealed()
    )


def truncated_dynamic_vhd() -> bytes:
    """A dynamic VHD cut after its header and given back its footer: the BAT is past the end.

    This is what an interrupted copy leaves when the tool writes the footer last.
    """
    disk = dynamic_vhd()
    return disk[: vhd.FOOTER_SIZE + vhd.DYNAMIC_HEADER_SIZE] + disk[-vhd.FOOTER_SIZE :]


@dataclass(frozen=True, slots=True)
class Sample:
    """A named sample file and how an import of it must end."""

    name: str
    filename: str
    description: str
    # None when the import must accept the file.
    expected_code: str | None
    build: Callable[[], bytes]


SAMPLES: tuple[Sample, ...] = (
    Sample("fixed", "fixed.vhd", "A 4 MiB fixed VHD.", None, fixed_vhd),
    Sample(
        "dynamic",
        "dynamic.vhd",
        "A 6 MiB dynamic VHD with two of its three blocks allocated.",
        None,
        dynamic_vhd,
    ),
    Sample(
        "differencing",
        "differencing.vhd",
        "A differencing VHD whose parent is fixed.vhd.",
        "721",
        differencing_vhd,
    ),
    Sample(
        "zero-unique-id",
        "zero-unique-id.vhd",
        "A fixed VHD whose unique id is all zeros.",
        "614",
        zero_unique_id_vhd,
    ),
    Sample(
        "bad-cookie",
        "bad-cookie.vhd",
        "A fixed VHD whose footer cookie is damaged.",
        "396",
        bad_cookie_vhd,
    ),
    Sample(
        "bad-checksum",
        "bad-checksum.vhd",
        "A fixed VHD whose footer checksum is wrong.",
        "111",
        bad_checksum_vhd,
    ),
    Sample(
        "unsupported-type",
        "unsupported-type.vhd",
        "A VHD of the reserved disk type 5.",
        "523",
        lambda: disk_type_vhd(5),
    ),
    Sample(
        "truncated-dynamic",
        "truncated-dynamic.vhd",
        "A dynamic VHD cut short: its allocation table lies past the end of the file.",
        "111",
        truncated_dynamic_vhd,
    ),
    Sample("raw-disk", "raw-disk.img", "A raw disk image, not a VHD.", "396", raw_disk_image),
)


def write_samples(directory: str | Path) -> dict[str, Path]:
    """Writes every sample into ``directory`` (created if missing); returns name to path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for sample in SAMPLES:
        path = directory / sample.filename
        path.write_bytes(sample.build())
        paths[sample.name] = path
    return paths


# Between two marked sectors of a sparse disk: small enough that every segment of a
# large object holds several, so segments joined in the wrong order change the MD5.
SPARSE_MARK_EVERY = 64 * MIB


def write_sparse_fixed_vhd(path: str | Path, file_size: int) -> str:
    """Writes a fixed VHD of ``file_size`` bytes that takes almost no disk; returns its MD5.

    The disk is a hole but for one patterned sector every ``SPARSE_MARK_EVERY`` bytes
    (each names its own number, as in ``pattern``), so images of many gigabytes can be
    moved around without the machine holding them. The MD5 is computed from the layout,
    without reading the file back.
    """
    virtual_size = file_size - vhd.FOOTER_SIZE
    if virtual_size < vhd.SECTOR_SIZE or virtual_size % vhd.SECTOR_SIZE:
        raise ValueError(f"{file_size} bytes is no fixed VHD: whole sectors and a footer")
    footer = vhd.make_footer(
        virtual_size, unique_id=sample_unique_id("sparse"), timestamp=SAMPLE_TIMESTAMP
    )
    digest = hashlib.md5(usedforsecurity=False)
    zeros = bytes(SPARSE_MARK_EVERY - vhd.SECTOR_SIZE)
    with open(path, "wb") as out:
        out.truncate(virtual_size)
        for offset in range(0, virtual_size, SPARSE_MARK_EVERY):
            out.seek(offset)
            sector = _marked_sector(offset // vhd.SECTOR_SIZE)
            out.write(sector)
            digest.update(sector)
            digest.update(zeros[: min(SPARSE_MARK_EVERY, virtual_size - offset) - len(sector)])
        out.seek(virtual_size)
        out.write(footer)
    digest.update(footer)
    return digest.hexdigest()


def _marked_sector(number: int) -> bytes:
    line = b"imagetasks sample sector %010d\n" % number
    return (line * (vhd.SECTOR_SIZE // len(line) + 1))[: vhd.SECTOR_SIZE]


def _every_other_block(data: bytes, block_size: int) -> bytes:
    """``data`` with its odd-numbered blocks zeroed, so a dynamic disk has holes."""
    holed = bytearray(data)
    for start in range(block_size, len(data), 2 * block_size):
        end = min(start + block_size, len(data))
        holed[start:end] = bytes(end - start)
    return bytes(holed)


def _with_footer(disk: bytes, change: Callable[[vhd.Footer], vhd.Footer]) -> bytes:
    """``disk`` with its trailing footer changed by ``change``, written exactly as returned."""
    footer = change(vhd.Footer.unpack(disk[-vhd.FOOTER_SIZE :]))
    return disk[: -vhd.FOOTER_SIZE] + footer.pack()


def _sector_bitmap(block_size: int, sectors_present: int) -> bytes:
    """The bitmap before a block: one bit a sector, first sector in the top bit."""
    full_bytes, extra_bits = divmod(sectors_present, 8)
    bitmap = b"\xff" * full_bytes
    if extra_bits:
        bitmap += bytes([(0xFF << (8 - extra_bits)) & 0xFF])
    return bitmap.ljust(vhd.block_bitmap_size(block_size), b"\0")


def _dynamic_layout(
    data: bytes,
    *,
    disk_type: Literal["dynamic", "differencing"],
    block_size: int,
    unique_id: uuid.UUID,
    parent_unique_id: uuid.UUID | None = None,
    parent_name: str = "",
) -> bytes:
    """A dynamic or differencing disk holding ``data``; all-zero blocks stay unallocated.

    The layout is the one Hyper-V writes: footer copy, header, BAT padded to a
    sector, the allocated blocks in order, footer.
    """
    virtual_size = len(data)
    table_offset = vhd.FOOTER_SIZE + vhd.DYNAMIC_HEADER_SIZE
    entries = -(-virtual_size // block_size)
    bat_size = -(-4 * entries // vhd.SECTOR_SIZE) * vhd.SECTOR_SIZE
    position = table_offset + bat_size
    bat = bytearray(b"\xff" * bat_size)
    blocks = []
    for index in range(entries):
        chunk = data[index * block_size : (index + 1) * block_size]
        if chunk == bytes(len(chunk)):
            continue
        bat[4 * index : 4 * index + 4] = (position // vhd.SECTOR_SIZE).to_bytes(4, "big")
        bitmap = _sector_bitmap(block_size, len(chunk) // vhd.SECTOR_SIZE)
        blocks.append(bitmap + chunk.ljust(block_size, b"\0"))
        position += len(blocks[-1])
    footer = vhd.make_footer(
        virtual_size,
        disk_type=disk_type,
        unique_id=unique_id,
        timestamp=SAMPLE_TIMESTAMP,
        data_offset=vhd.FOOTER_SIZE,
    )
    header = vhd.make_dynamic_header(
        virtual_size,
        table_offset=table_offset,
        block_size=block_size,
        parent_unique_id=parent_unique_id,
        parent_timestamp=SAMPLE_TIMESTAMP if parent_unique_id else None,
        parent_name=parent_name,
    )
    return footer + header + bytes(bat) + b"".join(blocks) + footer
