"""World items as X API v2 objects: posts (with edit chains), DM events, users and media.

Each renderer returns the object with every field the sandbox knows; :func:`select` keeps the
default fields and those the request asked for (``tweet.fields``, ``dm_event.fields``…), and
:class:`Includes` collects the expansions (``includes.users``, ``media``, ``tweets``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from archiver.sandbox.media import Media, MediaSigner
from archiver.sandbox.text import Person
from archiver.sandbox.world import AccountState, Item, SandboxAccount
from archiver.sandbox.x import ids

EDIT_WINDOW_SECONDS = 30 * 60
MAX_EDITS = 5
DEFAULT_FIELDS = {
    "tweet": frozenset({"id", "text", "edit_history_tweet_ids"}),
    "dm_event": frozenset({"id", "event_type", "text"}),
    "user": frozenset({"id", "name", "username"}),
    "media": frozenset({"media_key", "type"}),
}


def x_time(stamp: int) -> str:
    """Return unix seconds as X writes times: ``2026-11-01T10:15:00.000Z``."""
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_x_time(value: str) -> int:
    """Return an X time parameter (``2026-11-01T10:15:00Z``, milliseconds optional) as unix seconds."""
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def username(person: Person) -> str:
    """Return a handle for a person: the name folded to ASCII letters and digits, plus id digits."""
    folded = unicodedata.normalize("NFKD", person.name).encode("ascii", "ignore").decode().lower()
    letters = "".join(char for char in folded if char.isalnum())[:10] or "user"
    return f"{letters}{person.id[-4:]}"


def select(obj: Mapping[str, Any], kind: str, params: Mapping[str, str]) -> dict[str, Any]:
    """Return ``obj`` with only the default fields of ``kind`` and those the request names."""
    wanted = DEFAULT_FIELDS[kind] | set(filter(None, params.get(f"{kind}.fields", "").split(",")))
    return {name: value for name, value in obj.items() if name in wanted}


@dataclass
class Renderer:
    """Renders one account's state for one request (field selection, signed media URLs)."""

    state: AccountState
    account: SandboxAccount
    params: Mapping[str, str]
    signer: MediaSigner
    base_url: str
    now: int
    includes: Includes = field(init=False)

    def __post_init__(self) -> None:
        self.includes = Includes(self)

    @property
    def expansions(self) -> frozenset[str]:
        """Return the expansions the request asked for."""
        return frozenset(filter(None, self.params.get("expansions", "").split(",")))

    def user(self, person: Person) -> dict[str, Any]:
        """Return a user object."""
        return select(
            {"id": person.id, "name": person.name, "username": username(person)}, "user", self.params
        )

    def media(self, media: Media) -> dict[str, Any]:
        """Return a media object (``includes.media``); files that are not images are type ``file``."""
        url = self.signer.url(self.base_url, media, self.now)
        obj: dict[str, Any] = {
            "media_key": media_key(media),
            "type": "photo" if media.is_image else "file",
            "url": url,
            "width": media.width,
            "height": media.height,
        }
        return select(obj, "media", self.params)

    def tweet(self, item: Item, version: int | None = None) -> dict[str, Any]:
        """Return a post, comment or reply as an X post; ``version`` None: the current version."""
        chain = ids.chain_ids(item, self.now)
        index = len(chain) - 1 if version is None else version
        stamp, text = item.texts[index] if item.texts else (item.created, "")
        obj: dict[str, Any] = {
            "id": chain[index],
            "text": text,
            "created_at": x_time(stamp),
            "author_id": item.author.id,
            "conversation_id": ids.native_id(item.thread),
            "edit_history_tweet_ids": chain,
            "edit_controls": {
                "is_edit_eligible": item.parent is None,
                "editable_until": x_time(item.created + EDIT_WINDOW_SECONDS),
                "edits_remaining": max(0, MAX_EDITS - (len(chain) - 1)),
            },
            "lang": item.author.group if item.author.group != "ti" else "und",
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
            "reply_settings": "everyone",
        }
        if item.parent is not None:
            parent_version = ids.version_at(item.parent, item.created)
            obj["referenced_tweets"] = [
                {"type": "replied_to", "id": ids.tweet_id(item.parent, parent_version)}
            ]
            obj["in_reply_to_user_id"] = item.parent.author.id
        if item.media:
            obj["attachments"] = {"media_keys": [media_key(media) for media in item.media]}
        self.includes.add_tweet(item, index)
        return select(obj, "tweet", self.params)

    def dm_event(self, message: Item) -> dict[str, Any]:
        """Return a direct message as a ``MessageCreate`` DM event."""
        conversation = message.parent
        assert conversation is not None
        obj: dict[str, Any] = {
            "id": ids.dm_event_id(message),
            "event_type": "MessageCreate",
            "text": message.texts[-1][1] if message.texts else "",
            "created_at": x_time(message.created),
            "sender_id": message.author.id,
            "dm_conversation_id": ids.conversation_id(conversation.author.id, self.account.page_id),
        }
        if message.media:
            obj["attachments"] = {"media_keys": [media_key(media) for media in message.media]}
        self.includes.add_event(message)
        return select(obj, "dm_event", self.params)


def media_key(media: Media) -> str:
    """Return the X media key of a world media file (``3_`` photos, ``99_`` other files)."""
    return f"{'3' if media.is_image else '99'}_{media.media_id}"


class Includes:
    """The ``includes`` of one answer: users, media and referenced posts, each once, as asked."""

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer
        self.users: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self._pending: list[tuple[Item, int]] = []
        self._expanding = False

    def _person(self, person: Person) -> None:
        if person.id not in self.users:
            self.users[person.id] = self._renderer.user(person)

    def _files(self, item: Item) -> None:
        for media in item.media:
            self.media.setdefault(media_key(media), self._renderer.media(media))

    def add_tweet(self, item: Item, shown: int) -> None:
        """Note what a rendered post brings into ``includes`` under the request's expansions."""
        wanted = self._renderer.expansions
        if "author_id" in wanted:
            self._person(item.author)
        if self._expanding:  # posts in includes bring their authors, nothing more
            return
        if "in_reply_to_user_id" in wanted and item.parent is not None:
            self._person(item.parent.author)
        if "attachments.media_keys" in wanted:
            self._files(item)
        if "referenced_tweets.id" in wanted and item.parent is not None:
            self._pending.append((item.parent, ids.version_at(item.parent, item.created)))
        if "edit_history_tweet_ids" in wanted:
            versions = ids.version_at(item, self._renderer.now) + 1
            self._pending.extend((item, index) for index in range(versions) if index != shown)

    def add_event(self, message: Item) -> None:
        """Note what a rendered DM event brings into ``includes`` under the request's expansions."""
        wanted = self._renderer.expansions
        if "sender_id" in wanted:
            self._person(message.author)
        if "participant_ids" in wanted and message.parent is not None:
            self._person(message.parent.author)
            self._person(self._renderer.account.person)
        if "attachments.media_keys" in wanted:
            self._files(message)

    def to_json(self, shown_ids: set[str]) -> dict[str, Any]:
        """Return the ``includes`` object (empty lists left out); posts in ``data`` are not repeated."""
        self._expanding = True
        while self._pending:
            item, version = self._pending.pop()
            x_id = ids.tweet_id(item, version)
            if x_id in shown_ids or x_id in self.tweets or not item.alive_at(self._renderer.now):
                continue
            self.tweets[x_id] = self._renderer.tweet(item, version)
        found = {"users": self.users, "media": self.media, "tweets": self.tweets}
        return {name: list(values.values()) for name, values in found.items() if values}
