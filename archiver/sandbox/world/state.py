"""The world as of one instant: a filter over the histories that answers as the platform would.

:class:`AccountState` is what a wire format reads (live posts, comments, conversations and
messages, and their text and hidden flag at that instant) and what archive tests compare
against (:meth:`AccountState.truth`).
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import TYPE_CHECKING

from archiver.sandbox.world.days import from_unix, to_unix
from archiver.sandbox.world.model import Item, TruthItem

if TYPE_CHECKING:
    from archiver.sandbox.world.history import _History
    from archiver.sandbox.world.world import World


class AccountState:
    """One account as its platform shows it at one instant; every accessor answers as of ``at``."""

    def __init__(self, history: _History, at: int) -> None:
        self.account = history.account
        self.at = at
        self._history = history
        self._updated: dict[str, int] = {}
        self.posts = _alive(history.posts, at)[::-1]
        """Live posts, newest first."""
        conversations = _alive(history.conversations, at)
        self.conversations = sorted(
            conversations, key=lambda item: (self.updated(item), item.seq), reverse=True
        )
        """Live conversations, latest activity first."""

    def get(self, native_id: str) -> Item | None:
        """Return the live item with ``native_id``, or None if it does not exist (yet) or is deleted."""
        item = self._history.by_id.get(native_id)
        return item if item is not None and item.alive_at(self.at) else None

    def items(self) -> list[Item]:
        """Return every live item in creation order."""
        history = self._history
        groups = (history.posts, history.comments, history.conversations, history.messages)
        return sorted(
            (item for group in groups for item in _alive(group, self.at)), key=lambda item: item.seq
        )

    def children(self, item: Item) -> list[Item]:
        """Return the live direct children of ``item`` in creation order (comments, replies or messages)."""
        at = self.at
        return [child for child in item.children if child.alive_at(at)]

    def stream(self, post: Item) -> list[Item]:
        """Return every live comment and reply under ``post`` in creation order."""
        found: list[Item] = []
        for comment in self.children(post):
            found.append(comment)
            found.extend(self.children(comment))
        return sorted(found, key=lambda item: item.seq)

    def updated(self, item: Item) -> int:
        """Return the unix time of the latest activity: edit or comment on a post, message in a conversation."""
        cached = self._updated.get(item.native_id)
        if cached is None:
            if item.kind == "conversation":
                cached = max(
                    (child.created for child in item.children if child.created <= self.at),
                    default=item.created,
                )
            elif item.kind == "post":
                stream = self.stream(item)
                cached = max(item.created, item.edited_at(self.at) or 0, stream[-1].created if stream else 0)
            else:
                cached = item.created
            self._updated[item.native_id] = cached
        return cached

    def text(self, item: Item) -> str | None:
        """Return the item's text as of this instant."""
        return item.text_at(self.at)

    def hidden(self, item: Item) -> bool:
        """Return whether the item is hidden at this instant."""
        return item.hidden_at(self.at)

    def truth(self) -> list[TruthItem]:
        """Return every live item as a TruthItem, in creation order."""
        return [self._truth_item(item) for item in self.items()]

    def _truth_item(self, item: Item) -> TruthItem:
        author = item.author
        return TruthItem(
            native_id=item.native_id,
            kind=item.truth_kind,
            parent_id=item.parent.native_id if item.parent is not None else None,
            thread_id=item.thread.native_id,
            author_id=author.id,
            author_name=author.name,
            text=self.text(item),
            hidden=self.hidden(item),
            attachment_count=len(item.media),
            created_time=from_unix(item.created),
        )


def _alive(items: list[Item], at: int) -> list[Item]:
    end = bisect.bisect_right(items, at, key=lambda item: item.created)
    return [item for item in items[:end] if item.deleted is None or item.deleted > at]


class WorldState:
    """The whole world as of one instant; accounts are materialised on first use."""

    def __init__(self, world: World, at: datetime) -> None:
        self.world = world
        self.at = at
        self._stamp = to_unix(at)

    def account(self, name: str) -> AccountState:
        """Return the state of account ``name``; raise KeyError for an unknown name."""
        return self.world.account_state(name, self._stamp)
