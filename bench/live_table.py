"""The open task table as browsers keep it: what an idle table costs, how soon new work shows.

    .venv/bin/python bench/live_table.py [--tabs 3] [--seconds 60] [--tasks 10]
    .venv/bin/python bench/live_table.py --tabs 1 --seconds 15 --tasks 3  # smoke

The dashboard is served by gunicorn as `make run` serves it, on a fresh SQLite database
under ``$IMAGETASKS_VAR_DIR`` (default ``var/bench-live``, removed at the end), and
Debian's chromium (through Playwright) keeps ``--tabs`` tabs open on the task table,
logged in as one person. Two phases, each ``--seconds`` long:

- **idle**: nothing in flight, the state of most tables most of the time;
- **busy** (the same-run baseline): one task in flight, so the table refreshes at its
  fast rate, as it does while anything it shows is running.

In each phase every rows-fragment request the tabs make is counted (an unchanged answer
is an empty 204). Then ``--tasks`` times, a task is written to the database as another
process would write it (the CLI, another person's form, a copy, discovery) at a random
moment, and the time until its row is visible in the first tab is measured. It prints
requests per tab per minute, the share of empty answers, and the time to show new work
(p50 / p95 / max) for both phases, with the ratios idle / busy. It never asserts.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import common  # noqa: E402
from tests.fixtures.browser import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.fixtures.gunicorn import procfile_web_options  # noqa: E402

PASSWORD = "bench-live-table-pw"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tabs", type=int, default=3, help="tabs open on the table")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--tasks", type=int, default=10, help="new tasks timed per phase")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def setup_django(directory: Path) -> dict[str, str]:
    environment = {
        "IMAGETASKS_VAR_DIR": str(directory),
        "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "DJANGO_SETTINGS_MODULE": "imagetasks.settings",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(environment)
    # Playwright's sync API runs an event loop on this thread; the ORM calls made here
    # between its calls are synchronous all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("prepare", verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    return environment


def make_person_and_cloud():
    """The person whose tabs are open (sees every cloud), and a cloud for the new tasks."""
    from django.contrib.auth.models import User

    from imagetasks.dashboard.models import Cloud

    User.objects.create_superuser("bench", "bench@example.test", PASSWORD)
    return Cloud.objects.create(
        name="bench", auth_type=Cloud.AuthType.NONE, image_endpoint="http://127.0.0.1:9/image"
    )


def add_task(cloud, name: str, status: str):
    """A task as another process writes it (the table reads only the database)."""
    from imagetasks.dashboard.models import ImageTask

    return ImageTask.objects.create(
        cloud=cloud,
        type="import",
        name=name,
        status=status,
        input={"import_from": f"images/{name}.vhd", "image_properties": {"name": name}},
    )


def open_tabs(browser, base_url: str, tabs: int):
    context = browser.new_context(base_url=base_url)
    first = context.new_page()
    first.goto("/accounts/login/")
    first.get_by_label("Username").fill("bench")
    first.get_by_label("Password").fill(PASSWORD)
    first.get_by_role("button", name="Log in").click()
    first.wait_for_selector("#task-rows")
    pages = [first] + [context.new_page() for _ in range(tabs - 1)]
    for page in pages[1:]:
        page.goto("/")
    return context, pages


def run_phase(label, pages, cloud, args, rng, status_counts: Counter) -> dict:
    status_counts.clear()
    started = time.monotonic()
    pages[0].wait_for_timeout(args.seconds * 1000)
    elapsed = time.monotonic() - started
    counted = Counter(status_counts)  # the window's requests; the timing below adds more
    requests = sum(counted.values())
    shown = []
    for n in range(args.tasks):
        pages[0].wait_for_timeout(rng.uniform(0, 4000))
        name = f"new-{label}-{n}"
        written = time.monotonic()
        add_task(cloud, name, "success")
        pages[0].get_by_role("link", name=name).wait_for(timeout=60_000)
        shown.append(time.monotonic() - written)
    return {
        "label": label,
        "per_tab_minute": requests / len(pages) / (elapsed / 60),
        "empty_share": counted[204] / requests if requests else 0.0,
        "p50": statistics.median(shown) if shown else 0.0,
        "p95": sorted(shown)[max(0, round(0.95 * len(shown)) - 1)] if shown else 0.0,
        "max": max(shown, default=0.0),
    }


def report(idle: dict, busy: dict, args) -> None:
    print(f"\n{args.tabs} tab(s), {args.seconds:g} s a phase, {args.tasks} new tasks timed a phase")
    print(f"{'':28}{'idle':>10}{'busy (baseline)':>18}{'idle / busy':>14}")
    rows = [
        ("requests / tab / minute", "per_tab_minute", "{:.1f}"),
        ("empty (204) answers", "empty_share", "{:.0%}"),
        ("new work shown, p50 (s)", "p50", "{:.2f}"),
        ("new work shown, p95 (s)", "p95", "{:.2f}"),
        ("new work shown, max (s)", "max", "{:.2f}"),
    ]
    for title, key, shape in rows:
        ratio = idle[key] / busy[key] if busy[key] else float("nan")
        print(f"{title:28}{shape.format(idle[key]):>10}{shape.format(busy[key]):>18}{ratio:>14.2f}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        raise SystemExit(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    directory = common.var_dir("bench-live") / f"run-{os.getpid()}"
    directory.mkdir(parents=True)
    server = None
    try:
        environment = setup_django(directory)
        cloud = make_person_and_cloud()
        port = common.free_port()
        server = common.start_gunicorn(port, procfile_web_options(), environment)
        from playwright.sync_api import sync_playwright

        rng = random.Random(args.seed)
        statuses: Counter = Counter()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            context, pages = open_tabs(browser, f"http://127.0.0.1:{port}", args.tabs)
            context.on(
                "response",
                lambda r: "/tasks/rows/" in r.url and statuses.update([r.status]),
            )
            idle = run_phase("idle", pages, cloud, args, rng, statuses)
            add_task(cloud, "running-01", "processing")
            pages[0].wait_for_timeout(6000)  # every tab has drawn it and polls fast now
            busy = run_phase("busy", pages, cloud, args, rng, statuses)
            browser.close()
        report(idle, busy, args)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=15)
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
