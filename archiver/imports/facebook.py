"""A Facebook Page's export: posts, the Page's comments and Messenger conversations.

Files read (anywhere in the export): ``your_posts*.json`` and ``posts/*.json`` (a list of
``{"timestamp", "data": [{"post": text}], "attachments": [{"data": [{"media": {...}}]}],
"title"}``), ``comments*.json`` (``{"comments_v2": [{"timestamp", "data": [{"comment":
{"comment", "author", "timestamp"}}], "title"}]}``) and ``messages/inbox/*/message_N.json``.
Other files are kept as they are but show no items.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from archiver.connectors.base import Attachment, attachment
from archiver.errors import ParseError
from archiver.imports.common import (
    ExportContext,
    Found,
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
    if not name.endswith(".json"):
        return None
    if len(parts) >= 4 and parts[-4:-2] == ("messages", "inbox") and name.startswith("message_"):
        return "messages"
    if "messages" in parts:
        return None
    if name.startswith("your_posts") or (len(parts) >= 2 and parts[-2] == "posts" and "post" in name):
        return "posts"
    if name.startswith("comments"):
        return "comments"
    return None


def parse_file(ctx: ExportContext, path: str, body: Any) -> Iterator[Found]:
    """Yield what one export file shows; raise ParseError when its shape is not understood."""
    yield from read_file(ctx, path, body, role(path), _posts, _comments)


def _entries(body: Any, path: str) -> Iterator[tuple[str, dict[str, Any], list[Any]]]:
    """Yield (JSON pointer, entry, the entry's ``data`` list) for each entry of a posts or
    comments file; raise ParseError at an entry that is not an object."""
    for pointer, number, entry in numbered_entries(body, path):
        if not isinstance(entry, dict):
            raise ParseError(f"{path}: entry {number} is not an object")
        data: list[Any] = entry["data"] if isinstance(entry.get("data"), list) else []
        yield pointer, entry, data


def _posts(ctx: ExportContext, body: Any, path: str) -> Iterator[Found]:
    for pointer, entry, data in _entries(body, path):
        text = "\n".join(
            str(d["post"]) for d in data if isinstance(d, dict) and isinstance(d.get("post"), str)
        )
        yield Found(
            own_item(
                ctx,
                "post",
                entry,
                author_name=None,
                text=text,
                attachments=_attachments(entry.get("attachments")),
                created=seconds(entry.get("timestamp"), "timestamp"),
            ),
            pointer,
        )


def _comments(ctx: ExportContext, body: Any, path: str) -> Iterator[Found]:
    for pointer, entry, data in _entries(body, path):
        comment: dict[str, Any] = next(
            (d["comment"] for d in data if isinstance(d, dict) and isinstance(d.get("comment"), dict)), {}
        )
        author = comment.get("author")
        yield Found(
            own_item(
                ctx,
                "comment",
                entry,
                author_name=author if isinstance(author, str) else None,
                text=str(comment.get("comment") or ""),
                attachments=_attachments(entry.get("attachments")),
                created=seconds(comment.get("timestamp", entry.get("timestamp")), "timestamp"),
            ),
            pointer,
        )


def _attachments(attachments: Any) -> list[Attachment]:
    """Return the media and links of an export entry's ``attachments``."""
    found: list[Attachment] = []
    for entry in attachments if isinstance(attachments, list) else []:
        for data in entry.get("data", []) if isinstance(entry, dict) else []:
            if not isinstance(data, dict):
                continue
            if isinstance(data.get("media"), dict):
                found.extend(media_attachments([data["media"]]))
            context = data.get("external_context")
            if isinstance(context, dict) and isinstance(context.get("url"), str):
                found.append(attachment("link", context["url"], None))
    return found
