"""Graph API objects as items: Facebook posts, comments, Messenger conversations and messages.

``walk`` takes one object and what is known about where it came from (the edge that listed it,
the item that contains it) and adds the observations of the object and of the items nested in
it (a post's comments, a comment's replies, a conversation's messages, a media's comments) to
the context's ``out`` list: appending to one list is much cheaper than passing every item up a
chain of nested generators. Objects that are not items (a Page, a user, insights) add nothing,
but their item edges (``posts``, ``conversations``…) are walked.

Instagram objects read through the same host (media, IG comments, Instagram conversations)
belong to the instagram connector (:mod:`archiver.connectors.instagram`): met here, they raise
a ParseError saying so, so that each connector parses only its own platform. The shared pieces
for direct messages (:func:`conversation_item`, :func:`message_item`) serve both.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Final

from archiver.connectors.base import Observation
from archiver.connectors.facebook import attachments as att
from archiver.connectors.facebook.common import (
    COMMENT,
    COMMENT_EDGES,
    CONVERSATION,
    CONVERSATION_EDGES,
    DELETED,
    FACEBOOK,
    HIDDEN,
    IG_MEDIA_EDGES,
    INSTAGRAM,
    MENTION_FIELDS,
    MESSAGE,
    MESSAGE_EDGES,
    POST,
    PRESENT,
    PRIVATE,
    PUBLIC,
    REPLY,
    Anchor,
    Context,
    absolute_link,
    author_of,
    dumps,
    edge_data,
    edge_objects,
    edited_time,
    facebook_link,
    observation,
    parse_time,
    permalink_comment_ids,
    permalink_post,
    str_id,
    strip_edges,
)
from archiver.errors import ParseError

IG_MEDIA: Final = "ig_media"
IG_COMMENT: Final = "ig_comment"

OWN_POST_EDGES: Final = frozenset(
    {"published_posts", "posts", "scheduled_posts", "videos", "live_videos", "video_reels", "photos"}
)
"""Edges that list only the Page's own posts, so a post without ``from`` is the Page's."""
POST_EDGES: Final = OWN_POST_EDGES | {"feed", "tagged", "visitor_posts", "ads_posts", "promotable_posts"}
SKIP_EDGES: Final = frozenset(
    {
        "insights", "reactions", "likes", "attachments", "subattachments", "children", "sharedposts",
        "subscribed_apps", "accounts", "roles", "picture", "participants", "senders", "to", "tags_data",
        "product_tags", "ratings", "blocked", "settings", "locations", "assigned_users", "agencies",
        "tabs", "message_tags", "former_participants", "edit_actions", "permissions",
    }
)  # fmt: skip
"""Edges whose entries are never items of the archive (counts, people, settings, media parts)."""
CONTAINER_EDGES: Final = POST_EDGES | CONVERSATION_EDGES | IG_MEDIA_EDGES
"""Item edges a non-item object (a Page, an IG user) may carry when fetched with field expansion."""

ITEM_MARKERS: Final = frozenset(
    {
        "created_time", "creation_time", "updated_time", "timestamp", "message", "story", "text",
        "caption", "media_type", "media_url", "attachments", "attachment", "participants",
        "senders", "permalink_url", "is_deleted", "sticker", "embed_html", "length", "live_views",
        "images", "message_count", "snippet",
    }
)  # fmt: skip
"""Keys that only items carry; an object with none of them (Page, user, ``{"id"}``) is no item."""
_IG_MARKERS: Final = frozenset(
    {"timestamp", "media_type", "caption", "text", "media_url", "media_product_type", "shortcode"}
)
_COMMENT_MARKERS: Final = frozenset(
    {"parent", "comment_count", "can_hide", "is_private", "attachment", "can_reply_privately", "object"}
)
_VIDEO_MARKERS: Final = frozenset({"length", "embed_html", "live_views", "creation_time"})
_POST_MARKERS: Final = frozenset({"updated_time", "status_type", "type", "privacy", "permalink_url"})
_POST_CHILD_EDGES: Final = frozenset({"comments"})
_CONVERSATION_CHILD_EDGES: Final = frozenset({"messages"})
_NO_CHILD_EDGES: Final = frozenset[str]()


def classify(obj: dict[str, Any], edge: str | None, instagram: bool = False) -> str | None:
    """Return what kind of item ``obj`` is (POST, COMMENT, …, IG_MEDIA), or None if no item.

    The edge that listed the object decides when known; otherwise the object's shape does.
    """
    if ITEM_MARKERS.isdisjoint(obj):
        return None
    ident = obj.get("id")
    ident = ident if isinstance(ident, str) else ""
    if edge in CONVERSATION_EDGES or ident.startswith("t_") or "participants" in obj:
        return CONVERSATION
    if edge in MESSAGE_EDGES or ident.startswith(("m_", "mid.")) or _message_shaped(obj):
        return MESSAGE
    if instagram or _instagram_shaped(obj):
        is_comment = edge in COMMENT_EDGES or "text" in obj or "parent_id" in obj
        return IG_COMMENT if is_comment else IG_MEDIA
    if edge in POST_EDGES:
        return POST
    if edge in COMMENT_EDGES or not _COMMENT_MARKERS.isdisjoint(obj) or ident.count("_") >= 2:
        return COMMENT
    permalink = obj.get("permalink_url")
    if isinstance(permalink, str) and "comment_id=" in permalink:
        return COMMENT
    return POST


def _message_shaped(obj: dict[str, Any]) -> bool:
    return "to" in obj and "from" in obj and _POST_MARKERS.isdisjoint(obj)


def _instagram_shaped(obj: dict[str, Any]) -> bool:
    return "created_time" not in obj and not _IG_MARKERS.isdisjoint(obj) and "creation_time" not in obj


def walk(
    ctx: Context,
    obj: dict[str, Any],
    edge: str | None,
    parent: Anchor | None = None,
    platform: str = FACEBOOK,
) -> None:
    """Add the observations of ``obj`` and of everything nested in it to ``ctx.out``; return None.

    ``edge`` is the edge that listed the object (None for a single object); ``parent`` is the
    item it answers or belongs to when known (the post of a comment, the conversation of a
    message); ``platform`` is ``instagram`` for Instagram conversations and messages.
    """
    kind = classify(obj, edge, instagram=platform == INSTAGRAM and edge in COMMENT_EDGES)
    if kind == POST:
        post(ctx, obj, own=edge in OWN_POST_EDGES, video=_video_shaped(obj, edge))
    elif kind == COMMENT:
        comment(ctx, obj, parent)
    elif kind == CONVERSATION:
        conversation(ctx, obj, _dm_platform(obj, platform))
    elif kind == MESSAGE:
        message_item(ctx, obj, parent, _dm_platform(obj, platform))
    elif kind in (IG_MEDIA, IG_COMMENT):
        raise instagram_object(obj)
    else:
        container(ctx, obj, platform)


def walk_edge(
    ctx: Context, edge_value: Any, edge: str, parent: Anchor | None, platform: str = FACEBOOK
) -> None:
    """Add the observations of every object in a nested edge ``{"data": [...]}``; return None."""
    walk_list(ctx, edge_data(edge_value), edge, parent, platform)


def walk_list(
    ctx: Context, objects: list[Any], edge: str | None, parent: Anchor | None, platform: str = FACEBOOK
) -> None:
    """Add the observations of every object of an edge's ``data`` list; return None."""
    for obj in edge_objects(objects, edge):
        walk(ctx, obj, edge, parent, platform)


