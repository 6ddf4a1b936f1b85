"""The YouTube Data API v3 parser: one decoded response body in, observations out.

Understood shapes: list responses (``{"kind": "youtube#...ListResponse", "items": [...]}``), single
resources (a video, comment thread or comment, as insert answers and fixtures hold them), a
thread's ``replies`` fragment (``{"comments": [...]}``) and a thread's snippet
(``{"topLevelComment": ...}``).

* a video is a ``post`` (its own thread root): text is the title, a blank line and the
  description; the best thumbnail is its attachment; ``private`` videos are private;
* a thread's top-level comment is a ``comment`` whose parent is the video; a comment with a
  ``parentId`` (id ``<parent>.<suffix>``) is a ``reply`` whose parent is that comment;
* ``moderationStatus`` ``heldForReview``, ``likelySpam`` or ``rejected`` makes a comment hidden
  (from the comment, else from the request's ``moderationStatus`` parameter); ``published`` public;
* text is ``textOriginal`` when given (Google guarantees it only to the author), else
  ``textDisplay`` (HTML unless the request asked for ``textFormat=plainText``), the comment's
  ``imageUrl`` a photo attachment; ``updatedAt`` after ``publishedAt`` is the edit time.

Channels, playlist items, search results and activities only point at videos: they yield
nothing (the videos come from ``videos.list``). An error envelope raises :class:`ParseError`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from archiver.connectors.base import Attachment, Observation, make_observation
from archiver.errors import ParseError
from archiver.items import item_key

PLATFORM: Final = "youtube"
UNKNOWN_ACCOUNT: Final = "unknown"
HIDDEN_STATUSES: Final = frozenset({"heldForReview", "likelySpam", "rejected"})
THUMBNAIL_SIZES: Final = ("maxres", "standard", "high", "medium", "default")
POINTER_KINDS: Final = frozenset(
    {
        "youtube#channel",
        "youtube#playlistItem",
        "youtube#playlist",
        "youtube#searchResult",
        "youtube#activity",
        "youtube#videoRating",
        "youtube#subscription",
    }
)
"""Resources that point at videos or channels but are no item of the archive."""
_TAG: Final = re.compile(r"<[^>]+>")
_BREAK: Final = re.compile(r"<br\s*/?>", re.IGNORECASE)


def parse(url: str | None, body: Any, account_id: str | None) -> Iterator[Observation]:
    """Yield the observations (videos, comments, replies) in one decoded YouTube response body."""
    if not isinstance(body, dict):
        raise ParseError(f"a YouTube response body is a JSON object, not {type(body).__name__}")
    if "error" in body:
        raise ParseError(f"the body is a YouTube error answer, not data: {_error_text(body['error'])}")
    request = dict(parse_qsl(urlsplit(url).query)) if url else {}
    resources = _resources(body)
    account = account_id or _account_of(resources) or UNKNOWN_ACCOUNT
    parser = _Parser(account, request)
    for resource in resources:
        yield from parser.resource(resource)


def _resources(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the resources a body holds, whatever its shape."""
    if isinstance(body.get("items"), list):
        return [item for item in body["items"] if isinstance(item, dict)]
    if "items" in body:
        raise ParseError(f"'items' is {type(body['items']).__name__}, not a list")
    if isinstance(body.get("comments"), list):  # a thread's replies fragment
        return [item for item in body["comments"] if isinstance(item, dict)]
    if isinstance(body.get("topLevelComment"), dict):  # a thread's snippet
        return [{"kind": "youtube#commentThread", "id": body["topLevelComment"].get("id"), "snippet": body}]
    if isinstance(body.get("snippet"), dict) or str(body.get("kind", "")).startswith("youtube#"):
        return [body]
    return []


def _account_of(resources: list[dict[str, Any]]) -> str | None:
    """Return the channel a body belongs to, as its resources say (for bodies read without one)."""
    for resource in resources[:5]:
        snippet = resource.get("snippet")
        if isinstance(snippet, dict) and isinstance(snippet.get("channelId"), str):
            return str(snippet["channelId"])
    return None


