"""Containers and objects of the built-in object store, for views and for other code.

Everything that writes an object goes through here (the API views, the demo
seed, Images exports), so the rules live in one place: the bytes are written
to a new blob before the row points at them, a replaced or deleted object's
blob is removed only once the change is committed, and expired objects
(``X-Delete-At``) are gone for every reader and purged lazily.
"""

from __future__ import annotations

import functools
import mimetypes
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from imagetasks.localcloud import blobstore
from imagetasks.localcloud.models import Container, Project, StoredObject


class ChecksumMismatch(Exception):
    """The body's MD5 differs from the ETag the client announced; nothing was stored."""


class ObjectExists(Exception):
    """An object of that name exists and the caller asked not to replace it."""


class ContainerGone(Exception):
    """The container was deleted while the object was being written."""


def find_container(project: Project, name: str) -> Container | None:
    return Container.objects.filter(project=project, name=name).first()


def create_container(
    project: Project, name: str, metadata: dict[str, str] | None = None
) -> tuple[Container, bool]:
    """The container, created if missing (True); metadata given is merged into it."""
    container, created = Container.objects.get_or_create(project=project, name=name)
    if metadata:
        update_container_metadata(container, metadata)
    return container, created


def update_container_metadata(container: Container, changes: dict[str, str]) -> None:
    """Merge ``changes``; an empty value removes the item (Swift's POST semantics)."""
    merged = {**container.metadata, **changes}
    container.metadata = {name: value for name, value in merged.items() if value}
    container.save(update_fields=["metadata"])


def delete_container(container: Container) -> bool:
    """Delete an empty container; False (and nothing deleted) when it holds live objects."""
    purge_expired(objects_in(container))
    with transaction.atomic():
        # Locked like a write into it, so no object can land between the check and the delete.
        Container.objects.select_for_update().filter(pk=container.pk).first()
        if objects_in(container).exists():
            return False
        container.delete()
    return True


def objects_in(container: Container) -> QuerySet[StoredObject]:
    """All objects of the container, expired ones included."""
    return StoredObject.objects.filter(container=container)


def live_objects(container: Container) -> QuerySet[StoredObject]:
    """The container's objects that have not expired."""
    return objects_in(container).filter(live_q())


def containers_with_usage(project: Project) -> QuerySet[Container]:
    """The project's containers, each annotated with ``object_count`` and ``bytes_used``.

    Bytes used are the bytes stored: a large object's manifest adds none, its
    segments are counted where they are (Swift counts only the manifest's own
    few bytes, so segments are not counted twice either).
    """
    live = live_q("stored_objects__")
    return Container.objects.filter(project=project).annotate(
        object_count=Count("stored_objects", filter=live),
        bytes_used=Coalesce(
            Sum("stored_objects__size", filter=live & _stored("stored_objects__")), 0
        ),
    )


def container_usage(container: Container) -> tuple[int, int]:
    """(object count, bytes used) of the container's live objects."""
    usage = live_objects(container).aggregate(
        count=Count("id"), bytes=Coalesce(Sum("size", filter=_stored()), 0)
    )
    return usage["count"], usage["bytes"]


def account_usage(project: Project) -> tuple[int, int, int]:
    """(containers, objects, bytes) of a project, in one query."""
    live = live_q("stored_objects__")
    usage = Container.objects.filter(project=project).aggregate(
        container_count=Count("id", distinct=True),
        object_count=Count("stored_objects", filter=live),
        bytes_used=Coalesce(
            Sum("stored_objects__size", filter=live & _stored("stored_objects__")), 0
        ),
    )
    return usage["container_count"], usage["object_count"], usage["bytes_used"]


def find_object(container: Container, name: str) -> StoredObject | None:
    """The live object called ``name``; an expired one is purged on the way."""
    obj = objects_in(container).filter(name=name).first()
    if obj is not None and obj.delete_at is not None and obj.delete_at <= timezone.now():
        purge_expired(objects_in(container).filter(pk=obj.pk))
        return None
    return obj