def container(ctx: Context, obj: dict[str, Any], platform: str) -> None:
    """Add the items in a non-item object's edges (a Page's posts, a post id's comments); return None."""
    for name in CONTAINER_EDGES.intersection(obj):
        walk_edge(ctx, obj[name], name, None, platform)
    for name in MENTION_FIELDS:
        mentioned = obj.get(name)
        if isinstance(mentioned, dict):
            raise instagram_object(mentioned)
    ident = str_id(obj.get("id"))
    if ident is None:
        return
    if "comments" in obj:
        anchor = object_anchor(ctx, ident, edge_data(obj["comments"]))
        walk_edge(ctx, obj["comments"], "comments", anchor, platform)
    if "replies" in obj:
        raise instagram_object(obj)
    if "messages" in obj:
        anchor = ctx.anchor(_dm_platform(obj, platform), ident, CONVERSATION)
        walk_edge(ctx, obj["messages"], "messages", anchor, platform)


def object_anchor(ctx: Context, ident: str, children: list[Any]) -> Anchor:
    """Return the anchor of an object known only by id whose comments are listed.

    Facebook post ids are ``{page}_{post}`` and comment ids ``{post}_{comment}``: a child
    ``{post}_{reply}`` of ``X`` tells whether ``X`` is a post (its second part is the child's
    first) or a comment (same first part). Failing that, an id starting with the account id is a
    post and a three-part id (Graph v2) is a comment.
    """
    if _is_comment_id(ctx, ident, children):
        return ctx.anchor(FACEBOOK, ident, COMMENT, ctx.key(FACEBOOK, post_of_comment(ctx, ident)))
    return ctx.anchor(FACEBOOK, ident, POST)


