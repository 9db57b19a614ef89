from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from imagetasks.dashboard import jobs
from imagetasks.dashboard.models import Cloud, ImageTask


class Command(BaseCommand):
    help = "Poll every watched task now, in this process (all clouds, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--cloud", help="Only this cloud.")

    def handle(self, *args, cloud: str | None, **options):
        tasks = ImageTask.objects.filter(next_poll_at__isnull=False)
        if cloud:
            if not Cloud.objects.filter(name=cloud).exists():
                raise CommandError(f"no cloud named {cloud!r}")
            tasks = tasks.filter(cloud__name=cloud)
        now = timezone.now()
        tasks.update(next_poll_at=now)
        total, requests = jobs.poll_due_here(now)
        self.stdout.write(f"polled {total} task(s) with {requests} request(s)")
