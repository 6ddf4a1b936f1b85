"""The Facebook Graph API wire format (v26.0) over the sandbox world.

Routing (``/{id}`` and ``/{id}/{edge}``), the field-expansion syntax with nested braces and
modifiers (``comments.filter(stream).limit(100).summary(true){id,parent{id}}``), cursor paging
with absolute ``next`` URLs that carry the caller's ``access_token``, and the error envelope.
The HTTP server (``server.py``) adds faults, usage headers and the clock; this module turns one
authenticated request into one JSON body or a :class:`GraphError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from archiver.sandbox.media import Media, MediaSigner
from archiver.sandbox.world import AccountState, Item, SandboxAccount, World, from_unix

DEFAULT_VERSION = "v26.0"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
ABSENT = object()
"""Returned by a field function when the platform leaves the field out."""

OBJECT_MISSING = (
    "(#100) Object does not exist, cannot be loaded due to missing permission or reviewable feature, "
    "or does not support this operation."
)


class GraphError(Exception):
    """An answer in the Graph error envelope: HTTP status, code, subcode, type and message."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        **extra: object,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.subcode = subcode
        self.extra = extra

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        """Return the JSON error envelope with ``fbtrace_id``."""
        error: dict[str, Any] = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error.update(self.extra)
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


def object_missing() -> GraphError:
    """Return the error for a deleted, unknown or inaccessible object (code 100, subcode 33)."""
    return GraphError(400, 100, OBJECT_MISSING, "GraphMethodException", 33)


def invalid_token() -> GraphError:
    """Return the error for an access token the sandbox does not know (code 190, subcode 467)."""
    return GraphError(400, 190, "Invalid OAuth access token.", subcode=467)


def missing_token() -> GraphError:
    """Return the error for a request without an access token (code 104)."""
    return GraphError(400, 104, "An access token is required to request this resource.")


def expired_token(now: datetime) -> GraphError:
    """Return the error for an expired session (code 190, subcode 463), phrased as Meta does."""
    from zoneinfo import ZoneInfo

    pacific = ZoneInfo("America/Los_Angeles")
    fmt = "%A, %d-%b-%y %H:%M:%S %Z"
    expired = datetime.fromtimestamp(now.timestamp() - 86400, pacific)
    message = (
        f"Error validating access token: Session has expired on {expired.strftime(fmt)}. "
        f"The current time is {now.astimezone(pacific).strftime(fmt)}."
    )
    return GraphError(400, 190, message, subcode=463)


@dataclass(frozen=True)
class FieldSpec:
    """One requested field: its name, modifiers such as ``limit(100)``, nested fields and alias."""

    name: str
    modifiers: Mapping[str, str] = field(default_factory=dict)
    children: tuple[FieldSpec, ...] | None = None
    alias: str | None = None

    @property
    def key(self) -> str:
        """Return the key the field has in the response (its alias, else its name)."""
        return self.alias or self.name


