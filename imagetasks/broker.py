"""The embedded broker: kombu's filesystem transport, made safe for several processes.

kombu's own filesystem channel creates a message file and only then writes into it,
so a worker listing the queue folder at that moment reads an empty file, fails to
decode it and stops with an "unrecoverable error"; with web, dispatcher and workers
all publishing at once that happens within minutes. Here a message is written whole
under a name no consumer looks at and renamed into the queue, and a consumer claims
a message by renaming it into the processed folder: both are atomic on one file
system, so a message is read only once it is complete, and by one consumer only.
A file that still cannot be decoded (a disk filled up, a hand-edited queue) is set
aside in a ``rejected`` folder and logged instead of stopping the worker.
"""

import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

MESSAGE_SUFFIX = ".msg"


def folder_options(folder: Path, *, polling_interval: float) -> dict[str, Any]:
    """The transport options for a broker kept in ``folder``: messages are published to
    and read from ``queue``, claimed into ``processed`` (and not kept there once acked),
    and the control messages go to ``control``."""
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": polling_interval,
    }


class Channel(filesystem.Channel):
    # The signature of kombu's filesystem channel, which differs from its abstract base's
    # in kombu itself (the stubs mark the same override as ignored).
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000):015d}_{uuid.uuid4()}.{queue}{MESSAGE_SUFFIX}"
        # The staging name starts with a dot and has no ".msg" ending, so no
        # consumer picks it up before the rename below publishes it whole.
        staging = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(staging, "wb") as message_file:
                message_file.write(str_to_bytes(dumps(payload)))
            os.replace(staging, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from exc

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        wanted = f"{queue}{MESSAGE_SUFFIX}"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or name.partition(".")[2] != wanted:
                continue
            # The processed folder sits next to the queue on the same file system, so
            # claiming is a rename even when processed messages are not kept.
            claimed = os.path.join(self.processed_folder, name)
            try:
                # Only one consumer's rename succeeds; the others move on.
                os.replace(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue
            try:
                with open(claimed, "rb") as message_file:
                    payload = message_file.read()
            except OSError as exc:
                raise ChannelError(f"Cannot read the message {claimed!r}") from exc
            try:
                message = loads(bytes_to_str(payload))
            except ValueError:
                self._set_aside(claimed, name, len(payload))
                continue
            if not self.store_processed:
                os.remove(claimed)
            return message
        raise Empty()

    def get_table(self, exchange):
        # kombu creates an exchange file before it writes the table into it; a
        # reader in between sees an empty file, which means "no queues bound yet".
        try:
            return super().get_table(exchange)
        except ValueError:
            return []

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        # kombu checks whether the exchange file exists and then creates it, so two
        # processes binding at once can each read the other's still empty file. One
        # open that creates or reuses the file, then reading under the lock, cannot.
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self.control_folder.mkdir(exist_ok=True)
        # kombu's stubs (celery-types) leave out the channel's file helpers used here.
        exchange_file = self._exchange_file(exchange)  # type: ignore[attr-defined]
        descriptor = os.open(exchange_file, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "rb+", buffering=0) as table_file:
            filesystem.lock(table_file, filesystem.LOCK_EX)  # type: ignore[attr-defined]
            try:
                rows = loads(bytes_to_str(table_file.read()) or "[]")
                bindings = [filesystem.exchange_queue_t(*row) for row in rows]
                if binding not in bindings:
                    bindings.insert(0, binding)
                    table_file.seek(0)
                    table_file.write(str_to_bytes(dumps(bindings)))
                    table_file.truncate()
            finally:
                filesystem.unlock(table_file)

    def _set_aside(self, claimed, name, size):
        rejected = Path(self.processed_folder).parent / "rejected"
        rejected.mkdir(exist_ok=True)
        os.replace(claimed, rejected / name)
        logger.error(
            "Set aside the unreadable broker message %s (%d bytes) in %s", name, size, rejected
        )


class Transport(filesystem.Transport):
    Channel = Channel
