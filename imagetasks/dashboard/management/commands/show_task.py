import json
import uuid

from django.core.management.base import BaseCommand, CommandError

from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.templatetags.tasks import import_state, partial_note
from imagetasks.dashboard.tracking.image_imports import image_id_of


def _time(value) -> str | None:
    return value.isoformat() if value else None


class Command(BaseCommand):
    help = "Print a task and its snapshots."

    def add_arguments(self, parser):
        parser.add_argument("uuid")
        parser.add_argument("--json", action="store_true", help="Machine-readable output.")

    def handle(self, *args, uuid: str, json: bool, **options):
        task = _find(uuid)
        snapshots = list(task.snapshots.order_by("observed_at", "id"))
        if json:
            self.stdout.write(_as_json(task, snapshots))
            return
        self.stdout.write(f"{task.type} {task.name or '(unnamed)'} on {task.cloud.name}")
        self.stdout.write(f"  id         {task.pk}")
        self.stdout.write(f"  remote id  {task.remote_id or '-'}")
        self.stdout.write(f"  status     {task.status_info.label}")
        if task.method:
            self._import_state(task)
        if task.message:
            self.stdout.write(f"  message    {task.message}")
        if task.result:
            self.stdout.write(f"  result     {_dumps(task.result)}")
        self.stdout.write(f"  expires    {_time(task.expires_at) or '-'}")
        if task.remote_gone_at:
            self.stdout.write(f"  gone from the cloud since {_time(task.remote_gone_at)}")
        if task.last_error:
            self.stdout.write(f"  last error {task.last_error} ({task.poll_errors} in a row)")
        self.stdout.write("  timeline")
        for snapshot in snapshots:
            self.stdout.write(f"    {_time(snapshot.observed_at)}  {snapshot.status}")

    def _import_state(self, task: ImageTask) -> None:
        """Where an interoperable import stands on its image, as last seen."""
        state = import_state(task)
        self.stdout.write(f"  method     {task.method}")
        self.stdout.write(
            f"  image      {image_id_of(task) or '-'} ({state['image_status'] or '?'})"
        )
        self.stdout.write(f"  stores     {', '.join(state['stores']) or '-'}")
        if state["importing_to"]:
            self.stdout.write(f"  importing  {', '.join(state['importing_to'])}")
        if state["failed_stores"]:
            self.stdout.write(f"  failed in  {', '.join(state['failed_stores'])}")
        if note := partial_note(task):
            self.stdout.write(f"  partial    {note}")
        if state["task_status"] or state["task_message"]:
            words = f": {state['task_message']}" if state["task_message"] else ""
            self.stdout.write(f"  glance task {state['task_status'] or '?'}{words}")


def _find(value: str) -> ImageTask:
    try:
        key = uuid.UUID(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a task UUID") from None
    task = ImageTask.objects.select_related("cloud").filter(pk=key).first()
    if task is None:
        raise CommandError(f"no task {value}")
    return task


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True)


def _as_json(task: ImageTask, snapshots) -> str:
    return json.dumps(
        {
            "id": str(task.pk),
            "cloud": task.cloud.name,
            "remote_id": task.remote_id,
            "type": task.type,
            "method": task.method,
            "status": task.status,
            "input": task.input,
            "result": task.result,
            "message": task.message,
            "expires_at": _time(task.expires_at),
            "remote_gone_at": _time(task.remote_gone_at),
            "last_error": task.last_error,
            "snapshots": [
                {"observed_at": _time(s.observed_at), "status": s.status, "body": s.body}
                for s in snapshots
            ],
        },
        indent=2,
        sort_keys=True,
    )