def _is_comment_id(ctx: Context, ident: str, children: list[Any]) -> bool:
    parts = ident.split("_")
    if len(parts) != 2:
        return len(parts) >= 3
    for child in children[:5]:
        child_id = child.get("id") if isinstance(child, dict) else None
        if isinstance(child_id, str) and "_" in child_id:
            first = child_id.split("_", 1)[0]
            if first == parts[1] or child_id.startswith(ident + "_"):
                return False
            if first == parts[0]:
                return True
    return ctx.account_known and parts[0] != ctx.account


def post_of_comment(ctx: Context, comment_id: str, permalink: Any = None) -> str:
    """Return the native id of the post a comment id ``{post}_{comment}`` belongs to."""
    parts = comment_id.split("_")
    if len(parts) >= 3:
        return f"{parts[0]}_{parts[1]}"
    from_link = permalink_post(permalink)
    if from_link is not None:
        return f"{from_link[0]}_{from_link[1]}"
    if len(parts) == 2 and ctx.account_known:
        return f"{ctx.account}_{parts[0]}"
    return parts[0]


def _video_shaped(obj: dict[str, Any], edge: str | None) -> bool:
    if edge in ("videos", "live_videos", "video_reels"):
        return True
    if not _VIDEO_MARKERS.isdisjoint(obj):
        return True
    return "description" in obj and "message" not in obj and "story" not in obj and "type" not in obj


def _dm_platform(obj: dict[str, Any], platform: str) -> str:
    """Return ``facebook`` for a Messenger object; raise for an Instagram one (its own connector)."""
    person = obj.get("from")
    people = edge_data(obj.get("participants"))
    if (
        platform == INSTAGRAM
        or (isinstance(person, dict) and "username" in person)
        or (people and isinstance(people[0], dict) and "username" in people[0])
    ):
        raise instagram_object(obj)
    return FACEBOOK


def instagram_object(obj: dict[str, Any]) -> ParseError:
    """Return the error for an Instagram object met in a Facebook body."""
    return ParseError(
        f"object {str(obj.get('id'))!r} is an Instagram object (media, comment or direct message), "
        "not a Facebook one; normalise Instagram bodies with the instagram connector "
        "(`archiver normalise --platform instagram`).",
        object_id=str(obj.get("id")),
    )


def _visibility(hidden: Any) -> tuple[str, str]:
    return (HIDDEN, HIDDEN) if hidden is True else (PUBLIC, PRESENT)


def post(ctx: Context, obj: dict[str, Any], *, own: bool, video: bool) -> None:
    """Add a Facebook post (or a photo or video object, as a post) and its comments; return None."""
    native = str_id(obj.get("id"))
    if native is None:
        return
    author = author_of(obj.get("from"))
    if author[0] is None and own and ctx.account_known:
        author = (ctx.account, None)
    created = parse_time(obj.get("created_time") or obj.get("creation_time"), "created_time")
    visibility, state = _visibility(obj.get("is_hidden"))
    ctx.out.append(_post_observation(ctx, obj, native, author, created, visibility, state, video))
    anchor = ctx.anchor(FACEBOOK, native, POST)
    walk_edge(ctx, obj.get("comments"), "comments", anchor)


