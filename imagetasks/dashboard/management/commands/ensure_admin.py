"""Create the demo login once: user ``admin``, a superuser.

The password comes from IMAGETASKS_ADMIN_PASSWORD; without it one is
generated and printed this one time (it is stored only as a hash). Running
the command again changes nothing, so ``make run`` can call it every time.

The login gets an email address on this host, so that with the console email
backend of the embedded default its completion emails show in the log.
"""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the 'admin' login if it does not exist yet."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args, username: str, email: str, **options):
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            # A login made before it had an address gets one; a chosen one is kept.
            users.objects.filter(username=username, email="").update(email=email)
            self.stdout.write(f"Login '{username}' exists; its password is unchanged.")
            return
        password = os.environ.get("IMAGETASKS_ADMIN_PASSWORD", "").strip()
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        users.objects.create_superuser(username=username, email=email, password=password)
        if generated:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created login '{username}' with password: {password}\n"
                    "It is shown only this once. Change it with "
                    f"'manage.py changepassword {username}'."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created login '{username}' with the password from IMAGETASKS_ADMIN_PASSWORD."
                )
            )
