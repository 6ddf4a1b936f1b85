"""The Instagram Graph API parser: one decoded response body in, observations out.

``parse`` understands every body the Instagram capture stores and the other shapes the
Instagram Graph API (Facebook Login, graph.facebook.com; or Instagram Login,
graph.instagram.com) and its webhooks give:

* list envelopes ``{"data": [...], "paging": ...}``, single objects and the ``?ids=`` map form;
* media (IMAGE, VIDEO, CAROUSEL_ALBUM with ``children``; stories, reels) with nested
  ``comments``; comments with nested ``replies`` (one level) and ``hidden``; the IG user with
  its ``media``/``stories``/``tags``/``conversations`` edges and mention lookups
  (``mentioned_media``, ``mentioned_comment``);
* conversations (``platform=instagram``) with ``messages``: a message listed without its
  details (beyond the 20 newest of its conversation) is skipped, neither content nor deletion;
* webhook deliveries with ``object: instagram`` (``comments``, ``live_comments``, messaging);
* Graph batch responses.

An error envelope raises :class:`ParseError`; so does a Facebook object (a Page post or
comment), which belongs to the facebook connector. Bodies that show no items (the IG user,
insights, children, product tags) yield nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from archiver.connectors.base import Observation, first_of_each_item
from archiver.connectors.facebook.common import (
    COMMENT,
    COMMENT_EDGES,
    CONVERSATION,
    INSTAGRAM,
    MESSAGE_EDGES,
    POST,
    UNKNOWN_ACCOUNT,
    Anchor,
    Context,
    edge_data,
    parse_time,
    str_id,
)
from archiver.connectors.facebook.parse import Request, collect_body, is_ids_map
from archiver.connectors.facebook.webhooks import messaging_events
from archiver.connectors.instagram.objects import (
    CONTAINER_EDGES,
    SKIP_EDGES,
    ig_comment_change,
    walk_list,
)
from archiver.errors import ParseError

_ACCOUNT_SAMPLE: Final = 5
"""How many objects of a body are looked at to find whose account it is."""
_COMMENT_FIELDS: Final = frozenset({"comments", "live_comments"})


def parse(url: str | None, body: Any, account_id: str | None) -> Iterator[Observation]:
    """Yield the observations in one decoded Instagram Graph body, each item once.

    ``url`` is the request URL (tokens removed) or None; ``account_id`` is the IG user id or
    None, in which case it is inferred from the URL or the body (``unknown`` if nothing tells).
    Raises ParseError before yielding anything for error envelopes, Facebook objects and bodies
    that cannot be understood, so a body gives either all its items or none.
    """
    found: list[Observation] = []
    collect_body(url, body, account_id, found, "an Instagram Graph API object", _delivery, _collect)
    yield from first_of_each_item(found)


def _collect(url: str | None, body: dict[str, Any], account_id: str | None, out: list[Observation]) -> None:
    """Append the items of a Graph response object to ``out``."""
    request = Request.from_url(url)
    ctx = Context(account_id or infer_account(request, body), out)
    _response(ctx, request, body)


def _response(ctx: Context, request: Request, body: dict[str, Any]) -> None:
    """Append the items of an envelope, an ids map or a single object to ``ctx.out``."""
    if request.edge in SKIP_EDGES:
        return
    data = body.get("data")
    if isinstance(data, list):
        walk_list(ctx, data, request.edge, _request_parent(ctx, request))
    elif "data" in body:
        return
    elif is_ids_map(body):
        for ident, value in body.items():
            _response(ctx, request._replace(object_id=ident), value)
    else:
        walk_list(ctx, [body], None, None)


def _request_parent(ctx: Context, request: Request) -> Anchor | None:
    """Return the item listed objects hang on: the media of ``/{media}/comments`` and so on."""
    object_id, edge = request.object_id, request.edge
    if object_id is None or edge is None:
        return None
    if edge in MESSAGE_EDGES:
        return ctx.anchor(INSTAGRAM, object_id, CONVERSATION)
    if edge == "replies":
        return ctx.anchor(INSTAGRAM, object_id, COMMENT)
    if edge in COMMENT_EDGES:
        return ctx.anchor(INSTAGRAM, object_id, POST)
    return None


def _delivery(body: dict[str, Any], account_id: str | None, out: list[Observation]) -> None:
    """Append the comments and messages of an ``instagram`` webhook delivery."""
    subject = body.get("object")
    if subject == "page":
        raise ParseError(
            "this is a Facebook Page webhook delivery (object 'page'); normalise it with the facebook "
            "connector (`archiver normalise --platform facebook`)."
        )
    if subject != "instagram":
        return
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise ParseError(
            f"Instagram webhook delivery has 'entry' of type {type(entries).__name__}, not a list; the "
            "body is kept in quarantine: check that the delivery was stored whole."
        )
    for entry in entries:
        if not isinstance(entry, dict):
            raise ParseError(
                "Instagram webhook delivery has an entry that is not an object; the body is kept in "
                "quarantine: check that the delivery was stored whole."
            )
        ctx = Context(account_id or str_id(entry.get("id")) or UNKNOWN_ACCOUNT, out)
        entry_time = parse_time(entry.get("time"), "time")
        changes = entry.get("changes")
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict) and change.get("field") in _COMMENT_FIELDS:
                found = ig_comment_change(ctx, value, entry_time)
                if found is not None:
                    out.append(found)
        messaging_events(ctx, entry, INSTAGRAM)


def infer_account(request: Request, body: dict[str, Any]) -> str:
    """Return the IG user a body belongs to, from the URL or the body; ``unknown`` if neither says."""
    object_id = request.object_id
    if object_id and object_id.isdigit() and request.edge in CONTAINER_EDGES:
        return object_id
    for obj in _sample(body):
        found = _account_hint(obj)
        if found is not None:
            return found
    return UNKNOWN_ACCOUNT


def _sample(body: dict[str, Any]) -> list[Any]:
    data = body.get("data")
    if isinstance(data, list):
        return data[:_ACCOUNT_SAMPLE]
    if is_ids_map(body):
        return list(body.values())[:_ACCOUNT_SAMPLE]
    return [body]


def _account_hint(obj: Any) -> str | None:
    """Return the IG user an object reveals (a user with item edges or mentions, a media owner)."""
    if not isinstance(obj, dict):
        return None
    ident = str_id(obj.get("id")) or ""
    if ident.isdigit() and any(edge_data(obj[name]) for name in CONTAINER_EDGES.intersection(obj)):
        return ident
    if ident.isdigit() and ("mentioned_media" in obj or "mentioned_comment" in obj):
        return ident
    owner = obj.get("owner")
    if isinstance(owner, dict) and str_id(owner.get("id")):
        return str_id(owner.get("id"))
    return None
