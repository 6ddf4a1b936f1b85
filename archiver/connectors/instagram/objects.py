"""Instagram Graph objects as items: media, comments, replies, conversations and messages.

``walk`` takes one object and what is known about where it came from (the edge that listed it,
the item that contains it) and appends the observations of the object and of the items nested
in it (a media's comments, a comment's replies, a conversation's messages) to ``ctx.out``.
Objects that are not items (the IG user, insights, children, product tags) add nothing, but
their item edges (``media``, ``stories``, ``tags``, ``conversations``) and the mentioned media
or comment of a mention lookup are walked.

Conversations and messages have the Messenger shape (``created_time``, ``from``, ``to``,
``message``) and are handled by the shared Graph functions with platform ``instagram``. An
Instagram message listed without its details (``from`` and ``message`` missing: the platform
serves details for only the 20 newest messages of a conversation) is no observation: it is
neither new content nor evidence of deletion (see :func:`unreadable_message_ids`).
"""

from __future__ import annotations

from typing import Any, Final

from archiver.connectors.base import Observation
from archiver.connectors.facebook import attachments as att
from archiver.connectors.facebook.common import (
    COMMENT,
    COMMENT_EDGES,
    CONVERSATION,
    CONVERSATION_EDGES,
    HIDDEN,
    IG_MEDIA_EDGES,
    INSTAGRAM,
    MENTION_FIELDS,
    MESSAGE,
    MESSAGE_EDGES,
    OWN_IG_MEDIA_EDGES,
    POST,
    PRESENT,
    PUBLIC,
    REPLY,
    Anchor,
    Context,
    author_of,
    edge_data,
    edge_objects,
    observation,
    parse_time,
    str_id,
    strip_edges,
)
from archiver.connectors.facebook.objects import conversation_item, message_item
from archiver.errors import ParseError

CONTAINER_EDGES: Final = IG_MEDIA_EDGES | CONVERSATION_EDGES
"""Item edges an IG user object may carry when fetched with field expansion."""
SKIP_EDGES: Final = frozenset(
    {"insights", "children", "product_tags", "participants", "to", "collaborators", "business_discovery"}
)
"""Edges whose entries are never items of the archive (metrics, carousel parts, people)."""

_MEDIA_MARKERS: Final = frozenset(
    {"timestamp", "media_type", "caption", "media_url", "media_product_type", "shortcode", "permalink"}
)
_COMMENT_MARKERS: Final = frozenset({"text", "parent_id", "hidden"})
_FACEBOOK_MARKERS: Final = frozenset(
    {
        "created_time", "creation_time", "message", "story", "status_type", "permalink_url",
        "is_hidden", "embed_html", "length", "live_views", "full_picture",
    }
)  # fmt: skip
"""Keys of Facebook posts, comments and videos that Instagram objects never carry."""
_MEDIA_CHILD_EDGES: Final = frozenset({"comments"})
_COMMENT_CHILD_EDGES: Final = frozenset({"replies"})
_MESSAGE_DETAILS: Final = frozenset({"from", "message", "attachments", "to", "shares", "story", "is_deleted"})


def classify(obj: dict[str, Any], edge: str | None) -> str | None:
    """Return what kind of item ``obj`` is (POST for media, COMMENT, CONVERSATION, MESSAGE), or None.

    The edge that listed the object decides when known; otherwise the object's shape does.
    Raises ParseError for a Facebook object (a Page post or comment), which belongs to the
    facebook connector.
    """
    if edge in CONVERSATION_EDGES:
        return _direct(obj, CONVERSATION)
    if edge in MESSAGE_EDGES:
        return _direct(obj, MESSAGE)
    if edge in COMMENT_EDGES:
        return COMMENT
    if edge in IG_MEDIA_EDGES:
        return POST
    if not _COMMENT_MARKERS.isdisjoint(obj):
        return COMMENT
    if not _MEDIA_MARKERS.isdisjoint(obj):
        return POST
    if "participants" in obj or ("messages" in obj and "created_time" not in obj):
        return _direct(obj, CONVERSATION)
    if "created_time" in obj and ("to" in obj or _instagram_person(obj.get("from"))):
        return _direct(obj, MESSAGE)
    if not _FACEBOOK_MARKERS.isdisjoint(obj):
        raise foreign_object(obj)
    return None


