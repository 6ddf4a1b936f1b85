"""The YouTube Data API v3 wire format over the sandbox world (``/youtube/v3/...``).

Supported: ``channels.list`` (``id`` or ``mine=true``), ``playlistItems.list`` (the uploads
playlist, newest first), ``videos.list`` (``id`` up to 50), ``commentThreads.list`` (``videoId``,
``allThreadsRelatedToChannelId`` or ``id``; ``moderationStatus`` published, heldForReview or
likelySpam; ``order`` time; ``textFormat``) and ``comments.list`` (``parentId`` or ``id``).
Lists page with ``maxResults`` and an opaque ``pageToken``; lookups by id leave out what does
not exist (HTTP 200, fewer ``items``), as YouTube does.

Limits: every authenticated request costs 1 quota unit of the project's daily quota
(``FaultSet.youtube_daily_quota``, 10,000 by default), counted per Pacific day of the sandbox
clock; past it every request answers 403 ``quotaExceeded`` until midnight Pacific. Injected
throttles answer 403 ``rateLimitExceeded``, injected server errors 500/503 ``backendError``.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from archiver.sandbox.media import MediaSigner
from archiver.sandbox.platform_api import ApiCall
from archiver.sandbox.response import Response
from archiver.sandbox.world import Item, SandboxAccount, World
from archiver.sandbox.youtube import errors, ids
from archiver.sandbox.youtube.errors import JSON_HEADERS, YouTubeError, youtube_json
from archiver.sandbox.youtube.resources import Renderer, etag

PACIFIC = ZoneInfo("America/Los_Angeles")
MODERATION_STATUSES = ("published", "heldForReview", "likelySpam")


class YouTubeApi:
    """YouTube Data API v3 over the world; one quota ledger per sandbox (one Google Cloud project)."""

    platform = "youtube"
    prefix = "/youtube/v3"

    def __init__(self, world: World, signer: MediaSigner) -> None:
        self.world = world
        self.signer = signer
        self._spent: dict[date, int] = {}
        self._lock = threading.Lock()
        self._routes: dict[str, Callable[[ApiCall, Renderer], dict[str, Any]]] = {
            "/channels": self._channels,
            "/playlistItems": self._playlist_items,
            "/videos": self._videos,
            "/commentThreads": self._comment_threads,
            "/comments": self._comments,
        }

    def handle(self, call: ApiCall) -> Response:
        """Return the answer to one request: faults, authentication, quota, then the resource."""
        try:
            if call.due == "throttle":
                raise errors.rate_limited(call.nth)
            if call.due == "server_error":
                raise errors.server_error(call.nth)
            account = self._authenticate(call)
            self._charge(call)
            route = self._routes.get(call.path.rstrip("/"))
            if route is None:
                raise YouTubeError(404, "notFound", f"Method not found: {call.path}", status_name="NOT_FOUND")
            if call.method != "GET":
                raise YouTubeError(405, "methodNotAllowed", f"{call.method} is not supported here.")
            renderer = Renderer(
                self.world.account_state(account.name, call.now),
                account,
                self.signer,
                call.base_url,
                call.now,
                plain_text=call.params.get("textFormat") == "plainText",
            )
            payload = route(call, renderer)
        except YouTubeError as error:
            return error.response()
        return Response(200, JSON_HEADERS, youtube_json(payload))

    def spent(self, day: date) -> int:
        """Return the quota units spent on ``day`` (a Pacific calendar day)."""
        with self._lock:
            return self._spent.get(day, 0)

    def _authenticate(self, call: ApiCall) -> SandboxAccount:
        if not call.token:
            raise errors.missing_token()
        account = call.account
        expired = call.faults.expired_tokens
        if account is None or account.platform != "youtube" or call.token in expired or account.name in expired:
            raise errors.invalid_token()
        return account

    def _charge(self, call: ApiCall) -> None:
        """Spend one unit of today's (Pacific) quota, or raise quotaExceeded when none is left."""
        day = datetime.fromtimestamp(call.now, PACIFIC).date()
        with self._lock:
            spent = self._spent.get(day, 0)
            if spent >= call.faults.youtube_daily_quota:
                raise errors.quota_exceeded()
            self._spent[day] = spent + 1

    def _channels(self, call: ApiCall, render: Renderer) -> dict[str, Any]:
        parts = _parts(call)
        wanted = _id_list(call, "id", 50) if "id" in call.params else None
        if wanted is None and call.params.get("mine") != "true" and "forHandle" not in call.params:
            raise errors.bad_parameter("filter", "No filter selected. Expected one of: id, mine, forHandle.")
        handle = call.params.get("forHandle", "").lstrip("@")
        matches = (
            wanted is None and (not handle or handle == render.account.name)
        ) or render.channel in (wanted or [])
        items = [render.channel_resource(parts)] if matches else []
        return _list("youtube#channelListResponse", items, None, len(items), 5)

    def _playlist_items(self, call: ApiCall, render: Renderer) -> dict[str, Any]:
        parts = _parts(call)
        playlist = _required(call, "playlistId")
        if playlist != ids.uploads_playlist(render.channel):
            raise errors.not_found("playlist", "playlistId")
        posts = render.state.posts  # newest first
        page, token, total = _page(call, posts, 5, 50)
        start = _offset(call)
        items = [render.playlist_item(post, start + index, parts) for index, post in enumerate(page)]
        return _list("youtube#playlistItemListResponse", items, token, total, len(page))

    def _videos(self, call: ApiCall, render: Renderer) -> dict[str, Any]:
        parts = _parts(call)
        wanted = _id_list(call, "id", 50) if "id" in call.params else None
        if wanted is None:
            if call.params.get("myRating") or call.params.get("chart"):
                return _list("youtube#videoListResponse", [], None, 0, 0)
            raise errors.bad_parameter("filter", "No filter selected. Expected one of: id, chart, myRating.")
        videos = [post for post in (self._post(render, video) for video in wanted) if post is not None]
        items = [render.video(post, parts) for post in videos]
        return _list("youtube#videoListResponse", items, None, len(items), len(items))

    def _comment_threads(self, call: ApiCall, render: Renderer) -> dict[str, Any]:
        parts = _parts(call)
        status = call.params.get("moderationStatus", "published")
        if status not in MODERATION_STATUSES:
            raise errors.bad_parameter("moderationStatus", f"Invalid value '{status}' for moderationStatus.")
        if "id" in call.params:
            tops = [item for item in (self._comment(render, cid) for cid in _id_list(call, "id", 50)) if item]
            tops = [item for item in tops if not item.is_reply]
            items = [render.thread(item, "replies" in parts) for item in tops]
            return _list("youtube#commentThreadListResponse", items, None, len(items), len(items))
        if "videoId" in call.params:
            video = call.params["videoId"]
            post = self._post(render, video)
            if post is None:
                raise errors.not_found("video", "videoId")
            if {video, post.native_id} & set(call.faults.youtube_comments_disabled):
                raise errors.comments_disabled()
            posts = [post]
        elif call.params.get("allThreadsRelatedToChannelId") == render.channel:
            posts = render.state.posts
        elif "allThreadsRelatedToChannelId" in call.params:
            raise errors.not_found("channel", "allThreadsRelatedToChannelId")
        else:
            raise errors.bad_parameter(
                "filter", "No filter selected. Expected one of: id, videoId, allThreadsRelatedToChannelId."
            )
        state = render.state
        tops = [
            comment
            for post in posts
            for comment in state.children(post)
            if (status == "published") != state.hidden(comment)
            and (status == "published" or _status_of(comment, state.hidden(comment)) == status)
        ]
        tops.sort(key=lambda item: (item.created, item.seq), reverse=True)  # order=time
        page, token, total = _page(call, tops, 20, 100)
        items = [render.thread(item, "replies" in parts) for item in page]
        return _list("youtube#commentThreadListResponse", items, token, total, len(page))

    def _comments(self, call: ApiCall, render: Renderer) -> dict[str, Any]:
        _parts(call)
        if "id" in call.params:
            found = [item for item in (self._comment(render, cid) for cid in _id_list(call, "id", 50)) if item]
            items = [render.comment(item) for item in found]
            return _list("youtube#commentListResponse", items, None, None, None)
        parent_id = _required(call, "parentId")
        parent = self._comment(render, parent_id)
        if parent is None or parent.is_reply:
            raise errors.not_found("comment", "parentId")
        replies = render.state.children(parent)
        page, token, _ = _page(call, replies, 20, 100)
        items = [render.comment(item) for item in page]
        return _list("youtube#commentListResponse", items, token, None, len(page))

    def _post(self, render: Renderer, video: str) -> Item | None:
        try:
            world_id = ids.post_id(video, render.channel)
        except ValueError:
            return None
        item = render.state.get(world_id)
        return item if item is not None and item.kind == "post" else None

    def _comment(self, render: Renderer, comment: str) -> Item | None:
        try:
            world_id = ids.world_comment_id(comment)
        except (ValueError, IndexError):
            return None
        item = render.state.get(world_id)
        if item is None or item.kind != "comment":
            return None
        parent = item.parent
        expected = ids.comment_id(item.native_id, parent.native_id if item.is_reply and parent else None)
        return item if expected == comment else None


