"""Keeping an export's files in the bucket, one at a time, and finding what an earlier,
interrupted import stored but never listed in a manifest.

Media files are streamed to ``media/sha256/...`` through a spooled temporary file (in memory up
to :data:`SPOOL` bytes, on disk beyond), so a video of many GB never sits in memory; JSON files
are read whole and kept for parsing.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import tempfile
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archiver.errors import StorageError
from archiver.imports.export import ExportFile
from archiver.manifest import MANIFEST_PREFIX
from archiver.media import media_key
from archiver.runs import RunRecord, account_of_run
from archiver.storage import Bucket, StoredObject

SPOOL = 8 * 1024 * 1024
"""A media file larger than this goes through a temporary file on disk on its way to the bucket."""


@dataclass
class Kept:
    """What storing an export's files found: JSON bytes and every file's sha256 by path, the
    media fields of each media file, and the media keys that were in the bucket already."""

    json: dict[str, bytes] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    media_there: set[str] = field(default_factory=set)


def store_media_files(bucket: Bucket, files: list[ExportFile], run: RunRecord) -> Kept:
    """Read every file once: keep JSON files in memory, stream the others to ``media/``; add what
    was written to the run's objects and return what was found."""
    kept = Kept()
    for item in files:
        if item.is_json:
            data = item.read()
            kept.json[item.path] = data
            kept.digests[item.path] = hashlib.sha256(data).hexdigest()
            continue
        mime = mimetypes.guess_type(item.path)[0] or "application/octet-stream"
        digest, size, written = _stream_media(bucket, item, mime)
        kept.digests[item.path] = digest
        kept.media[item.path] = {
            "media_sha256": digest,
            "media_key": media_key(digest),
            "mime": mime,
            "size": size,
        }
        if written is None:
            kept.media_there.add(media_key(digest))
        else:
            run["objects"].append(written.to_dict())
    return kept


def store_json_files(bucket: Bucket, kept: Kept, prefix: str, run: RunRecord) -> None:
    """Store each JSON file under ``prefix`` unless there already; add what was written to the run."""
    for path, data in sorted(kept.json.items()):
        written = bucket.put_if_absent(prefix + path, data, "application/json")
        if written is not None:
            run["objects"].append(written.to_dict())


def unlisted(bucket: Bucket, account: str, candidates: set[str]) -> set[str]:
    """Return the keys among ``candidates`` that no manifest of ``account`` lists.

    Reads the account's manifests newest first and stops as soon as every candidate is found, so
    importing an export again reads only the manifest of its earlier import.
    """
    remaining = set(candidates)
    if not remaining:
        return remaining
    manifests = [entry for entry in bucket.list(MANIFEST_PREFIX) if _account_of(entry.key) == account]
    for entry in sorted(manifests, key=lambda e: e.last_modified, reverse=True):
        if not remaining:
            break
        listed = json.loads(bucket.get(entry.key)).get("objects", [])
        remaining -= {obj.get("key") for obj in listed}
    return remaining


def media_ref(bucket: Bucket, key: str) -> StoredObject:
    """Return a stored media file as a manifest lists it, without reading it (its key is its sha256)."""
    try:
        head = bucket.client.head_object(Bucket=bucket.name, Key=key)
    except (ClientError, BotoCoreError) as error:
        raise StorageError(f"Could not read s3://{bucket.name}/{key}: {error}", key=key) from error
    return StoredObject(key, head.get("VersionId"), key.rsplit("/", 1)[1], int(head["ContentLength"]))


def _stream_media(bucket: Bucket, item: ExportFile, mime: str) -> tuple[str, int, StoredObject | None]:
    """Store one media file under its sha256 unless there; return sha256, size and what was written."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        digest = hashlib.sha256()
        size = 0
        for chunk in item.chunks():
            digest.update(chunk)
            spool.write(chunk)
            size += len(chunk)
        key = media_key(digest.hexdigest())
        if bucket.exists(key):
            return digest.hexdigest(), size, None
        spool.seek(0)
        try:
            written = bucket.put_stream(key, spool, size, digest.digest(), mime, only_new=True)
        except StorageError as error:
            if error.context.get("code") != "PreconditionFailed":
                raise
            return digest.hexdigest(), size, None  # stored meanwhile by a run running beside this import
        return digest.hexdigest(), size, written


def _account_of(key: str) -> str | None:
    name = key.rsplit("/", 1)[-1]
    if not name.endswith(".json") or "_" not in name:
        return None
    return account_of_run(name.removesuffix(".json"))