def _post_observation(
    ctx: Context,
    obj: dict[str, Any],
    native: str,
    author: tuple[str | None, str | None],
    created: datetime | None,
    visibility: str,
    state: str,
    video: bool,
) -> Observation:
    text = obj.get("message")
    if text is None:
        text = obj.get("story")
    if video:
        if text is None:
            text = obj.get("description")
        media = att.video_attachments(obj)
    elif "images" in obj:
        if text is None:
            text = obj.get("name")
        media = att.photo_attachments(obj)
    elif "attachments" in obj:
        media = att.graph_attachments(obj["attachments"])
    else:
        media = att.legacy_post_attachments(obj)
    return observation(
        ctx, FACEBOOK, POST, native,
        parent_key=None, thread_key=None, author=author, text=text, attachments=media,
        permalink=absolute_link(obj.get("permalink_url")) or facebook_link(obj.get("link")),
        created_at=created, edited_at=edited_time(created, obj.get("updated_time")),
        visibility=visibility, state=state, source=strip_edges(obj, _POST_CHILD_EDGES),
    )  # fmt: skip


def comment(ctx: Context, obj: dict[str, Any], container_item: Anchor | None) -> None:
    """Add a Facebook comment or reply and the replies nested in it; return None."""
    permalink = obj.get("permalink_url")
    native, link_parent = _comment_id(ctx, obj, permalink, container_item)
    kind, parent_key, thread_key = _comment_place(ctx, obj, native, permalink, container_item, link_parent)
    visibility, state = _visibility(obj.get("is_hidden"))
    if obj.get("is_private") is True and visibility == PUBLIC:
        visibility = PRIVATE
    attachment = obj.get("attachment")
    ctx.out.append(observation(
        ctx, FACEBOOK, kind, native,
        parent_key=parent_key, thread_key=thread_key, author=author_of(obj.get("from")),
        text=obj.get("message"),
        attachments=[att.graph_attachment(attachment)] if isinstance(attachment, dict) else [],
        permalink=absolute_link(permalink),
        created_at=parse_time(obj.get("created_time"), "created_time"), edited_at=None,
        visibility=visibility, state=state, source=strip_edges(obj, _POST_CHILD_EDGES),
    ))  # fmt: skip
    anchor = Anchor(ctx.key(FACEBOOK, native), native, kind, thread_key)
    walk_edge(ctx, obj.get("comments"), "comments", anchor)


def _comment_id(
    ctx: Context, obj: dict[str, Any], permalink: Any, container_item: Anchor | None
) -> tuple[str, str | None]:
    """Return the comment's native id and, from its permalink, its parent comment's id.

    Comments read without the MODERATE task come without ``id``; their permalink still names
    the post, the comment and (for a reply) ``reply_comment_id``. Failing that, the id is a
    digest of the comment's creation time, author and parent, stable across edits.
    """
    native = str_id(obj.get("id"))
    if native is not None and (not isinstance(permalink, str) or "reply_comment_id=" not in permalink):
        return native, None
    comment_id, reply_id = permalink_comment_ids(permalink)
    post_part = _post_part(permalink, container_item)
    link_parent = f"{post_part}_{comment_id}" if reply_id and post_part and comment_id else None
    if native is not None:
        return native, link_parent
    if post_part and (reply_id or comment_id):
        return f"{post_part}_{reply_id or comment_id}", link_parent
    return _synthetic_id(obj, container_item), link_parent


def _post_part(permalink: Any, container_item: Anchor | None) -> str | None:
    from_link = permalink_post(permalink)
    if from_link is not None:
        return from_link[1]
    if container_item is not None and container_item.kind == POST:
        return container_item.native_id.rsplit("_", 1)[-1]
    return None


def _synthetic_id(obj: dict[str, Any], container_item: Anchor | None) -> str:
    author, _ = author_of(obj.get("from"))
    parent = container_item.native_id if container_item else ""
    basis = dumps([parent, obj.get("created_time"), author, obj.get("message")])
    return "nid_" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]


