"""The Facebook Graph API parser: one decoded response body in, observations out.

``parse`` understands every body the Facebook capture stores and the shapes that older Graph
API versions (v2.x to v10), other requests and webhooks give:

* list envelopes ``{"data": [...], "paging": ...}``, single objects and the ``?ids=`` map form
  ``{"<id>": {...}, ...}``;
* posts with nested ``comments`` (``filter(stream)`` flattened with ``parent{id}``, or top
  level with replies nested) and ``attachments``; comments with ``attachment``; conversations
  with ``messages``; messages with attachments, sticker and shares; videos and photos (as posts);
* Instagram objects read through the same host (media, comments, replies, Instagram
  conversations) are not Facebook's: they raise a ParseError naming the instagram connector
  (:mod:`archiver.connectors.instagram`), which parses them;
* webhook deliveries (see :mod:`archiver.connectors.facebook.webhooks`);
* Graph batch responses (a list of ``{"code", "body"}``).

The request URL, when known, says which edge listed the objects and which object they hang on
(``/{post}/comments``, ``/{conversation}/messages``); without it the objects' shapes decide.
An error envelope raises :class:`ParseError`; bodies that show no items (a Page, a user,
insights, ``{"id": ...}`` create responses, ``{"success": true}``) yield nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

from archiver.connectors.base import Observation, first_of_each_item
from archiver.connectors.facebook.common import (
    COMMENT_EDGES,
    CONVERSATION,
    FACEBOOK,
    INSTAGRAM,
    MESSAGE_EDGES,
    POST,
    UNKNOWN_ACCOUNT,
    Anchor,
    Context,
    edge_data,
    inbox_page,
    permalink_post,
    str_id,
)
from archiver.connectors.facebook.objects import (
    CONTAINER_EDGES,
    IG_COMMENT,
    SKIP_EDGES,
    classify,
    instagram_object,
    object_anchor,
    walk,
    walk_list,
)
from archiver.connectors.facebook.webhooks import is_delivery, parse_delivery
from archiver.errors import ParseError

_VERSION: Final = re.compile(r"v\d+(?:\.\d+)?$")
_ACCOUNT_SAMPLE: Final = 5
"""How many objects of a body are looked at to find whose account it is."""

BodyHandler = Callable[[str | None, dict[str, Any], str | None, list[Observation]], None]
"""Appends the observations of one body object (url, body, account id, out) to ``out``."""
DeliveryHandler = Callable[[dict[str, Any], str | None, list[Observation]], None]
"""Appends the observations of one webhook delivery (body, account id, out) to ``out``."""


class Request(NamedTuple):
    """What a Graph request URL says: the object it was about, the edge, the platform."""

    object_id: str | None
    edge: str | None
    platform: str

    @classmethod
    def from_url(cls, url: str | None) -> Request:
        """Return the request ``url`` describes; an unknown URL describes nothing."""
        if not url:
            return cls(None, None, FACEBOOK)
        parts = urlsplit(url)
        segments = [segment for segment in parts.path.split("/") if segment]
        if segments and _VERSION.match(segments[0]):
            segments = segments[1:]
        instagram = parts.netloc.endswith("instagram.com") or "platform=instagram" in parts.query
        platform = INSTAGRAM if instagram else FACEBOOK
        if parts.query.startswith("ids=") or "&ids=" in parts.query:
            return cls(None, segments[0] if segments else None, platform)
        object_id = segments[0] if segments else None
        return cls(object_id, segments[1] if len(segments) > 1 else None, platform)


def parse(url: str | None, body: Any, account_id: str | None) -> Iterator[Observation]:
    """Yield the observations in one decoded Graph API body, each item once.

    ``url`` is the request URL (tokens removed) or None; ``account_id`` is the Page id or None,
    in which case it is inferred from the URL or the body (``unknown`` if nothing tells).
    Raises ParseError for error envelopes and bodies that cannot be understood; it is raised
    before anything is yielded, so a body gives either all its items or none.
    """
    found: list[Observation] = []
    collect_body(url, body, account_id, found, "a Graph API object", parse_delivery, _collect)
    yield from first_of_each_item(found)


def collect_body(
    url: str | None,
    body: Any,
    account_id: str | None,
    out: list[Observation],
    what: str,
    delivery: DeliveryHandler,
    response: BodyHandler,
) -> None:
    """Append the observations of a decoded Graph body to ``out``; return None.

    A batch response gives each of its bodies in turn (without URL); a webhook delivery goes
    to ``delivery``, any other object to ``response``. Raises ParseError for an error envelope
    and for a body that is no JSON object (naming ``what`` the platform's bodies are).
    """
    if isinstance(body, list):
        for inner in batch_bodies(body):
            collect_body(None, inner, account_id, out, what, delivery, response)
        return
    if not isinstance(body, dict):
        raise ParseError(
            f"the body is a JSON {type(body).__name__}, not {what}; it is kept in "
            "quarantine: check that the response was JSON from the Graph API."
        )
    if "error" in body:
        raise graph_error(body["error"])
    if is_delivery(body):
        delivery(body, account_id, out)
        return
    response(url, body, account_id, out)


def _collect(url: str | None, body: dict[str, Any], account_id: str | None, out: list[Observation]) -> None:
    """Append the items of a Graph response object to ``out``; refuse an Instagram request."""
    request = Request.from_url(url)
    if request.platform == INSTAGRAM:
        raise ParseError(
            f"{url} is an Instagram request (platform=instagram or graph.instagram.com); normalise "
            "Instagram bodies with the instagram connector (`archiver normalise --platform instagram`)."
        )
    ctx = Context(account_id or infer_account(request, body), out)
    _response(ctx, request, body)


def _response(ctx: Context, request: Request, body: dict[str, Any]) -> None:
    """Add the items of an envelope, an ids map or a single object to ``ctx.out``."""
    if request.edge in SKIP_EDGES:
        return
    data = body.get("data")
    if isinstance(data, list):
        parent = _request_parent(ctx, request, data)
        walk_list(ctx, data, request.edge, parent, request.platform)
    elif "data" in body:
        return
    elif is_ids_map(body):
        for ident, value in body.items():
            _response(ctx, request._replace(object_id=ident), value)
    else:
        walk(ctx, body, None, None, request.platform)


def is_ids_map(body: dict[str, Any]) -> bool:
    """Return True for the ``?ids=a,b`` form: every value an object keyed by its own id."""
    if not body or "id" in body:
        return False
    for key, value in body.items():
        if not isinstance(value, dict):
            return False
        ident = value.get("id")
        if ident is None and "data" not in value:
            return False
        if ident is not None and str_id(ident) != key:
            return False
    return True


def _request_parent(ctx: Context, request: Request, data: list[Any]) -> Anchor | None:
    """Return the item the listed objects hang on: the post of ``/{post}/comments`` etc."""
    object_id, edge = request.object_id, request.edge
    if object_id is None or edge is None:
        return None
    if edge in MESSAGE_EDGES:
        return ctx.anchor(request.platform, object_id, CONVERSATION)
    if edge not in COMMENT_EDGES:
        return None
    first = data[0] if data and isinstance(data[0], dict) else {}
    if edge == "replies" or classify(first, edge) == IG_COMMENT:
        raise instagram_object(first or {"id": object_id})
    return object_anchor(ctx, object_id, data)


def batch_bodies(body: list[Any]) -> list[Any]:
    """Return the decoded bodies of a Graph batch response (a list of ``{"code", "headers", "body"}``)."""
    bodies: list[Any] = []
    for part in body:
        if part is None:
            continue
        inner = part.get("body") if isinstance(part, dict) else None
        if not isinstance(inner, str):
            raise ParseError(
                "the body is a JSON array but not a Graph batch response (entries with a 'body' "
                "string); it is kept in quarantine: check what request produced it."
            )
        try:
            decoded = json.loads(inner)
        except json.JSONDecodeError as error:
            raise ParseError(
                f"a Graph batch entry's body is not JSON ({error.msg} at line {error.lineno} "
                f"column {error.colno}); the body is kept in quarantine: check the batch request."
            ) from None
        bodies.append(decoded)
    return bodies


def graph_error(error: Any) -> ParseError:
    """Return the ParseError for a Graph error envelope, carrying code, subcode and message."""
    details = error if isinstance(error, dict) else {"message": error}
    code = _scalar(details.get("code"))
    subcode = _scalar(details.get("error_subcode"))
    kind = _scalar(details.get("type"))
    text = details.get("message")
    sub = f", subcode {subcode}" if subcode is not None else ""
    return ParseError(
        f"the Graph API answered with error code {code}{sub} ({kind}): {str(text).rstrip('.')}. "
        "An error body holds no items; treat the exchange as failed: code 190 means the token "
        "must be renewed, 10 or 200-299 a missing permission, 100 with subcode 33 a deleted or "
        "unreadable object, 4, 17, 32, 613 or 80001-80006 throttling.",
        code=code,
        subcode=subcode,
        error_type=kind,
        fbtrace_id=_scalar(details.get("fbtrace_id")),
    )


def _scalar(value: Any) -> str | int | None:
    if value is None or isinstance(value, str | int):
        return value
    return str(value)


def infer_account(request: Request, body: dict[str, Any]) -> str:
    """Return the account a body belongs to, from the URL or the body; ``unknown`` if neither says."""
    object_id = request.object_id
    if object_id and object_id.isdigit() and request.edge in CONTAINER_EDGES:
        return object_id
    if object_id and request.edge in COMMENT_EDGES and "_" in object_id:
        parent = object_anchor(Context(UNKNOWN_ACCOUNT, []), object_id, edge_data(body))
        if parent.kind == POST:
            return object_id.split("_", 1)[0]
    for obj in _sample(body):
        found = _account_hint(obj)
        if found is not None:
            return found
    return UNKNOWN_ACCOUNT


def _sample(body: dict[str, Any]) -> list[Any]:
    """Return the first few objects of a body: the object itself, its data or its map values."""
    data = body.get("data")
    if isinstance(data, list):
        return data[:_ACCOUNT_SAMPLE]
    if is_ids_map(body):
        sample: list[Any] = []
        for value in list(body.values())[:_ACCOUNT_SAMPLE]:
            sample.extend(_sample(value) if "data" in value else [value])
        return sample
    return [body]


def _account_hint(obj: Any) -> str | None:
    """Return the account id an object reveals (Page of a post or link, IG owner), or None."""
    if not isinstance(obj, dict):
        return None
    ident = obj.get("id")
    ident = ident if isinstance(ident, str) else ""
    if ident.isdigit() and any(edge_data(obj[name]) for name in CONTAINER_EDGES.intersection(obj)):
        return ident
    if ident.isdigit() and ("mentioned_media" in obj or "mentioned_comment" in obj):
        return ident
    from_link = permalink_post(obj.get("permalink_url"))
    if from_link is not None:
        return from_link[0]
    page = inbox_page(obj.get("link"))
    if page is not None:
        return page
    owner = obj.get("owner")
    if isinstance(owner, dict) and str_id(owner.get("id")):
        return str_id(owner.get("id"))
    return _post_id_hint(obj, ident)


def _post_id_hint(obj: dict[str, Any], ident: str) -> str | None:
    parts = ident.split("_")
    if len(parts) == 3 and parts[0].isdigit():
        return parts[0]
    if len(parts) != 2 or not parts[0].isdigit():
        return None
    if classify(obj, None) == POST:
        return parts[0]
    if (
        "comments" in obj
        and object_anchor(Context(UNKNOWN_ACCOUNT, []), ident, edge_data(obj["comments"])).kind == POST
    ):
        return parts[0]
    return None
