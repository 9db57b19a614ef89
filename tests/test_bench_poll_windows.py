"""The tracker benchmark's overlap count: two worker processes holding one task at once is
what the poll lease prevents, so the count must see every such pair and nothing else; a
hand-over (released by one job, claimed again for another) is not one."""

from __future__ import annotations

from bench.poll_windows import (
    PollWindow,
    after_lease,
    count_overlapping,
    overlapping_pairs,
    read_jobs,
    read_windows,
)


def test_two_processes_holding_one_task_at_once_count_once_per_pair():
    windows = [
        PollWindow("a", pid=1, start=0.0, end=2.0),
        PollWindow("a", pid=2, start=1.5, end=3.0),  # overlaps the first
        PollWindow("a", pid=3, start=1.8, end=1.9),  # inside both: two more pairs
        PollWindow("b", pid=2, start=0.5, end=1.0),  # another task: never paired with "a"
    ]
    assert count_overlapping(windows) == 3


def test_windows_that_only_touch_do_not_overlap():
    windows = [
        PollWindow("a", pid=1, start=0.0, end=1.0),
        PollWindow("a", pid=2, start=1.0, end=2.0),  # taken as the first released it
        PollWindow("a", pid=3, start=2.0, end=2.0),  # a request that took no time, at the end
    ]
    assert count_overlapping(windows) == 0


def test_a_hand_over_is_not_an_overlap_though_the_jobs_ran_at_once():
    # Job 1 (process 1) runs 0–3 s: it releases "a" at 1.0 (its change recorded from the
    # list) and goes on with "b" until 3.0. A later tick claims "a" again for job 2
    # (process 2), which holds it 1.5–2.5. The jobs overlap; the task was in one pair of
    # hands at a time.
    windows = [
        PollWindow("a", pid=1, start=0.0, end=1.0),
        PollWindow("b", pid=1, start=0.0, end=3.0),
        PollWindow("a", pid=2, start=1.5, end=2.5),
    ]
    assert count_overlapping(windows) == 0


def test_one_process_twice_or_two_tasks_are_no_overlap():
    windows = [
        PollWindow("a", pid=1, start=2.5, end=4.0),
        PollWindow("a", pid=1, start=3.0, end=3.5),  # same process (a redelivered job)
        PollWindow("b", pid=2, start=0.0, end=9.0),
    ]
    assert count_overlapping(windows) == 0


def test_asking_about_a_task_another_process_holds_is_an_overlap():
    windows = [
        PollWindow("a", pid=1, start=0.0, end=2.0),
        PollWindow("a", pid=2, start=1.0, end=1.1, held=False),
    ]
    ((first, later),) = overlapping_pairs(windows)
    assert first.held and not later.held


def test_windows_are_read_per_task_from_the_workers_lines(tmp_path):
    (tmp_path / "101.log").write_text(
        "held 10.0 10.5 101 dashboard-0@host 7 70.0 t1,t2\n"  # released from the list scan
        "held 10.0 12.0 101 dashboard-0@host 7 70.0 t3\n"  # released after its detail GET
        "asked 11.0 11.2 101 dashboard-0@host 7 70.0 t9\n"  # a task it did not hold
        "job 10.0 12.0 101 dashboard-0@host 7 70.0 4/3\n"  # handed 4, one claimed again
        "held 14.0 15.0 101 dashboard-0\n"  # cut short by a killed process
    )
    (tmp_path / "202.log").write_text(
        "held 10.5 11.5 202 dashboard-1@host 7 71.0 t2\n"  # taken as 101 released it
        "held 11.0 11.5 202 dashboard-1@host 7 71.0 t3,t9\n"  # while 101 held t3, asked t9
        "job 10.5 11.5 202 dashboard-1@host 7 71.0 3/3\n"
    )
    windows = read_windows(tmp_path)
    assert sorted((w.task, w.pid, w.held) for w in windows) == [
        ("t1", 101, True), ("t2", 101, True), ("t2", 202, True), ("t3", 101, True),
        ("t3", 202, True), ("t9", 101, False), ("t9", 202, True),
    ]  # fmt: skip
    pairs = overlapping_pairs(windows)
    assert sorted((first.task, first.pid) for first, _ in pairs) == [("t3", 101), ("t9", 101)]
    jobs = read_jobs(tmp_path)
    assert sorted((job.pid, job.handed, job.taken) for job in jobs) == [(101, 4, 3), (202, 3, 3)]


def test_an_overlap_after_the_earlier_jobs_lease_ran_out_is_told_apart(tmp_path):
    (tmp_path / "101.log").write_text(
        "held 0.0 70.0 101 dashboard-0@host 7 60.0 t1,t2\n"  # outlived its lease (until 60 s)
    )
    (tmp_path / "202.log").write_text(
        "held 61.0 62.0 202 dashboard-1@host 7 121.0 t1\n"  # took t1 once the lease ran out
        "held 30.0 31.0 202 dashboard-1@host 7 90.0 t2\n"  # while the first still held t2
    )
    pairs = overlapping_pairs(read_windows(tmp_path))
    assert len(pairs) == 2
    assert after_lease(pairs) == 1
