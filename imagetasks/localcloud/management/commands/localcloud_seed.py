"""Seed the built-in cloud for a demo: project and user ``demo``, containers, sample files.

The user's password comes from LOCALCLOUD_DEMO_PASSWORD and its API key from
LOCALCLOUD_DEMO_API_KEY; an unset one is generated and printed this one time.
Running the command again keeps everything that exists (secrets included) and
prints no secret, so ``make run`` can call it every time.

With ``--clouds-yaml`` it also writes an OpenStack ``clouds.yaml`` entry for
the demo account (file mode 0600), which is how the dashboard learns of the
built-in cloud: through the same import as any other cloud, over HTTP.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.catalog import account_name
from imagetasks.localcloud.identity.accounts import WrongProject, ensure_user, generate_secret
from imagetasks.localcloud.models import CloudUser
from imagetasks.localcloud.objectstore import service

DEMO = "demo"
CONTAINERS = ("images", "exports")
# One sample of each kind an import meets: good fixed and dynamic disks, a
# differencing disk (refused, 721), a damaged footer (111), and a raw image (396).
SAMPLE_NAMES = ("fixed", "dynamic", "differencing", "bad-checksum", "raw-disk")


class Command(BaseCommand):
    help = "Create the demo project, user, containers and sample images (once)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--clouds-yaml", type=Path, help="Write a clouds.yaml entry for the demo account."
        )
        parser.add_argument(
            "--public-url",
            default="http://127.0.0.1:8000",
            help="Where this server is reached, for the clouds.yaml auth_url.",
        )

    def handle(self, *args, clouds_yaml: Path | None, public_url: str, **options):
        generated: list[tuple[str, str]] = []
        try:
            # One transaction, so an interrupted run cannot leave a user without secrets.
            with transaction.atomic():
                user, created = ensure_user(DEMO, DEMO)
                if created:
                    generated = _set_secrets(user)
        except WrongProject as error:
            raise CommandError(str(error)) from None
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created user {DEMO!r} in project {DEMO!r}."))
            for label, value in generated:
                self.stdout.write(f"{label}: {value}")
            if generated:
                self.stdout.write("Shown only this once; only a hash is stored.")
        else:
            self.stdout.write(f"User {DEMO!r} exists; its password and API key are unchanged.")

        if clouds_yaml:
            password = dict(generated).get("Password") or os.environ.get("LOCALCLOUD_DEMO_PASSWORD")
            self.stdout.write(_write_clouds_yaml(clouds_yaml, public_url, password))

        containers = {name: service.create_container(user.project, name)[0] for name in CONTAINERS}
        added = []
        for sample in _samples():
            if service.find_object(containers["images"], sample.filename) is None:
                service.put_object(
                    containers["images"],
                    sample.filename,
                    [sample.build()],
                    "application/octet-stream",
                    replace=False,
                )
                added.append(sample.filename)
        self.stdout.write(
            self.style.SUCCESS(
                f"Project {DEMO!r} (object-store account {account_name(user.project)}): "
                f"containers {', '.join(CONTAINERS)}; "
                f"{len(added)} sample(s) added to 'images'"
                + (f" ({', '.join(added)})." if added else ".")
            )
        )


def _set_secrets(user: CloudUser) -> list[tuple[str, str]]:
    """Set the password and API key from the environment; returns the generated ones."""
    generated = []
    for label, variable, setter in (
        ("Password", "LOCALCLOUD_DEMO_PASSWORD", user.set_password),
        ("API key", "LOCALCLOUD_DEMO_API_KEY", user.set_api_key),
    ):
        value = os.environ.get(variable, "")
        if not value:
            value = generate_secret()
            generated.append((label, value))
        setter(value)
    user.save()
    return generated


def _samples() -> list[vhd_samples.Sample]:
    by_name = {sample.name: sample for sample in vhd_samples.SAMPLES}
    missing = [name for name in SAMPLE_NAMES if name not in by_name]
    if missing:
        raise CommandError(f"vhd_samples has no sample called {', '.join(missing)}.")
    return [by_name[name] for name in SAMPLE_NAMES]


CLOUD_NAME = "localcloud-demo"


def _write_clouds_yaml(path: Path, public_url: str, password: str | None) -> str:
    """Write or refresh the demo account's clouds.yaml entry; say what happened.

    The password is only known when it was just generated or comes from the
    environment; otherwise an existing entry keeps its own and only the URL
    is refreshed (the server may have moved to another address).
    """
    document = {}
    if path.exists():
        document = yaml.safe_load(path.read_text()) or {}
    entry = document.setdefault("clouds", {}).get(CLOUD_NAME)
    if entry is None and not password:
        return (
            f"Not writing {path}: the demo password is not known any more. "
            "Set LOCALCLOUD_DEMO_PASSWORD to the demo user's password and run again."
        )
    entry = entry or {}
    auth = entry.setdefault("auth", {})
    auth.update(
        auth_url=f"{public_url.rstrip('/')}/localcloud/identity/v3",
        username=DEMO,
        project_name=DEMO,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    if password:
        auth["password"] = password
    entry.update(auth_type="password", region_name=settings.LOCALCLOUD_REGION)
    document["clouds"][CLOUD_NAME] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return f"Wrote the {CLOUD_NAME!r} entry of {path}."