class _FieldParser:
    """Recursive-descent parser for the ``fields=`` expansion syntax."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0

    def parse(self) -> tuple[FieldSpec, ...]:
        """Return every field of the source; raise GraphError unless all of it was read."""
        specs = self.fields()
        self.skip_space()
        if self.pos != len(self.source):
            raise self.error()
        return specs

    def error(self) -> GraphError:
        """Return the syntax error Graph reports at the current position."""
        found = self.source[self.pos] if self.pos < len(self.source) else "end of string"
        message = f'Syntax error "Expected end of string instead of "{found}"." at character {self.pos}: {self.source}'
        return GraphError(400, 2500, message)

    def skip_space(self) -> None:
        """Move past whitespace."""
        while self.pos < len(self.source) and self.source[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        """Return the next non-space character, or "" at the end."""
        self.skip_space()
        return self.source[self.pos] if self.pos < len(self.source) else ""

    def expect(self, char: str) -> None:
        """Consume ``char`` or raise the syntax error."""
        if self.peek() != char:
            raise self.error()
        self.pos += 1

    def name(self) -> str:
        """Return the field or modifier name at the current position."""
        self.skip_space()
        start = self.pos
        while self.pos < len(self.source) and (
            self.source[self.pos].isalnum() or self.source[self.pos] == "_"
        ):
            self.pos += 1
        if start == self.pos:
            raise self.error()
        return self.source[start : self.pos]

    def fields(self) -> tuple[FieldSpec, ...]:
        """Return a comma-separated list of fields."""
        specs = [self.field()]
        while self.peek() == ",":
            self.pos += 1
            specs.append(self.field())
        return tuple(specs)

    def field(self) -> FieldSpec:
        """Return one field with its ``.modifier(arg)`` parts, ``.as(alias)`` and ``{children}``."""
        name = self.name()
        modifiers: dict[str, str] = {}
        children: tuple[FieldSpec, ...] | None = None
        alias = None
        while self.peek() in (".", "{"):
            if self.peek() == "{":
                if children is not None:
                    raise self.error()
                self.pos += 1
                children = self.fields()
                self.expect("}")
                continue
            self.pos += 1
            modifier = self.name()
            self.expect("(")
            end = self.source.find(")", self.pos)
            if end < 0:
                raise self.error()
            argument, self.pos = self.source[self.pos : end].strip(), end + 1
            if modifier == "as":
                alias = argument
            else:
                modifiers[modifier] = argument
        return FieldSpec(name, modifiers, children, alias)


def parse_fields(source: str | None) -> tuple[FieldSpec, ...] | None:
    """Return the parsed ``fields`` parameter, None when absent or empty; raise GraphError on bad syntax."""
    if source is None or not source.strip():
        return None
    return _FieldParser(source).parse()


def format_fields(specs: Sequence[FieldSpec]) -> str:
    """Return ``specs`` written back in the expansion syntax (for ``next`` URLs)."""
    parts = []
    for spec in specs:
        text = spec.name + "".join(f".{name}({value})" for name, value in spec.modifiers.items())
        if spec.alias:
            text += f".as({spec.alias})"
        if spec.children is not None:
            text += "{" + format_fields(spec.children) + "}"
        parts.append(text)
    return ",".join(parts)


@dataclass(frozen=True)
class GraphRequest:
    """One Graph API GET as the server received it, already authenticated."""

    path: str
    """Path without the version prefix, e.g. ``/1000000000000001/feed``."""
    params: Mapping[str, str]
    token: str
    base_url: str
    """Scheme and host the client used, e.g. ``http://127.0.0.1:8765``."""
    version: str
    now: int
    """The sandbox clock, unix seconds: the instant the world is served as of."""


@dataclass
class _Ctx:
    """What every field function needs: the account's state, the request and the media signer."""

    state: AccountState
    account: SandboxAccount
    request: GraphRequest
    signer: MediaSigner
    world: World

    def time(self, stamp: int) -> str | int:
        """Return ``stamp`` as Graph formats times (``2026-11-01T10:15:00+0000``, or unix with date_format=U)."""
        if self.request.params.get("date_format") == "U":
            return stamp
        return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")

    def media_url(self, media: Media) -> str:
        """Return a signed media URL valid for one hour of sandbox time."""
        return self.signer.url(self.request.base_url, media, self.request.now)

    def url(self, path: str, params: Mapping[str, str]) -> str:
        """Return an absolute Graph URL for ``path`` whose query carries the caller's access token first."""
        query = urlencode({"access_token": self.request.token, **params})
        return f"{self.request.base_url}/{self.request.version}{path}?{query}"

    def person(self, author_id: str, name: str, with_email: bool = False) -> dict[str, str]:
        """Return a ``from``-style object; Messenger adds the ``{id}@facebook.com`` e-mail."""
        if with_email:
            return {"name": name, "email": f"{author_id}@facebook.com", "id": author_id}
        return {"name": name, "id": author_id}


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


def _post_n(item: Item) -> str:
    return item.thread.native_id.split("_", 1)[1]


def _permalink(ctx: _Ctx, item: Item) -> str:
    base = f"https://www.facebook.com/{ctx.account.page_id}/posts/{_post_n(item)}"
    if item.kind == "post":
        return base
    comment_n = item.native_id.split("_", 1)[1]
    if item.parent is not None and item.parent.kind == "comment":
        parent_n = item.parent.native_id.split("_", 1)[1]
        return f"{base}?comment_id={parent_n}&reply_comment_id={comment_n}"
    return f"{base}?comment_id={comment_n}"


