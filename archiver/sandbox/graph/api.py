"""Routing: a Graph path to a node (``/{id}``) or an edge (``/{id}/{edge}``), with field validation.

``me`` and the page id resolve to the Page; other ids to a live post, comment, conversation or
message, or to a photo by its media id. Requested fields are checked against the node type
(recursing into nested edges) before anything is rendered, so an unknown or deprecated field
gets Graph's error 100 or 12.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from archiver.sandbox.graph.attachments import PHOTO, _attachments_edge
from archiver.sandbox.graph.comments import COMMENT, _comments_edge
from archiver.sandbox.graph.context import GraphRequest, _Ctx
from archiver.sandbox.graph.errors import GraphError, object_missing
from archiver.sandbox.graph.fields import FieldSpec, parse_fields
from archiver.sandbox.graph.messenger import CONVERSATION, MESSAGE, _conversations_edge, _messages_edge
from archiver.sandbox.graph.nodes import OPEN, NodeType, _serialize
from archiver.sandbox.graph.page import PAGE
from archiver.sandbox.graph.paging import _Edge, _limit
from archiver.sandbox.graph.posts import POST, _posts_edge
from archiver.sandbox.graph.reactions import REACTION, _reactions_edge
from archiver.sandbox.media import MediaSigner
from archiver.sandbox.world import Item, SandboxAccount, World, from_unix

DEFAULT_VERSION = "v26.0"


VERSION_PREFIX = re.compile(r"^/(v\d+\.\d+)(?=/|$)")


NODE_TYPES: dict[str, NodeType] = {
    "Page": PAGE,
    "Post": POST,
    "Comment": COMMENT,
    "UnifiedThread": CONVERSATION,
    "Message": MESSAGE,
    "Photo": PHOTO,
    "Reaction": REACTION,
    "StoryAttachment": OPEN,
    "MessageAttachment": OPEN,
    "post": POST,
    "comment": COMMENT,
    "conversation": CONVERSATION,
    "message": MESSAGE,
}


EDGE_FUNCTIONS: dict[str, Callable[[_Ctx, Any, _Edge], dict[str, Any]]] = {
    "feed": _posts_edge,
    "published_posts": _posts_edge,
    "posts": _posts_edge,
    "conversations": _conversations_edge,
    "comments": _comments_edge,
    "reactions": _reactions_edge,
    "messages": _messages_edge,
    "attachments": _attachments_edge,
}


class GraphApi:
    """Answers authenticated Graph GET requests for one world."""

    def __init__(self, world: World, signer: MediaSigner) -> None:
        self.world = world
        self.signer = signer

    def handle(self, request: GraphRequest, account: SandboxAccount) -> dict[str, Any]:
        """Return the JSON body for ``request`` made with ``account``'s token; raise GraphError otherwise."""
        state = self.world.state(from_unix(request.now)).account(account.name)
        ctx = _Ctx(state, account, request, self.signer, self.world)
        segments = [part for part in request.path.split("/") if part]
        if not segments:
            raise GraphError(400, 100, "(#100) Unsupported get request.", "GraphMethodException")
        if len(segments) > 2:
            raise GraphError(400, 2500, f"Unknown path components: /{'/'.join(segments[2:])}")
        if account.platform == "instagram":  # Instagram's node types (archiver.sandbox.instagram)
            from archiver.sandbox.instagram.api import handle as instagram_handle

            return instagram_handle(ctx, segments)
        node_type, target = self._resolve(ctx, segments[0])
        if len(segments) == 1:
            specs = parse_fields(request.params.get("fields"))
            _validate(node_type, specs)
            return _serialize(ctx, node_type, target, specs)
        return self._edge(ctx, node_type, target, segments[1])

    def _resolve(self, ctx: _Ctx, object_id: str) -> tuple[NodeType, Any]:
        if object_id in ("me", ctx.account.page_id):
            return PAGE, ctx.account
        item = ctx.state.get(object_id)
        if item is not None:
            return NODE_TYPES[item.kind], item
        owner = self.world.media_owner(object_id)
        if owner is not None and owner.kind != "message" and ctx.state.get(owner.native_id) is owner:
            media = self.world.media(object_id)
            if media is not None:
                return PHOTO, (owner, media)
        raise object_missing()

    def _edge(self, ctx: _Ctx, node_type: NodeType, target: Any, name: str) -> dict[str, Any]:
        if name not in node_type.edges:
            raise GraphError(
                400, 100, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type.name})"
            )
        _validate(NODE_TYPES[node_type.edges[name]], parse_fields(ctx.request.params.get("fields")))
        owner_id = ctx.account.page_id if target is ctx.account else _target_id(target)
        edge = _Edge(ctx, owner_id, name, None)
        result = EDGE_FUNCTIONS[name](ctx, target, edge)
        assert isinstance(result, dict)
        return result


def _target_id(target: Any) -> str:
    if isinstance(target, Item):
        return target.native_id
    return str(target[1].media_id)


def _validate(node_type: NodeType, specs: tuple[FieldSpec, ...] | None) -> None:
    """Raise GraphError for a field the node type does not have, recursing into edges."""
    if node_type is OPEN:
        return
    for spec in specs or ():
        if spec.name in node_type.deprecated:
            raise GraphError(400, 12, f"(#12) {spec.name} field is deprecated for versions v3.3 and higher")
        if spec.name not in node_type.fields and spec.name not in node_type.silent:
            raise GraphError(
                400,
                100,
                f"(#100) Tried accessing nonexisting field ({spec.name}) on node type ({node_type.name})",
            )
        if spec.name in node_type.edges:
            _validate(NODE_TYPES[node_type.edges[spec.name]], spec.children)
            _limit(spec.modifiers.get("limit"))
