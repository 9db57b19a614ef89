"""manage.py localcloud_image PROJECT NAME FILE --disk-format raw|vhd|qcow2"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imagetasks.localcloud.images.creation import (
    DISK_FORMATS,
    NotAnImage,
    create_image_from_file,
)
from imagetasks.localcloud.models import Project


class Command(BaseCommand):
    help = "Create an active image of the built-in cloud from a local file (demos, benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project name or id")
        parser.add_argument("name", help="image name")
        parser.add_argument("file", type=Path, help="disk image file")
        parser.add_argument("--disk-format", choices=DISK_FORMATS, default="raw")

    def handle(self, *args, project, name, file, disk_format, **options):
        owner = Project.objects.filter(name=project).first() or (
            Project.objects.filter(pk=project).first()
        )
        if owner is None:
            raise CommandError(f"no project named {project!r}")
        if not file.is_file():
            raise CommandError(f"{file} is not a file")
        try:
            image = create_image_from_file(owner, name, file, disk_format)
        except NotAnImage as error:
            raise CommandError(f"{file}: {error}") from None
        self.stdout.write(str(image.id))