def _status_of(item: Item, hidden: bool) -> str:
    from archiver.sandbox.youtube.resources import moderation_status

    return moderation_status(item, hidden)


def _parts(call: ApiCall) -> set[str]:
    raw = call.params.get("part", "")
    if not raw:
        raise errors.bad_parameter("part", "Required parameter: part", reason="required")
    return {part.strip() for part in raw.split(",") if part.strip()}


def _required(call: ApiCall, name: str) -> str:
    value = call.params.get(name, "")
    if not value:
        raise errors.bad_parameter(name, f"Required parameter: {name}", reason="required")
    return value


def _id_list(call: ApiCall, name: str, most: int) -> list[str]:
    values = [value.strip() for value in call.params.get(name, "").split(",") if value.strip()]
    if len(values) > most:
        raise errors.bad_parameter(name, f"The request specifies more than {most} values for {name}.")
    return values


def _offset(call: ApiCall) -> int:
    token = call.params.get("pageToken")
    if not token:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().partition(":")
        if kind != "CA":
            raise ValueError(kind)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_parameter("pageToken", "The request specifies an invalid page token.") from None


def _page(call: ApiCall, items: Sequence[Item], default: int, most: int) -> tuple[Sequence[Item], str | None, int]:
    """Return one page of ``items``, the next page's token (or None) and the total."""
    raw = call.params.get("maxResults", str(default))
    if not raw.isdigit() or not 0 <= int(raw) <= most:
        raise errors.bad_parameter(
            "maxResults", f"Invalid value '{raw}'. Values must be within the range: [0, {most}]"
        )
    size, start = int(raw), _offset(call)
    page = items[start : start + size]
    end = start + len(page)
    token = base64.urlsafe_b64encode(f"CA:{end}".encode()).decode().rstrip("=") if end < len(items) and size else None
    return page, token, len(items)


def _list(
    kind: str, items: list[dict[str, Any]], token: str | None, total: int | None, per_page: int | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"kind": kind, "etag": etag(kind, *(item["etag"] for item in items))}
    if token:
        payload["nextPageToken"] = token
    info = {"totalResults": total, "resultsPerPage": per_page}
    if any(value is not None for value in info.values()):
        payload["pageInfo"] = {name: value for name, value in info.items() if value is not None}
    payload["items"] = items
    return payload
