from imagetasks.dashboard.models.api_tokens import ApiToken
from imagetasks.dashboard.models.clouds import Cloud
from imagetasks.dashboard.models.copies import Copy, CopyEvent
from imagetasks.dashboard.models.heartbeat import Heartbeat
from imagetasks.dashboard.models.notifications import Notification, Profile
from imagetasks.dashboard.models.signin import ProviderIdentity
from imagetasks.dashboard.models.snapshots import TaskSnapshot
from imagetasks.dashboard.models.tasks import ImageTask
from imagetasks.dashboard.models.upkeep import Upkeep

__all__ = [
    "ApiToken",
    "Cloud",
    "Copy",
    "CopyEvent",
    "Heartbeat",
    "ImageTask",
    "Notification",
    "Profile",
    "ProviderIdentity",
    "TaskSnapshot",
    "Upkeep",
]
