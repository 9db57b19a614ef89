"""Seed the built-in cloud for a demo: project and user ``demo``, containers, sample files,
an image to export or copy; a second project and user ``demo2`` to copy it to; and
``demo-glance``, whose tasks API is admin-only as on stock Glance, so images reach it
through the interoperable import alone. ``demo`` and ``demo2`` let members use the
tasks API (Rackspace's flavour). ``demo-glance`` also has a second region
(LOCALCLOUD_SECOND_REGION) holding an image of its own, ``demo-region-web``, to copy into
the main region with the ``glance-download`` import.

The demo user's password comes from LOCALCLOUD_DEMO_PASSWORD and its API key from
LOCALCLOUD_DEMO_API_KEY (``demo2``: LOCALCLOUD_DEMO2_PASSWORD and
LOCALCLOUD_DEMO2_API_KEY, and so on); an unset one is generated and printed this one time.
Running the command again keeps everything that exists (secrets included) and
prints no secret, so ``make run`` can call it every time.

With ``--clouds-yaml`` it also writes an OpenStack ``clouds.yaml`` entry for
each demo account (file mode 0600), which is how the dashboard learns of the
built-in cloud: through the same import as any other cloud, over HTTP. Two
entries are two clouds to the dashboard, so an image can be copied between them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.catalog import account_name
from imagetasks.localcloud.identity.accounts import WrongProject, ensure_user, generate_secret
from imagetasks.localcloud.images.creation import create_image_from_file
from imagetasks.localcloud.models import CloudUser, Image, Project
from imagetasks.localcloud.objectstore import service

DEMO = "demo"
DEMO_IMAGE = "demo-web"
REGION_IMAGE = "demo-region-web"
CONTAINERS = ("images", "exports")
# One sample of each kind an import meets: good fixed and dynamic disks, a
# differencing disk (refused, 721), a damaged footer (111), and a raw image (396).
SAMPLE_NAMES = ("fixed", "dynamic", "differencing", "bad-checksum", "raw-disk")


class Command(BaseCommand):
    help = "Create the demo projects, users, containers, sample files and image (once)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--clouds-yaml", type=Path, help="Write clouds.yaml entries for the demo accounts."
        )
        parser.add_argument(
            "--public-url",
            help="Where this server is reached, for the clouds.yaml auth_url (default: "
            "LOCALCLOUD_PUBLIC_URL, else IMAGETASKS_BASE_URL).",
        )

    def handle(self, *args, clouds_yaml: Path | None, public_url: str | None, **options):
        public_url = public_url or settings.LOCALCLOUD_PUBLIC_URL or settings.IMAGETASKS_BASE_URL
        passwords = {}
        users = {}
        for account in ACCOUNTS:
            users[account.name], passwords[account.name] = self._ensure_account(account)

        if clouds_yaml:
            for account in ACCOUNTS:
                password = passwords[account.name] or os.environ.get(account.env + "_PASSWORD")
                self.stdout.write(_write_clouds_yaml(clouds_yaml, public_url, account, password))

        user = users[DEMO]
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
        image = _ensure_demo_image(user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Project {DEMO!r} (object-store account {account_name(user.project)}): "
                f"containers {', '.join(CONTAINERS)}; "
                f"{len(added)} sample(s) added to 'images'"
                + (f" ({', '.join(added)})." if added else ".")
                + f" Image {DEMO_IMAGE!r}: {image.id}."
            )
        )
        second = users[SECOND.name]
        service.create_container(second.project, "images")
        self.stdout.write(
            self.style.SUCCESS(
                f"Project {SECOND.name!r} (object-store account {account_name(second.project)}): "
                "a second account to copy images to."
            )
        )
        region_image = _ensure_second_region(users[GLANCE_LIKE.name])
        self.stdout.write(
            self.style.SUCCESS(
                f"Project {GLANCE_LIKE.name!r}: its tasks API is admin-only, as on stock "
                "Glance; images come in through the interoperable import. Its second region "
                f"{settings.LOCALCLOUD_SECOND_REGION!r} has image {REGION_IMAGE!r} "
                f"({region_image.id}) to copy with glance-download."
            )
        )

    def _ensure_account(self, account: DemoAccount) -> tuple[CloudUser, str | None]:
        """The account's user, created once; its password when it was just generated."""
        generated: list[tuple[str, str]] = []
        try:
            # One transaction, so an interrupted run cannot leave a user without secrets.
            with transaction.atomic():
                user, created = ensure_user(account.name, account.name)
                if created:
                    generated = _set_secrets(user, account.env)
                    user.project.tasks_api = account.tasks_api
                    user.project.save(update_fields=["tasks_api"])
        except WrongProject as error:
            raise CommandError(str(error)) from None
        name = account.name
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created user {name!r} in project {name!r}."))
            for label, value in generated:
                self.stdout.write(f"{account.label(label)}: {value}")
            if generated:
                self.stdout.write("Shown only this once; only a hash is stored.")
        else:
            self.stdout.write(f"User {name!r} exists; its password and API key are unchanged.")
        return user, dict(generated).get("Password")


