"""The X API v2 wire format over the sandbox world (requests under ``/2``).

Endpoints (GET, bearer token of the world's X account):

* ``/users/me``, ``/users/:id``: the account.
* ``/users/:id/tweets``: the account's posts and replies, newest first, newest 3,200 only;
  ``start_time``/``end_time`` (original creation time), ``exclude=replies``.
* ``/users/:id/mentions``: what residents wrote to the account (their posts and replies),
  newest 800 only.
* ``/tweets/search/recent`` (last 7 days; a ``start_time`` before that is a 400) and
  ``/tweets/search/all`` (everything): queries of ``conversation_id:N`` terms joined by ``OR``.
* ``/tweets?ids=`` (at most 100) and ``/tweets/:id``: lookups; a missing or deleted post is an
  HTTP 200 with a ``Not Found Error`` in ``errors``.
* ``/dm_events``, ``/dm_conversations/:id/dm_events``, ``/dm_conversations/with/:user/dm_events``:
  direct messages of the last 30 days only.

Lists page with ``max_results`` and ``pagination_token`` (``meta.next_token``). Every answer
carries the ``x-rate-limit-*`` headers; errors use the v2 problem envelope. Edits of the world
become edit chains (a new id per text version) even though the world edits later than X's 30
minutes and may edit more than 5 times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archiver.sandbox.media import MediaSigner
from archiver.sandbox.platform_api import ApiCall
from archiver.sandbox.response import Response
from archiver.sandbox.world import AccountState, Item, World
from archiver.sandbox.x import ids
from archiver.sandbox.x.limits import Allowance, RateLimits
from archiver.sandbox.x.render import Renderer, parse_x_time, x_time

TIMELINE_CAP = 3200
MENTIONS_CAP = 800
RECENT_SECONDS = 7 * 86400
DM_SECONDS = 30 * 86400
PROBLEMS = "https://api.twitter.com/2/problems/"
_TERM = re.compile(r"conversation_id:(\d+)")
_QUERY = re.compile(r"^\(?\s*conversation_id:\d+(\s+OR\s+conversation_id:\d+)*\s*\)?$")
_PAGE_SIZES = {"search_all": (10, 500, 10), "dm_events": (1, 100, 100), "search_recent": (10, 100, 10)}
_QUERY_CHARS = {"search_recent": 512, "search_all": 1024}


class XProblem(Exception):
    """An error answer in X's v2 problem format."""

    def __init__(self, status: int, title: str, detail: str, problem: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.body = {"title": title, "detail": detail, "type": problem, "status": status, **extra}


def invalid(message: str, parameter: str) -> XProblem:
    """Return the 400 ``invalid-request`` problem for one bad parameter."""
    return XProblem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        PROBLEMS + "invalid-request",
        errors=[{"parameters": {parameter: []}, "message": message}],
    )


def not_found(value: str, resource: str, parameter: str) -> dict[str, str]:
    """Return the ``errors`` entry X gives for a post or user that does not exist (any more)."""
    return {
        "value": value,
        "detail": f"Could not find {resource} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource,
        "parameter": parameter,
        "resource_id": value,
        "type": PROBLEMS + "resource-not-found",
    }


@dataclass
class _Request:
    call: ApiCall
    state: AccountState
    render: Renderer


Handler = Callable[[_Request, list[str]], dict[str, Any]]