def _photo_link(media: Media) -> str:
    return f"https://www.facebook.com/photo.php?fbid={media.media_id}&type=3"


def _image(ctx: _Ctx, media: Media) -> dict[str, Any]:
    return {"image": {"height": media.height, "src": ctx.media_url(media), "width": media.width}}


def _photo_attachment(ctx: _Ctx, media: Media) -> dict[str, Any]:
    link = _photo_link(media)
    return {
        "media": _image(ctx, media),
        "media_type": "photo",
        "target": {"id": media.media_id, "url": link},
        "type": "photo",
        "url": link,
    }


def _post_attachments(ctx: _Ctx, item: Item) -> list[dict[str, Any]]:
    if not item.media:
        return []
    if len(item.media) == 1:
        return [_photo_attachment(ctx, item.media[0])]
    album_id = str(10**15 + int(item.media[0].media_id) % 10**15)
    link = f"https://www.facebook.com/media/set/?set=a.{album_id}&type=3"
    return [
        {
            "media": _image(ctx, item.media[0]),
            "media_type": "album",
            "subattachments": {"data": [_photo_attachment(ctx, media) for media in item.media]},
            "target": {"id": album_id, "url": link},
            "title": "Photos from " + ctx.account.display_name + "'s post",
            "type": "album",
            "url": link,
        }
    ]


def _attachments_field(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
    data = _post_attachments(ctx, item) if item.kind == "post" else _message_attachments(ctx, item)
    return _project({"data": data}, spec.children) if data else ABSENT


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


def _posts_edge(ctx: _Ctx, account: SandboxAccount, edge: _Edge) -> dict[str, Any]:
    posts = ctx.state.posts
    if edge.name != "feed":
        posts = [post for post in posts if post.by_page]
    posts = edge.window(posts)
    return edge.respond(
        posts, lambda post: _serialize(ctx, POST, post, edge.children), lambda p: (p.created, p.seq), True
    )


def _conversations_edge(ctx: _Ctx, account: SandboxAccount, edge: _Edge) -> dict[str, Any]:
    platform = (edge.option("platform") or "messenger").lower()
    if platform not in ("messenger", "instagram"):
        raise GraphError(400, 100, "(#100) Param platform must be one of {MESSENGER, INSTAGRAM}")
    threads = ctx.state.conversations if platform == "messenger" else []
    user_id = edge.option("user_id")
    if user_id:
        threads = [thread for thread in threads if thread.author.id == user_id]
    state = ctx.state
    return edge.respond(
        threads,
        lambda thread: _serialize(ctx, CONVERSATION, thread, edge.children),
        lambda thread: (state.updated(thread), thread.seq),
        True,
    )


def _messages_edge(ctx: _Ctx, thread: Item, edge: _Edge) -> dict[str, Any]:
    messages = ctx.state.children(thread)[::-1]
    return edge.respond(
        messages, lambda message: _serialize(ctx, MESSAGE, message, edge.children), _seq_key, True
    )


def _messages_field(ctx: _Ctx, thread: Item, spec: FieldSpec) -> object:
    result = _messages_edge(ctx, thread, _Edge(ctx, thread.native_id, "messages", spec))
    return result if result["data"] else ABSENT


def _attachments_edge(ctx: _Ctx, item: Item, edge: _Edge) -> dict[str, Any]:
    data = _post_attachments(ctx, item) if item.kind == "post" else _message_attachments(ctx, item)
    return {"data": _project(data, edge.children)}


def _message_attachments(ctx: _Ctx, message: Item) -> list[dict[str, Any]]:
    from archiver.sandbox.media import media_bytes

    found = []
    for media in message.media:
        entry: dict[str, Any] = {
            "id": media.media_id,
            "mime_type": media.mime,
            "name": media.name,
            "size": len(media_bytes(media)),
        }
        url = ctx.media_url(media)
        if media.is_image:
            entry["image_data"] = {
                "width": media.width,
                "height": media.height,
                "max_width": media.width,
                "max_height": media.height,
                "url": url,
                "preview_url": url,
                "image_type": 1,
                "render_as_sticker": False,
            }
        else:
            entry["file_url"] = url
        found.append(entry)
    return found


def _page_username(account: SandboxAccount) -> str:
    return account.name.removesuffix("-fb").replace("-", "")


PAGE_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, a, spec: a.page_id,
    "name": lambda ctx, a, spec: a.display_name,
    "username": lambda ctx, a, spec: _page_username(a),
    "link": lambda ctx, a, spec: f"https://www.facebook.com/{_page_username(a)}",
    "category": lambda ctx, a, spec: "Government organization",
    "category_list": lambda ctx, a, spec: [{"id": "2235", "name": "Government organization"}],
    "about": lambda ctx, a, spec: f"Officiell sida för {a.display_name}. Vi svarar vardagar 8–16.",
    "website": lambda ctx, a, spec: "https://www.exempelby.se",
    "emails": lambda ctx, a, spec: ["kontaktcenter@exempelby.se"],
    "phone": lambda ctx, a, spec: "042-10 50 00",
    "fan_count": lambda ctx, a, spec: 4000 + int(a.page_id) % 1000 * 7,
    "followers_count": lambda ctx, a, spec: 4200 + int(a.page_id) % 1000 * 8,
    "access_token": lambda ctx, a, spec: a.token,
    "feed": lambda ctx, a, spec: _posts_edge(ctx, a, _Edge(ctx, a.page_id, "feed", spec)),
    "published_posts": lambda ctx, a, spec: _posts_edge(
        ctx, a, _Edge(ctx, a.page_id, "published_posts", spec)
    ),
    "posts": lambda ctx, a, spec: _posts_edge(ctx, a, _Edge(ctx, a.page_id, "posts", spec)),
    "conversations": lambda ctx, a, spec: _conversations_edge(
        ctx, a, _Edge(ctx, a.page_id, "conversations", spec)
    ),
}


