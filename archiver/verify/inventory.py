"""What the bucket holds: every version and delete marker of every key, and reading a version.

One paginated ``ListObjectVersions`` gives the whole picture an auditor needs (which versions
exist, which is current, which keys carry a delete marker); reads are by version id, so a
later version never hides an altered or replaced one. Everything here needs only the read and
list rights of the ``auditor`` identity.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StorageError
from archiver.storage import Bucket


@dataclass(frozen=True)
class Version:
    """One stored version (or delete marker) of a key."""

    key: str
    version_id: str
    size: int
    last_modified: datetime
    latest: bool
    delete_marker: bool = False


@dataclass
class Inventory:
    """Every version of every key, newest first per key."""

    versions: dict[str, list[Version]] = field(default_factory=dict)

    def add(self, version: Version) -> None:
        """Add one listed version or delete marker."""
        self.versions.setdefault(version.key, []).append(version)

    def sort(self) -> None:
        """Order each key's versions newest first (the one marked latest leads)."""
        for versions in self.versions.values():
            versions.sort(key=lambda v: (not v.latest, -v.last_modified.timestamp()))

    def current(self, key: str) -> Version | None:
        """Return the current version of ``key`` (a delete marker if deleted), or None if unknown."""
        versions = self.versions.get(key)
        return versions[0] if versions else None

    def version(self, key: str, version_id: str | None) -> Version | None:
        """Return the version ``version_id`` of ``key`` (the current one if None), or None."""
        if version_id is None:
            return self.current(key)
        return next((v for v in self.versions.get(key, []) if v.version_id == version_id), None)

    def keys(self, prefix: str = "") -> list[str]:
        """Return every key under ``prefix``, sorted."""
        return sorted(key for key in self.versions if key.startswith(prefix))

    def stored(self, prefix: str = "") -> Iterator[Version]:
        """Yield every stored version (not delete markers) under ``prefix``, by key."""
        for key in self.keys(prefix):
            yield from (v for v in self.versions[key] if not v.delete_marker)


def load_inventory(bucket: Bucket, prefix: str = "") -> Inventory:
    """Return every version and delete marker under ``prefix`` (one paginated listing)."""
    inventory = Inventory()
    paginator = bucket.client.get_paginator("list_object_versions")
    try:
        for page in paginator.paginate(Bucket=bucket.name, Prefix=prefix):
            for stored in page.get("Versions", []):
                inventory.add(_version(stored, delete_marker=False))
            for marker in page.get("DeleteMarkers", []):
                inventory.add(_version(marker, delete_marker=True))
    except (ClientError, BotoCoreError) as error:
        raise StorageError(
            f"Could not list the versions in s3://{bucket.name}/{prefix}: {error}. The identity needs "
            "the List right (the auditor identity has it)."
        ) from error
    inventory.sort()
    return inventory


def _version(entry: Any, *, delete_marker: bool) -> Version:
    return Version(
        key=entry["Key"],
        version_id=str(entry.get("VersionId") or "null"),
        size=int(entry.get("Size", 0)),
        last_modified=entry["LastModified"],
        latest=bool(entry.get("IsLatest")),
        delete_marker=delete_marker,
    )


@dataclass(frozen=True)
class Read:
    """One version's bytes as read, with its sha256 and the Object Lock headers the server sent."""

    version: Version
    data: bytes
    sha256: str
    lock_mode: str | None
    retain_until: datetime | None
    error: str | None = None


def read_version(bucket: Bucket, version: Version) -> Read:
    """Return the bytes of ``version`` with their sha256 and retention (``error`` set if unreadable)."""
    try:
        answer = bucket.client.get_object(Bucket=bucket.name, Key=version.key, VersionId=version.version_id)
        data = answer["Body"].read()
    except (ClientError, BotoCoreError) as error:
        return Read(version, b"", "", None, None, error=str(error))
    return Read(
        version,
        data,
        hashlib.sha256(data).hexdigest(),
        answer.get("ObjectLockMode"),
        answer.get("ObjectLockRetainUntilDate"),
    )


READ_WORKERS = 4
"""Concurrent reads: the S3 round trips overlap, the hashing and checks stay in one thread."""


def read_versions(bucket: Bucket, versions: list[Version], workers: int = READ_WORKERS) -> Iterator[Read]:
    """Yield each version's :class:`Read`, in the given order, reading a few ahead concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    _ = bucket.client  # created once, before the threads share it
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(lambda version: read_version(bucket, version), versions)