class XApi:
    """X API v2 over the world, with per-endpoint rate limits."""

    platform = "x"
    prefix = "/2"

    def __init__(self, world: World, signer: MediaSigner) -> None:
        self.world = world
        self.signer = signer
        self.limits = RateLimits()
        self._routes: list[tuple[re.Pattern[str], str, Handler]] = [
            (re.compile(r"^/users/(me|\d+)$"), "users", self._user),
            (re.compile(r"^/users/(\d+)/tweets$"), "tweets", self._timeline),
            (re.compile(r"^/users/(\d+)/mentions$"), "mentions", self._mentions),
            (re.compile(r"^/tweets/search/recent$"), "search_recent", self._search),
            (re.compile(r"^/tweets/search/all$"), "search_all", self._search),
            (re.compile(r"^/tweets$"), "lookup", self._lookup),
            (re.compile(r"^/tweets/(\d+)$"), "lookup", self._lookup_one),
            (re.compile(r"^/dm_events$"), "dm_events", self._dm_events),
            (re.compile(r"^/dm_conversations/([\d-]+)/dm_events$"), "dm_events", self._dm_events),
            (re.compile(r"^/dm_conversations/with/(\d+)/dm_events$"), "dm_events", self._dm_with),
        ]

    def handle(self, call: ApiCall) -> Response:
        """Return the answer to one request: authentication, faults, rate limits, then the endpoint."""
        account = call.account
        if (
            account is None
            or account.platform != "x"
            or call.token in call.faults.expired_tokens
            or account.name in call.faults.expired_tokens
        ):
            return _answer(
                401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
            )
        routed = self._route(call.path)
        if routed is None or call.method != "GET":
            problem = XProblem(
                404, "Not Found Error", f"No such endpoint: {call.method} /2{call.path}", "about:blank"
            )
            return _answer(404, problem.body)
        endpoint, handler, groups = routed
        if call.due == "server_error":
            return _answer(
                503,
                {
                    "title": "Service Unavailable",
                    "detail": "Service Unavailable",
                    "type": "about:blank",
                    "status": 503,
                },
            )
        allowance = (
            RateLimits.throttled_now(call.faults)
            if call.due == "throttle"
            else self.limits.take(account.page_id, endpoint, call.faults)
        )
        if not allowance.allowed:
            return _answer(429, _too_many(), allowance)
        state = self.world.account_state(account.name, call.now)
        renderer = Renderer(state, account, call.params, self.signer, call.base_url, call.now)
        try:
            body = handler(_Request(call, state, renderer), groups)
        except XProblem as problem:
            return _answer(problem.status, problem.body, allowance)
        return _answer(200, body, allowance)

    def _route(self, path: str) -> tuple[str, Handler, list[str]] | None:
        for pattern, endpoint, handler in self._routes:
            match = pattern.match(path)
            if match:
                return endpoint, handler, list(match.groups())
        return None

    def _user(self, request: _Request, groups: list[str]) -> dict[str, Any]:
        account = request.call.account
        assert account is not None
        if groups[0] not in ("me", account.page_id):
            return {"errors": [not_found(groups[0], "user", "id")]}
        return {"data": request.render.user(account.person)}

    def _own_user(self, request: _Request, user_id: str) -> bool:
        account = request.call.account
        return account is not None and user_id == account.page_id

    def _timeline(self, request: _Request, groups: list[str]) -> dict[str, Any]:
        if not self._own_user(request, groups[0]):
            return {"errors": [not_found(groups[0], "user", "id")]}
        page_id = request.state.account.page_id
        items = [i for i in _tweets(request.state) if i.author.id == page_id][:TIMELINE_CAP]
        if "replies" in request.call.params.get("exclude", ""):
            items = [item for item in items if item.parent is None]
        return _tweet_page(request, _in_time(request, items), "tweets")

    def _mentions(self, request: _Request, groups: list[str]) -> dict[str, Any]:
        if not self._own_user(request, groups[0]):
            return {"errors": [not_found(groups[0], "user", "id")]}
        page_id = request.state.account.page_id
        items = [i for i in _tweets(request.state) if i.author.id != page_id][:MENTIONS_CAP]
        return _tweet_page(request, _in_time(request, items), "mentions")

    def _search(self, request: _Request, groups: list[str]) -> dict[str, Any]:
        endpoint = "search_recent" if request.call.path.endswith("recent") else "search_all"
        query = request.call.params.get("query", "")
        if not query or len(query) > _QUERY_CHARS[endpoint] or not _QUERY.match(query.strip()):
            raise invalid(
                f"The query {query[:80]!r} is not supported by the sandbox (at most "
                f"{_QUERY_CHARS[endpoint]} characters of conversation_id:N terms joined by OR).",
                "query",
            )
        horizon = request.call.now - RECENT_SECONDS
        start = request.call.params.get("start_time")
        if endpoint == "search_recent" and start and parse_x_time(start) < horizon:
            raise invalid(
                f"Invalid 'start_time':'{start}'. 'start_time' must be on or after {_iso(horizon)}",
                "start_time",
            )
        index = ids.index_by_sequence(request.state.items())
        found: dict[int, Item] = {}
        for term in _TERM.findall(query):
            resolved = ids.resolve(index, term)
            if resolved is None:
                continue
            root = resolved[0].thread
            for item in [root, *request.state.stream(root)] if root.kind == "post" else []:
                found[item.seq] = item
        items = sorted(found.values(), key=lambda item: item.seq, reverse=True)
        if endpoint == "search_recent":
            items = [item for item in items if item.created >= horizon]
        return _tweet_page(request, _in_time(request, items), endpoint)

    def _lookup(self, request: _Request, groups: list[str]) -> dict[str, Any]:
        wanted = [value for value in request.call.params.get("ids", "").split(",") if value]
        if not wanted or len(wanted) > 100:
            raise invalid("The `ids` query parameter value must be 1 to 100 comma-separated post ids.", "ids")
        return self._found(request, wanted)

    def _lookup_one(self, request: _Request, groups: list[str]) -> dict[str, Any]:
        body = self._found(request, groups)
        if "data" in body:
            body["data"] = body["data"][0]
        return body

    def _found(self, request: _Request, wanted: list[str]) -> dict[str, Any]:
        index = ids.index_by_sequence(request.state.items())
        data, errors = [], []
        for x_id in wanted:
            resolved = ids.resolve(index, x_id)
            if resolved is None or resolved[0].kind not in ("post", "comment"):
                errors.append(not_found(x_id, "tweet", "ids"))
            else:
                data.append(request.render.tweet(*resolved))
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
            includes = request.render.includes.to_json({tweet["id"] for tweet in data})
            if includes:
                body["includes"] = includes
        if errors:
            body["errors"] = errors
        return body

    def _dm_events(self, request: _Request, groups: list[str]) -> dict[str, Any]:
        conversation = groups[0] if groups else None
        return _dm_page(request, lambda message: conversation in (None, _conversation_of(request, message)))

    def _dm_with(self, request: _Request, groups: list[str]) -> dict[str, Any]:
        person = groups[0]
        return _dm_page(
            request, lambda message: message.parent is not None and message.parent.author.id == person
        )


