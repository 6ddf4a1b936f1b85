"""One account's history: every item it ever had and every event, in the order they happened.

A history grows a day at a time (each day's events come from ``generation``) and a generated
day never changes. It holds the primitives a day uses: create an item, log an event, hide or
unhide, delete an item with everything under it, and make a new media file.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from archiver.memory import gc_paused
from archiver.sandbox.media import EXTENSIONS, Media
from archiver.sandbox.text import Person
from archiver.sandbox.world.generation import _DayGenerator
from archiver.sandbox.world.ids import _IdMaker
from archiver.sandbox.world.model import Item, SandboxAccount

if TYPE_CHECKING:
    from archiver.sandbox.world.world import World


class _History:
    """Everything that ever happened on one account, generated day by day."""

    def __init__(self, world: World, account: SandboxAccount) -> None:
        self.world = world
        self.account = account
        self.index = world.accounts.index(account)
        self.page = account.person
        self.ids = _IdMaker(world.config.seed, account)
        self.posts: list[Item] = []
        self.comments: list[Item] = []
        self.conversations: list[Item] = []
        self.messages: list[Item] = []
        self.by_id: dict[str, Item] = {}
        self._lists = {
            "post": self.posts,
            "comment": self.comments,
            "conversation": self.conversations,
            "message": self.messages,
        }
        self.events: list[tuple[int, str, Item, bool]] = []
        self.event_times: list[int] = []
        self.generated_until: date | None = None
        self.personal: dict[str, list[tuple[str, str]]] = {}
        """native id -> (category, value) of the personal data the sandbox wrote into its texts."""
        self._hidden: list[Item] = []
        self._seq = 0
        per_day = world.config.items_per_day
        self.post_scale = max(3.0, per_day * 0.14)
        self.comment_scale = max(6.0, per_day * 0.6)
        self.conversation_scale = max(3.0, per_day * 0.15)

    def generate_through(self, day: date) -> None:
        """Generate every day from the start date (or the last generated day) up to ``day``."""
        current = (
            self.world.config.start_date
            if self.generated_until is None
            else self.generated_until + timedelta(days=1)
        )
        with gc_paused():
            while current <= day:
                _DayGenerator(self, current).run()
                self.generated_until = current
                current += timedelta(days=1)

    def new_item(
        self,
        kind: str,
        stamp: int,
        author: Person,
        parent: Item | None,
        topic: str,
        body: str | None,
        media: tuple[Media, ...] = (),
    ) -> Item:
        """Create, index and log a new item and return it."""
        if kind == "post":
            native_id = self.ids.post()
        elif kind == "comment":
            assert parent is not None
            native_id = self.ids.comment(parent.thread)
        elif kind == "conversation":
            native_id = self.ids.conversation()
        else:
            native_id = self.ids.message()
        self._seq += 1
        by_page = author.id == self.account.page_id
        item = Item(kind, native_id, self._seq, stamp, author, by_page, parent, topic, body, media)
        self.by_id[native_id] = item
        self._lists[kind].append(item)
        if parent is not None:
            parent.children.append(item)
        for file in media:
            self.world.register_media(file, item)
        self.log(stamp, "create", item, by_page)
        return item

    def log(self, stamp: int, action: str, item: Item, by_page: bool) -> None:
        """Record one event of the account's history."""
        self.events.append((stamp, action, item, by_page))
        self.event_times.append(stamp)

    def delete(self, item: Item, stamp: int, by_page: bool) -> None:
        """Delete ``item`` and every live item under it at ``stamp``."""
        item.deleted = stamp
        self.log(stamp, "delete", item, by_page)
        for child in item.children:
            if child.deleted is None:
                self.delete(child, stamp, by_page)

    def set_hidden(self, item: Item, stamp: int, hidden: bool) -> None:
        """Hide or unhide ``item`` at ``stamp`` (always the page's doing)."""
        item.hidden.append((stamp, hidden))
        if hidden:
            self._hidden.append(item)
        self.log(stamp, "hide" if hidden else "unhide", item, True)

    def pick_hidden(self, rng: random.Random) -> Item | None:
        """Return a random comment that is hidden and not deleted now, or None."""
        pool = self._hidden
        while pool:
            index = rng.randrange(len(pool))
            item = pool[index]
            if item.deleted is None and item.hidden_now:
                return item
            pool[index] = pool[-1]
            pool.pop()
        return None

    def add_media(self, stamp: int, mime: str, name: str | None = None) -> Media:
        """Return a new media file uploaded at ``stamp`` (registered when its item is created)."""
        media_id = self.ids.media()
        rng = random.Random(media_id)
        if mime == "application/pdf":
            width, height = 300, 420
        elif mime == "image/png":
            width, height = 240, 420
        else:
            width, height = rng.choice(((320, 240), (240, 320), (300, 300)))
        filename = name or f"{media_id}_{rng.randrange(10**9, 10**10)}_n.{EXTENSIONS[mime]}"
        return Media(media_id, mime, width, height, filename, stamp)
