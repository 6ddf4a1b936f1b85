"""The world's vocabulary: its configuration, its accounts, its items, and what tests compare against.

An :class:`Item` is the whole history of one post, comment, conversation or message (text
versions, hide toggles, deletion time), so its state as of any instant is a lookup.
:class:`TruthItem` and :class:`WorldEvent` are how the world reports that state and its changes
to archive tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from archiver.sandbox import text
from archiver.sandbox.media import Media
from archiver.sandbox.text import Person


@dataclass(frozen=True)
class WorldConfig:
    """What makes one world: the seed, how many accounts, how busy they are and the first day."""

    seed: int = 1
    accounts: int = 2
    items_per_day: int = 30
    """Roughly how many new posts, comments, replies and messages each account gets per day."""
    start_date: date = date(2026, 11, 1)
    """First day of the world; it is empty before this day (Europe/Stockholm)."""
    other_platforms: tuple[str, ...] = ()
    """One more account on each of these platforms (instagram, x, youtube, linkedin), after the
    ``accounts`` Facebook Pages; each gets only the kinds of activity its platform has."""


@dataclass(frozen=True)
class SandboxAccount:
    """One account of the municipality on one platform, with the token the sandbox accepts for it."""

    name: str
    platform: str
    page_id: str
    display_name: str
    token: str
    token_env: str
    topics: tuple[str, ...] = text.TOPICS

    @property
    def person(self) -> Person:
        """Return the account as an author of posts, comments and messages."""
        return Person(self.page_id, self.display_name, "sv")


@dataclass(frozen=True)
class TruthItem:
    """One item as the platform shows it at an instant: the ground truth for archive tests.

    ``text`` is exactly the text the platform serves: the message of a post, comment or
    message ("" for a comment or message that is only an attachment), None for a conversation.
    ``attachment_count`` counts media files, each photo of an album separately.
    """

    native_id: str
    kind: str
    parent_id: str | None
    thread_id: str
    author_id: str
    author_name: str
    text: str | None
    hidden: bool
    attachment_count: int
    created_time: datetime


@dataclass(frozen=True)
class WorldEvent:
    """One change to the world: an item created, edited, hidden, unhidden or deleted."""

    time: datetime
    action: str
    """create, edit, hide, unhide or delete (a deleted item's replies and comments get their own)."""
    native_id: str
    kind: str
    """post, comment, reply, conversation or message."""
    by_page: bool
    """True when the account's own staff did it, False when a resident did."""


class Item:
    """The whole history of one post, comment, conversation or message."""

    __slots__ = (
        "author",
        "by_page",
        "children",
        "created",
        "deleted",
        "hidden",
        "kind",
        "media",
        "native_id",
        "parent",
        "seq",
        "texts",
        "thread",
        "topic",
    )

    def __init__(
        self,
        kind: str,
        native_id: str,
        seq: int,
        created: int,
        author: Person,
        by_page: bool,
        parent: Item | None,
        topic: str,
        body: str | None,
        media: tuple[Media, ...] = (),
    ) -> None:
        self.kind = kind
        self.native_id = native_id
        self.seq = seq
        self.created = created
        self.author = author
        self.by_page = by_page
        self.parent = parent
        self.thread: Item = parent.thread if parent is not None else self
        self.topic = topic
        self.texts: list[tuple[int, str]] = [] if body is None else [(created, body)]
        self.media = media
        self.hidden: list[tuple[int, bool]] = []
        self.deleted: int | None = None
        self.children: list[Item] = []

    @property
    def is_reply(self) -> bool:
        """Return True for a comment whose parent is a comment."""
        return self.parent is not None and self.parent.kind == "comment"

    @property
    def truth_kind(self) -> str:
        """Return the item kind as the archive names it (a reply is told apart from a comment)."""
        return "reply" if self.is_reply else self.kind

    @property
    def hidden_now(self) -> bool:
        """Return whether the item is hidden after its latest toggle."""
        return bool(self.hidden) and self.hidden[-1][1]

    def alive_at(self, at: int) -> bool:
        """Return True if the item exists and is not deleted at unix time ``at``."""
        return self.created <= at and (self.deleted is None or self.deleted > at)

    def text_at(self, at: int) -> str | None:
        """Return the text as of unix time ``at`` (None for items without text)."""
        value = None
        for stamp, body in self.texts:
            if stamp > at:
                break
            value = body
        return value

    def edited_at(self, at: int) -> int | None:
        """Return the unix time of the latest edit at or before ``at``, or None if never edited."""
        stamps = [stamp for stamp, _ in self.texts[1:] if stamp <= at]
        return stamps[-1] if stamps else None

    def hidden_at(self, at: int) -> bool:
        """Return whether the item is hidden at unix time ``at``."""
        value = False
        for stamp, hidden in self.hidden:
            if stamp > at:
                break
            value = hidden
        return value
