"""Edges and paging: one edge request's options, its page of items and its ``next`` links.

An edge is requested at the top level (``/{id}/comments?limit=10&after=...``) or nested as a
field (``comments.limit(10){id}``). ``_Edge`` reads ``limit``, ``since``/``until`` and the
cursors from either, picks one page by opaque key cursors, and writes absolute
``next``/``previous`` URLs that carry the caller's ``access_token``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from archiver.sandbox.graph.context import _Ctx
from archiver.sandbox.graph.errors import GraphError
from archiver.sandbox.graph.fields import FieldSpec, format_fields, parse_fields
from archiver.sandbox.world import Item

DEFAULT_LIMIT = 25


MAX_LIMIT = 100


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise GraphError(400, 100, "(#100) Param limit must be a number") from None
    if value < 0:
        raise GraphError(400, 100, "(#100) Param limit must be a non-negative number")
    if value > MAX_LIMIT:
        raise GraphError(400, 100, "(#100) The 'limit' parameter should not exceed 100")
    return value


def _truthy(raw: str | None) -> bool:
    return raw is not None and raw.lower() in ("true", "1", "total_count")


def parse_time(raw: str, name: str) -> int:
    """Return ``since``/``until`` (unix seconds or ISO 8601; naive means UTC) as unix seconds."""
    try:
        if raw.lstrip("-").isdigit():
            return int(raw)
        value = datetime.fromisoformat(raw.replace(" ", "+") if "T" in raw else raw)
    except ValueError:
        raise GraphError(400, 100, f"(#100) The parameter {name} is not a valid time: {raw}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _encode_cursor(key: tuple[int, ...]) -> str:
    return base64.urlsafe_b64encode(":".join(map(str, key)).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return tuple(int(part) for part in raw.split(":"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise GraphError(400, 100, "(#100) The cursor is invalid or has expired") from None


@dataclass(frozen=True)
class _Page:
    items: list[Item]
    before: str | None
    after: str | None
    has_next: bool
    has_previous: bool


def _paginate(
    items: Sequence[Item],
    key: Callable[[Item], tuple[int, ...]],
    descending: bool,
    limit: int,
    after: str | None,
    before: str | None,
) -> _Page:
    """Return one page of ``items`` (already in display order) after or before a key cursor."""
    import bisect

    sign = -1 if descending else 1
    keys = [tuple(sign * part for part in key(item)) for item in items]
    start, end = 0, len(items)
    if after:
        start = bisect.bisect_right(keys, tuple(sign * part for part in _decode_cursor(after)))
        end = min(len(items), start + limit)
    elif before:
        end = bisect.bisect_left(keys, tuple(sign * part for part in _decode_cursor(before)))
        start = max(0, end - limit)
    else:
        end = min(len(items), limit)
    chosen = list(items[start:end])
    first, last = (key(chosen[0]), key(chosen[-1])) if chosen else (None, None)
    return _Page(
        items=chosen,
        before=_encode_cursor(first) if first else None,
        after=_encode_cursor(last) if last else None,
        has_next=end < len(items),
        has_previous=start > 0,
    )


def _seq_key(item: Item) -> tuple[int, ...]:
    return (item.seq,)


class _Edge:
    """One edge request (top-level or nested): its options, and how to page and link it."""

    def __init__(self, ctx: _Ctx, owner_id: str, name: str, spec: FieldSpec | None) -> None:
        self.ctx = ctx
        self.owner_id = owner_id
        self.name = name
        self.nested = spec is not None
        self.children = spec.children if spec is not None else parse_fields(ctx.request.params.get("fields"))
        self.options: dict[str, str] = dict(spec.modifiers) if spec is not None else dict(ctx.request.params)
        self.limit = _limit(self.options.get("limit"))

    def option(self, name: str) -> str | None:
        """Return a modifier (nested) or query parameter (top level), or None."""
        return self.options.get(name)

    def window(self, items: list[Item]) -> list[Item]:
        """Return the items whose creation time lies within ``since`` and ``until`` (both inclusive)."""
        since, until = self.option("since"), self.option("until")
        if since:
            first = parse_time(since, "since")
            items = [item for item in items if item.created >= first]
        if until:
            last = parse_time(until, "until")
            items = [item for item in items if item.created <= last]
        return items

    def link(self, cursor_name: str, cursor: str) -> str:
        """Return the absolute URL of the next or previous page of this edge."""
        if self.nested:
            params = {key: value for key, value in self.options.items() if key not in ("after", "before")}
            if self.children is not None:
                params = {"fields": format_fields(self.children), **params}
            params.setdefault("limit", str(self.limit))
            if "date_format" in self.ctx.request.params:
                params["date_format"] = self.ctx.request.params["date_format"]
        else:
            params = {k: v for k, v in self.options.items() if k not in ("after", "before", "access_token")}
        params[cursor_name] = cursor
        return self.ctx.url(f"/{self.owner_id}/{self.name}", params)

    def respond(
        self,
        items: list[Item],
        serialize: Callable[[Item], dict[str, Any]],
        key: Callable[[Item], tuple[int, ...]],
        descending: bool,
    ) -> dict[str, Any]:
        """Return ``{"data": [...], "paging": {...}}`` for one page of ``items``."""
        after = None if self.nested else self.option("after")
        before = None if self.nested else self.option("before")
        page = _paginate(items, key, descending, self.limit, after, before)
        result: dict[str, Any] = {"data": [serialize(item) for item in page.items]}
        if page.items and page.before and page.after:
            paging: dict[str, Any] = {"cursors": {"before": page.before, "after": page.after}}
            if page.has_previous and (after or before):
                paging["previous"] = self.link("before", page.before)
            if page.has_next:
                paging["next"] = self.link("after", page.after)
            result["paging"] = paging
        return result
