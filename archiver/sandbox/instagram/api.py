"""Routing for Instagram accounts on the sandbox Graph API: ``/{id}`` and ``/{id}/{edge}``.

The IG user id (or ``me``) resolves to the account; other ids to a live media, comment,
conversation or message in their Instagram form (:mod:`archiver.sandbox.instagram.ids`).
Direct messages are listed, as on the real platform, on the linked Facebook Page
(``/{page-id}/conversations?platform=instagram``, Facebook Login) or on ``/me/conversations``
(Instagram Login); the IG user node answers ``conversations`` with error 100.
Unknown or deleted objects answer Graph's error 100/33; a message older than the 20 newest of
its conversation answers an error saying the message was deleted, as Instagram does.
Requested fields are validated against the node types before anything is rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.graph.errors import GraphError, object_missing
from archiver.sandbox.graph.fields import FieldSpec, parse_fields
from archiver.sandbox.graph.nodes import NodeType, _serialize
from archiver.sandbox.graph.paging import _Edge, _limit
from archiver.sandbox.instagram import ids
from archiver.sandbox.instagram.nodes import (
    COMMENT,
    CONVERSATION,
    MEDIA,
    MESSAGE,
    NODE_TYPES,
    USER,
    comments_edge,
    conversations_edge,
    media_edge,
    messages_edge,
    readable,
)
from archiver.sandbox.world import Item

MESSAGE_UNREADABLE = "(#100) This message has been deleted"
"""Instagram's answer for a message older than the 20 newest of its conversation."""

_KIND_TYPES = {"post": MEDIA, "comment": COMMENT, "conversation": CONVERSATION, "message": MESSAGE}


def _empty(ctx: _Ctx, target: Any, edge: _Edge) -> dict[str, Any]:
    return {"data": []}


EDGE_FUNCTIONS: dict[str, Callable[[_Ctx, Any, _Edge], dict[str, Any]]] = {
    "media": media_edge,
    "conversations": conversations_edge,
    "comments": comments_edge,
    "replies": comments_edge,
    "messages": messages_edge,
    "stories": _empty,
    "tags": _empty,
}


def handle(ctx: _Ctx, segments: list[str]) -> dict[str, Any]:
    """Return the JSON body for an Instagram account's request; raise GraphError otherwise."""
    if segments[0] == ids.linked_page_id(ctx.account):
        return _page(ctx, segments)
    node_type, target = _resolve(ctx, segments[0])
    if len(segments) == 1:
        specs = parse_fields(ctx.request.params.get("fields"))
        _validate(node_type, specs)
        return _serialize(ctx, node_type, target, specs)
    name = segments[1]
    inbox_elsewhere = name == "conversations" and segments[0] != "me"
    if name not in node_type.edges or name not in EDGE_FUNCTIONS or inbox_elsewhere:
        raise _no_field(name, node_type.name)
    _validate(NODE_TYPES[node_type.edges[name]], parse_fields(ctx.request.params.get("fields")))
    owner_id = segments[0] if target is ctx.account else ids.ig_id(target)
    return EDGE_FUNCTIONS[name](ctx, target, _Edge(ctx, owner_id, name, None))


def _page(ctx: _Ctx, segments: list[str]) -> dict[str, Any]:
    """Answer the Facebook Page linked to the Instagram account: its id, name and
    ``instagram_business_account``, and its ``conversations`` (Instagram's, with
    ``platform=instagram``: how Facebook Login reads Instagram direct messages)."""
    page_id = segments[0]
    if len(segments) == 1:
        fields = {spec.name for spec in parse_fields(ctx.request.params.get("fields")) or ()} or {"id", "name"}
        known = {
            "id": page_id,
            "name": ctx.account.display_name,
            "instagram_business_account": {"id": ctx.account.page_id},
        }
        unknown = sorted(fields - set(known))
        if unknown:
            raise _no_field(unknown[0], "Page")
        return {name: value for name, value in known.items() if name in fields}
    if segments[1] != "conversations":
        raise _no_field(segments[1], "Page")
    _validate(CONVERSATION, parse_fields(ctx.request.params.get("fields")))
    return conversations_edge(ctx, ctx.account, _Edge(ctx, page_id, "conversations", None))


def _no_field(name: str, node_type: str) -> GraphError:
    return GraphError(400, 100, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})")


def _resolve(ctx: _Ctx, object_id: str) -> tuple[NodeType, Any]:
    if object_id in ("me", ctx.account.page_id):
        return USER, ctx.account
    native = ids.world_id(object_id, ctx.account.page_id, ctx.state)
    item: Item | None = ctx.state.get(native) if native is not None else None
    if item is None or ids.ig_id(item) != object_id:
        raise object_missing()
    if item.kind == "message" and not readable(ctx, item):
        raise GraphError(400, 100, MESSAGE_UNREADABLE, "OAuthException")
    return _KIND_TYPES[item.kind], item


def _validate(node_type: NodeType, specs: tuple[FieldSpec, ...] | None) -> None:
    """Raise GraphError for a field the node type does not have, recursing into edges."""
    for spec in specs or ():
        if spec.name not in node_type.fields and spec.name not in node_type.silent:
            raise GraphError(
                400,
                100,
                f"(#100) Tried accessing nonexisting field ({spec.name}) on node type ({node_type.name})",
            )
        nested = NODE_TYPES.get(node_type.edges.get(spec.name, ""))
        if nested is not None:
            _validate(nested, spec.children)
            _limit(spec.modifiers.get("limit"))
