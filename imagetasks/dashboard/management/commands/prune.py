import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from imagetasks.dashboard.upkeep import retention

# Progress is printed at most this often during long work.
PROGRESS_EVERY = 2.0


class Command(BaseCommand):
    help = (
        "Show what the retention settings (IMAGETASKS_KEEP_*_DAYS) no longer keep; "
        "remove it with --apply, in batches."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--apply", action="store_true", help="Remove the rows (without it: only count them)."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Rows removed per transaction (default: IMAGETASKS_PRUNE_BATCH_SIZE).",
        )

    def handle(self, *args, apply: bool, batch_size: int | None, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        policy = retention.Policy.from_settings()
        now = timezone.now()
        if not apply:
            self.stdout.write("Would remove (dry run; --apply removes):")
            for tally in retention.count(policy, now):
                self.stdout.write(f"  {tally}")
            return
        if policy.keeps_everything:
            self.stdout.write("Nothing to remove: every IMAGETASKS_KEEP_*_DAYS is unset.")
            return
        size = batch_size or settings.PRUNE_BATCH_SIZE
        self.stdout.write(f"Removing, {size:,} rows a transaction:")
        shown = time.monotonic()

        def progress(tally: retention.Tally) -> None:
            nonlocal shown
            if time.monotonic() - shown >= PROGRESS_EVERY:
                shown = time.monotonic()
                self.stdout.write(f"  … {tally} so far")

        report = retention.prune(policy, now, batch_size=size, after_batch=progress)
        self.stdout.write("Removed:")
        for tally in report.tallies:
            self.stdout.write(f"  {tally}")
