"""The one client through which the dashboard reaches every cloud, over HTTP only.

Plain Python on ``requests`` (no Django): identity and token cache, catalog lookup, then
Images v2 tasks, images and interoperable import, and object storage. Results are
dataclasses; failures are ``CloudError`` subclasses carrying the HTTP status and the
cloud's own message.
"""

from imagetasks.openstack.client import CloudClient, connect
from imagetasks.openstack.config import CloudConfig
from imagetasks.openstack.errors import (
    AuthError,
    BadRequest,
    CloudError,
    CloudTimeout,
    Conflict,
    EndpointNotFound,
    Forbidden,
    MalformedResponse,
    NotFound,
    RateLimited,
    ServerError,
    TasksForbidden,
    Unavailable,
    Unprocessable,
    UnsupportedMediaType,
)
from imagetasks.openstack.flavour import (
    TasksFlavour,
    build_export_input,
    build_import_input,
    detect_flavour,
)
from imagetasks.openstack.imports import ImportsApi
from imagetasks.openstack.objects import ObjectDownload
from imagetasks.openstack.types import (
    ApiVersion,
    Container,
    ContainerInfo,
    Image,
    ImageProperties,
    ImportState,
    ObjectInfo,
    ObjectMetadata,
    Store,
    Subdir,
    Task,
)

__all__ = [
    "ApiVersion",
    "AuthError",
    "BadRequest",
    "CloudClient",
    "CloudConfig",
    "CloudError",
    "CloudTimeout",
    "Conflict",
    "Container",
    "ContainerInfo",
    "EndpointNotFound",
    "Forbidden",
    "Image",
    "ImageProperties",
    "ImportState",
    "ImportsApi",
    "MalformedResponse",
    "NotFound",
    "ObjectDownload",
    "ObjectInfo",
    "ObjectMetadata",
    "RateLimited",
    "ServerError",
    "Store",
    "Subdir",
    "Task",
    "TasksFlavour",
    "TasksForbidden",
    "Unavailable",
    "Unprocessable",
    "UnsupportedMediaType",
    "build_export_input",
    "build_import_input",
    "connect",
    "detect_flavour",
]