def _instagram_person(person: Any) -> bool:
    return isinstance(person, dict) and "username" in person


def _direct(obj: dict[str, Any], kind: str) -> str:
    """Return ``kind`` for an Instagram conversation or message; raise for a Messenger one, whose
    people are named and carry an ``{id}@facebook.com`` e-mail instead of a username."""
    people = [obj.get("from"), *edge_data(obj.get("participants")), *edge_data(obj.get("to"))]
    for person in people:
        if isinstance(person, dict) and (
            "email" in person or ("name" in person and "username" not in person)
        ):
            raise foreign_object(obj)
    return kind


def foreign_object(obj: dict[str, Any]) -> ParseError:
    """Return the error for a Facebook object met in an Instagram body."""
    return ParseError(
        f"object {str(obj.get('id'))!r} is a Facebook object (a Page post, comment, video or Messenger "
        "message), not Instagram media, a comment or a direct message; normalise Facebook bodies "
        "with the facebook connector (`archiver normalise --platform facebook`).",
        object_id=str(obj.get("id")),
    )


def walk(ctx: Context, obj: dict[str, Any], edge: str | None, parent: Anchor | None = None) -> None:
    """Append the observations of ``obj`` and everything nested in it to ``ctx.out``; return None."""
    kind = classify(obj, edge)
    if kind == POST:
        media(ctx, obj, own=edge in OWN_IG_MEDIA_EDGES)
    elif kind == COMMENT:
        comment(ctx, obj, parent)
    elif kind == CONVERSATION:
        conversation(ctx, obj)
    elif kind == MESSAGE:
        message(ctx, obj, parent)
    else:
        container(ctx, obj)


def walk_list(ctx: Context, objects: list[Any], edge: str | None, parent: Anchor | None) -> None:
    """Append the observations of every object of an edge's ``data`` list; return None."""
    for obj in edge_objects(objects, edge):
        walk(ctx, obj, edge, parent)


def container(ctx: Context, obj: dict[str, Any]) -> None:
    """Append the items in a non-item object's edges (an IG user's media, a media id's comments)."""
    for name in sorted(CONTAINER_EDGES.intersection(obj)):
        walk_list(ctx, edge_data(obj[name]), name, None)
    for name in MENTION_FIELDS:
        mentioned = obj.get(name)
        if isinstance(mentioned, dict):
            walk(ctx, mentioned, None, None)
    ident = str_id(obj.get("id"))
    if ident is None:
        return
    if "comments" in obj:
        walk_list(ctx, edge_data(obj["comments"]), "comments", ctx.anchor(INSTAGRAM, ident, POST))
    if "replies" in obj:
        walk_list(ctx, edge_data(obj["replies"]), "replies", ctx.anchor(INSTAGRAM, ident, COMMENT))
    if "messages" in obj:
        walk_list(ctx, edge_data(obj["messages"]), "messages", ctx.anchor(INSTAGRAM, ident, CONVERSATION))


def media(ctx: Context, obj: dict[str, Any], *, own: bool) -> None:
    """Append an Instagram media (feed post, reel, story, carousel) and its comments; return None."""
    native = str_id(obj.get("id"))
    if native is None:
        return
    owner = obj.get("owner")
    author_id = str_id(owner.get("id")) if isinstance(owner, dict) else None
    if author_id is None and own and ctx.account_known:
        author_id = ctx.account
    ctx.out.append(observation(
        ctx, INSTAGRAM, POST, native,
        parent_key=None, thread_key=None, author=(author_id, obj.get("username")),
        text=obj.get("caption"), attachments=att.ig_media_attachments(obj),
        permalink=obj.get("permalink"), created_at=parse_time(obj.get("timestamp"), "timestamp"),
        edited_at=None, visibility=PUBLIC, state=PRESENT, source=strip_edges(obj, _MEDIA_CHILD_EDGES),
    ))  # fmt: skip
    walk_list(ctx, edge_data(obj.get("comments")), "comments", ctx.anchor(INSTAGRAM, native, POST))


