"""Create the folders and the secret key this installation keeps on disk (see prepare.py).

Running it again changes nothing, so ``make run`` calls it every time, before ``migrate``.
"""

from django.core.management.base import BaseCommand

from imagetasks.dashboard.prepare import prepare


class Command(BaseCommand):
    help = "Create the data, static and broker folders and, unless SECRET_KEY is set, a key."

    # The checks would stop on the very key this command writes.
    requires_system_checks = []

    def handle(self, *args, verbosity: int, **options) -> None:
        for done in prepare():
            if verbosity:
                self.stdout.write(done)
