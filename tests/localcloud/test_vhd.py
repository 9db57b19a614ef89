"""VHD import validation refuses bad disks with Rackspace's codes; export writes VHDs qemu reads."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import time
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagetasks.localcloud import vhd, vhd_samples

MIB = 1024 * 1024
GIB = 1024 * MIB
NO_LIMIT = 2**64
U32 = 2**32 - 1
U64 = 2**64 - 1
QEMU_IMG = shutil.which("qemu-img")
needs_qemu = pytest.mark.skipif(
    QEMU_IMG is None, reason="qemu-img is not installed, so there is no second opinion on VHDs"
)


def inspect(disk: bytes, **limits: int) -> vhd.VhdInfo:
    limits = {"max_virtual_size": NO_LIMIT, "max_file_size": NO_LIMIT, **limits}
    return vhd.inspect_vhd_stream(io.BytesIO(disk), **limits)


def refusal_code(disk: bytes, **limits: int) -> str:
    with pytest.raises(vhd.VhdError) as refusal:
        inspect(disk, **limits)
    return refusal.value.code


def footer_of(disk: bytes) -> vhd.Footer:
    return vhd.Footer.unpack(disk[-vhd.FOOTER_SIZE :])


def with_footer(disk: bytes, **changes: object) -> bytes:
    """``disk`` with fields of its footer changed and the checksum made right again."""
    footer = dataclasses.replace(footer_of(disk), **changes).sealed().pack()
    return disk[: -vhd.FOOTER_SIZE] + footer


def with_dynamic_header(disk: bytes, *, seal: bool = True, **changes: object) -> bytes:
    """A dynamic sample with fields of its header (at byte 512) changed."""
    start, end = vhd.FOOTER_SIZE, vhd.FOOTER_SIZE + vhd.DYNAMIC_HEADER_SIZE
    header = dataclasses.replace(vhd.DynamicHeader.unpack(disk[start:end]), **changes)
    packed = (header.sealed() if seal else header).pack()
    return disk[:start] + packed + disk[end:]


def qemu_info(path: os.PathLike[str], *, fmt: str | None = None) -> dict:
    command = [QEMU_IMG, "info", "--output=json", str(path)]
    if fmt:
        command[2:2] = ["-f", fmt]
    return json.loads(subprocess.run(command, check=True, capture_output=True).stdout)


class CountingReader:
    """Passes reads through to a stream and counts the bytes they return."""

    def __init__(self, stream):
        self.stream = stream
        self.bytes_read = 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self.stream.seek(offset, whence)

    def read(self, size: int) -> bytes:
        chunk = self.stream.read(size)
        self.bytes_read += len(chunk)
        return chunk


class SparseStream:
    """A read-only file of any size that is zeros except in the regions given."""

    def __init__(self, size: int, regions: dict[int, bytes]):
        self.size = size
        self.regions = regions
        self.position = 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def read(self, size: int) -> bytes:
        start, end = self.position, min(self.position + size, self.size)
        if start >= end:
            return b""
        chunk = bytearray(end - start)
        for offset, data in self.regions.items():
            low, high = max(offset, start), min(offset + len(data), end)
            if low < high:
                chunk[low - start : high - start] = data[low - offset : high - offset]
        self.position = end
        return bytes(chunk)


# Accepted disks


def test_a_fixed_vhd_is_accepted_with_its_virtual_size_and_disk_type():
    info = inspect(vhd_samples.fixed_vhd())
    assert info == vhd.VhdInfo(
        disk_type="fixed",
        virtual_size=vhd_samples.SAMPLE_VIRTUAL_SIZE,
        file_size=vhd_samples.SAMPLE_VIRTUAL_SIZE + 512,
        unique_id=vhd_samples.sample_unique_id("fixed"),
        block_size=None,
        allocated_blocks=None,
    )


def test_a_dynamic_vhd_is_accepted_with_its_block_size_and_allocated_blocks():
    disk = vhd_samples.dynamic_vhd()
    info = inspect(disk)
    assert info.disk_type == "dynamic"
    assert info.virtual_size == vhd_samples.SAMPLE_DYNAMIC_VIRTUAL_SIZE
    assert info.file_size == len(disk)
    assert info.unique_id == vhd_samples.sample_unique_id("dynamic")
    assert info.block_size == vhd.DEFAULT_BLOCK_SIZE
    assert info.allocated_blocks == 2


def test_a_dynamic_vhd_whose_size_is_not_whole_blocks_is_accepted():
    info = inspect(vhd_samples.dynamic_vhd(5 * MIB))
    assert (info.virtual_size, info.allocated_blocks) == (5 * MIB, 2)


def test_a_dynamic_vhd_with_small_blocks_is_accepted():
    info = inspect(vhd_samples.dynamic_vhd(2 * MIB, block_size=64 * 1024))
    assert (info.block_size, info.allocated_blocks) == (64 * 1024, 16)


def test_a_fixed_vhd_with_an_old_511_byte_footer_is_accepted():
    disk = vhd_samples.fixed_vhd()[:-1]
    info = inspect(disk)
    assert (info.virtual_size, info.file_size) == (vhd_samples.SAMPLE_VIRTUAL_SIZE, len(disk))


def test_inspecting_a_path_gives_the_same_answer_as_inspecting_its_bytes(tmp_path):
    path = tmp_path / "dynamic.vhd"
    path.write_bytes(vhd_samples.dynamic_vhd())
    from_path = vhd.inspect_vhd(path, max_virtual_size=NO_LIMIT, max_file_size=NO_LIMIT)
    assert from_path == inspect(path.read_bytes())


# Refused disks, one code each


def test_a_sparse_fixed_vhd_is_valid_takes_little_disk_and_has_the_md5_it_reports(tmp_path):
    path = tmp_path / "sparse.vhd"
    size = 3 * vhd_samples.SPARSE_MARK_EVERY + 1024  # a marked sector past the last full span

    md5 = vhd_samples.write_sparse_fixed_vhd(path, size)

    data = path.read_bytes()
    assert len(data) == size
    assert hashlib.md5(data, usedforsecurity=False).hexdigest() == md5
    assert data[3 * vhd_samples.SPARSE_MARK_EVERY :].startswith(b"imagetasks sample sector")
    assert os.stat(path).st_blocks * 512 < size // 100
    info = vhd.inspect_vhd(path, max_virtual_size=size, max_file_size=size)
    assert (info.disk_type, info.virtual_size) == ("fixed", size - vhd.FOOTER_SIZE)


def test_a_damaged_footer_cookie_is_refused_with_code_396():
    assert refusal_code(vhd_samples.bad_cookie_vhd()) == "396"


def test_a_random_file_is_refused_with_code_396():
    assert refusal_code(random.Random(396).randbytes(3 * MIB)) == "396"


def test_a_raw_disk_image_is_refused_with_code_396():
    assert refusal_code(vhd_samples.raw_disk_image()) == "396"


@pytest.mark.parametrize("size", [0, 1, 510])
def test_a_file_smaller_than_a_footer_is_refused_with_code_396(size):
    assert refusal_code(b"conectix".ljust(size, b"\0")[:size]) == "396"


def test_a_wrong_footer_checksum_is_refused_with_code_111():
    assert refusal_code(vhd_samples.bad_checksum_vhd()) == "111"


def test_a_differencing_disk_is_refused_with_code_721():
    assert refusal_code(vhd_samples.differencing_vhd()) == "721"


def test_disk_type_5_is_refused_with_code_523():
    assert refusal_code(vhd_samples.disk_type_vhd(5)) == "523"


@pytest.mark.parametrize("disk_type", [0, 1, 6])
def test_every_other_disk_type_of_the_specification_is_refused_with_code_523(disk_type):
    assert refusal_code(vhd_samples.disk_type_vhd(disk_type)) == "523"


@pytest.mark.parametrize("disk_type", [7, 0x0300_0000, U32])
def test_a_disk_type_the_specification_does_not_define_is_refused_with_code_111(disk_type):
    assert refusal_code(vhd_samples.disk_type_vhd(disk_type)) == "111"


def test_a_zero_unique_id_is_refused_with_code_614():
    assert refusal_code(vhd_samples.zero_unique_id_vhd()) == "614"


def test_a_virtual_size_over_the_limit_is_refused_with_code_413():
    disk = vhd_samples.fixed_vhd()
    assert refusal_code(disk, max_virtual_size=vhd_samples.SAMPLE_VIRTUAL_SIZE - 512) == "413"
    assert inspect(disk, max_virtual_size=vhd_samples.SAMPLE_VIRTUAL_SIZE).virtual_size


def test_a_file_size_over_the_limit_is_refused_with_code_609():
    disk = vhd_samples.dynamic_vhd()
    assert refusal_code(disk, max_file_size=len(disk) - 1) == "609"
    assert inspect(disk, max_file_size=len(disk)).file_size == len(disk)


def test_a_dynamic_vhd_whose_bat_lies_past_the_end_is_refused_with_code_111():
    assert refusal_code(vhd_samples.truncated_dynamic_vhd()) == "111"


def test_a_vhd_cut_short_that_keeps_only_its_leading_footer_copy_is_refused_with_code_111():
    assert refusal_code(vhd_samples.dynamic_vhd()[: -3 * vhd.SECTOR_SIZE]) == "111"


def test_a_fixed_vhd_whose_data_does_not_match_its_size_is_refused_with_code_111():
    disk = vhd_samples.fixed_vhd()
    shorter = disk[: -vhd.FOOTER_SIZE - vhd.SECTOR_SIZE] + disk[-vhd.FOOTER_SIZE :]
    assert refusal_code(shorter) == "111"
    assert refusal_code(bytes(512) + disk) == "111"


def test_a_size_that_is_not_whole_sectors_is_refused_with_code_111():
    disk = vhd_samples.fixed_vhd()
    assert refusal_code(with_footer(disk, current_size=len(disk) - 512 - 1)) == "111"


def test_an_unknown_format_version_is_refused_with_code_111():
    assert refusal_code(with_footer(vhd_samples.fixed_vhd(), format_version=0x0002_0000)) == "111"


@pytest.mark.parametrize("data_offset", [0, 511, 8 * MIB, U64])
def test_a_dynamic_header_offset_outside_the_file_is_refused_with_code_111(data_offset):
    assert refusal_code(with_footer(vhd_samples.dynamic_vhd(), data_offset=data_offset)) == "111"


@pytest.mark.parametrize(
    "changes",
    [
        {"cookie": b"cxsparsE"},
        {"header_version": 0x0002_0000},
        {"block_size": 0},
        {"block_size": 3 * MIB},
        {"block_size": 256},
        {"max_table_entries": 2},
        {"max_table_entries": U32},
        {"table_offset": 0},
        {"table_offset": U64},
    ],
    ids=lambda changes: "-".join(f"{field}={value}" for field, value in changes.items()),
)
def test_a_damaged_dynamic_header_is_refused_with_code_111(changes):
    assert refusal_code(with_dynamic_header(vhd_samples.dynamic_vhd(), **changes)) == "111"


def test_a_wrong_dynamic_header_checksum_is_refused_with_code_111():
    disk = vhd_samples.dynamic_vhd()
    assert refusal_code(with_dynamic_header(disk, seal=False, checksum=1)) == "111"


def with_first_block_at(sector: int) -> bytes:
    """The dynamic sample with its first BAT entry pointing at ``sector``."""
    disk = bytearray(vhd_samples.dynamic_vhd())
    bat = vhd.FOOTER_SIZE + vhd.DYNAMIC_HEADER_SIZE
    disk[bat : bat + 4] = sector.to_bytes(4, "big")
    return bytes(disk)


@pytest.mark.parametrize("sector", [0, 2**31, 2**32 - 2])
def test_a_data_block_outside_the_file_is_refused_with_code_111(sector):
    assert refusal_code(with_first_block_at(sector)) == "111"


@pytest.mark.parametrize("sector", [1, 3])
def test_a_data_block_over_the_header_or_the_bat_is_refused_with_code_111(sector):
    assert refusal_code(with_first_block_at(sector)) == "111"


def test_a_data_block_cut_short_by_the_footer_is_refused_with_code_111():
    disk = vhd_samples.dynamic_vhd()
    assert refusal_code(disk[: -vhd.FOOTER_SIZE - vhd.SECTOR_SIZE] + disk[-512:]) == "111"


@pytest.mark.parametrize("sample", vhd_samples.SAMPLES, ids=lambda sample: sample.name)
def test_every_sample_ends_its_import_as_its_description_promises(sample):
    if sample.expected_code is None:
        assert inspect(sample.build()).disk_type in {"fixed", "dynamic"}
    else:
        assert refusal_code(sample.build()) == sample.expected_code


# Which code wins when a disk has several problems


def test_a_wrong_checksum_is_reported_before_the_disk_type():
    disk = vhd_samples.differencing_vhd()
    bad = dataclasses.replace(footer_of(disk), checksum=0).pack()
    assert refusal_code(disk[: -vhd.FOOTER_SIZE] + bad) == "111"


def test_a_differencing_disk_is_reported_before_its_zero_id_and_its_size():
    disk = with_footer(vhd_samples.differencing_vhd(), unique_id=bytes(16))
    assert refusal_code(disk, max_virtual_size=512, max_file_size=512) == "721"


def test_a_zero_unique_id_is_reported_before_the_size_limits():
    assert refusal_code(vhd_samples.zero_unique_id_vhd(), max_virtual_size=512) == "614"


def test_the_virtual_size_is_reported_before_the_file_size():
    assert refusal_code(vhd_samples.fixed_vhd(), max_virtual_size=512, max_file_size=512) == "413"


def test_the_size_limits_are_reported_before_damage_found_past_the_footer():
    disk = vhd_samples.truncated_dynamic_vhd()
    assert refusal_code(disk, max_file_size=len(disk) - 1) == "609"


# Messages


def test_the_import_message_quotes_the_code_as_rackspace_does():
    assert vhd.import_failure_message("721") == "Image cannot be imported. Error code: '721'"


def test_every_code_a_refusal_can_carry_has_an_explanation():
    codes = {sample.expected_code for sample in vhd_samples.SAMPLES} - {None} | {"413", "609"}
    assert codes == set(vhd.EXPLANATIONS)
    assert "parent" in vhd.EXPLANATIONS["721"]


def test_a_refusal_says_in_detail_what_is_wrong():
    with pytest.raises(vhd.VhdError) as refusal:
        inspect(vhd_samples.fixed_vhd(), max_virtual_size=1024)
    assert str(refusal.value) == (
        f"virtual size {vhd_samples.SAMPLE_VIRTUAL_SIZE} bytes is over the limit of 1024 bytes"
    )
    assert refusal.value.explanation == vhd.EXPLANATIONS["413"]
    assert repr(refusal.value).startswith("VhdError('413', ")


# Footers and geometry


def test_a_footer_is_512_bytes_with_a_valid_checksum_and_the_given_fields():
    unique_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    raw = vhd.make_footer(4 * MIB, unique_id=unique_id, timestamp=datetime(2000, 1, 2, tzinfo=UTC))
    footer = vhd.Footer.unpack(raw)
    assert len(raw) == 512
    assert footer.checksum == footer.computed_checksum()
    assert footer.cookie == b"conectix"
    assert (footer.features, footer.format_version) == (2, 0x0001_0000)
    assert footer.data_offset == U64
    assert footer.timestamp == 86400
    assert (footer.original_size, footer.current_size) == (4 * MIB, 4 * MIB)
    assert (footer.cylinders, footer.heads, footer.sectors_per_track) == (120, 4, 17)
    assert footer.disk_type == vhd.DISK_TYPE_FIXED
    assert footer.unique_id == unique_id.bytes
    assert raw[85:] == bytes(427)


def test_a_dynamic_footer_points_at_the_header_after_its_copy():
    footer = vhd.Footer.unpack(vhd.make_footer(4 * MIB, disk_type="dynamic"))
    assert (footer.disk_type, footer.data_offset) == (vhd.DISK_TYPE_DYNAMIC, 512)


def test_each_footer_gets_a_fresh_unique_id_unless_given_one():
    assert vhd.make_footer(4 * MIB)[68:84] != vhd.make_footer(4 * MIB)[68:84]


@pytest.mark.parametrize(
    ("size", "geometry"),
    [
        (4 * MIB, (120, 4, 17)),
        (100 * MIB, (1003, 12, 17)),
        (1 * GIB, (2080, 16, 63)),
        (40 * GIB, (20560, 16, 255)),
        (65535 * 16 * 255 * 512, (65535, 16, 255)),
        (2 * 1024 * GIB, (65535, 16, 255)),
    ],
)
def test_the_geometry_follows_the_specification(size, geometry):
    assert vhd.chs_geometry(size) == geometry


@given(st.integers(min_value=0, max_value=2**45))
def test_the_geometry_never_describes_more_than_the_disk_or_overflows_its_fields(size):
    cylinders, heads, sectors_per_track = vhd.chs_geometry(size)
    assert cylinders * heads * sectors_per_track * 512 <= size
    assert cylinders <= 65535 and heads <= 16 and sectors_per_track <= 255


def test_timestamps_before_2000_or_after_2136_are_clamped_to_the_field():
    assert vhd.vhd_timestamp(datetime(1999, 1, 1, tzinfo=UTC)) == 0
    assert vhd.vhd_timestamp(datetime(2200, 1, 1, tzinfo=UTC)) == U32


def test_the_block_bitmap_takes_whole_sectors():
    assert vhd.block_bitmap_size(2 * MIB) == 512
    assert vhd.block_bitmap_size(4096) == 512
    assert vhd.block_bitmap_size(2**31) == 1024 * 512


# Writing fixed VHDs


def test_write_fixed_vhd_keeps_the_data_byte_for_byte_and_appends_a_footer(tmp_path):
    raw = random.Random(1).randbytes(3 * MIB)
    (tmp_path / "disk.raw").write_bytes(raw)
    written = vhd.write_fixed_vhd(tmp_path / "disk.raw", tmp_path / "disk.vhd")
    disk = (tmp_path / "disk.vhd").read_bytes()
    assert written == len(disk) == len(raw) + 512
    assert disk[: len(raw)] == raw
    assert inspect(disk).virtual_size == len(raw)


def test_write_fixed_vhd_pads_a_disk_that_is_not_whole_sectors(tmp_path):
    raw = random.Random(2).randbytes(MIB + 123)
    (tmp_path / "disk.raw").write_bytes(raw)
    written = vhd.write_fixed_vhd(tmp_path / "disk.raw", tmp_path / "disk.vhd")
    disk = (tmp_path / "disk.vhd").read_bytes()
    assert written == len(disk) == MIB + 512 + 512
    assert disk[: MIB + 512] == raw + bytes(512 - 123)
    assert inspect(disk).virtual_size == MIB + 512


def test_write_fixed_vhd_of_an_empty_disk_is_a_lone_footer(tmp_path):
    (tmp_path / "empty.raw").write_bytes(b"")
    assert vhd.write_fixed_vhd(tmp_path / "empty.raw", tmp_path / "empty.vhd") == 512
    assert inspect((tmp_path / "empty.vhd").read_bytes()).virtual_size == 0


def test_write_fixed_vhd_finishes_in_userspace_when_the_kernel_stops_copying(tmp_path, monkeypatch):
    raw = random.Random(3).randbytes(5 * MIB)
    (tmp_path / "disk.raw").write_bytes(raw)
    calls = []
    kernel_copy = os.copy_file_range

    def copies_one_mib_then_gives_up(src, dst, count, *args):
        calls.append(count)
        if len(calls) > 1:
            raise OSError(errno.EXDEV, "cross-device")
        return kernel_copy(src, dst, min(count, MIB), *args)

    monkeypatch.setattr(os, "copy_file_range", copies_one_mib_then_gives_up)
    vhd.write_fixed_vhd(tmp_path / "disk.raw", tmp_path / "disk.vhd")
    assert len(calls) == 2
    assert (tmp_path / "disk.vhd").read_bytes()[:-512] == raw


def test_write_fixed_vhd_works_where_the_kernel_has_no_copy_file_range(tmp_path, monkeypatch):
    raw = random.Random(4).randbytes(MIB)
    (tmp_path / "disk.raw").write_bytes(raw)
    monkeypatch.delattr(os, "copy_file_range")
    vhd.write_fixed_vhd(tmp_path / "disk.raw", tmp_path / "disk.vhd")
    assert (tmp_path / "disk.vhd").read_bytes()[:-512] == raw


def test_write_fixed_vhd_removes_a_half_written_vhd(tmp_path, monkeypatch):
    (tmp_path / "disk.raw").write_bytes(bytes(MIB))

    def disk_full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "copy_file_range", disk_full)
    with pytest.raises(OSError, match="No space left"):
        vhd.write_fixed_vhd(tmp_path / "disk.raw", tmp_path / "disk.vhd")
    assert not (tmp_path / "disk.vhd").exists()


def test_write_fixed_vhd_refuses_to_overwrite_its_own_input(tmp_path):
    raw = vhd_samples.raw_disk_image()
    (tmp_path / "disk.raw").write_bytes(raw)
    with pytest.raises(ValueError, match="raw disk itself"):
        vhd.write_fixed_vhd(tmp_path / "disk.raw", tmp_path / "disk.raw")
    assert (tmp_path / "disk.raw").read_bytes() == raw


def test_write_fixed_vhd_leaves_an_existing_file_alone_when_the_input_is_missing(tmp_path):
    (tmp_path / "keep.vhd").write_bytes(b"precious")
    with pytest.raises(FileNotFoundError):
        vhd.write_fixed_vhd(tmp_path / "missing.raw", tmp_path / "keep.vhd")
    assert (tmp_path / "keep.vhd").read_bytes() == b"precious"


def test_streaming_the_disk_then_its_trailer_gives_the_vhd_write_fixed_vhd_writes(tmp_path):
    raw = random.Random(5).randbytes(MIB + 7)
    (tmp_path / "disk.raw").write_bytes(raw)
    identity = {"unique_id": uuid.UUID(int=5), "timestamp": vhd_samples.SAMPLE_TIMESTAMP}
    vhd.write_fixed_vhd(tmp_path / "disk.raw", tmp_path / "disk.vhd", **identity)
    streamed = raw + vhd.fixed_vhd_footer_for(len(raw), **identity)
    assert streamed == (tmp_path / "disk.vhd").read_bytes()
    assert vhd.fixed_vhd_size(len(raw)) == len(streamed)


def test_is_vhd_tells_vhds_from_other_files(tmp_path):
    cases = {
        "fixed.vhd": (vhd_samples.fixed_vhd(), True),
        "dynamic.vhd": (vhd_samples.dynamic_vhd(), True),
        "old.vhd": (vhd_samples.fixed_vhd()[:-1], True),
        "raw.img": (vhd_samples.raw_disk_image(), False),
        "tiny": (b"conectix", False),
        "empty": (b"", False),
    }
    for name, (content, expected) in cases.items():
        (tmp_path / name).write_bytes(content)
        assert vhd.is_vhd(tmp_path / name) is expected, name


# Samples


def test_samples_are_the_same_bytes_on_every_run():
    for sample in vhd_samples.SAMPLES:
        assert sample.build() == sample.build(), sample.name


def test_samples_are_small():
    for sample in vhd_samples.SAMPLES:
        assert len(sample.build()) <= 8 * MIB + 512, sample.name


def test_write_samples_writes_every_sample_under_its_file_name(tmp_path):
    paths = vhd_samples.write_samples(tmp_path / "samples")
    assert set(paths) == {sample.name for sample in vhd_samples.SAMPLES}
    for sample in vhd_samples.SAMPLES:
        assert paths[sample.name] == tmp_path / "samples" / sample.filename
        assert paths[sample.name].read_bytes() == sample.build()


def test_the_pattern_names_each_sector():
    data = vhd_samples.pattern(3 * 512)
    assert data[1024:].startswith(b"imagetasks sample sector 0000000002\n")
    with pytest.raises(ValueError, match="whole number"):
        vhd_samples.pattern(100)


# qemu as a second opinion


@needs_qemu
def test_qemu_reads_a_written_fixed_vhd_as_vpc_of_the_right_size(tmp_path):
    (tmp_path / "disk.raw").write_bytes(random.Random(6).randbytes(3 * MIB + 512))
    vhd.write_fixed_vhd(tmp_path / "disk.raw", tmp_path / "disk.vhd")
    # qemu recognises a VHD only by a footer copy at the start, which fixed disks lack.
    info = qemu_info(tmp_path / "disk.vhd", fmt="vpc")
    assert (info["format"], info["virtual-size"]) == ("vpc", 3 * MIB + 512)


@needs_qemu
@pytest.mark.parametrize(
    ("name", "fmt", "size"),
    [
        ("fixed", "vpc", vhd_samples.SAMPLE_VIRTUAL_SIZE),
        ("dynamic", None, vhd_samples.SAMPLE_DYNAMIC_VIRTUAL_SIZE),
    ],
)
def test_qemu_reads_the_accepted_samples_as_vpc_of_the_right_size(tmp_path, name, fmt, size):
    path = vhd_samples.write_samples(tmp_path)[name]
    info = qemu_info(path, fmt=fmt)
    assert (info["format"], info["virtual-size"]) == ("vpc", size)


@needs_qemu
def test_qemu_reads_the_same_disk_from_the_dynamic_sample_as_was_put_in(tmp_path):
    path = vhd_samples.write_samples(tmp_path)["dynamic"]
    subprocess.run(
        [QEMU_IMG, "convert", "-f", "vpc", "-O", "raw", str(path), str(tmp_path / "out.raw")],
        check=True,
    )
    content = (tmp_path / "out.raw").read_bytes()
    block = vhd.DEFAULT_BLOCK_SIZE
    assert content[:block] == vhd_samples.pattern(3 * block)[:block]
    assert content[block : 2 * block] == bytes(block)
    assert content[2 * block :] == vhd_samples.pattern(3 * block)[2 * block :]


@needs_qemu
@pytest.mark.parametrize("subformat", ["dynamic", "fixed"])
def test_a_vhd_made_by_qemu_is_accepted(tmp_path, subformat):
    (tmp_path / "disk.raw").write_bytes(vhd_samples.pattern(5 * MIB))
    subprocess.run(
        [
            *(QEMU_IMG, "convert", "-f", "raw", "-O", "vpc", "-o", f"subformat={subformat}"),
            *(str(tmp_path / "disk.raw"), str(tmp_path / "disk.vhd")),
        ],
        check=True,
    )
    info = vhd.inspect_vhd(tmp_path / "disk.vhd", max_virtual_size=GIB, max_file_size=GIB)
    assert info.disk_type == subformat
    assert info.virtual_size >= 5 * MIB


@needs_qemu
@pytest.mark.parametrize("size", [3 * MIB, 100 * MIB, 1 * GIB, 40 * GIB])
def test_the_geometry_agrees_with_qemu(tmp_path, size):
    # qemu grows a disk to whole cylinders; for that grown size both must agree.
    subprocess.run(
        [QEMU_IMG, "create", "-q", "-f", "vpc", str(tmp_path / "disk.vhd"), str(size)],
        check=True,
    )
    footer = footer_of((tmp_path / "disk.vhd").read_bytes())
    qemu_geometry = (footer.cylinders, footer.heads, footer.sectors_per_track)
    assert vhd.chs_geometry(footer.current_size) == qemu_geometry


# Robustness: any input ends in VhdError, and only metadata is ever read


@settings(max_examples=300)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_raise_nothing_but_vhd_error(data):
    try:
        inspect(data)
    except vhd.VhdError as refusal:
        assert refusal.code in vhd.EXPLANATIONS


@settings(max_examples=300)
@given(st.binary(max_size=2048), st.binary(min_size=512, max_size=512))
def test_arbitrary_bytes_behind_a_cookie_raise_nothing_but_vhd_error(prefix, footer):
    try:
        inspect(prefix + b"conectix" + footer[8:])
    except vhd.VhdError as refusal:
        assert refusal.code in vhd.EXPLANATIONS


def fuzzed(maximum: int, likely: tuple[int, ...]) -> st.SearchStrategy[int]:
    """Any value of the field one time in eight, otherwise a value that passes its check.

    Fuzzing every field evenly would stop nearly every file at the first check.
    """
    anything = st.integers(0, maximum)
    if not likely:
        return anything
    return st.integers(0, 7).flatmap(lambda n: anything if n == 0 else st.sampled_from(likely))


def fuzzed_u32(*likely: int) -> st.SearchStrategy[int]:
    return fuzzed(U32, likely)


def fuzzed_u64(*likely: int) -> st.SearchStrategy[int]:
    return fuzzed(U64, likely)


@st.composite
def fuzzed_disks(draw: st.DrawFn) -> tuple[int, dict[int, bytes], vhd.Footer]:
    """A file of 4 KiB or 10 GiB with a footer, header and BAT whose fields are fuzzed."""
    file_size = draw(st.sampled_from([4096, 10 * GIB]))
    data_end = file_size - 512
    footer = vhd.Footer(
        cookie=b"conectix",
        features=draw(fuzzed_u32(2)),
        format_version=draw(fuzzed_u32(0x0001_0000)),
        data_offset=draw(fuzzed_u64(512, U64, data_end)),
        timestamp=draw(fuzzed_u32()),
        creator_application=draw(st.binary(min_size=4, max_size=4)),
        creator_version=draw(fuzzed_u32()),
        creator_host_os=draw(st.binary(min_size=4, max_size=4)),
        original_size=draw(fuzzed_u64()),
        current_size=draw(fuzzed_u64(data_end, 4 * MIB, 2 * data_end, 10 * GIB + 1)),
        cylinders=draw(st.integers(0, 2**16 - 1)),
        heads=draw(st.integers(0, 255)),
        sectors_per_track=draw(st.integers(0, 255)),
        disk_type=draw(fuzzed_u32(2, 3, 3, 3, 3, 3, 4, 5)),
        checksum=0,
        unique_id=draw(st.sampled_from([uuid.UUID(int=7).bytes] * 7 + [bytes(16)])),
        saved_state=draw(st.integers(0, 255)),
    )
    if draw(st.integers(0, 9)):
        footer = footer.sealed()
    header = vhd.DynamicHeader(
        cookie=draw(st.sampled_from([b"cxsparse"] * 7 + [b"conectix"])),
        data_offset=draw(fuzzed_u64(U64)),
        table_offset=draw(fuzzed_u64(1536, data_end - 4)),
        header_version=draw(fuzzed_u32(0x0001_0000)),
        max_table_entries=draw(fuzzed_u32(1, 2, 5120, 2**31)),
        block_size=draw(fuzzed_u32(vhd.DEFAULT_BLOCK_SIZE, 512, 4096, 2**31)),
        checksum=0,
        parent_unique_id=draw(st.binary(min_size=16, max_size=16)),
        parent_timestamp=draw(fuzzed_u32()),
        reserved=0,
        parent_unicode_name=b"",
        parent_locators=b"",
    )
    if draw(st.integers(0, 9)):
        header = header.sealed()
    entries = draw(st.lists(fuzzed_u32(vhd.UNALLOCATED, 3, 4096, 8), max_size=64))
    bat = b"".join(entry.to_bytes(4, "big") for entry in entries)
    regions = {0: footer.pack(), 512: header.pack(), 1536: bat, data_end: footer.pack()}
    return file_size, regions, footer


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(fuzzed_disks())
def test_fuzzed_footers_and_headers_raise_nothing_but_vhd_error_and_read_only_metadata(disk):
    file_size, regions, footer = disk
    stream = CountingReader(SparseStream(file_size, regions))
    try:
        info = vhd.inspect_vhd_stream(stream, max_virtual_size=NO_LIMIT, max_file_size=NO_LIMIT)
    except vhd.VhdError as refusal:
        assert refusal.code in vhd.EXPLANATIONS
    else:
        assert info.virtual_size == footer.current_size
        assert info.file_size == file_size
    assert stream.bytes_read <= MIB


def test_a_sparse_10_gib_fixed_vhd_is_inspected_quickly_reading_only_its_footer(tmp_path):
    path = tmp_path / "big.vhd"
    with open(path, "wb") as sparse:
        sparse.truncate(10 * GIB)
        sparse.seek(10 * GIB)
        sparse.write(vhd.make_footer(10 * GIB))
    started = time.monotonic()
    info = vhd.inspect_vhd(path, max_virtual_size=NO_LIMIT, max_file_size=NO_LIMIT)
    assert time.monotonic() - started < 1.0
    assert (info.virtual_size, info.file_size) == (10 * GIB, 10 * GIB + 512)
    assert vhd.is_vhd(path)
    with open(path, "rb") as real:
        stream = CountingReader(real)
        vhd.inspect_vhd_stream(stream, max_virtual_size=NO_LIMIT, max_file_size=NO_LIMIT)
    assert stream.bytes_read == 512


def test_a_dynamic_vhd_of_10_gib_is_inspected_by_reading_its_header_and_bat_only():
    size = 10 * GIB
    entries = size // vhd.DEFAULT_BLOCK_SIZE
    first_block = (1536 + 4 * entries) // 512
    bat = b"\xff" * (4 * entries)
    bat = first_block.to_bytes(4, "big") + bat[4:]
    data_end = first_block * 512 + 512 + vhd.DEFAULT_BLOCK_SIZE
    footer = vhd.make_footer(size, disk_type="dynamic")
    regions = {
        0: footer,
        512: vhd.make_dynamic_header(size, table_offset=1536),
        1536: bat,
        data_end: footer,
    }
    stream = CountingReader(SparseStream(data_end + 512, regions))
    info = vhd.inspect_vhd_stream(stream, max_virtual_size=size, max_file_size=size)
    assert (info.virtual_size, info.allocated_blocks) == (size, 1)
    assert stream.bytes_read == 512 + 1024 + 4 * entries
