"""Content-addressed media: attachments downloaded during capture, stored once by sha256."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

from archiver.items import unsigned_url
from archiver.storage import Bucket, StoredObject

LINK_TYPES: Final = frozenset({"link", "share", "event", "note", "native_templates", "music"})
"""Attachment types whose URL is a web page elsewhere: kept as a link, never downloaded."""
MEDIA_FIELDS: Final = ("media_sha256", "media_key", "mime", "size")


def media_key(sha256: str) -> str:
    """Return the bucket key of the media with this sha256: ``media/sha256/{ab}/{sha256}``."""
    return f"media/sha256/{sha256[:2]}/{sha256}"


def store_media(bucket: Bucket, data: bytes, content_type: str) -> tuple[str, StoredObject | None]:
    """Store ``data`` under its sha256 unless already there; return the sha256 and what was written."""
    digest = hashlib.sha256(data).hexdigest()
    written = bucket.put_if_absent(media_key(digest), data, content_type or "application/octet-stream")
    return digest, written


def downloadable(attachment: Mapping[str, object]) -> bool:
    """Return whether an attachment is media to download (not a link to a web page)."""
    return bool(attachment.get("source_url")) and attachment.get("type") not in LINK_TYPES


def known_media(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return, by unsigned URL, the media fields of every attachment already downloaded."""
    known: dict[str, dict[str, Any]] = {}
    for row in rows:
        for attachment in row.get("attachments") or []:
            url = unsigned_url(attachment.get("source_url"))
            if url and attachment.get("media_sha256"):
                known[url] = {field: attachment.get(field) for field in MEDIA_FIELDS}
    return known
