"""The item model: one Arrow schema, one row per *version* of an item.

An item is anything a person wrote on or to an account: a post, a comment, a reply, a
conversation (the root of a direct-message thread) or a message. A new version (row) is written
when an item is first seen, when its content hash changes, when it is hidden or unhidden, and a
tombstone when it is gone from the platform. Nothing is overwritten: the state of the archive
*as of* a day is the latest version per ``item_key`` up to that day.

Parquet files live under ``items/platform={p}/account={a}/date={yyyy-mm-dd}/{run}.parquet``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

import msgspec
import pyarrow as pa

KINDS: Final = ("post", "comment", "reply", "conversation", "message")
"""Item kinds. A conversation is the root of a direct-message thread and carries no text."""

RECORD_CLASSES: Final = ("upprättad", "inkommen")
"""``upprättad``: drawn up by the organisation itself; ``inkommen``: received from someone else."""

VISIBILITIES: Final = ("public", "hidden", "private")
STATES: Final = ("present", "hidden", "deleted_at_source")


def _field(name: str, type_: pa.DataType, nullable: bool = True, *, doc: str) -> pa.Field:
    """Return an Arrow field whose documentation travels in the Parquet metadata."""
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


ATTACHMENT_TYPE: Final = pa.struct(
    [
        _field("type", pa.string(), doc="photo, video, file, sticker, share, link, …"),
        _field("source_url", pa.string(), doc="URL the platform gave, tokens removed"),
        _field("media_sha256", pa.string(), doc="sha256 of the downloaded bytes; null if not fetched"),
        _field(
            "media_key",
            pa.string(),
            doc="bucket key media/sha256/{ab}/{sha256}; null if not fetched",
        ),
        _field("mime", pa.string(), doc="MIME type of the downloaded bytes"),
        _field("size", pa.int64(), doc="size in bytes of the downloaded bytes"),
        _field("title", pa.string(), doc="name or title of the attachment, if any"),
    ]
)

TIMESTAMP: Final = pa.timestamp("us", tz="UTC")


ITEM_SCHEMA: Final = pa.schema(
    [
        _field("item_key", pa.string(), nullable=False, doc="{platform}:{account_id}:{native_id}"),
        _field("platform", pa.string(), nullable=False, doc="facebook, instagram, x, youtube, linkedin"),
        _field("account_id", pa.string(), nullable=False, doc="platform id of the archived account"),
        _field("kind", pa.string(), nullable=False, doc="one of KINDS"),
        _field("native_id", pa.string(), nullable=False, doc="the platform's own id of the item"),
        _field("parent_key", pa.string(), doc="item_key of the item this answers; null for roots"),
        _field("thread_key", pa.string(), nullable=False, doc="item_key of the thread root"),
        _field("author_id", pa.string(), doc="platform id of the author; null if not disclosed"),
        _field("author_name", pa.string(), doc="display name of the author as the platform gave it"),
        _field("from_account", pa.bool_(), nullable=False, doc="written by the archived account"),
        _field("record_class", pa.string(), nullable=False, doc="upprättad or inkommen"),
        _field("text", pa.string(), doc="what a person reads: message, caption or story text"),
        _field("attachments", pa.list_(ATTACHMENT_TYPE), doc="media and links, in platform order"),
        _field("permalink", pa.string(), doc="public URL of the item, if any"),
        _field("created_at", TIMESTAMP, doc="when the platform says the item was created"),
        _field("edited_at", TIMESTAMP, doc="when the platform says it was last edited, if known"),
        _field("visibility", pa.string(), nullable=False, doc="public, hidden or private"),
        _field("state", pa.string(), nullable=False, doc="present, hidden or deleted_at_source"),
        _field("version", pa.int32(), nullable=False, doc="1 for the first version, then +1"),
        _field(
            "content_sha256",
            pa.string(),
            nullable=False,
            doc="hash of text, attachments, visibility, state",
        ),
        _field("first_seen_at", TIMESTAMP, nullable=False, doc="when the archive first saw the item"),
        _field("observed_at", TIMESTAMP, nullable=False, doc="when this version was observed"),
        _field("run_id", pa.string(), nullable=False, doc="the capture run that recorded this version"),
        _field("raw_ref", pa.string(), doc="{warc key}#{WARC-Record-ID} of the response holding it"),
        _field("raw_sha256", pa.string(), doc="sha256 of that response body as stored"),
        _field("source_json", pa.string(), doc="the platform's object exactly as received, as JSON"),
        _field("imported", pa.bool_(), nullable=False, doc="true when read from a platform export"),
    ]
)
"""The Arrow schema of the ``items`` table; the single source of truth for its fields."""

CONTENT_FIELDS: Final = ("text", "attachments", "visibility", "state")
"""Fields a person reads: a change in any of them makes a new version (counts do not)."""


def content_sha256(row: dict[str, Any]) -> str:
    """Return the hex sha256 over what a person reads of an item (see ``CONTENT_FIELDS``).

    Attachments count by what they are (type, URL without its signature, title) and by the
    downloaded file's hash once there is one: a download that succeeds after an earlier failure
    makes a new version that links the file. A file, once downloaded, is reused by later runs,
    so a later failed download changes nothing.
    """
    attachments = [
        {
            "type": a.get("type"),
            "url": unsigned_url(a.get("source_url")),
            "title": a.get("title"),
            "media": a.get("media_sha256"),
        }
        for a in row.get("attachments") or []
    ]
    payload = {
        "text": row.get("text") or "",
        "attachments": attachments,
        "visibility": row.get("visibility"),
        "state": row.get("state"),
    }
    return hashlib.sha256(msgspec.json.encode(payload, order="sorted")).hexdigest()


SIGNATURE_PARAMS: Final = frozenset({"oh", "oe", "ccb", "stp", "efg", "edm", "dl", "signature", "expires"})
"""CDN query parameters that sign a URL or limit its life; the rest (``asset_id``, ``url``,
``d``…) say which file it is."""


def unsigned_url(url: str | None) -> str | None:
    """Return ``url`` without the signature and expiry parameters CDNs change on every request."""
    if not url or "?" not in url:
        return url
    base, query = url.split("?", 1)
    kept = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name not in SIGNATURE_PARAMS and not name.startswith("_nc_")
    ]
    return f"{base}?{urlencode(kept)}" if kept else base


def item_key(platform: str, account_id: str, native_id: str) -> str:
    """Return the archive-wide key of an item: ``{platform}:{account_id}:{native_id}``."""
    return f"{platform}:{account_id}:{native_id}"


def record_class(from_account: bool) -> str:
    """Return ``upprättad`` for the organisation's own items and ``inkommen`` for received ones."""
    return RECORD_CLASSES[0] if from_account else RECORD_CLASSES[1]


