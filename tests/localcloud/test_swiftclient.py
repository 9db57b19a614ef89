"""python-swiftclient, unchanged, against the built-in cloud over real HTTP: the ``swift``
command line uploads a file larger than one object may be as a static large object.

The command is given a token and the storage URL (``--os-auth-token``,
``--os-storage-url``), as with any Swift whose Identity it does not speak to
itself: its Keystone v3 login needs python-keystoneclient, which nothing here
uses otherwise. No OS_* variable of the machine reaches it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from swiftclient.client import ClientException, Connection

pytestmark = pytest.mark.usefixtures("fast_hashing")

MiB = 1024 * 1024
SWIFT = str(Path(sys.executable).parent / "swift")


@pytest.fixture(autouse=True)
def eight_mib_objects(settings):
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * MiB


@pytest.fixture
def storage_url(live_server, account) -> str:
    return f"{live_server.url}/localcloud/object/v1/AUTH_{account.project.id}"


@pytest.fixture
def swift(storage_url, account):
    """Run ``swift <arguments>`` as a person would, logged in with the account's token."""
    token = account.token()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OS_", "ST_"))}

    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [SWIFT, "--os-auth-token", token, "--os-storage-url", storage_url, *arguments],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture
def connection(storage_url, account) -> Connection:
    return Connection(preauthurl=storage_url, preauthtoken=account.token(), retries=0)


@pytest.fixture
def twenty_mib_file(tmp_path) -> Path:
    path = tmp_path / "disk.vhd"
    path.write_bytes(os.urandom(20 * MiB))
    return path


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_swift_upload_with_segments_comes_back_byte_for_byte(swift, connection, twenty_mib_file):
    uploaded = swift(
        "upload",
        "--segment-size",
        str(3 * MiB),
        "--use-slo",
        "--object-name",
        "disk.vhd",
        "images",
        str(twenty_mib_file),
    )

    assert uploaded.returncode == 0, uploaded.stderr
    headers, body = connection.get_object("images", "disk.vhd")
    assert headers["x-static-large-object"] == "True"
    assert int(headers["content-length"]) == 20 * MiB
    assert md5(body) == md5(twenty_mib_file.read_bytes())
    _, segments = connection.get_container("images_segments")
    assert len(segments) == 7  # 6 of 3 MiB and the last 2 MiB
    assert all(segment["bytes"] <= 3 * MiB for segment in segments)


def test_swift_stat_and_list_show_the_whole_size(swift, twenty_mib_file):
    swift("upload", "--segment-size", str(3 * MiB), "--use-slo", "images", str(twenty_mib_file))

    listed = swift("list", "--long", "images")
    capabilities = swift("capabilities", "--json")

    assert listed.returncode == 0, listed.stderr
    assert str(20 * MiB) in listed.stdout
    assert '"max_file_size": 8388608' in capabilities.stdout


def test_swift_delete_of_a_large_object_takes_its_segments(swift, connection, twenty_mib_file):
    swift(
        "upload",
        "--segment-size",
        str(3 * MiB),
        "--use-slo",
        "--object-name",
        "d",
        "images",
        str(twenty_mib_file),
    )

    deleted = swift("delete", "images", "d")

    assert deleted.returncode == 0, deleted.stderr
    assert connection.get_container("images_segments")[1] == []


def test_without_segments_a_file_above_the_limit_is_refused_413(connection, tmp_path):
    connection.put_container("images")
    data = os.urandom(9 * MiB)

    with pytest.raises(ClientException) as refused:
        connection.put_object("images", "big.vhd", data)

    assert refused.value.http_status == 413
    with pytest.raises(ClientException) as missing:
        connection.head_object("images", "big.vhd")
    assert missing.value.http_status == 404


def test_swift_upload_without_segments_says_the_file_is_too_large(swift, twenty_mib_file):
    uploaded = swift("upload", "images", str(twenty_mib_file))

    assert uploaded.returncode != 0
    assert "413" in uploaded.stderr
