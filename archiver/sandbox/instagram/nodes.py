"""Instagram node types on the sandbox Graph API: the IG user, media, comments, conversations, messages.

Each node type maps field names to field functions as the Facebook node types do
(:mod:`archiver.sandbox.graph.nodes`); edges page with the shared cursor paging. What Instagram
does differently is rendered here: ``timestamp`` instead of ``created_time`` on media and
comments, ``media_type`` IMAGE or CAROUSEL_ALBUM with ``children``, ``hidden`` comments,
replies one level deep, people as ``{"username", "id"}``, and conversations that list every
message id but give the details of only the 20 newest messages.
"""

from __future__ import annotations

from typing import Any

from archiver.sandbox.graph.attachments import _message_attachments
from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.graph.fields import FieldSpec
from archiver.sandbox.graph.messenger import platform_threads, threads_page
from archiver.sandbox.graph.nodes import ABSENT, FieldFunction, NodeType, _project, _serialize
from archiver.sandbox.graph.paging import _Edge, _seq_key
from archiver.sandbox.instagram import ids
from archiver.sandbox.media import Media
from archiver.sandbox.text import Person
from archiver.sandbox.world import Item, SandboxAccount


def person(ctx: _Ctx, who: Person, spec: FieldSpec | None = None) -> object:
    """Return an Instagram ``from``-style person: ``{"username", "id"}``."""
    value = {"username": ids.username(who, ctx.account), "id": ids.user_id(who, ctx.account)}
    return _project(value, spec.children if spec is not None else None)


def cover(item: Item) -> Media:
    """Return the picture of a post without photos: Instagram media always shows an image."""
    number = int(item.native_id.split("_", 1)[1]) % 10**15
    media_id = f"9{number:015d}"
    return Media(media_id, "image/jpeg", 300, 300, f"{media_id}_n.jpg", item.created)


def pictures(ctx: _Ctx, item: Item) -> tuple[Media, ...]:
    """Return the media files of a post (its cover picture if it has none), registered for /_media/."""
    if item.media:
        return item.media
    picture = cover(item)
    if ctx.world.media(picture.media_id) is None:
        ctx.world.register_media(picture, item)
    return (picture,)


def _media_type(ctx: _Ctx, item: Item) -> str:
    return "CAROUSEL_ALBUM" if len(pictures(ctx, item)) > 1 else "IMAGE"


def _media_url(ctx: _Ctx, item: Item) -> object:
    files = pictures(ctx, item)
    return ctx.media_url(files[0]) if len(files) == 1 else ABSENT


def _children(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
    files = pictures(ctx, item)
    if len(files) < 2:
        return ABSENT
    data = [
        {
            "id": ids.child_id(media.media_id),
            "media_type": "IMAGE",
            "media_url": ctx.media_url(media),
            "timestamp": ctx.time(media.created),
        }
        for media in files
    ]
    return _project({"data": data}, spec.children)


def _shortcode(item: Item) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    number, code = int(ids.media_id(item.native_id)), ""
    while number:
        number, rest = divmod(number, 64)
        code = alphabet[rest] + code
    return code[:11]


def media_edge(ctx: _Ctx, account: SandboxAccount, edge: _Edge) -> dict[str, Any]:
    """Return a page of the account's media, newest first, honouring ``since``/``until``."""
    posts = [post for post in ctx.state.posts if ids.media_id(post.native_id) not in ctx.request.unlisted]
    return edge.respond(
        edge.window(posts),
        lambda post: _serialize(ctx, MEDIA, post, edge.children),
        lambda post: (post.created, post.seq),
        True,
    )


def comments_edge(ctx: _Ctx, item: Item, edge: _Edge) -> dict[str, Any]:
    """Return a page of a media's top-level comments or a comment's replies, oldest first."""
    children = edge.window(ctx.state.children(item))
    return edge.respond(
        children, lambda child: _serialize(ctx, COMMENT, child, edge.children), _seq_key, False
    )


def _comments_field(name: str) -> FieldFunction:
    def value(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
        result = comments_edge(ctx, item, _Edge(ctx, ids.ig_id(item), name, spec))
        return result if result["data"] else ABSENT

    return value


def conversations_edge(ctx: _Ctx, account: SandboxAccount, edge: _Edge) -> dict[str, Any]:
    """Return a page of the account's Instagram conversations, latest activity first."""
    threads = platform_threads(ctx, edge, "instagram", "")
    threads = [
        thread for thread in threads if ids.conversation_id(thread.native_id) not in ctx.request.unlisted
    ]
    return threads_page(ctx, edge, threads, CONVERSATION)


def messages_edge(ctx: _Ctx, thread: Item, edge: _Edge) -> dict[str, Any]:
    """Return a page of a conversation's messages, newest first: every id, details of the newest 20."""
    messages = ctx.state.children(thread)[::-1]
    readable = {message.native_id for message in messages[: ctx.request.readable_messages]}

    def render(message: Item) -> dict[str, Any]:
        if message.native_id in readable:
            return _serialize(ctx, MESSAGE, message, edge.children)
        return {"id": ids.message_id(message.native_id)}

    return edge.respond(messages, render, _seq_key, True)


def readable(ctx: _Ctx, message: Item) -> bool:
    """Return True when ``message`` is among the 20 newest of its conversation (the request's limit)."""
    newest = ctx.state.children(message.thread)[-ctx.request.readable_messages :]
    return any(item is message for item in newest)


def _messages_field(ctx: _Ctx, thread: Item, spec: FieldSpec) -> object:
    result = messages_edge(ctx, thread, _Edge(ctx, ids.conversation_id(thread.native_id), "messages", spec))
    return result if result["data"] else ABSENT


def _participants(ctx: _Ctx, thread: Item, spec: FieldSpec) -> object:
    people = [person(ctx, thread.author), person(ctx, ctx.account.person)]
    return _project({"data": people}, spec.children)


def _message_to(ctx: _Ctx, message: Item, spec: FieldSpec) -> object:
    other = message.thread.author if message.by_page else ctx.account.person
    return _project({"data": [person(ctx, other)]}, spec.children)


def _media_count(ctx: _Ctx) -> int:
    return len(ctx.state.posts)


def _parent_id(item: Item) -> object:
    parent = item.parent
    return ids.comment_id(parent.native_id) if parent is not None and item.is_reply else ABSENT


USER_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, a, spec: a.page_id,
    "ig_id": lambda ctx, a, spec: int(a.page_id[-10:]),
    "username": lambda ctx, a, spec: a.display_name,
    "name": lambda ctx, a, spec: "Exempelby kommun",
    "biography": lambda ctx, a, spec: "Officiellt konto för Exempelby kommun. Vi svarar vardagar 8–16.",
    "website": lambda ctx, a, spec: "https://www.exempelby.se",
    "media_count": lambda ctx, a, spec: _media_count(ctx),
    "followers_count": lambda ctx, a, spec: 3100,
    "follows_count": lambda ctx, a, spec: 120,
    "media": lambda ctx, a, spec: media_edge(ctx, a, _Edge(ctx, a.page_id, "media", spec)),
    "conversations": lambda ctx, a, spec: conversations_edge(
        ctx, a, _Edge(ctx, a.page_id, "conversations", spec)
    ),
}

MEDIA_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: ids.media_id(item.native_id),
    "caption": lambda ctx, item, spec: ctx.state.text(item) or ABSENT,
    "media_type": lambda ctx, item, spec: _media_type(ctx, item),
    "media_product_type": lambda ctx, item, spec: "FEED",
    "media_url": lambda ctx, item, spec: _media_url(ctx, item),
    "thumbnail_url": lambda ctx, item, spec: ABSENT,
    "permalink": lambda ctx, item, spec: f"https://www.instagram.com/p/{_shortcode(item)}/",
    "shortcode": lambda ctx, item, spec: _shortcode(item),
    "timestamp": lambda ctx, item, spec: ctx.time(item.created),
    "username": lambda ctx, item, spec: ctx.account.display_name,
    "owner": lambda ctx, item, spec: _project({"id": ctx.account.page_id}, spec.children),
    "comments_count": lambda ctx, item, spec: len(ctx.state.stream(item)),
    "like_count": lambda ctx, item, spec: 0,
    "is_comment_enabled": lambda ctx, item, spec: True,
    "is_shared_to_feed": lambda ctx, item, spec: True,
    "children": _children,
    "comments": _comments_field("comments"),
}

