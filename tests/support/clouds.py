"""The built-in cloud's accounts, and the dashboard's ``Cloud`` rows that reach them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from imagetasks.dashboard.models import Cloud
from imagetasks.localcloud.models import CloudUser, Project, Token


@dataclass
class Account:
    """A project of the built-in cloud with one user, and the clear secrets the test knows."""

    project: Project
    user: CloudUser
    password: str
    api_key: str

    def token(self, ttl: timedelta = timedelta(hours=1)) -> str:
        value, _ = Token.objects.issue(self.user, timezone.now() + ttl)
        return value

    def keystone_v3_login(self, base_url: str) -> dict[str, str]:
        """The arguments a Keystone v3 password login to the built-in cloud at ``base_url``
        takes, as keystoneauth and openstacksdk both name them."""
        return {
            "auth_url": f"{base_url}/localcloud/identity/v3",
            "username": self.user.name,
            "password": self.password,
            "project_name": self.project.name,
            "user_domain_id": "default",
            "project_domain_id": "default",
        }


def make_account(name: str) -> Account:
    """A project ``name`` of the built-in cloud with one user and fresh secrets."""
    project = Project.objects.create(name=name)
    user = CloudUser(project=project, name=f"{name}-user")
    password, api_key = f"pw-{name}-{uuid.uuid4().hex[:8]}", f"key-{uuid.uuid4().hex}"
    user.set_password(password)
    user.set_api_key(api_key)
    user.save()
    return Account(project=project, user=user, password=password, api_key=api_key)


def register_cloud(live_server, owner: Account, name: str = "local", **fields) -> Cloud:
    """A dashboard ``Cloud`` for ``owner`` on the live built-in cloud (Keystone v3).

    Its capabilities count as checked, nothing learnt (the import page offers the tasks API
    form) until a test refreshes them; ``capabilities_checked_at=None`` makes a cloud never
    asked, as a new one is.
    """
    fields.setdefault("capabilities_checked_at", timezone.now())
    cloud = Cloud(
        name=name,
        auth_type=Cloud.AuthType.V3_PASSWORD,
        auth_url=f"{live_server.url}/localcloud/identity/v3",
        username=owner.user.name,
        project_name=owner.project.name,
        region=settings.LOCALCLOUD_REGION,
        poll_min_interval=0.3,
        poll_max_interval=2.0,
        timeout=10.0,
        **fields,
    )
    cloud.set_secret(owner.password)
    cloud.save()
    return cloud
