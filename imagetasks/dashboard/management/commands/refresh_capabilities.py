from django.core.management.base import BaseCommand, CommandError

from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import Cloud


class Command(BaseCommand):
    help = (
        "Ask clouds what they offer for imports (Images API version, import methods, stores, "
        "the tasks API) and keep it on each cloud: the clouds named, or every enabled one."
    )

    def add_arguments(self, parser):
        parser.add_argument("clouds", nargs="*", metavar="CLOUD", help="Names of clouds.")

    def handle(self, *args, clouds: list[str], **options):
        rows = Cloud.objects.order_by("name")
        if clouds:
            rows = rows.filter(name__in=clouds)
            missing = sorted(set(clouds) - {cloud.name for cloud in rows})
            if missing:
                raise CommandError(f"no cloud named {', '.join(map(repr, missing))}")
        else:
            rows = rows.filter(enabled=True)
        for cloud in rows:
            found = capabilities.refresh(cloud)
            self.stdout.write(f"{cloud.name}: {capabilities.summary(cloud)}")
            for error in found.errors:
                self.stderr.write(f"{cloud.name}: not answered: {error}")