def empty_table() -> pa.Table:
    """Return an empty table with the item schema."""
    return ITEM_SCHEMA.empty_table()


_TEXT_FIELDS: Final = ("parent_key", "author_id", "author_name", "text", "permalink")
_KEY_FIELDS: Final = (
    "item_key",
    "platform",
    "account_id",
    "kind",
    "native_id",
    "thread_key",
    "visibility",
    "state",
)


def check_observation(row: dict[str, Any]) -> None:
    """Raise ValueError naming the first field whose value does not fit the item schema.

    Platforms change shapes (a message that becomes an object, a count that becomes a string);
    such a body must be quarantined, not stop the whole day when the Parquet file is built.
    """
    for name in _KEY_FIELDS:
        if not isinstance(row.get(name), str):
            raise ValueError(f"field {name!r} must be text, got {type(row.get(name)).__name__}")
    for name in _TEXT_FIELDS:
        if row.get(name) is not None and not isinstance(row[name], str):
            raise ValueError(f"field {name!r} must be text or null, got {type(row[name]).__name__}")
    for name in ("created_at", "edited_at"):
        if row.get(name) is not None and not isinstance(row[name], datetime):
            raise ValueError(f"field {name!r} must be a time or null, got {type(row[name]).__name__}")
    for attachment in row.get("attachments") or []:
        for key, value in attachment.items():
            wanted = int if key == "size" else str
            if value is not None and not isinstance(value, wanted):
                raise ValueError(f"attachment field {key!r} must be {wanted.__name__} or null")
