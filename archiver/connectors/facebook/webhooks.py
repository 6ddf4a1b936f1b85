"""Webhook deliveries for Pages (and Messenger), as observations.

A delivery is ``{"object": "page", "entry": [{"id", "time", "changes"|"messaging"}]}``; an
``instagram`` delivery belongs to the instagram connector (a ParseError here says so), which
uses :func:`messaging_event` for its messages.
Page ``feed`` and ``mention`` changes carry posts and comments (added, edited, hidden, unhidden,
removed); ``messaging`` and ``standby`` events carry messages, their edits and their deletion.
A removal is a tombstone: state ``deleted_at_source``, no text, no attachments, no creation time
(the removal event's own time is not the item's). Changes that are not items (reactions, likes,
reads, deliveries, Page settings) add nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from archiver.connectors.base import Observation
from archiver.connectors.facebook import attachments as att
from archiver.connectors.facebook.common import (
    COMMENT,
    DELETED,
    FACEBOOK,
    HIDDEN,
    MESSAGE,
    POST,
    PRESENT,
    PRIVATE,
    PUBLIC,
    REPLY,
    UNKNOWN_ACCOUNT,
    Context,
    author_of,
    observation,
    parse_time,
    str_id,
)
from archiver.connectors.facebook.objects import dm_thread_key
from archiver.errors import ParseError

_POST_ITEMS: Final = frozenset({"post", "status", "photo", "video", "share", "album", "note"})
_REMOVE_VERBS: Final = frozenset({"remove", "delete"})
_EDIT_VERBS: Final = frozenset({"edited", "edit", "update"})
_ITEM_VERBS: Final = _REMOVE_VERBS | _EDIT_VERBS | {"add", "hide", "unhide"}
_PAGE_FIELDS: Final = frozenset({"feed", "mention"})
_MESSAGING_LISTS: Final = ("messaging", "standby")


def is_delivery(body: dict[str, Any]) -> bool:
    """Return True when ``body`` is a webhook delivery rather than a Graph API response."""
    return "entry" in body and "object" in body


def parse_delivery(body: dict[str, Any], account_id: str | None, out: list[Observation]) -> None:
    """Add the observations in one webhook delivery to ``out``; return None."""
    subject = body.get("object")
    if subject == "instagram":
        raise ParseError(
            "this is an Instagram webhook delivery (object 'instagram'); normalise it with the "
            "instagram connector (`archiver normalise --platform instagram`)."
        )
    if subject != "page":
        return
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise ParseError(
            f"webhook delivery for {subject!r} has 'entry' of type {type(entries).__name__}, "
            "not a list; the body is kept in quarantine: check that the delivery was stored whole."
        )
    for entry in entries:
        if not isinstance(entry, dict):
            raise ParseError(
                "webhook delivery has an entry that is not an object; the body is kept in "
                "quarantine: check that the delivery was stored whole."
            )
        ctx = Context(account_id or str_id(entry.get("id")) or UNKNOWN_ACCOUNT, out)
        _entry(ctx, entry)


def _entry(ctx: Context, entry: dict[str, Any]) -> None:
    entry_time = parse_time(entry.get("time"), "time")
    changes = entry.get("changes")
    for change in changes if isinstance(changes, list) else []:
        if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
            continue
        if change.get("field") in _PAGE_FIELDS:
            _feed_change(ctx, change["value"], entry_time)
    messaging_events(ctx, entry, FACEBOOK)


def messaging_events(ctx: Context, entry: dict[str, Any], platform: str) -> None:
    """Add the messages of an entry's ``messaging`` and ``standby`` events; return None."""
    for name in _MESSAGING_LISTS:
        events = entry.get(name)
        for event in events if isinstance(events, list) else []:
            if isinstance(event, dict):
                messaging_event(ctx, event, platform)


