"""Checksums of big files in constant memory, MD5 and SHA-512 in parallel.

hashlib releases the GIL on large buffers, so two threads hash one chunk
while the main thread reads the next into the other of two fixed buffers:
the pass runs at about the speed of the slower hash instead of the sum of
both, and memory is two chunks whatever the file size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from imagetasks.localcloud.executors.throttle import Pacer


@dataclass(frozen=True)
class Digests:
    size: int
    md5: str
    sha512: str


def digests_of(path: Path, pacer: Pacer) -> Digests:
    md5 = hashlib.md5(usedforsecurity=False)
    sha512 = hashlib.sha512()
    size = 0
    buffers = [bytearray(pacer.chunk_size), bytearray(pacer.chunk_size)]
    in_flight: list[Future] = []
    with (
        ThreadPoolExecutor(max_workers=2, thread_name_prefix="hash") as pool,
        open(path, "rb", buffering=0) as source,
    ):
        turn = 0
        while True:
            buffer = memoryview(buffers[turn])
            read = source.readinto(buffer)
            for future in in_flight:  # the other buffer is free again after this
                future.result()
            if not read:
                break
            chunk = buffer[:read]
            in_flight = [pool.submit(md5.update, chunk), pool.submit(sha512.update, chunk)]
            size += read
            pacer.advance(read)
            turn = 1 - turn
    return Digests(size=size, md5=md5.hexdigest(), sha512=sha512.hexdigest())


class StreamDigests:
    """MD5 and SHA-512 of a stream on its way elsewhere (segments joined into a blob).

    ``through`` yields the chunks as they come while the two hashes of each chunk run in
    threads of their own, so the consumer writes one chunk while the next is read and
    the last one hashed; ``digests`` is ready once the stream has been read to its end.
    The chunks must be ``bytes`` (they are hashed after being handed on).
    """

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha512 = hashlib.sha512()
        self._size = 0
        self._finished = False

    def through(self, chunks: Iterable[bytes], pacer: Pacer) -> Iterator[bytes]:
        in_flight: list[Future] = []
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hash") as pool:
            for chunk in chunks:
                for future in in_flight:  # at most one chunk hashed behind the stream
                    future.result()
                in_flight = [
                    pool.submit(self._md5.update, chunk),
                    pool.submit(self._sha512.update, chunk),
                ]
                self._size += len(chunk)
                yield chunk
                pacer.advance(len(chunk))
            for future in in_flight:
                future.result()
        self._finished = True

    @property
    def digests(self) -> Digests:
        if not self._finished:
            raise RuntimeError("the stream was not read to its end")
        return Digests(size=self._size, md5=self._md5.hexdigest(), sha512=self._sha512.hexdigest())


def md5_of(path: Path, pacer: Pacer) -> str:
    """MD5 alone (an object's ETag), read in the pacer's chunks."""
    md5 = hashlib.md5(usedforsecurity=False)
    buffer = bytearray(pacer.chunk_size)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as source:
        while read := source.readinto(view):
            md5.update(view[:read])
            pacer.advance(read)
    return md5.hexdigest()
