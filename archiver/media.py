"""Content-addressed media: attachments downloaded during capture, stored once by sha256."""

from __future__ import annotations

import hashlib

from archiver.storage import Bucket, StoredObject


def media_key(sha256: str) -> str:
    """Return the bucket key of the media with this sha256: ``media/sha256/{ab}/{sha256}``."""
    return f"media/sha256/{sha256[:2]}/{sha256}"


def store_media(bucket: Bucket, data: bytes, content_type: str) -> tuple[str, StoredObject | None]:
    """Store ``data`` under its sha256 unless already there; return the sha256 and what was written."""
    digest = hashlib.sha256(data).hexdigest()
    written = bucket.put_if_absent(media_key(digest), data, content_type or "application/octet-stream")
    return digest, written