def _feed_change(ctx: Context, value: dict[str, Any], entry_time: datetime | None) -> None:
    """Add the post or comment a Page ``feed``/``mention`` change is about."""
    item, verb = value.get("item"), value.get("verb")
    if verb not in _ITEM_VERBS or (item not in _POST_ITEMS and item != "comment"):
        return
    post_id = str_id(value.get("post_id"))
    native = str_id(value.get("comment_id")) if item == "comment" else post_id
    if native is None:
        raise ParseError(
            f"feed webhook change '{item} {verb}' names no {'comment_id' if item == 'comment' else 'post_id'}; "
            "the body is kept in quarantine: check the delivery against the feed webhook reference."
        )
    kind, parent_key, thread_key = _change_place(ctx, item, native, post_id, value)
    removed = verb in _REMOVE_VERBS
    hidden = verb == "hide" or (not removed and verb != "unhide" and value.get("is_hidden") is True)
    created = None if removed else parse_time(value.get("created_time"), "created_time") or entry_time
    person = value.get("from")
    author = (
        author_of(person)
        if isinstance(person, dict)
        else (str_id(value.get("sender_id")), value.get("sender_name"))
    )
    ctx.out.append(observation(
        ctx, FACEBOOK, kind, native,
        parent_key=parent_key, thread_key=thread_key, author=author,
        text=None if removed else value.get("message"),
        attachments=[] if removed else att.feed_change_attachments(value), permalink=None,
        created_at=created, edited_at=entry_time if verb in _EDIT_VERBS else None,
        visibility=HIDDEN if hidden else PUBLIC,
        state=DELETED if removed else HIDDEN if hidden else PRESENT, source=value,
    ))  # fmt: skip


def _change_place(
    ctx: Context, item: Any, native: str, post_id: str | None, value: dict[str, Any]
) -> tuple[str, str | None, str | None]:
    """Return (kind, parent_key, thread_key) of a feed change's item."""
    if item != "comment":
        return POST, None, None
    post_key = ctx.key(FACEBOOK, post_id) if post_id else None
    parent_id = str_id(value.get("parent_id"))
    if parent_id is None or parent_id == post_id:
        return COMMENT, post_key, post_key
    return REPLY, ctx.key(FACEBOOK, parent_id), post_key


def messaging_event(ctx: Context, event: dict[str, Any], platform: str) -> None:
    """Add the message (or message edit, or deletion) of one messaging event."""
    sender = event.get("sender")
    recipient = event.get("recipient")
    sender_id = str_id(sender.get("id")) if isinstance(sender, dict) else None
    recipient_id = str_id(recipient.get("id")) if isinstance(recipient, dict) else None
    when = parse_time(event.get("timestamp"), "timestamp")
    thread_key = dm_thread_key(ctx, platform, sender_id, recipient_id)
    message = event.get("message")
    if isinstance(message, dict):
        _message(ctx, event, message, platform, (sender_id, thread_key, when))
        return
    edit = event.get("message_edit")
    mid = str_id(edit.get("mid")) if isinstance(edit, dict) else None
    if isinstance(edit, dict) and mid is not None:
        ctx.out.append(observation(
            ctx, platform, MESSAGE, mid,
            parent_key=thread_key, thread_key=thread_key, author=(sender_id, None),
            text=edit.get("text"), attachments=[], permalink=None, created_at=None,
            edited_at=when, visibility=PRIVATE, state=PRESENT, source=event,
        ))  # fmt: skip


def _message(
    ctx: Context,
    event: dict[str, Any],
    message: dict[str, Any],
    platform: str,
    where: tuple[str | None, str | None, datetime | None],
) -> None:
    """Add a webhook message; an echo (``is_echo``) is one the account sent, whatever the ids say."""
    sender_id, thread_key, when = where
    mid = str_id(message.get("mid"))
    if mid is None:
        return
    if message.get("is_echo") is True and ctx.account_known:
        sender_id = ctx.account
    reply_to = message.get("reply_to")
    reply_mid = str_id(reply_to.get("mid")) if isinstance(reply_to, dict) else None
    parent_key = ctx.key(platform, reply_mid) if reply_mid else thread_key
    deleted = message.get("is_deleted") is True
    ctx.out.append(observation(
        ctx, platform, MESSAGE, mid,
        parent_key=parent_key, thread_key=thread_key, author=(sender_id, None),
        text=None if deleted else message.get("text"),
        attachments=[] if deleted else att.messaging_attachments(message), permalink=None,
        created_at=None if deleted else when, edited_at=None, visibility=PRIVATE,
        state=DELETED if deleted else PRESENT, source=event,
    ))  # fmt: skip
