"""The Comment node and the comments edge of posts and comments.

A reply is a comment whose parent is a comment. ``filter(stream)`` lists a post's comments and
replies together in creation order; ``order`` and ``summary`` work as in Graph.
"""

from __future__ import annotations

from typing import Any

from archiver.sandbox.graph.attachments import _image
from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.graph.errors import GraphError
from archiver.sandbox.graph.fields import FieldSpec
from archiver.sandbox.graph.links import _permalink, _photo_link
from archiver.sandbox.graph.nodes import ABSENT, FieldFunction, NodeType, _from, _project, _serialize
from archiver.sandbox.graph.paging import _Edge, _seq_key, _truthy
from archiver.sandbox.graph.reactions import _reactions, _reactions_field
from archiver.sandbox.world import Item


def _comments_field(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
    result = _comments_edge(ctx, item, _Edge(ctx, item.native_id, "comments", spec))
    if not result["data"] and "summary" not in result:
        return ABSENT
    return result


def _comments_edge(ctx: _Ctx, item: Item, edge: _Edge) -> dict[str, Any]:
    stream = edge.option("filter") == "stream"
    order = edge.option("order") or "chronological"
    if order not in ("chronological", "reverse_chronological", "ranked"):
        raise GraphError(
            400,
            100,
            "(#100) order must be one of the following values: chronological, reverse_chronological, ranked",
        )
    items = ctx.state.stream(item) if stream and item.kind == "post" else ctx.state.children(item)
    items = edge.window(items)
    descending = order == "reverse_chronological"
    ordered = items[::-1] if descending else items
    result = edge.respond(
        ordered, lambda child: _serialize(ctx, COMMENT, child, edge.children), _seq_key, descending
    )
    if _truthy(edge.option("summary")):
        result["summary"] = {"order": order, "total_count": len(items), "can_comment": True}
    return result


def _parent(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
    if item.parent is None or item.parent.kind != "comment":
        return ABSENT
    return _serialize(ctx, COMMENT, item.parent, spec.children)


def _comment_attachment(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
    if not item.media:
        return ABSENT
    media = item.media[0]
    link = _photo_link(media)
    value = {
        "media": _image(ctx, media),
        "target": {"id": media.media_id, "url": link},
        "type": "photo",
        "url": link,
    }
    return _project(value, spec.children)


COMMENT_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: item.native_id,
    "created_time": lambda ctx, item, spec: ctx.time(item.created),
    "message": lambda ctx, item, spec: ctx.state.text(item) or "",
    "from": _from,
    "parent": _parent,
    "attachment": _comment_attachment,
    "comment_count": lambda ctx, item, spec: len(ctx.state.children(item)),
    "like_count": lambda ctx, item, spec: len(_reactions(ctx, item)),
    "is_hidden": lambda ctx, item, spec: ctx.state.hidden(item),
    "is_private": lambda ctx, item, spec: False,
    "permalink_url": lambda ctx, item, spec: _permalink(ctx, item),
    "can_hide": lambda ctx, item, spec: not item.by_page,
    "can_remove": lambda ctx, item, spec: True,
    "can_comment": lambda ctx, item, spec: not item.is_reply,
    "can_like": lambda ctx, item, spec: True,
    "can_reply_privately": lambda ctx, item, spec: not item.by_page,
    "user_likes": lambda ctx, item, spec: False,
    "object": lambda ctx, item, spec: _project({"id": item.thread.native_id}, spec.children),
    "comments": _comments_field,
    "reactions": _reactions_field,
}


COMMENT = NodeType(
    "Comment",
    COMMENT_FIELDS,
    ("created_time", "from", "message", "id"),
    edges={"comments": "Comment", "reactions": "Reaction"},
    silent=frozenset(
        {
            "message_tags",
            "admin_creator",
            "application",
            "private_reply_conversation",
            "live_broadcast_timestamp",
            "likes",
        }
    ),
)