class _Parser:
    """Turns resources of one body into observations for one account."""

    def __init__(self, account: str, request: dict[str, str]) -> None:
        self.account = account
        self.request = request

    def key(self, native_id: str) -> str:
        return item_key(PLATFORM, self.account, native_id)

    def resource(self, obj: dict[str, Any]) -> Iterator[Observation]:
        """Yield the observations of one resource, by its kind (or its shape when it has none)."""
        kind = obj.get("kind") or _shape_kind(obj)
        if kind == "youtube#video":
            yield from self.video(obj)
        elif kind == "youtube#commentThread":
            yield from self.thread(obj)
        elif kind == "youtube#comment":
            yield from self.comment(obj, None, None)
        elif isinstance(obj.get("kind"), str) and kind not in POINTER_KINDS and not kind.endswith("Response"):
            raise ParseError(f"unknown YouTube resource kind {kind!r}")
        # a resource of no known kind or shape (e.g. a rating) holds no item

    def video(self, obj: dict[str, Any]) -> Iterator[Observation]:
        native = _text_id(obj.get("id"))
        snippet = _dict(obj, "snippet")
        if native is None or snippet is None:
            return
        title = _str(snippet, "title") or ""
        description = _str(snippet, "description") or ""
        channel = _str(snippet, "channelId")
        status = _dict(obj, "status") or {}
        private = status.get("privacyStatus") == "private"
        key = self.key(native)
        yield self.observation(
            obj,
            kind="post",
            native=native,
            parent_key=None,
            thread_key=key,
            author=(channel, _str(snippet, "channelTitle")),
            text=f"{title}\n\n{description}" if description else title,
            attachments=_thumbnail(snippet),
            permalink=f"https://www.youtube.com/watch?v={native}",
            created=_time(snippet.get("publishedAt"), "publishedAt"),
            edited=None,
            visibility="private" if private else "public",
            state="present",
        )

    def thread(self, obj: dict[str, Any]) -> Iterator[Observation]:
        snippet = _dict(obj, "snippet")
        if snippet is None:
            return
        video = _str(snippet, "videoId")
        top = snippet.get("topLevelComment")
        if isinstance(top, dict):
            thread_source = {name: value for name, value in obj.items() if name != "replies"}
            yield from self.comment(top, video, thread_source)
        replies = obj.get("replies")
        for reply in (replies.get("comments") if isinstance(replies, dict) else None) or []:
            if isinstance(reply, dict):
                yield from self.comment(reply, video, None)

    def comment(
        self, obj: dict[str, Any], video: str | None, source: dict[str, Any] | None
    ) -> Iterator[Observation]:
        native = _text_id(obj.get("id"))
        snippet = _dict(obj, "snippet")
        if native is None or snippet is None:
            return
        video = _str(snippet, "videoId") or video
        parent = _str(snippet, "parentId") or (native.split(".", 1)[0] if "." in native else None)
        video_key = self.key(video) if video else None
        parent_key: str | None
        if parent:
            kind, parent_key = "reply", self.key(parent)
            thread_key = video_key or self.key(parent)
        else:
            kind, parent_key = "comment", video_key
            thread_key = video_key or self.key(native)
        author = snippet.get("authorChannelId")
        author_id = _str(author, "value") if isinstance(author, dict) else _str(snippet, "authorChannelId")
        status = _str(snippet, "moderationStatus") or self.request.get("moderationStatus") or "published"
        hidden = status in HIDDEN_STATUSES
        created = _time(snippet.get("publishedAt"), "publishedAt")
        updated = _time(snippet.get("updatedAt"), "updatedAt")
        image = _str(snippet, "imageUrl")
        yield self.observation(
            source or obj,
            kind=kind,
            native=native,
            parent_key=parent_key,
            thread_key=thread_key,
            author=(author_id, _str(snippet, "authorDisplayName")),
            text=self.comment_text(snippet),
            attachments=[Attachment(type="photo", source_url=image)] if image else [],
            permalink=f"https://www.youtube.com/watch?v={video}&lc={native}" if video else None,
            created=created,
            edited=updated if updated and created and updated > created else None,
            visibility="hidden" if hidden else "public",
            state="hidden" if hidden else "present",
        )

    def comment_text(self, snippet: dict[str, Any]) -> str:
        """Return what a person reads: ``textOriginal``, else ``textDisplay`` as plain text."""
        original = snippet.get("textOriginal")
        if isinstance(original, str):
            return original
        display = snippet.get("textDisplay")
        if display is None:
            return ""
        if not isinstance(display, str):
            raise ParseError(f"textDisplay is {type(display).__name__}, not text")
        if self.request.get("textFormat") == "plainText":
            return display
        return html.unescape(_TAG.sub("", _BREAK.sub("\n", display)))

    def observation(
        self,
        source: dict[str, Any],
        *,
        kind: str,
        native: str,
        parent_key: str | None,
        thread_key: str,
        author: tuple[str | None, str | None],
        text: str,
        attachments: list[Attachment],
        permalink: str | None,
        created: datetime | None,
        edited: datetime | None,
        visibility: str,
        state: str,
    ) -> Observation:
        return make_observation(
            PLATFORM,
            self.account,
            kind,
            native,
            parent_key=parent_key,
            thread_key=thread_key,
            author=author,
            from_account=author[0] is not None and author[0] == self.account,
            text=text,
            attachments=attachments,
            permalink=permalink,
            created_at=created,
            edited_at=edited,
            visibility=visibility,
            state=state,
            source=source,
        )


def _shape_kind(obj: dict[str, Any]) -> str:
    snippet = obj.get("snippet")
    if not isinstance(snippet, dict):
        return "unknown"
    if "topLevelComment" in snippet:
        return "youtube#commentThread"
    if "textDisplay" in snippet or "textOriginal" in snippet:
        return "youtube#comment"
    if "resourceId" in snippet or isinstance(obj.get("id"), dict):
        return "youtube#playlistItem"
    return "youtube#video" if "title" in snippet else "unknown"


def _thumbnail(snippet: dict[str, Any]) -> list[Attachment]:
    thumbnails = snippet.get("thumbnails")
    if not isinstance(thumbnails, dict):
        return []
    for size in THUMBNAIL_SIZES:
        entry = thumbnails.get(size)
        if isinstance(entry, dict) and isinstance(entry.get("url"), str):
            return [Attachment(type="photo", source_url=entry["url"], title="thumbnail")]
    return []


def _time(value: Any, field: str) -> datetime | None:
    """Return a YouTube time (``2024-03-27T10:15:00Z``, with or without fractions) as aware UTC."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ParseError(f"{field} {value!r} is not an ISO 8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _text_id(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _str(obj: Any, name: str) -> str | None:
    value = obj.get(name) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and value else None


def _dict(obj: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = obj.get(name)
    return value if isinstance(value, dict) else None


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)[:200]
    reasons = [
        str(detail.get("reason"))
        for detail in error.get("errors") or []
        if isinstance(detail, dict) and detail.get("reason")
    ]
    return f"HTTP {error.get('code')} {'/'.join(reasons) or ''}: {error.get('message')}"
