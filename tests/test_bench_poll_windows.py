"""The tracker benchmark's overlap count: two worker processes holding one task at once is
what the poll lease prevents, so the count must see every such pair and nothing else."""

from __future__ import annotations

from bench.poll_windows import (
    PollWindow,
    after_lease,
    count_overlapping,
    overlapping_pairs,
    read_windows,
)


def test_two_processes_polling_one_task_at_once_count_once_per_pair():
    windows = [
        PollWindow("a", pid=1, start=0.0, end=2.0),
        PollWindow("a", pid=2, start=1.5, end=3.0),  # overlaps the first
        PollWindow("a", pid=3, start=1.8, end=1.9),  # inside both: two more pairs
        PollWindow("b", pid=2, start=0.5, end=1.0),  # another task: never paired with "a"
    ]
    assert count_overlapping(windows) == 3


def test_polls_one_after_the_other_or_in_one_process_do_not_overlap():
    windows = [
        PollWindow("a", pid=1, start=0.0, end=1.0),
        PollWindow("a", pid=2, start=1.0, end=2.0),  # starts as the first ends: handed over
        PollWindow("a", pid=1, start=2.5, end=4.0),
        PollWindow("a", pid=1, start=3.0, end=3.5),  # same process (a redelivered job)
        PollWindow("b", pid=2, start=0.0, end=9.0),
    ]
    assert count_overlapping(windows) == 0


def test_windows_are_read_per_task_from_the_workers_lines(tmp_path):
    (tmp_path / "101.log").write_text(
        "10.0 12.0 101 dashboard-0@host 7 t1,t2\n"
        "12.5 13.0 101 dashboard-0@host 7 t3\n"
        "14.0 15.0 101 dashboard-0\n"  # cut short by a killed process
    )
    (tmp_path / "202.log").write_text("11.0 11.5 202 dashboard-1@host 7 t2\n")
    windows = read_windows(tmp_path)
    assert sorted((w.task, w.pid) for w in windows) == [
        ("t1", 101), ("t2", 101), ("t2", 202), ("t3", 101)
    ]  # fmt: skip
    assert count_overlapping(windows) == 1


def test_an_overlap_after_the_earlier_jobs_lease_ran_out_is_told_apart(tmp_path):
    (tmp_path / "101.log").write_text(
        "0.0 70.0 101 dashboard-0@host 7 t1,t2 60.0\n"  # outlived its lease (until 60 s)
    )
    (tmp_path / "202.log").write_text(
        "61.0 62.0 202 dashboard-1@host 7 t1 121.0\n"  # took t1 over once the lease ran out
        "30.0 31.0 202 dashboard-1@host 7 t2 90.0\n"  # while the first still held t2
    )
    pairs = overlapping_pairs(read_windows(tmp_path))
    assert len(pairs) == 2
    assert after_lease(pairs) == 1
