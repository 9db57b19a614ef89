from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import dispatcher, poller


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
        requests = 0
        claimed = dispatcher.claim_due(now)
        for cloud_id, task_ids in claimed.items():
            requests += poller.poll(cloud_id, task_ids)
        total = sum(len(ids) for ids in claimed.values())
        self.stdout.write(f"polled {total} task(s) with {requests} request(s)")
