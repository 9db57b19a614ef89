"""The built-in cloud's state: identities, object storage, images and tasks.

Object and image *bytes* live in the blob store on disk (see ``blobstore``);
these rows only name them, so user-chosen names never become file paths.
"""

from imagetasks.localcloud.models.identity import CloudUser, Project, Token
from imagetasks.localcloud.models.images import Image
from imagetasks.localcloud.models.objects import Container, StoredObject
from imagetasks.localcloud.models.tasks import CloudTask

__all__ = ["CloudTask", "CloudUser", "Container", "Image", "Project", "StoredObject", "Token"]
