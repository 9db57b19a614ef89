import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking.submission import submit


class Command(BaseCommand):
    help = "Submit an image task through the same service as the web form; prints its UUID."

    def add_arguments(self, parser):
        parser.add_argument("--cloud", required=True)
        parser.add_argument("--type", default="import", choices=["import", "export"])
        parser.add_argument(
            "--method",
            default="",
            choices=["web-download", "copy-image"],
            help=(
                "An interoperable import instead of the tasks API; --input then holds "
                '{"uri": …, "image_properties": {"name": …, "disk_format": …}} (web-download) '
                'or {"image_id": …, "stores": […]} (copy-image), with optional "stores" and '
                '"all_stores_must_succeed".'
            ),
        )
        parser.add_argument("--input", required=True, help="The task's input, as JSON.")
        parser.add_argument("--user", help="Username recorded as the submitter.")

    def handle(
        self, *args, cloud: str, type: str, method: str, input: str, user: str | None, **options
    ):
        try:
            task_input = json.loads(input)
        except ValueError as error:
            raise CommandError(f"--input is not JSON: {error}") from None
        if not isinstance(task_input, dict):
            raise CommandError("--input must be a JSON object")
        target = Cloud.objects.filter(name=cloud).first()
        if target is None:
            raise CommandError(f"no cloud named {cloud!r}")
        submitter = None
        if user:
            submitter = get_user_model().objects.filter(username=user).first()
            if submitter is None:
                raise CommandError(f"no user named {user!r}")
        if method and type != ImageTask.Type.IMPORT:
            raise CommandError("--method is for imports")
        task = submit(target, type, task_input, user=submitter, method=method)
        self.stdout.write(str(task.pk))
        self.stderr.write(f"status: {task.status}" + (f" — {task.message}" if task.message else ""))
        if task.status in (statuses.REJECTED, statuses.LOST):
            raise CommandError(f"the cloud refused the task: {task.message}")