COMMENT_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: ids.comment_id(item.native_id),
    "text": lambda ctx, item, spec: ctx.state.text(item) or "",
    "timestamp": lambda ctx, item, spec: ctx.time(item.created),
    "from": lambda ctx, item, spec: person(ctx, item.author, spec),
    "username": lambda ctx, item, spec: ids.username(item.author, ctx.account),
    "like_count": lambda ctx, item, spec: 0,
    "hidden": lambda ctx, item, spec: ctx.state.hidden(item),
    "parent_id": lambda ctx, item, spec: _parent_id(item),
    "media": lambda ctx, item, spec: _project(
        {"id": ids.media_id(item.thread.native_id), "media_product_type": "FEED"}, spec.children
    ),
    "replies": _comments_field("replies"),
}

CONVERSATION_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: ids.conversation_id(item.native_id),
    "updated_time": lambda ctx, item, spec: ctx.time(ctx.state.updated(item)),
    "participants": _participants,
    "messages": _messages_field,
}

MESSAGE_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: ids.message_id(item.native_id),
    "created_time": lambda ctx, item, spec: ctx.time(item.created),
    "from": lambda ctx, item, spec: person(ctx, item.author, spec),
    "to": _message_to,
    "message": lambda ctx, item, spec: ctx.state.text(item) or "",
    "attachments": lambda ctx, item, spec: (
        _project({"data": _message_attachments(ctx, item)}, spec.children) if item.media else ABSENT
    ),
    "is_unsupported": lambda ctx, item, spec: False,
}

USER = NodeType(
    "IGUser",
    USER_FIELDS,
    ("id",),
    edges={"media": "IGMedia", "conversations": "IGConversation", "stories": "IGMedia", "tags": "IGMedia"},
    silent=frozenset({"profile_picture_url", "stories", "tags", "mentioned_media", "mentioned_comment"}),
)
MEDIA = NodeType(
    "IGMedia",
    MEDIA_FIELDS,
    ("id",),
    edges={"comments": "IGComment", "children": "IGMedia"},
    silent=frozenset(
        {"alt_text", "boost_eligibility_info", "copyright_check_information", "legacy_instagram_media_id"}
    ),
)
COMMENT = NodeType("IGComment", COMMENT_FIELDS, ("id", "text", "timestamp"), edges={"replies": "IGComment"})
CONVERSATION = NodeType(
    "IGConversation", CONVERSATION_FIELDS, ("updated_time", "id"), edges={"messages": "IGMessage"}
)
MESSAGE = NodeType(
    "IGMessage",
    MESSAGE_FIELDS,
    ("created_time", "id"),
    edges={"attachments": "Object"},
    silent=frozenset({"shares", "story", "reactions", "is_deleted"}),
)
NODE_TYPES: dict[str, NodeType] = {node.name: node for node in (USER, MEDIA, COMMENT, CONVERSATION, MESSAGE)}
