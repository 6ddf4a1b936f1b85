"""What the bucket holds: every version and delete marker of every key, and reading a version.

One paginated ``ListObjectVersions`` gives the whole picture an auditor needs (which versions
exist, which is current, which keys carry a delete marker); reads are by version id, so a
later version never hides an altered or replaced one. Everything here needs only the read and
list rights of the ``auditor`` identity.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StorageError
from archiver.storage import Bucket, explain_storage_error


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
        denied = isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") == "AccessDenied"
        hint = " The identity needs the List right (the auditor identity has it)." if denied else ""
        raise StorageError(
            f"Could not list the versions in s3://{bucket.name}/{prefix}: {explain_storage_error(error)}.{hint}"
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
    """One version's bytes as read, with its sha256 and the Object Lock headers the server sent.

    A streamed read (a large media file) keeps no bytes: ``data`` is empty, ``size`` and
    ``sha256`` are over the streamed chunks, and ``found`` holds what the secret scanner found in them.
    """

    version: Version
    data: bytes
    sha256: str
    lock_mode: str | None
    retain_until: datetime | None
    error: str | None = None
    size: int = 0
    streamed: bool = False
    found: frozenset[tuple[str, str]] = frozenset()


class ChunkScanner(Protocol):
    """Searches bytes for secrets; a match may span two chunks by up to ``overlap`` bytes."""

    @property
    def overlap(self) -> int:
        """Return how many bytes of one chunk must be searched again with the next."""

    def scan(self, data: bytes) -> list[tuple[str, str]]:
        """Return (secret label, encoding) for every secret found in ``data``."""


STREAM_PREFIXES = ("media/",)
"""Where objects are read as a stream when large: no check needs a media file's bytes whole."""
STREAM_OVER = 4 * 1024 * 1024
"""Objects under :data:`STREAM_PREFIXES` larger than this are hashed (and scanned) chunk by chunk."""
CHUNK_SIZE = 1024 * 1024


def streams(version: Version, stream_over: int | None) -> bool:
    """Return whether ``version`` is read as a stream (a large media file) rather than whole."""
    return stream_over is not None and version.key.startswith(STREAM_PREFIXES) and version.size > stream_over


def read_version(
    bucket: Bucket,
    version: Version,
    *,
    stream_over: int | None = None,
    scanner: ChunkScanner | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Read:
    """Return the bytes of ``version`` with their sha256 and retention (``error`` set if unreadable).

    With ``stream_over``, a media file larger than that is streamed instead: the returned Read
    has no bytes, only their size and sha256 and what ``scanner`` found in them.
    """
    streamed = streams(version, stream_over)
    try:
        answer = bucket.client.get_object(Bucket=bucket.name, Key=version.key, VersionId=version.version_id)
        if streamed:
            size, sha256, found = _stream(answer["Body"].iter_chunks(chunk_size), scanner)
            data = b""
        else:
            data = answer["Body"].read()
            size, sha256, found = len(data), hashlib.sha256(data).hexdigest(), frozenset()
    except (ClientError, BotoCoreError) as error:
        return Read(version, b"", "", None, None, error=str(error))
    return Read(
        version,
        data,
        sha256,
        answer.get("ObjectLockMode"),
        answer.get("ObjectLockRetainUntilDate"),
        size=size,
        streamed=streamed,
        found=found,
    )


def _stream(
    chunks: Iterable[bytes], scanner: ChunkScanner | None
) -> tuple[int, str, frozenset[tuple[str, str]]]:
    """Return the size and sha256 of ``chunks`` and what ``scanner`` found in them, chunk by chunk."""
    digest = hashlib.sha256()
    size = 0
    tail = b""
    found: set[tuple[str, str]] = set()
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if scanner is not None:
            window = tail + chunk
            found.update(scanner.scan(window))
            tail = window[-scanner.overlap :] if scanner.overlap else b""
    return size, digest.hexdigest(), frozenset(found)


READ_WORKERS = 4
"""Concurrent reads: the S3 round trips overlap, the hashing and checks stay in one thread."""


def read_versions(
    bucket: Bucket,
    versions: Iterable[Version],
    workers: int = READ_WORKERS,
    *,
    stream_over: int | None = None,
    scanner: ChunkScanner | None = None,
) -> Iterator[Read]:
    """Yield each version's :class:`Read`, in the given order, reading a few ahead concurrently.

    At most ``2 * workers`` reads are in flight or waiting to be consumed at any time, so
    memory holds a few objects, never the whole bucket. ``stream_over`` and ``scanner`` are
    passed to :func:`read_version`.
    """
    _ = bucket.client  # created once, before the threads share it
    window = max(1, 2 * workers)
    pending: deque[Future[Read]] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for version in versions:
                pending.append(
                    pool.submit(read_version, bucket, version, stream_over=stream_over, scanner=scanner)
                )
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # a consumer that stops early: start no further reads
                future.cancel()