def comment(ctx: Context, obj: dict[str, Any], container_item: Anchor | None) -> None:
    """Append an Instagram comment or reply and the replies nested in it; return None."""
    native = str_id(obj.get("id"))
    if native is None:
        return
    kind, parent_key, thread_key = comment_place(ctx, obj, native, container_item)
    author_id, author_name = author_of(obj.get("from") or obj.get("user"))
    if author_name is None:
        author_name = obj.get("username")
    hidden = obj.get("hidden") is True
    ctx.out.append(observation(
        ctx, INSTAGRAM, kind, native,
        parent_key=parent_key, thread_key=thread_key, author=(author_id, author_name),
        text=obj.get("text"), attachments=[], permalink=None,
        created_at=parse_time(obj.get("timestamp"), "timestamp"), edited_at=None,
        visibility=HIDDEN if hidden else PUBLIC, state=HIDDEN if hidden else PRESENT,
        source=strip_edges(obj, _COMMENT_CHILD_EDGES),
    ))  # fmt: skip
    anchor = Anchor(ctx.key(INSTAGRAM, native), native, kind, thread_key)
    walk_list(ctx, edge_data(obj.get("replies")), "replies", anchor)


def comment_place(
    ctx: Context, obj: dict[str, Any], native: str, container_item: Anchor | None
) -> tuple[str, str | None, str]:
    """Return (kind, parent_key, thread_key) of an Instagram comment from what is known about it.

    Replies are one level deep: a reply's parent is a top-level comment, its thread the media.
    """
    found = obj.get("media")
    media_id = str_id(found.get("id")) if isinstance(found, dict) else None
    media_key = ctx.key(INSTAGRAM, media_id) if media_id else None
    if container_item is not None:
        kind = COMMENT if container_item.kind == POST else REPLY
        return kind, container_item.key, media_key or container_item.thread_key
    parent_id = str_id(obj.get("parent_id"))
    if parent_id is not None:
        parent_key = ctx.key(INSTAGRAM, parent_id)
        return REPLY, parent_key, media_key or parent_key
    if media_key is not None:
        return COMMENT, media_key, media_key
    return COMMENT, None, ctx.key(INSTAGRAM, native)


def conversation(ctx: Context, obj: dict[str, Any]) -> None:
    """Append an Instagram direct-message conversation and its readable messages; return None."""
    native = conversation_item(ctx, obj, INSTAGRAM)
    if native is not None:
        anchor = ctx.anchor(INSTAGRAM, native, CONVERSATION)
        walk_list(ctx, edge_data(obj.get("messages")), "messages", anchor)


def message(ctx: Context, obj: dict[str, Any], conversation_anchor: Anchor | None) -> None:
    """Append one direct message; a message listed without its details adds nothing."""
    if is_unreadable_message(obj):
        return
    message_item(ctx, obj, conversation_anchor, INSTAGRAM)


def is_unreadable_message(obj: dict[str, Any]) -> bool:
    """Return True for a message listed by id only: the platform withholds its details."""
    return _MESSAGE_DETAILS.isdisjoint(obj)


def unreadable_message_ids(conversation_obj: dict[str, Any]) -> list[str]:
    """Return the ids of the messages a conversation lists without their details."""
    found = []
    for entry in edge_data(conversation_obj.get("messages")):
        if isinstance(entry, dict) and is_unreadable_message(entry):
            ident = str_id(entry.get("id"))
            if ident is not None:
                found.append(ident)
    return found


def ig_comment_change(ctx: Context, value: dict[str, Any], entry_time: Any) -> Observation | None:
    """Return the comment a ``comments``/``live_comments`` webhook change carries, or None."""
    native = str_id(value.get("id"))
    if native is None:
        return None
    found = value.get("media")
    media_id = str_id(found.get("id")) if isinstance(found, dict) else None
    media_key = ctx.key(INSTAGRAM, media_id) if media_id else None
    parent_id = str_id(value.get("parent_id"))
    parent_key = ctx.key(INSTAGRAM, parent_id) if parent_id else media_key
    return observation(
        ctx, INSTAGRAM, REPLY if parent_id else COMMENT, native,
        parent_key=parent_key, thread_key=media_key or parent_key, author=author_of(value.get("from")),
        text=value.get("text"), attachments=[], permalink=None, created_at=entry_time,
        edited_at=None, visibility=PUBLIC, state=PRESENT, source=value,
    )  # fmt: skip
