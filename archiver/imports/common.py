"""What the Facebook and Instagram exports share: the observation shape, ids, times, messages.

Exports carry no platform ids, so an imported item's native id is made from what the export
says about it: ``export:{kind}:{sha256 of its canonical JSON}``, or for a conversation its
folder (``export:conversation:inbox/{name}_{n}``). The same export object always gives the same
id, so importing an export twice (or two overlapping exports) adds nothing twice. A message's id
is made from its conversation, sender, time and text only (not its reactions, which change
between exports), with an occurrence number telling identical messages apart.
Authors are names only (exports give no ids); text is repaired from the exports' mojibake.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import msgspec

from archiver.connectors.base import Attachment, Observation, attachment, make_observation
from archiver.errors import ParseError
from archiver.imports.mojibake import fix_strings, fix_text
from archiver.items import item_key


@dataclass(frozen=True)
class Found:
    """One observation read from an export file, with where in the file it is."""

    observation: Observation
    pointer: str
    """JSON pointer of the object in its file, e.g. ``/comments_v2/3``."""


@dataclass
class ExportContext:
    """The account an export belongs to and the names it writes under."""

    platform: str
    account_id: str
    own_names: set[str] = field(default_factory=set)
    """Display and user names of the account (casefolded): a sender with one of them is the account."""
    occurrences: Counter[bytes] = field(default_factory=Counter)
    """How often each message identity was seen so far in this export (identical messages)."""

    def is_own(self, name: str | None) -> bool:
        """Return True when ``name`` is one of the account's own names."""
        return name is not None and fix_text(name).casefold() in self.own_names


def export_native_id(kind: str, source: Any) -> str:
    """Return the native id of an imported item without a platform id: from its content."""
    digest = hashlib.sha256(msgspec.json.encode(source, order="sorted")).hexdigest()[:24]
    return f"export:{kind}:{digest}"


def seconds(value: Any, where: str) -> datetime | None:
    """Return unix seconds (or milliseconds when ``where`` ends in ``_ms``) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError(f"{where} must be a unix time, not {value!r}")
    return datetime.fromtimestamp(value / 1000 if where.endswith("_ms") else value, UTC)


def observation(
    ctx: ExportContext,
    kind: str,
    native_id: str,
    *,
    parent: str | None,
    thread: str | None,
    author_name: str | None,
    from_account: bool,
    text: str | None,
    attachments: list[Attachment],
    created: datetime | None,
    source: Any,
) -> Observation:
    """Return one imported observation (``thread`` None: the item is its own thread root)."""
    return make_observation(
        ctx.platform,
        ctx.account_id,
        kind,
        native_id,
        parent_key=item_key(ctx.platform, ctx.account_id, parent) if parent else None,
        thread_key=item_key(ctx.platform, ctx.account_id, thread) if thread else None,
        author=(None, fix_text(author_name) if author_name else None),
        from_account=from_account,
        text=fix_text(text) if text is not None else None,
        attachments=attachments,
        permalink=None,
        created_at=created,
        edited_at=None,
        visibility="private" if kind in ("conversation", "message") else "public",
        state="present",
        source=source,
    )


EntryReader = Callable[[ExportContext, Any, str], Iterator[Found]]
"""Yields what a posts or comments file (context, decoded body, path) shows."""


def read_file(
    ctx: ExportContext, path: str, body: Any, kind: str | None, posts: EntryReader, comments: EntryReader
) -> Iterator[Found]:
    """Yield what one export file of role ``kind`` shows (nothing for a file that is not read):
    a message file's conversation and messages, or what ``posts`` or ``comments`` read."""
    if kind == "messages":
        yield from messages(ctx, body, PurePosixPath(path).parts[-2])
    elif kind == "posts":
        yield from posts(ctx, body, path)
    elif kind == "comments":
        yield from comments(ctx, body, path)


def numbered_entries(body: Any, path: str) -> Iterator[tuple[str, int, Any]]:
    """Yield (JSON pointer, number, entry) for each entry of an export file (see :func:`list_of`);
    when the body is an object the pointer starts with the key that holds the list (RFC 6901)."""
    entries = list_of(body, path)
    wrapper = next((key for key, value in body.items() if value is entries), None) if isinstance(body, dict) else None
    prefix = "" if wrapper is None else "/" + str(wrapper).replace("~", "~0").replace("/", "~1")
    for number, entry in enumerate(entries):
        yield f"{prefix}/{number}", number, entry


