from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imagetasks.dashboard.clouds.cloudsyaml import CloudsYamlError, import_file


class Command(BaseCommand):
    help = "Create or update clouds from an OpenStack clouds.yaml file (names are kept)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            result = import_file(path)
        except CloudsYamlError as error:
            raise CommandError(str(error)) from None
        for name in result.created:
            self.stdout.write(f"created cloud {name}")
        for name in result.updated:
            self.stdout.write(f"updated cloud {name}")
