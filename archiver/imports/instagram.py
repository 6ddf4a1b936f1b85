"""An Instagram professional account's export: posts, the account's comments and DMs.

Files read (anywhere in the export): ``content/posts_N.json`` (a list of ``{"media": [{"uri",
"creation_timestamp", "title"}], "title", "creation_timestamp"}``; a single-photo post keeps its
caption in the media's ``title``), ``comments/post_comments_N.json`` (a list, or
``{"comments_media_comments": [...]}``, of ``{"string_map_data": {"Comment": {"value"},
"Media Owner": {"value"}, "Time": {"timestamp"}}}``) and ``messages/inbox/*/message_N.json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from archiver.errors import ParseError
from archiver.imports.common import (
    ExportContext,
    Found,
    list_of,
    media_attachments,
    numbered_entries,
    own_item,
    read_file,
    seconds,
)


def role(path: str) -> str | None:
    """Return what an export file holds (posts, comments, messages) or None when it is not read."""
    parts = PurePosixPath(path.lower()).parts
    name = parts[-1]
    if not name.endswith(".json") or len(parts) < 2:
        return None
    if len(parts) >= 4 and parts[-4:-2] == ("messages", "inbox") and name.startswith("message_"):
        return "messages"
    if parts[-2] == "content" and name.startswith("posts_"):
        return "posts"
    if parts[-2] == "comments" and name.startswith("post_comments"):
        return "comments"
    return None


def parse_file(ctx: ExportContext, path: str, body: Any) -> Iterator[Found]:
    """Yield what one export file shows; raise ParseError when its shape is not understood."""
    yield from read_file(ctx, path, body, role(path), _posts, _comments)


def _posts(ctx: ExportContext, body: Any, path: str) -> Iterator[Found]:
    for number, entry in enumerate(list_of(body, path)):
        if not isinstance(entry, dict) or not isinstance(entry.get("media"), list):
            raise ParseError(f"{path}: entry {number} is not a post with 'media'")
        media = [m for m in entry["media"] if isinstance(m, dict)]
        caption = entry.get("title") if "title" in entry else (media[0].get("title") if media else None)
        created = entry.get("creation_timestamp") or (media[0].get("creation_timestamp") if media else None)
        yield Found(
            own_item(
                ctx,
                "post",
                entry,
                author_name=None,
                text=str(caption or ""),
                attachments=media_attachments(media),
                created=seconds(created, "creation_timestamp"),
            ),
            f"/{number}",
        )


def _comments(ctx: ExportContext, body: Any, path: str) -> Iterator[Found]:
    for pointer, number, entry in numbered_entries(body, path):
        fields = entry.get("string_map_data") if isinstance(entry, dict) else None
        if not isinstance(fields, dict):
            raise ParseError(f"{path}: entry {number} has no 'string_map_data'")
        text = _value(fields, "Comment", "value")
        yield Found(
            own_item(
                ctx,
                "comment",
                entry,
                author_name=None,
                text=str(text or ""),
                attachments=[],
                created=seconds(_value(fields, "Time", "timestamp"), "timestamp"),
            ),
            pointer,
        )


def _value(fields: dict[str, Any], name: str, key: str) -> Any:
    entry = fields.get(name)
    return entry.get(key) if isinstance(entry, dict) else None
