"""Graph node types, and serialising a node with the requested fields.

A :class:`NodeType` maps each field name to a field function ``(ctx, target, spec) -> value``
(``ABSENT`` when Graph leaves the field out) and names its default fields, its edges, the
fields Graph knows but the sandbox leaves out (``silent``) and the deprecated ones. Plain
sub-objects (attachments, ``from``) are projected onto the requested nested fields. The node
types themselves live one module each (``page``, ``posts``, ``comments``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.graph.fields import FieldSpec
from archiver.sandbox.world import Item

ABSENT = object()
"""Returned by a field function when the platform leaves the field out."""


FieldFunction = Callable[[_Ctx, Any, FieldSpec], object]


@dataclass(frozen=True)
class NodeType:
    """A Graph node type: its fields, default fields, edges, and fields it knows but leaves out."""

    name: str
    fields: Mapping[str, FieldFunction]
    defaults: tuple[str, ...]
    edges: Mapping[str, str] = field(default_factory=dict)
    """Edge name -> node type of the edge's items (for validating nested fields)."""
    silent: frozenset[str] = frozenset()
    deprecated: frozenset[str] = frozenset()


OPEN = NodeType("Object", {}, ())
"""Attachments are plain sub-objects: their fields are not validated, only projected."""


def _project(value: object, children: tuple[FieldSpec, ...] | None) -> object:
    """Return ``value`` (a plain sub-object) reduced to the requested ``children`` (ids always kept)."""
    if children is None:
        return value
    if isinstance(value, list):
        return [_project(element, children) for element in value]
    if not isinstance(value, dict):
        return value
    if isinstance(value.get("data"), list) and len(value) <= 3:
        return {**value, "data": _project(value["data"], children)}
    result = {spec.key: _project(value[spec.name], spec.children) for spec in children if spec.name in value}
    if "id" in value and "id" not in result:
        result["id"] = value["id"]
    return result


def _serialize(
    ctx: _Ctx, node_type: NodeType, target: Any, specs: tuple[FieldSpec, ...] | None
) -> dict[str, Any]:
    """Return the node ``target`` with the requested fields (or the defaults); ``id`` always included."""
    requested = specs if specs is not None else tuple(FieldSpec(name) for name in node_type.defaults)
    result: dict[str, Any] = {}
    for spec in requested:
        function = node_type.fields.get(spec.name)
        if function is None:
            continue
        value = function(ctx, target, spec)
        if value is not ABSENT:
            result[spec.key] = value
    if "id" not in result:
        result["id"] = node_type.fields["id"](ctx, target, FieldSpec("id"))
    return result


def _from(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
    return _project(ctx.person(item.author.id, item.author.name), spec.children)
