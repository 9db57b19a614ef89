"""The embedded broker delivers every message whole, once, with many processes at once."""

import multiprocessing
import queue

from kombu import Connection

from imagetasks.broker import Transport, folder_options
from tests.support.settings import start_django

PUBLISHERS = 4
CONSUMERS = 4
MESSAGES_EACH = 150


def _options(folder):
    for name in ("queue", "processed", "control"):
        (folder / name).mkdir(exist_ok=True)
    return folder_options(folder, polling_interval=0.01)


def _connection(folder):
    return Connection("filesystem://", transport=Transport, transport_options=_options(folder))


def _publish(folder, publisher):
    with _connection(folder) as conn:
        jobs = conn.SimpleQueue("jobs")
        # A payload large enough that writing it is not a single instant.
        padding = "x" * 20_000
        for number in range(MESSAGES_EACH):
            jobs.put({"id": f"{publisher}-{number}", "padding": padding})


def _consume(folder, results, stop_after):
    seen = []
    with _connection(folder) as conn:
        jobs = conn.SimpleQueue("jobs")
        idle = 0
        while idle < stop_after:
            try:
                message = jobs.get(timeout=0.2)
            except queue.Empty:
                idle += 1
                continue
            idle = 0
            seen.append(message.payload["id"])
            message.ack()
    results.put(seen)


def test_concurrent_publishers_and_consumers_deliver_every_message_exactly_once(tmp_path):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    consumers = [
        context.Process(target=_consume, args=(tmp_path, results, 15)) for _ in range(CONSUMERS)
    ]
    publishers = [
        context.Process(target=_publish, args=(tmp_path, number)) for number in range(PUBLISHERS)
    ]
    for process in consumers + publishers:
        process.start()
    delivered = [results.get(timeout=120) for _ in consumers]
    for process in consumers + publishers:
        process.join(timeout=30)

    assert all(process.exitcode == 0 for process in consumers + publishers)
    every_id = [message_id for seen in delivered for message_id in seen]
    expected = {f"{p}-{n}" for p in range(PUBLISHERS) for n in range(MESSAGES_EACH)}
    assert len(every_id) == len(expected), "a message was lost or delivered twice"
    assert set(every_id) == expected
    assert not list((tmp_path / "queue").iterdir()), "a message or staging file was left behind"


def test_an_unreadable_message_file_is_set_aside_and_the_next_one_delivered(tmp_path, caplog):
    with _connection(tmp_path) as conn:
        jobs = conn.SimpleQueue("jobs")
        jobs.put({"id": "good"})
        # An empty message file sorting first, as a crash mid-write would leave it.
        (tmp_path / "queue" / "000000000000000_broken.jobs.msg").write_bytes(b"")

        message = jobs.get(timeout=2)
        message.ack()

    assert message.payload == {"id": "good"}
    assert [path.name for path in (tmp_path / "rejected").iterdir()] == [
        "000000000000000_broken.jobs.msg"
    ]
    assert "Set aside the unreadable broker message" in caplog.text
    assert not list((tmp_path / "queue").iterdir())


def test_the_embedded_default_publishes_through_the_atomic_transport(tmp_path):
    code = (
        "from imagetasks.celery import app\n"
        "with app.connection_for_write() as conn:\n"
        "    print(type(conn.transport).__module__)"
    )
    result = start_django(tmp_path, code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imagetasks.broker"