def _from(ctx: _Ctx, item: Item, spec: FieldSpec) -> object:
    return _project(ctx.person(item.author.id, item.author.name), spec.children)


def _status_type(item: Item) -> str:
    if not item.by_page:
        return "wall_post"
    return "added_photos" if item.media else "mobile_status_update"


POST_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: item.native_id,
    "created_time": lambda ctx, item, spec: ctx.time(item.created),
    "updated_time": lambda ctx, item, spec: ctx.time(ctx.state.updated(item)),
    "message": lambda ctx, item, spec: ctx.state.text(item) or ABSENT,
    "from": _from,
    "permalink_url": lambda ctx, item, spec: _permalink(ctx, item),
    "status_type": lambda ctx, item, spec: _status_type(item),
    "is_hidden": lambda ctx, item, spec: False,
    "is_published": lambda ctx, item, spec: True,
    "is_expired": lambda ctx, item, spec: False,
    "attachments": _attachments_field,
    "full_picture": lambda ctx, item, spec: ctx.media_url(item.media[0]) if item.media else ABSENT,
    "picture": lambda ctx, item, spec: ctx.media_url(item.media[0]) if item.media else ABSENT,
    "comments": _comments_field,
    "reactions": _reactions_field,
}


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


def _participants(ctx: _Ctx, thread: Item, spec: FieldSpec) -> object:
    people = [
        ctx.person(thread.author.id, thread.author.name, with_email=True),
        ctx.person(ctx.account.page_id, ctx.account.display_name, with_email=True),
    ]
    return _project({"data": people}, spec.children)


def _snippet(ctx: _Ctx, thread: Item) -> str:
    messages = ctx.state.children(thread)
    return (ctx.state.text(messages[-1]) or "")[:100] if messages else ""


CONVERSATION_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: item.native_id,
    "updated_time": lambda ctx, item, spec: ctx.time(ctx.state.updated(item)),
    "link": lambda ctx, item, spec: (
        f"/{_page_username(ctx.account)}/inbox/{item.native_id[2:]}/?section=messages"
    ),
    "message_count": lambda ctx, item, spec: len(ctx.state.children(item)),
    "unread_count": lambda ctx, item, spec: 0,
    "participants": _participants,
    "senders": _participants,
    "snippet": lambda ctx, item, spec: _snippet(ctx, item),
    "can_reply": lambda ctx, item, spec: True,
    "is_subscribed": lambda ctx, item, spec: True,
    "messages": _messages_field,
}


