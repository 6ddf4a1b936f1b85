"""The LinkedIn Community Management API (``/rest``) over the sandbox world.

Endpoints: ``GET /rest/posts?q=author&author={org urn}&count=&start=&sortBy=`` (an
organization's posts, newest change first), ``GET /rest/posts/{urn}``,
``GET /rest/socialActions/{post, activity or comment urn}/comments?start=&count=`` (the direct
comments of a post, or the replies to a comment) and ``GET /rest/socialActions/{urn}/comments/{id}``.

Every request needs a bearer token, ``LinkedIn-Version: YYYYMM`` (a retired version answers
426) and ``X-Restli-Protocol-Version: 2.0.0``. Errors come as ``{"status", "code",
"serviceErrorCode", "message"}``. Rate limits are per member and UTC day; past them (the
``linkedin_daily_limit`` fault, or a due throttle fault) the answer is 429 with no rate-limit
headers and no ``Retry-After``.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode

from archiver.sandbox.linkedin import ids
from archiver.sandbox.linkedin.render import comment_json, last_modified, post_json
from archiver.sandbox.media import MediaSigner
from archiver.sandbox.platform_api import ApiCall
from archiver.sandbox.response import Response
from archiver.sandbox.world import AccountState, Item, SandboxAccount, World

MAX_COUNT = 100
DEFAULT_COUNT = 10


class LinkedInError(Exception):
    """An error answer in LinkedIn's envelope."""

    def __init__(self, status: int, code: str, message: str, service_code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.service_code = service_code

    def body(self) -> dict[str, Any]:
        """Return the error envelope."""
        value: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.service_code is not None:
            value["serviceErrorCode"] = self.service_code
        return value


def throttled() -> LinkedInError:
    """Return the 429 LinkedIn answers once a daily limit is used up."""
    return LinkedInError(
        429,
        "TOO_MANY_REQUESTS",
        "Resource level throttle MEMBER DAY limit for calls to this resource is reached.",
        101,
    )


class LinkedInApi:
    """LinkedIn's wire format over the world: posts and comments of the organization's page."""

    platform = "linkedin"
    prefix = "/rest"

    def __init__(self, world: World, signer: MediaSigner) -> None:
        self.world = world
        self.signer = signer
        self._daily: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def handle(self, call: ApiCall) -> Response:
        """Return the answer to one request, faults, authentication and versioning included."""
        try:
            if call.due == "server_error":
                return _server_error(call)
            if call.due == "throttle":
                raise throttled()
            if call.method != "GET":
                raise LinkedInError(405, "METHOD_NOT_ALLOWED", f"Method {call.method} is not allowed here")
            account = _authenticate(call)
            _check_headers(call)
            self._count(call, account)
            state = self.world.account_state(account.name, call.now)
            return _json(200, self._route(call, account, state), call)
        except LinkedInError as error:
            return _json(error.status, error.body(), call)

    def _count(self, call: ApiCall, account: SandboxAccount) -> None:
        limit = call.faults.linkedin_daily_limit
        if not limit:
            return
        key = (account.name, datetime.fromtimestamp(call.now, UTC).date().isoformat())
        with self._lock:
            self._daily[key] += 1
            used = self._daily[key]
        if used > limit:
            raise throttled()

    def _route(self, call: ApiCall, account: SandboxAccount, state: AccountState) -> dict[str, Any]:
        segments = [unquote(part) for part in call.path.split("/") if part]
        if segments == ["posts"]:
            return self._posts(call, account, state)
        if len(segments) == 2 and segments[0] == "posts":
            return post_json(state, self._post(state, account, segments[1]))
        if len(segments) in (3, 4) and segments[0] == "socialActions" and segments[2] == "comments":
            target = self._target(state, account, segments[1])
            if len(segments) == 4:
                return self._comment(call, state, target, segments[3])
            return self._comments(call, state, target, segments[1])
        raise LinkedInError(404, "NOT_FOUND", f"No resource found for path /rest{call.path}", 0)

    def _posts(self, call: ApiCall, account: SandboxAccount, state: AccountState) -> dict[str, Any]:
        params = call.params
        if params.get("q") != "author":
            raise LinkedInError(
                400, "ILLEGAL_ARGUMENT", "Parameter 'q' must be 'author' for this finder", 100
            )
        organization = ids.organization_urn(account.page_id)
        if params.get("author") != organization:
            raise LinkedInError(
                403,
                "ACCESS_DENIED",
                "Not enough permissions to access: partnerApiPostsExternal.FINDER-author.20260701",
                100,
            )
        sort = params.get("sortBy", "LAST_MODIFIED")
        if sort not in ("LAST_MODIFIED", "CREATED"):
            raise LinkedInError(
                400, "ILLEGAL_ARGUMENT", f"Invalid value {sort!r} for parameter 'sortBy'", 100
            )
        unlisted = set(call.faults.unlisted_ids)
        posts = [post for post in state.posts if post.by_page and post.native_id not in unlisted]
        if sort == "LAST_MODIFIED":
            posts.sort(key=lambda post: (last_modified(state, post), post.seq), reverse=True)
        start, count = _window(params)
        page = posts[start : start + count]
        query = {"q": "author", "author": organization, "sortBy": sort}
        return {
            "paging": _paging(start, count, len(posts), "/rest/posts", query),
            "elements": [post_json(state, post) for post in page],
        }

    def _post(self, state: AccountState, account: SandboxAccount, urn: str) -> Item:
        native_id = ids.post_native_id(urn, account.page_id)
        post = state.get(native_id) if native_id else None
        if post is None or post.kind != "post" or not post.by_page:
            raise LinkedInError(404, "NOT_FOUND", f"Not Found: {urn}", 0)
        return post

    def _target(self, state: AccountState, account: SandboxAccount, urn: str) -> Item:
        if urn.startswith(ids.SHARE):
            return self._post(state, account, urn)
        post_n = ids.activity_post_n(urn)
        if post_n is not None:  # LinkedIn takes a post's activity URN as well as its share URN
            return self._post(state, account, ids.SHARE + post_n)
        native_id = ids.comment_native_id(urn)
        comment = state.get(native_id) if native_id else None
        if comment is None or comment.kind != "comment":
            raise LinkedInError(404, "NOT_FOUND", f"Not Found: {urn}", 0)
        return comment

    def _comments(self, call: ApiCall, state: AccountState, target: Item, urn: str) -> dict[str, Any]:
        children = [child for child in state.children(target) if child.kind == "comment"]
        start, count = _window(call.params)
        return {
            "paging": _paging(
                start, count, len(children), f"/rest/socialActions/{quote(urn, safe='')}/comments", {}
            ),
            "elements": [
                comment_json(state, child, self.signer, call.base_url, call.now)
                for child in children[start : start + count]
            ],
        }

    def _comment(self, call: ApiCall, state: AccountState, target: Item, comment_id: str) -> dict[str, Any]:
        for child in state.children(target):
            if child.kind == "comment" and ids.comment_number(child.native_id) == comment_id:
                return comment_json(state, child, self.signer, call.base_url, call.now)
        raise LinkedInError(404, "NOT_FOUND", f"Not Found: comment {comment_id}", 0)


def _authenticate(call: ApiCall) -> SandboxAccount:
    if not call.token:
        raise LinkedInError(401, "INVALID_ACCESS_TOKEN", "Empty oauth2 access token", 65600)
    account = call.account
    if account is None or account.platform != "linkedin":
        raise LinkedInError(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
    if call.token in call.faults.expired_tokens or account.name in call.faults.expired_tokens:
        raise LinkedInError(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65601)
    return account


def _header(call: ApiCall, name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in call.headers.items() if key.lower() == wanted), None)


def _check_headers(call: ApiCall) -> None:
    version = _header(call, "LinkedIn-Version")
    if not version:
        raise LinkedInError(
            400,
            "VERSION_MISSING",
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
        )
    if not (len(version) == 6 and version.isdigit()):
        raise LinkedInError(400, "INVALID_VERSION", f"Version {version!r} is not in the format YYYYMM.")
    if int(version) < int(_retired_before(call)):
        raise LinkedInError(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
    if _header(call, "X-Restli-Protocol-Version") != "2.0.0":
        raise LinkedInError(
            400,
            "ILLEGAL_ARGUMENT",
            "This API requires the header X-Restli-Protocol-Version: 2.0.0",
        )


def _retired_before(call: ApiCall) -> str:
    """Return the oldest version still served (YYYYMM): the fault's, else 12 months back."""
    if call.faults.linkedin_retired_before:
        return call.faults.linkedin_retired_before
    today = datetime.fromtimestamp(call.now, UTC)
    return f"{today.year - 1}{today.month:02d}"


def _window(params: dict[str, str]) -> tuple[int, int]:
    try:
        start = int(params.get("start", "0"))
        count = int(params.get("count", str(DEFAULT_COUNT)))
    except ValueError:
        raise LinkedInError(
            400, "ILLEGAL_ARGUMENT", "Parameters 'start' and 'count' must be integers", 100
        ) from None
    if start < 0 or not 0 < count <= MAX_COUNT:
        raise LinkedInError(
            400, "ILLEGAL_ARGUMENT", f"'start' must be >= 0 and 'count' between 1 and {MAX_COUNT}", 100
        )
    return start, count


def _paging(start: int, count: int, total: int, path: str, query: dict[str, str]) -> dict[str, Any]:
    links = []
    if start + count < total:
        href = f"{path}?{urlencode({**query, 'count': count, 'start': start + count})}"
        links.append({"type": "application/json", "rel": "next", "href": href})
    if start > 0:
        href = f"{path}?{urlencode({**query, 'count': count, 'start': max(0, start - count)})}"
        links.append({"type": "application/json", "rel": "prev", "href": href})
    return {"start": start, "count": count, "total": total, "links": links}


def _json(status: int, payload: dict[str, Any], call: ApiCall) -> Response:
    headers = (
        ("Content-Type", "application/json"),
        ("X-RestLi-Protocol-Version", "2.0.0"),
        ("x-li-responseorigin", "RGW"),
        ("x-li-uuid", f"AAY{call.lifetime:013d}w=="),
    )
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, headers, body)


def _server_error(call: ApiCall) -> Response:
    if call.nth % 2 == 0:
        return _json(
            500, {"status": 500, "code": "INTERNAL_SERVER_ERROR", "message": "Internal Server Error"}, call
        )
    body = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    return Response(503, (("Content-Type", "text/html"),), body)
