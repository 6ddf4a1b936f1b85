"""Reactions to posts and comments: the Reaction node and the reactions edge.

The world does not store reactions; they are drawn from the item's id, so every request sees
the same people, and their number grows over the item's first two days of sandbox time.
"""

from __future__ import annotations

import hashlib
from typing import Any

from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.graph.fields import FieldSpec
from archiver.sandbox.graph.nodes import NodeType, _serialize
from archiver.sandbox.graph.paging import _decode_cursor, _Edge, _encode_cursor, _truthy
from archiver.sandbox.world import Item


def _reactions(ctx: _Ctx, item: Item) -> list[tuple[str, str, str]]:
    """Return (id, name, type) of the residents who reacted to ``item`` by now (grows over two days)."""
    digest = hashlib.sha256(item.native_id.encode()).digest()
    most = 60 if item.kind == "post" else 8
    total = digest[0] % (most + 1)
    grown = total * min(1.0, (ctx.request.now - item.created) / 172800)
    residents = ctx.world.residents
    kinds = ("LIKE", "LIKE", "LIKE", "LIKE", "LOVE", "CARE", "HAHA", "WOW", "SAD", "ANGRY")
    chosen = []
    for index in range(int(grown)):
        person = residents[(digest[1 + index % 30] * 7919 + index * 104729) % len(residents)]
        chosen.append((person.id, person.name, kinds[(digest[2 + index % 29] + index) % len(kinds)]))
    return chosen


def _reactions_edge(ctx: _Ctx, item: Item, edge: _Edge) -> dict[str, Any]:
    wanted = edge.option("type")
    reactions = [r for r in _reactions(ctx, item) if wanted in (None, "", r[2])]
    start = 0
    after = None if edge.nested else edge.option("after")
    if after:
        start = _decode_cursor(after)[0]
    chosen = reactions[start : start + edge.limit]
    result: dict[str, Any] = {
        "data": [_serialize(ctx, REACTION, reaction, edge.children) for reaction in chosen]
    }
    if chosen:
        end = start + len(chosen)
        paging: dict[str, Any] = {
            "cursors": {"before": _encode_cursor((start,)), "after": _encode_cursor((end,))}
        }
        if end < len(reactions):
            paging["next"] = edge.link("after", _encode_cursor((end,)))
        result["paging"] = paging
    if _truthy(edge.option("summary")):
        result["summary"] = {"total_count": len(reactions), "viewer_reaction": "NONE"}
    return result


def _reactions_field(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
    return _reactions_edge(ctx, item, _Edge(ctx, item.native_id, "reactions", spec))


REACTION = NodeType(
    "Reaction",
    {"id": lambda ctx, r, spec: r[0], "name": lambda ctx, r, spec: r[1], "type": lambda ctx, r, spec: r[2]},
    ("id", "name", "type"),
)
