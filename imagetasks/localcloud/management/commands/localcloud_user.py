"""Create or update a project and a user of the built-in cloud.

Secrets never appear on the command line (where ``ps`` and shell history would
keep them): they are read from an environment variable or generated, and a
generated one is printed this one time only (it is stored as a hash).
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from imagetasks.localcloud.catalog import account_name
from imagetasks.localcloud.identity.accounts import WrongProject, ensure_user, generate_secret


class Command(BaseCommand):
    help = "Create or update a built-in cloud project and user (password and API key)."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project name; created if missing")
        parser.add_argument("user", help="user name; created if missing")
        password = parser.add_mutually_exclusive_group()
        password.add_argument("--password-from-env", metavar="VAR", help="set the password")
        password.add_argument("--generate", action="store_true", help="generate a password")
        api_key = parser.add_mutually_exclusive_group()
        api_key.add_argument("--api-key-from-env", metavar="VAR", help="set the API key")
        api_key.add_argument("--generate-api-key", action="store_true", help="generate an API key")
        enabled = parser.add_mutually_exclusive_group()
        enabled.add_argument("--disable", action="store_true", help="refuse its logins")
        enabled.add_argument("--enable", action="store_true", help="accept its logins again")

    def handle(self, *args, **options):
        try:
            # One transaction, so a missing variable cannot leave a user without secrets.
            with transaction.atomic():
                user, created = ensure_user(options["project"], options["user"])
                # A new user with no secret asked for gets a generated password.
                generate_password = options["generate"] or (
                    created
                    and not options["password_from_env"]
                    and not options["api_key_from_env"]
                    and not options["generate_api_key"]
                )
                password = _secret(options["password_from_env"], generate_password)
                api_key = _secret(options["api_key_from_env"], options["generate_api_key"])
                if password:
                    user.set_password(password)
                if api_key:
                    user.set_api_key(api_key)
                if options["disable"] or options["enable"]:
                    user.enabled = options["enable"]
                user.save()
        except WrongProject as error:
            raise CommandError(str(error)) from None

        verb = "Created" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} user {user.name!r} in project {user.project.name!r} "
                f"(project id {user.project.id}, object-store account "
                f"{account_name(user.project)}){'' if user.enabled else ', disabled'}."
            )
        )
        generated = {
            "Password": password if generate_password else None,
            "API key": api_key if options["generate_api_key"] else None,
        }
        for label, value in generated.items():
            if value:
                self.stdout.write(f"{label}: {value}")
        if any(generated.values()):
            self.stdout.write("Shown only this once; only a hash is stored.")


def _secret(variable: str | None, generate: bool) -> str | None:
    if generate:
        return generate_secret()
    if variable is None:
        return None
    value = os.environ.get(variable, "")
    if not value:
        raise CommandError(f"Environment variable {variable} is unset or empty.")
    return value