def _comment_place(
    ctx: Context,
    obj: dict[str, Any],
    native: str,
    permalink: Any,
    container_item: Anchor | None,
    link_parent: str | None,
) -> tuple[str, str | None, str]:
    """Return (kind, parent_key, thread_key) of a comment from everything known about it."""
    if container_item is not None:
        thread_key = container_item.thread_key
    else:
        thread_key = ctx.key(FACEBOOK, post_of_comment(ctx, native, permalink))
    parent_field = obj.get("parent")
    parent_id = str_id(parent_field.get("id")) if isinstance(parent_field, dict) else None
    if parent_id is None:
        parent_id = link_parent
    if parent_id is not None:
        parent_key = ctx.key(FACEBOOK, parent_id)
        return (COMMENT if parent_key == thread_key else REPLY), parent_key, thread_key
    if container_item is not None:
        return (COMMENT if container_item.kind == POST else REPLY), container_item.key, thread_key
    return COMMENT, thread_key, thread_key


def conversation(ctx: Context, obj: dict[str, Any], platform: str) -> None:
    """Add a direct-message conversation (the thread root, no text) and its messages; return None."""
    native = conversation_item(ctx, obj, platform)
    if native is None:
        return
    anchor = ctx.anchor(platform, native, CONVERSATION)
    walk_edge(ctx, obj.get("messages"), "messages", anchor, platform)


def conversation_item(ctx: Context, obj: dict[str, Any], platform: str) -> str | None:
    """Add the conversation itself (no text; the counterpart as author); return its id or None."""
    native = str_id(obj.get("id"))
    if native is None:
        return None
    people = edge_data(obj.get("participants")) or edge_data(obj.get("senders"))
    ctx.out.append(observation(
        ctx, platform, CONVERSATION, native,
        parent_key=None, thread_key=None, author=_counterpart(ctx, people), text=None,
        attachments=[], permalink=absolute_link(obj.get("link")), created_at=None, edited_at=None,
        visibility=PRIVATE, state=PRESENT, source=strip_edges(obj, _CONVERSATION_CHILD_EDGES),
    ))  # fmt: skip
    return native


def _counterpart(ctx: Context, people: list[Any]) -> tuple[str | None, str | None]:
    """Return the first participant who is not the archived account."""
    for person in people:
        ident, name = author_of(person)
        if ident is not None and ident != ctx.account:
            return ident, name
    return (None, None)


def message_item(
    ctx: Context, obj: dict[str, Any], conversation_anchor: Anchor | None, platform: str
) -> None:
    """Add one direct message of a conversation; return None."""
    native = str_id(obj.get("id"))
    if native is None:
        return
    author = author_of(obj.get("from"))
    thread_key: str | None
    if conversation_anchor is not None:
        thread_key = conversation_anchor.key
    else:
        thread_key = dm_thread_key(ctx, platform, author[0], _first_recipient(obj))
    deleted = obj.get("is_deleted") is True
    ctx.out.append(observation(
        ctx, platform, MESSAGE, native,
        parent_key=thread_key, thread_key=thread_key, author=author,
        text=None if deleted else obj.get("message"),
        attachments=[] if deleted else att.message_attachments(obj), permalink=None,
        created_at=parse_time(obj.get("created_time"), "created_time"), edited_at=None,
        visibility=PRIVATE, state=DELETED if deleted else PRESENT,
        source=strip_edges(obj, _NO_CHILD_EDGES),
    ))  # fmt: skip


def _first_recipient(obj: dict[str, Any]) -> str | None:
    for person in edge_data(obj.get("to")):
        ident, _ = author_of(person)
        if ident is not None:
            return ident
    return None


def dm_thread_key(ctx: Context, platform: str, sender: str | None, recipient: str | None) -> str | None:
    """Return the stand-in thread of a message whose conversation id is not known.

    Webhooks (and a message fetched alone) name the two people, not the conversation; the
    thread is then ``dm_{person}``, the person who is not the account. The conversation item
    with that person as ``author_id`` is the same thread. None when the account is unknown.
    """
    if not ctx.account_known:
        return None
    other = recipient if sender == ctx.account else sender
    return ctx.key(platform, f"dm_{other}") if other else None