def put_object(
    container: Container,
    name: str,
    chunks: Iterable[bytes],
    content_type: str | None = None,
    *,
    metadata: dict[str, str] | None = None,
    delete_at: datetime | None = None,
    expected_etag: str | None = None,
    replace: bool = True,
    object_manifest: str = "",
) -> StoredObject:
    """Store ``chunks`` as ``container/name`` in constant memory and return the object.

    ``expected_etag`` (MD5 hex) is checked once the bytes are written: on a
    mismatch nothing is stored and ChecksumMismatch is raised. With
    ``replace=False`` an existing live object raises ObjectExists instead of
    being replaced (checked before any byte is read, and again when saving).
    """
    if not replace and find_object(container, name) is not None:
        raise ObjectExists(name)
    blob = blobstore.write_stream(chunks)
    try:
        if expected_etag is not None and blob.md5 != expected_etag.strip('"').lower():
            raise ChecksumMismatch(f"body MD5 {blob.md5} is not {expected_etag}")
        return save_object(
            container,
            name,
            blob.blob_id,
            blob.size,
            etag=blob.md5,
            content_type=content_type,
            metadata=metadata,
            delete_at=delete_at,
            replace=replace,
            object_manifest=object_manifest,
        )
    except BaseException:
        blobstore.delete(blob.blob_id)
        raise


def copy_object(
    source: StoredObject,
    container: Container,
    name: str,
    *,
    content_type: str | None = None,
    metadata: dict[str, str] | None = None,
    delete_at: datetime | None = None,
) -> StoredObject:
    """A server-side copy: the new object shares the source's bytes (a hard link when possible)."""
    blob_id = blobstore.link_or_copy(source.blob_id)
    try:
        return save_object(
            container,
            name,
            blob_id,
            source.size,
            etag=source.etag,
            content_type=content_type or source.content_type,
            metadata=source.metadata if metadata is None else metadata,
            delete_at=delete_at,
        )
    except BaseException:
        blobstore.delete(blob_id)
        raise


def save_object(
    container: Container,
    name: str,
    blob_id: str,
    size: int,
    *,
    etag: str = "",
    content_type: str | None = None,
    metadata: dict[str, str] | None = None,
    delete_at: datetime | None = None,
    replace: bool = True,
    object_manifest: str = "",
    manifest: list[dict] | None = None,
) -> StoredObject:
    """Make ``container/name`` the blob ``blob_id``, already written, of ``size`` bytes.

    For writers that produce the blob themselves (e.g. an export). ``etag`` may
    be left empty when the MD5 is not known yet; readers compute it on demand.
    The blob of a replaced object is deleted after the commit. A static large
    object has a ``manifest`` (its segments) instead of a blob: see ``save_manifest``.
    """
    fields = {
        "size": size,
        "etag": etag,
        "content_type": content_type or guess_content_type(name),
        "last_modified": timezone.now(),
        "metadata": {key: value for key, value in (metadata or {}).items() if value},
        "delete_at": delete_at,
        "blob_id": blob_id,
        "manifest": manifest,
        "object_manifest": object_manifest,
    }
    try:
        return _save(container, name, fields, replace)
    except IntegrityError:
        # Another writer created the same name between our read and insert; now it exists.
        return _save(container, name, fields, replace)


def save_manifest(
    container: Container,
    name: str,
    manifest: list[dict],
    size: int,
    etag: str,
    *,
    content_type: str | None = None,
    metadata: dict[str, str] | None = None,
    delete_at: datetime | None = None,
    replace: bool = True,
) -> StoredObject:
    """Make ``container/name`` a static large object of the (already checked) segments
    ``manifest``, ``size`` bytes in all, whose ETag is the MD5 of theirs."""
    return save_object(
        container,
        name,
        "",
        size,
        etag=etag,
        content_type=content_type,
        metadata=metadata,
        delete_at=delete_at,
        replace=replace,
        manifest=manifest,
    )