@dataclass(frozen=True)
class DemoAccount:
    """A demo project with a user of the same name, and its clouds.yaml entry."""

    name: str
    cloud_name: str
    env: str  # prefix of the variables holding its secrets
    tasks_api: str = Project.TasksApi.MEMBERS

    def label(self, secret: str) -> str:
        """How a generated secret is printed: the first account's as ever, others named."""
        return secret if self.name == DEMO else f"{secret} of {self.name}"


ACCOUNTS = (
    DemoAccount(DEMO, "localcloud-demo", "LOCALCLOUD_DEMO"),
    DemoAccount("demo2", "localcloud-demo2", "LOCALCLOUD_DEMO2"),
    DemoAccount(
        "demo-glance", "localcloud-demo-glance", "LOCALCLOUD_DEMO_GLANCE", Project.TasksApi.ADMIN
    ),
)
SECOND = ACCOUNTS[1]
GLANCE_LIKE = ACCOUNTS[2]


def _ensure_demo_image(user: CloudUser, name: str = DEMO_IMAGE, region: str = "") -> Image:
    """An active VHD image of the user's project in ``region`` (the images API has no
    upload), made once."""
    image = Image.objects.filter(project=user.project, name=name, region=region).first()
    if image is not None:
        return image
    sample = next(s for s in vhd_samples.SAMPLES if s.name == "fixed")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / sample.filename
        path.write_bytes(sample.build())
        return create_image_from_file(user.project, name, path, "vhd", region=region)


def _ensure_second_region(user: CloudUser) -> Image:
    """The project's second region, with an image in it, added once."""
    project, region = user.project, settings.LOCALCLOUD_SECOND_REGION
    if region not in project.extra_regions:
        project.extra_regions = [*project.extra_regions, region]
        project.save(update_fields=["extra_regions"])
    return _ensure_demo_image(user, REGION_IMAGE, region)


def _set_secrets(user: CloudUser, env: str) -> list[tuple[str, str]]:
    """Set the password and API key from the environment; returns the generated ones."""
    generated = []
    for label, variable, setter in (
        ("Password", f"{env}_PASSWORD", user.set_password),
        ("API key", f"{env}_API_KEY", user.set_api_key),
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


CLOUD_NAME = ACCOUNTS[0].cloud_name


def _write_clouds_yaml(
    path: Path, public_url: str, account: DemoAccount, password: str | None
) -> str:
    """Write or refresh a demo account's clouds.yaml entry; say what happened.

    The password is only known when it was just generated or comes from the
    environment; otherwise an existing entry keeps its own and only the URL
    is refreshed (the server may have moved to another address).
    """
    document: dict[str, Any] = {}
    if path.exists():
        document = yaml.safe_load(path.read_text()) or {}
    entry = document.setdefault("clouds", {}).get(account.cloud_name)
    if entry is None and not password:
        return (
            f"Not writing the {account.cloud_name!r} entry of {path}: the {account.name} "
            f"password is not known any more. Set {account.env}_PASSWORD to the "
            f"{account.name} user's password and run again."
        )
    entry = entry or {}
    auth = entry.setdefault("auth", {})
    auth.update(
        auth_url=f"{public_url.rstrip('/')}/localcloud/identity/v3",
        username=account.name,
        project_name=account.name,
        user_domain_name="Default",
        project_domain_name="Default",
    )
    if password:
        auth["password"] = password
    entry.update(auth_type="password", region_name=settings.LOCALCLOUD_REGION)
    document["clouds"][account.cloud_name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return f"Wrote the {account.cloud_name!r} entry of {path}."