def _conversation_of(request: _Request, message: Item) -> str:
    assert message.parent is not None
    return ids.conversation_id(message.parent.author.id, request.state.account.page_id)


def _tweets(state: AccountState) -> list[Item]:
    """Return the live posts, comments and replies, newest first."""
    return [item for item in reversed(state.items()) if item.kind in ("post", "comment")]


def _in_time(request: _Request, items: list[Item]) -> list[Item]:
    params = request.call.params
    start = parse_x_time(params["start_time"]) if params.get("start_time") else None
    end = parse_x_time(params["end_time"]) if params.get("end_time") else None
    return [
        item
        for item in items
        if (start is None or item.created >= start) and (end is None or item.created < end)
    ]


def _page_bounds(request: _Request, endpoint: str) -> tuple[int, int]:
    """Return (offset, size) of the page asked for; raise XProblem for bad paging parameters."""
    low, high, default = _PAGE_SIZES.get(endpoint, (5, 100, 10))
    raw = request.call.params.get("max_results", str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid(
            f"The `max_results` query parameter value [{raw}] is not between {low} and {high}", "max_results"
        )
    token = request.call.params.get("pagination_token") or request.call.params.get("next_token") or ""
    offset = _offset(token)
    if offset is None:
        raise invalid(
            f"The `pagination_token` query parameter value [{token}] is not valid", "pagination_token"
        )
    return offset, int(raw)


def _tweet_page(request: _Request, items: list[Item], endpoint: str) -> dict[str, Any]:
    offset, size = _page_bounds(request, endpoint)
    chunk = items[offset : offset + size]
    data = [request.render.tweet(item) for item in chunk]
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta["newest_id"], meta["oldest_id"] = data[0]["id"], data[-1]["id"]
    if offset + size < len(items):
        meta["next_token"] = _token(offset + size)
    body: dict[str, Any] = {"data": data} if data else {}
    includes = request.render.includes.to_json({tweet["id"] for tweet in data})
    if includes:
        body["includes"] = includes
    body["meta"] = meta
    return body


def _dm_page(request: _Request, keep: Callable[[Item], bool]) -> dict[str, Any]:
    offset, size = _page_bounds(request, "dm_events")
    horizon = request.call.now - DM_SECONDS
    messages = [
        child
        for conversation in request.state.conversations
        for child in request.state.children(conversation)
        if child.created >= horizon and keep(child)
    ]
    messages.sort(key=lambda message: message.seq, reverse=True)
    chunk = messages[offset : offset + size]
    data = [request.render.dm_event(message) for message in chunk]
    meta: dict[str, Any] = {"result_count": len(data)}
    if offset + size < len(messages):
        meta["next_token"] = _token(offset + size)
    if offset:
        meta["previous_token"] = _token(max(0, offset - size))
    body: dict[str, Any] = {"data": data} if data else {}
    includes = request.render.includes.to_json(set())
    if includes:
        body["includes"] = includes
    body["meta"] = meta
    return body


def _token(offset: int) -> str:
    return f"7140dibdnow9c7btw{offset:08x}"


def _offset(token: str) -> int | None:
    if not token:
        return 0
    if not token.startswith("7140dibdnow9c7btw"):
        return None
    try:
        return int(token[-8:], 16)
    except ValueError:
        return None


def _iso(stamp: int) -> str:
    return x_time(stamp).replace(".000Z", "Z")


def _too_many() -> dict[str, Any]:
    return {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "https://api.x.com/2/problems/rate-limit-exceeded",
        "status": 429,
    }


def _answer(status: int, body: dict[str, Any], allowance: Allowance | None = None) -> Response:
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json; charset=utf-8"),)
    if allowance is not None:
        headers += allowance.headers()
    return Response(status, headers, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
