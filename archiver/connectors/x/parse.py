"""The X API v2 parser: one decoded response page in, observations out.

It understands the pages the X capture stores and those other tools save (twarc writes one
page per line with a ``__twarc`` note naming the request URL):

* post listings and lookups ``{"data": [...], "includes": {...}, "meta": {...}, "errors": [...]}``
  (timelines, mentions, search, ``/2/tweets?ids=``) and single posts ``{"data": {...}}``;
* DM event listings (``MessageCreate`` events become messages; join and leave events hold no
  text and are skipped).

Decisions:

* Edits: X gives every edit a new id and lists the chain in ``edit_history_tweet_ids``, oldest
  first. The item's native id is the first id of the chain, so each edit becomes a version of
  one item; the current id stays in ``source_json`` and the permalink. The item's content is
  the newest version the page holds (``data`` or ``includes.tweets``); a page showing only an
  outdated version yields nothing for that chain rather than make old text look current.
* Threads: a post that replies to nothing is a root (kind ``post``); a reply to the root is a
  ``comment``, a reply to a reply a ``reply``. Parents and threads are resolved to first ids.
  Posts only named in ``includes`` are context, never items (they were not re-checked).
* Direct messages: X has no conversation object, so there is no ``conversation`` item: each
  message hangs on ``x:{account}:{dm_conversation_id}``; messages are never tombstoned from
  absence, because ``dm_events`` shows only the last 30 days.
* Errors inside a page (a deleted post in a lookup: ``Not Found Error``) are normal and yield
  nothing; a page that is only an error envelope raises ParseError, and so does a body that is
  not an X page at all (no ``data``, ``errors`` or ``meta``, or ``data`` objects that are not
  posts, DM events, users or counts: a Facebook Graph body given as X, for example).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final

from archiver.connectors.base import Attachment, Observation, first_of_each_item, make_observation
from archiver.errors import ParseError
from archiver.items import item_key

X: Final = "x"
UNKNOWN_ACCOUNT: Final = "unknown"
TWITTER_EPOCH_MS: Final = 1288834974657
_ACCOUNT_IN_URL: Final = re.compile(r"/2/users/(\d+)/(?:tweets|mentions|timelines)")
_VIDEO_TYPES: Final = frozenset({"video", "animated_gif"})
_PAGE_FIELDS: Final = ("data", "errors", "meta")
_OBJECT_FIELDS: Final = frozenset(
    {"text", "note_tweet", "edit_history_tweet_ids", "event_type", "username", "tweet_count", "dm_event_id"}
)
"""A ``data`` object with one of these is an X post, DM event, user, post count or created DM."""


def parse(url: str | None, body: Any, account_id: str | None) -> Iterator[Observation]:
    """Yield the observations in one decoded X API v2 page, each item once.

    ``url`` is the request URL or None (then a twarc ``__twarc.url`` is used); ``account_id``
    is the archived account's user id, or None to take it from the URL (``unknown`` if it does
    not tell). Raises ParseError, before yielding anything, for an error envelope or a body that
    is not an X API page.
    """
    if not isinstance(body, dict):
        raise ParseError(
            f"the body is a JSON {type(body).__name__}, not an X API v2 page; it is kept in "
            "quarantine: check that the response was JSON from the X API (api.x.com/2)."
        )
    note = body.get("__twarc")
    if url is None and isinstance(note, dict) and isinstance(note.get("url"), str):
        url = note["url"]
    _raise_for_problem(body)
    _raise_for_foreign(body)
    account = account_id or _account_from_url(url)
    page = _Page(body, account)
    found = list(page.observations())
    yield from first_of_each_item(found)


def _raise_for_problem(body: dict[str, Any]) -> None:
    """Raise ParseError when the body is an error envelope (v2 problem or legacy ``errors``)."""
    if "data" in body or "meta" in body:
        return
    errors = body.get("errors")
    if "title" in body and "type" in body:
        raise ParseError(
            f"the X API answered with a problem: {body.get('title')}: {body.get('detail')} "
            f"({body.get('type')}). An error body holds no items; treat the exchange as failed: "
            "'Unauthorized' means the token must be renewed, 'Too Many Requests' throttling.",
            title=str(body.get("title")),
            problem=str(body.get("type")),
        )
    if isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
        if all("title" in error and "resource_type" in error for error in errors):
            return  # resource errors only (e.g. every id looked up is deleted): no items, no failure
        first = errors[0]
        raise ParseError(
            f"the X API answered with an error: {first.get('message') or first.get('detail')} "
            f"(code {first.get('code')}). An error body holds no items; treat the exchange as failed.",
            code=str(first.get("code")),
        )


def _raise_for_foreign(body: dict[str, Any]) -> None:
    """Raise ParseError when the body is not an X API v2 page: neither ``data``, ``errors`` nor
    ``meta``, or ``data`` objects that are not posts, DM events, users, counts or created DMs."""
    data = body.get("data")
    if not any(name in body for name in _PAGE_FIELDS):
        problem = (
            f"it has none of {', '.join(_PAGE_FIELDS)} (its fields: {', '.join(sorted(body)[:8]) or 'none'})"
        )
    elif data is not None and not isinstance(data, dict | list):
        problem = f"its 'data' is a JSON {type(data).__name__}"
    else:
        strange = [obj for obj in _objects(data) if not _OBJECT_FIELDS & obj.keys()]
        if not strange:
            return
        problem = f"its 'data' holds an object with fields {', '.join(sorted(strange[0])[:8])}"
    raise ParseError(
        f"the body is not an X API v2 page: {problem}; expected 'data' with posts (id, text, "
        "edit_history_tweet_ids), DM events (event_type) or users (username), and 'meta' or "
        "'errors'. It is kept in quarantine: check that the response came from the X API "
        "(api.x.com/2) and that --platform names the platform it came from."
    )


def _account_from_url(url: str | None) -> str:
    match = _ACCOUNT_IN_URL.search(url or "")
    return match.group(1) if match else UNKNOWN_ACCOUNT


def _objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [obj for obj in value if isinstance(obj, dict)]
    return []


class _Page:
    """One page: its objects and includes, indexed for resolving chains, authors and media."""

    def __init__(self, body: dict[str, Any], account: str) -> None:
        includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
        assert isinstance(includes, dict)
        self.account = account
        self.data = _objects(body.get("data"))
        self.users = {str(u.get("id")): u for u in _objects(includes.get("users"))}
        self.media = {str(m.get("media_key")): m for m in _objects(includes.get("media"))}
        self.tweets: dict[str, dict[str, Any]] = {}
        for tweet in _objects(includes.get("tweets")) + self.data:
            if "event_type" not in tweet and isinstance(tweet.get("id"), str | int):
                self.tweets[str(tweet["id"])] = tweet
        self.first_of: dict[str, str] = {}
        for tweet in self.tweets.values():
            chain = _chain(tweet)
            for x_id in chain:
                self.first_of.setdefault(x_id, chain[0])

    def key(self, native_id: str) -> str:
        """Return the item key of ``native_id`` on the page's account."""
        return item_key(X, self.account, native_id)

    def first(self, x_id: str) -> str:
        """Return the first id of the edit chain ``x_id`` belongs to (itself if unknown)."""
        return self.first_of.get(x_id, x_id)

    def observations(self) -> Iterator[Observation]:
        """Yield an observation per post and direct message in ``data``."""
        for obj in self.data:
            if "event_type" in obj:
                if obj.get("event_type") == "MessageCreate":
                    yield self.message(obj)
            elif "id" in obj and ("text" in obj or "note_tweet" in obj):
                current = self.current(obj)
                if current is not None:
                    yield self.tweet(obj, current)

    def current(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Return the newest version of ``obj``'s chain on the page, or None if that is not the
        chain's newest version (only an outdated version was returned)."""
        chain = _chain(obj)
        newest = next((self.tweets[x_id] for x_id in reversed(chain) if x_id in self.tweets), obj)
        return newest if str(newest.get("id")) == chain[-1] else None

    def tweet(self, listed: dict[str, Any], obj: dict[str, Any]) -> Observation:
        """Return the observation of a post, comment or reply whose current version is ``obj``."""
        chain = _chain(obj)
        native = chain[0]
        parent_id = _replied_to(obj)
        if parent_id is None:
            kind, parent_key, thread_key = "post", None, self.key(native)
        else:
            parent = self.first(parent_id)
            conversation = _text(obj.get("conversation_id")) or _text(
                self.tweets.get(parent, {}).get("conversation_id")
            )
            thread = self.first(conversation) if conversation else parent
            kind = "comment" if parent == thread else "reply"
            parent_key, thread_key = self.key(parent), self.key(thread)
        author_id = _text(obj.get("author_id"))
        user = self.users.get(author_id or "", {})
        created = self.created(obj, chain)
        edited = x_time(obj.get("created_at"), "created_at") if len(chain) > 1 else None
        note = obj.get("note_tweet")
        text = (
            note.get("text")
            if isinstance(note, dict) and isinstance(note.get("text"), str)
            else obj.get("text")
        )
        return self.observation(
            kind, native, parent_key, thread_key, (author_id, _text(user.get("name"))),
            text=text if isinstance(text, str) else None,
            attachments=self.attachments(obj),
            permalink=_permalink(_text(user.get("username")), str(obj["id"])),
            created=created, edited=edited if edited != created else None, visibility="public", source=obj,
        )  # fmt: skip

    def created(self, obj: dict[str, Any], chain: list[str]) -> datetime | None:
        """Return when the first version of the chain was posted."""
        original = self.tweets.get(chain[0])
        if original is not None:
            return x_time(original.get("created_at"), "created_at")
        if len(chain) == 1:
            return x_time(obj.get("created_at"), "created_at")
        return snowflake_time(chain[0])

    def message(self, obj: dict[str, Any]) -> Observation:
        """Return the observation of one ``MessageCreate`` DM event."""
        sender = _text(obj.get("sender_id"))
        conversation = _text(obj.get("dm_conversation_id")) or f"dm_{sender or 'unknown'}"
        thread_key = self.key(conversation)
        user = self.users.get(sender or "", {})
        text = obj.get("text")
        return self.observation(
            "message", _required_id(obj), thread_key, thread_key, (sender, _text(user.get("name"))),
            text=text if isinstance(text, str) else None, attachments=self.attachments(obj), permalink=None,
            created=x_time(obj.get("created_at"), "created_at"), edited=None, visibility="private", source=obj,
        )  # fmt: skip

    def attachments(self, obj: dict[str, Any]) -> list[Attachment]:
        """Return the media of a post or DM event, from ``includes.media``."""
        holder = obj.get("attachments")
        keys = holder.get("media_keys") if isinstance(holder, dict) else None
        return [media_attachment(self.media.get(str(key)), str(key)) for key in keys or []]

    def observation(
        self,
        kind: str,
        native: str,
        parent_key: str | None,
        thread_key: str,
        author: tuple[str | None, str | None],
        *,
        text: str | None,
        attachments: list[Attachment],
        permalink: str | None,
        created: datetime | None,
        edited: datetime | None,
        visibility: str,
        source: dict[str, Any],
    ) -> Observation:
        """Return one observation of the page's account."""
        return make_observation(
            X, self.account, kind, native,
            parent_key=parent_key, thread_key=thread_key, author=author,
            from_account=author[0] is not None and author[0] == self.account,
            text=text, attachments=attachments, permalink=permalink, created_at=created,
            edited_at=edited, visibility=visibility, state="present", source=source,
        )  # fmt: skip


def media_attachment(media: dict[str, Any] | None, key: str) -> Attachment:
    """Return the attachment of an X media object: photos by ``url``, videos and GIFs by the
    variant with the highest bit rate (else the preview image)."""
    if media is None:
        return {"type": "media", "source_url": None, "title": key}
    kind = str(media.get("type") or "media")
    url, mime = media.get("url"), None
    if kind in _VIDEO_TYPES or not url:
        variants = [v for v in _objects(media.get("variants")) if isinstance(v.get("url"), str)]
        if variants:
            best = max(
                variants,
                key=lambda variant: (
                    variant.get("content_type") == "video/mp4",
                    variant.get("bit_rate") or 0,
                ),
            )
            url, mime = best["url"], best.get("content_type")
        elif not url:
            url = media.get("preview_image_url")
    alt = media.get("alt_text")
    return {
        "type": kind,
        "source_url": url if isinstance(url, str) else None,
        "mime": mime if isinstance(mime, str) else None,
        "title": alt if isinstance(alt, str) else None,
    }


def _chain(obj: dict[str, Any]) -> list[str]:
    history = obj.get("edit_history_tweet_ids")
    if isinstance(history, list) and history and all(isinstance(x, str | int) for x in history):
        return [str(x) for x in history]
    return [_required_id(obj)]


def _required_id(obj: dict[str, Any]) -> str:
    value = obj.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ParseError(
            f"an X object has id {value!r}, not a string of digits; the body is kept in quarantine: "
            "check whether the API changed its id format."
        )
    return str(value)


def _replied_to(obj: dict[str, Any]) -> str | None:
    for reference in _objects(obj.get("referenced_tweets")):
        if reference.get("type") == "replied_to" and reference.get("id") is not None:
            return str(reference["id"])
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _permalink(username: str | None, x_id: str) -> str:
    return f"https://x.com/{username}/status/{x_id}" if username else f"https://x.com/i/web/status/{x_id}"


def x_time(value: Any, field: str) -> datetime | None:
    """Return an X time (``2022-10-19T20:58:00.000Z``) as aware UTC, None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ParseError(
        f"field {field!r} holds {value!r}, which is not an X API time (expected "
        "2022-10-19T20:58:00.000Z); the body is kept in quarantine: check whether the API changed."
    )


def snowflake_time(x_id: str) -> datetime | None:
    """Return the time an X snowflake id encodes (to the millisecond), None if not numeric."""
    if not x_id.isdigit():
        return None
    return datetime.fromtimestamp(((int(x_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)