def _message_to(ctx: _Ctx, message: Item, spec: FieldSpec) -> object:
    resident = message.thread.author
    if message.by_page:
        person = ctx.person(resident.id, resident.name, with_email=True)
    else:
        person = ctx.person(ctx.account.page_id, ctx.account.display_name, with_email=True)
    return _project({"data": [person]}, spec.children)


MESSAGE_FIELDS: dict[str, FieldFunction] = {
    "id": lambda ctx, item, spec: item.native_id,
    "created_time": lambda ctx, item, spec: ctx.time(item.created),
    "from": lambda ctx, item, spec: _project(
        ctx.person(item.author.id, item.author.name, with_email=True), spec.children
    ),
    "to": _message_to,
    "message": lambda ctx, item, spec: ctx.state.text(item) or "",
    "attachments": _attachments_field,
    "is_unsupported": lambda ctx, item, spec: False,
    "tags": lambda ctx, item, spec: {"data": [{"name": "inbox"}, {"name": "read"}, {"name": "source:chat"}]},
}


def _photo_field(name: str) -> FieldFunction:
    def value(ctx: _Ctx, target: tuple[Item, Media], spec: FieldSpec) -> object:
        owner, media = target
        url = ctx.media_url(media)
        values: dict[str, object] = {
            "id": media.media_id,
            "created_time": ctx.time(media.created),
            "from": _project(ctx.person(owner.author.id, owner.author.name), spec.children),
            "images": [{"height": media.height, "width": media.width, "source": url}],
            "width": media.width,
            "height": media.height,
            "link": _photo_link(media),
            "picture": url,
            "name": ctx.state.text(owner) or ABSENT,
        }
        return values[name]

    return value


PHOTO_FIELDS: dict[str, FieldFunction] = {
    name: _photo_field(name)
    for name in ("id", "created_time", "from", "images", "width", "height", "link", "picture", "name")
}

PAGE = NodeType(
    "Page",
    PAGE_FIELDS,
    ("name", "id"),
    edges={"feed": "Post", "published_posts": "Post", "posts": "Post", "conversations": "UnifiedThread"},
    silent=frozenset(
        {"cover", "picture", "location", "verification_status", "instagram_business_account", "tasks"}
    ),
)
POST = NodeType(
    "Post",
    POST_FIELDS,
    ("created_time", "message", "id"),
    edges={"comments": "Comment", "reactions": "Reaction", "attachments": "StoryAttachment"},
    silent=frozenset(
        {
            "story",
            "message_tags",
            "place",
            "shares",
            "privacy",
            "scheduled_publish_time",
            "parent_id",
            "story_tags",
            "with_tags",
            "properties",
            "call_to_action",
            "coordinates",
            "event",
            "feed_targeting",
            "targeting",
            "actions",
            "icon",
            "instagram_eligibility",
            "promotable_id",
            "subscribed",
            "timeline_visibility",
            "to",
            "via",
            "backdated_time",
            "admin_creator",
            "application",
            "sharedposts",
            "insights",
            "likes",
            "is_popular",
            "is_spherical",
            "is_instagram_eligible",
            "is_eligible_for_promotion",
            "is_inline_created",
            "multi_share_end_card",
            "sponsor_tags",
        }
    ),
    deprecated=frozenset({"caption", "description", "link", "name", "object_id", "source", "type"}),
)
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
CONVERSATION = NodeType(
    "UnifiedThread",
    CONVERSATION_FIELDS,
    ("updated_time", "id"),
    edges={"messages": "Message"},
    silent=frozenset({"former_participants", "name", "scoped_thread_key", "wallpaper"}),
)
MESSAGE = NodeType(
    "Message",
    MESSAGE_FIELDS,
    ("created_time", "id"),
    edges={"attachments": "MessageAttachment"},
    silent=frozenset({"sticker", "shares", "reactions", "story"}),
)
PHOTO = NodeType(
    "Photo",
    PHOTO_FIELDS,
    ("created_time", "name", "id"),
    silent=frozenset({"alt_text", "album", "webp_images"}),
)
REACTION = NodeType(
    "Reaction",
    {"id": lambda ctx, r, spec: r[0], "name": lambda ctx, r, spec: r[1], "type": lambda ctx, r, spec: r[2]},
    ("id", "name", "type"),
)
OPEN = NodeType("Object", {}, ())
"""Attachments are plain sub-objects: their fields are not validated, only projected."""

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