def own_item(
    ctx: ExportContext,
    kind: str,
    entry: Any,
    *,
    author_name: str | None,
    text: str,
    attachments: list[Attachment],
    created: datetime | None,
) -> Observation:
    """Return the observation of a post or comment the account wrote, its id from ``entry``."""
    return observation(
        ctx,
        kind,
        export_native_id(kind, entry),
        parent=None,
        thread=None,
        author_name=author_name,
        from_account=True,
        text=text,
        attachments=attachments,
        created=created,
        source=entry,
    )


def media_attachments(entries: Any) -> list[Attachment]:
    """Return attachments for export media entries (``{"uri", "title", ...}``), by their uri;
    the import fills in the stored file's hash when the file is in the export."""
    found: list[Attachment] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("uri"), str):
            continue
        uri = str(entry["uri"])
        mime = mimetypes.guess_type(uri)[0] or ""
        kind = "photo" if mime.startswith("image/") else "video" if mime.startswith("video/") else "file"
        found.append(attachment(kind, None, uri))
    return found


def list_of(body: Any, where: str) -> list[Any]:
    """Return the entries of an export file: the list itself, or the list under its one key."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        lists = [value for value in body.values() if isinstance(value, list)]
        if len(lists) == 1:
            return lists[0]
    raise ParseError(f"{where}: expected a list of entries (or an object holding one list)")


def messages(ctx: ExportContext, body: Any, folder: str) -> Iterator[Found]:
    """Yield a conversation and its messages from ``messages/inbox/{folder}/message_N.json``."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise ParseError("a message file must be an object with 'messages'")
    thread_path = str(body.get("thread_path") or f"inbox/{folder}")
    conversation = f"export:conversation:{thread_path}"
    participants = [p.get("name") for p in body.get("participants") or [] if isinstance(p, dict)]
    head = {key: value for key, value in body.items() if key != "messages"}
    stamps = [
        m["timestamp_ms"]
        for m in body["messages"]
        if isinstance(m, dict) and isinstance(m.get("timestamp_ms"), int)
    ]
    first = min(stamps, default=None)
    yield Found(
        observation(
            ctx,
            "conversation",
            conversation,
            parent=None,
            thread=None,
            author_name=next((p for p in participants if not ctx.is_own(p)), None),
            from_account=False,
            text=None,
            attachments=[],
            created=seconds(first, "timestamp_ms"),
            source=head,
        ),
        "",
    )
    for number, message in enumerate(body["messages"]):
        if not isinstance(message, dict):
            raise ParseError(f"message {number} is not an object")
        sender = message.get("sender_name")
        attachments = [
            media
            for edge in ("photos", "videos", "gifs", "audio_files", "files")
            for media in media_attachments(message.get(edge))
        ]
        share = message.get("share")
        if isinstance(share, dict) and isinstance(share.get("link"), str):
            attachments.append(
                attachment("share", share["link"], fix_text(str(share.get("share_text") or "")) or None)
            )
        native_id = export_native_id("message", _message_identity(ctx, thread_path, message))
        yield Found(
            observation(
                ctx,
                "message",
                native_id,
                parent=conversation,
                thread=conversation,
                author_name=sender if isinstance(sender, str) else None,
                from_account=ctx.is_own(sender if isinstance(sender, str) else None),
                text=str(message.get("content") or ""),
                attachments=attachments,
                created=seconds(message.get("timestamp_ms"), "timestamp_ms"),
                source=message,
            ),
            f"/messages/{number}",
        )


def _message_identity(ctx: ExportContext, thread_path: str, message: dict[str, Any]) -> dict[str, Any]:
    """Return what identifies a message across exports: conversation, sender, time and text, and
    which occurrence of that it is (reactions and other fields that change are left out)."""
    identity = {
        "thread": thread_path,
        "sender_name": message.get("sender_name"),
        "timestamp_ms": message.get("timestamp_ms"),
        "content": message.get("content"),
    }
    token = msgspec.json.encode(identity, order="sorted")
    occurrence = ctx.occurrences[token]
    ctx.occurrences[token] += 1
    return {**identity, "occurrence": occurrence}


def fixed(value: Any) -> Any:
    """Return a decoded export value with its mojibake repaired (for reading, not for keeping)."""
    return fix_strings(value)