def delete_with_segments(obj: StoredObject, segments: list[tuple[str, str]]) -> tuple[int, int]:
    """Delete a large object and the objects at its segments' (container, name) paths,
    together; (deleted, not found), the object itself included."""
    deleted = not_found = 0
    with transaction.atomic():
        blobs = []
        for container_name, name in segments:
            segment = (
                StoredObject.objects.select_for_update()
                .filter(container__project_id=obj.container.project_id)
                .filter(container__name=container_name, name=name)
                .filter(live_q())
                .first()
            )
            if segment is None:
                not_found += 1
                continue
            segment.delete()
            blobs.append(segment.blob_id)
            deleted += 1
        current = StoredObject.objects.select_for_update().filter(pk=obj.pk).first()
        if current is None:
            not_found += 1
        else:
            current.delete()
            blobs.append(current.blob_id)
            deleted += 1
        for blob_id in blobs:
            transaction.on_commit(functools.partial(blobstore.delete, blob_id))
    return deleted, not_found


def set_object_metadata(
    obj: StoredObject, metadata: dict[str, str], delete_at: datetime | None
) -> None:
    """Replace the object's metadata and expiry (Swift's object POST)."""
    obj.metadata = {key: value for key, value in metadata.items() if value}
    obj.delete_at = delete_at
    obj.save(update_fields=["metadata", "delete_at"])


def delete_object(obj: StoredObject) -> None:
    with transaction.atomic():
        current = StoredObject.objects.select_for_update().filter(pk=obj.pk).first()
        if current is None:
            return
        current.delete()
        transaction.on_commit(functools.partial(blobstore.delete, current.blob_id))


def ensure_etag(obj: StoredObject) -> str:
    """The object's MD5, computed from its bytes and stored if it was left blank."""
    if not obj.etag:
        obj.etag = blobstore.md5_of(obj.blob_id)
        StoredObject.objects.filter(pk=obj.pk, blob_id=obj.blob_id, etag="").update(etag=obj.etag)
    return obj.etag


def purge_expired(objects: QuerySet[StoredObject]) -> int:
    """Delete the expired objects among ``objects`` and their blobs; how many went."""
    now = timezone.now()
    expired = list(objects.filter(delete_at__lte=now).values_list("pk", "blob_id"))
    if not expired:
        return 0
    with transaction.atomic():
        # Re-checked: an object replaced meanwhile has a new expiry and stays.
        StoredObject.objects.filter(pk__in=[pk for pk, _ in expired], delete_at__lte=now).delete()
        for _, blob_id in expired:
            transaction.on_commit(functools.partial(blobstore.delete, blob_id))
    return len(expired)


def guess_content_type(name: str) -> str:
    """Swift's default when the client sends no Content-Type: guessed from the name."""
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def _save(container: Container, name: str, fields: dict, replace: bool) -> StoredObject:
    with transaction.atomic():
        # Locking the container serialises this with deleting it.
        if not Container.objects.select_for_update().filter(pk=container.pk).exists():
            raise ContainerGone(container.name)
        obj = (
            StoredObject.objects.select_for_update().filter(container=container, name=name).first()
        )
        if obj is None:
            return StoredObject.objects.create(container=container, name=name, **fields)
        expired = obj.delete_at is not None and obj.delete_at <= timezone.now()
        if not replace and not expired:
            raise ObjectExists(name)
        old_blob = obj.blob_id
        for field, value in fields.items():
            setattr(obj, field, value)
        obj.save()
        if old_blob != obj.blob_id:
            transaction.on_commit(functools.partial(blobstore.delete, old_blob))
        return obj


def _stored(prefix: str = "") -> Q:
    """Objects whose bytes are their own: not static large objects."""
    return Q(**{f"{prefix}manifest__isnull": True})


def live_q(prefix: str = "") -> Q:
    """Rows (reached through ``prefix``) of objects that have not expired."""
    return Q(**{f"{prefix}delete_at__isnull": True}) | Q(
        **{f"{prefix}delete_at__gt": timezone.now()}
    )
