"""Make an API token for a person and print it, this one time (only its digest is kept)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from imagetasks.dashboard.api import tokens


class Command(BaseCommand):
    help = "Make an API token for USER and print it once; it cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("user", help="The login the token acts as.")
        parser.add_argument("--name", default="command line", help="What the token is for.")

    def handle(self, *args, user: str, name: str, **options):
        person = get_user_model().objects.filter(username=user).first()
        if person is None:
            raise CommandError(f"No login named {user!r}.")
        if not person.is_active:
            raise CommandError(f"The login {user!r} is switched off; its tokens would not work.")
        if not name.strip():
            raise CommandError("The token needs a name.")
        value, _ = tokens.issue(person, name.strip())
        self.stderr.write(
            f"API token {name.strip()!r} for {user}. Copy it now: it cannot be shown again."
        )
        self.stdout.write(value)
