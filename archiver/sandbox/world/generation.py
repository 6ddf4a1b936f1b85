"""What happens on one day of one account: how many events of each kind, when, and by whom.

Each day has its own ``random.Random`` seeded from (seed, account name, day). The day's events
are planned from per-action rates (with a daily minimum for every kind of change), spread over
the hours residents and the page's staff are active, sorted by time and applied to the
account's history.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from archiver.sandbox import text
from archiver.sandbox.media import Media
from archiver.sandbox.text import Person, between, pick
from archiver.sandbox.world.days import day_bounds
from archiver.sandbox.world.model import Item

if TYPE_CHECKING:
    from archiver.sandbox.world.history import _History


ACTION_RATES: tuple[tuple[str, float], ...] = (
    ("page_post", 0.05),
    ("visitor_post", 0.02),
    ("comment", 0.42),
    ("reply", 0.16),
    ("page_reply", 0.07),
    ("conversation", 0.05),
    ("message", 0.23),
    ("edit_comment", 0.04),
    ("edit_post", 0.03),
    ("hide", 0.03),
    ("unhide", 0.015),
    ("delete_by_author", 0.02),
    ("delete_by_page", 0.015),
    ("delete_post", 0.002),
)
"""Expected events per account and day, as a fraction of ``items_per_day``; the first seven create items."""


DAILY_MINIMUM = {
    "edit_comment": 1,
    "edit_post": 1,
    "hide": 1,
    "unhide": 1,
    "delete_by_author": 1,
    "delete_by_page": 1,
}
"""Events that happen at least this often per account and day, so even small worlds show every kind of change."""


POST_DELETION_CYCLE = 7
"""Besides the rate above, each account deletes one post every this many days (the first account on its third day)."""


PLATFORM_EXCLUDED_ACTIONS: dict[str, frozenset[str]] = {
    "facebook": frozenset(),
    "instagram": frozenset({"visitor_post", "edit_comment"}),
    "x": frozenset({"hide", "unhide", "delete_by_page"}),
    "youtube": frozenset({"visitor_post", "conversation", "message"}),
    "linkedin": frozenset({"visitor_post", "conversation", "message", "hide", "unhide"}),
}
"""What does not happen on each platform: Instagram comments cannot be edited and nobody else
posts to the account; X has no listable hidden replies and an account cannot delete others'
replies; YouTube and LinkedIn have no direct messages (via their APIs); LinkedIn has no hiding."""


PAGE_ACTIONS = frozenset(
    {"page_post", "page_reply", "edit_post", "hide", "unhide", "delete_by_page", "delete_post"}
)


RESIDENT_HOURS = (1, 1, 0.5, 0.3, 0.3, 0.5, 2, 4, 5, 5, 5, 5, 6, 5, 5, 5, 6, 7, 8, 9, 9, 7, 4, 2)


OFFICE_HOURS = (0, 0, 0, 0, 0, 0, 0.2, 2, 6, 7, 7, 6, 5, 6, 7, 6, 4, 1, 0.3, 0.2, 0.2, 0.1, 0, 0)
"""Relative activity per local hour of the day, for residents and for the page's staff."""


def _hour_weights(profile: tuple[float, ...], hours: int) -> list[float]:
    weights = list(profile[:hours])
    weights += [profile[-1]] * (hours - len(weights))
    total, cumulative = 0.0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative


class _DayGenerator:
    """Applies one day's events, in time order, to an account's history."""

    def __init__(self, history: _History, day: date) -> None:
        self.h = history
        self.day = day
        config = history.world.config
        self.rng = random.Random(f"{config.seed}:{history.account.name}:{day.isoformat()}")
        self.residents = history.world.residents
        self.weights = history.world.resident_weights

    def run(self) -> None:
        """Plan the day's events, sort them by time and apply each one."""
        actions: dict[str, Callable[[int], object]] = {
            "page_post": self.page_post,
            "visitor_post": self.visitor_post,
            "comment": self.comment,
            "reply": self.reply,
            "page_reply": self.page_reply,
            "conversation": self.conversation,
            "message": self.message,
            "edit_comment": self.edit_comment,
            "edit_post": self.edit_post,
            "hide": self.hide,
            "unhide": self.unhide,
            "delete_by_author": self.delete_by_author,
            "delete_by_page": self.delete_by_page,
            "delete_post": self.delete_post,
        }
        for stamp, _, action in sorted(self.plan()):
            first_event = len(self.h.events)
            with text.recording_personal_data() as recorded:
                actions[action](stamp)
            if recorded:
                self.remember_personal_data(first_event, recorded)

    def remember_personal_data(self, first_event: int, recorded: list[tuple[str, str]]) -> None:
        """Attribute the personal data an action wrote to the items it created or edited whose
        text holds it (the sandbox's truth of what a release must mask)."""
        touched = {
            item.native_id: item
            for _, action, item, _ in self.h.events[first_event:]
            if action in ("create", "edit") and item.texts
        }
        for native_id, item in touched.items():
            latest = item.texts[-1][1]
            written = [entry for entry in recorded if entry[1] in latest]
            if written:
                known = self.h.personal.setdefault(native_id, [])
                known += [entry for entry in dict.fromkeys(written) if entry not in known]

    def plan(self) -> list[tuple[int, int, str]]:
        """Return (unix time, order, action) for every event of the day."""
        start, end = day_bounds(self.day)
        hours = (end - start) // 3600
        resident_hours = _hour_weights(RESIDENT_HOURS, hours)
        office_hours = _hour_weights(OFFICE_HOURS, hours)
        rng, per_day = self.rng, self.h.world.config.items_per_day
        planned: list[tuple[int, int, str]] = []
        excluded = PLATFORM_EXCLUDED_ACTIONS[self.h.account.platform]
        for action, rate in ACTION_RATES:
            if action in excluded:
                continue
            expected = per_day * rate
            count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            count = max(count, DAILY_MINIMUM.get(action, 0)) + (
                1 if action == "delete_post" and self.deletes_a_post() else 0
            )
            cumulative = office_hours if action in PAGE_ACTIONS else resident_hours
            for hour in rng.choices(range(hours), cum_weights=cumulative, k=count):
                planned.append((start + hour * 3600 + between(rng, 0, 3600), len(planned), action))
        return planned

    def deletes_a_post(self) -> bool:
        """Return True on the days this account deletes a post besides its usual rate."""
        day_index = (self.day - self.h.world.config.start_date).days
        return (day_index + self.h.index * 3) % POST_DELETION_CYCLE == 2

    def resident(self, avoid: Person | None = None) -> Person:
        """Return a resident, the active ones more often, preferably not ``avoid``."""
        residents, weights, total = self.residents, self.weights, self.weights[-1]
        person = residents[bisect.bisect(weights, self.rng.random() * total)]
        if avoid is not None and person.id == avoid.id:
            person = residents[bisect.bisect(weights, self.rng.random() * total)]
        return person

    def recent(
        self, items: list[Item], scale: float, accept: Callable[[Item], bool] = lambda _: True
    ) -> Item | None:
        """Return a live item from ``items`` (creation order), recent ones far more likely, or None."""
        count = len(items)
        for _ in range(8):
            back = int(self.rng.expovariate(1.0 / scale))
            if back < count:
                item = items[count - 1 - back]
                if item.deleted is None and accept(item):
                    return item
        return None

    def photos(self, stamp: int, chance: float, most: int = 1) -> tuple[Media, ...]:
        """Return zero photos, or with probability ``chance`` one to ``most`` new JPEG photos."""
        if self.rng.random() >= chance:
            return ()
        count = 1 if most == 1 or self.rng.random() < 0.7 else self.rng.randint(2, most)
        return tuple(self.h.add_media(stamp, "image/jpeg") for _ in range(count))

    def page_post(self, stamp: int) -> None:
        """The page publishes a post, about half of them with photos."""
        body, topic = text.page_post(self.rng, self.h.account.topics)
        self.h.new_item("post", stamp, self.h.page, None, topic, body, self.photos(stamp, 0.45, 4))

    def visitor_post(self, stamp: int) -> None:
        """A resident writes a post on the page's feed."""
        author = self.resident()
        body, topic = text.visitor_post(self.rng, author.group)
        self.h.new_item("post", stamp, author, None, topic, body, self.photos(stamp, 0.15))

    def comment(self, stamp: int) -> None:
        """A resident comments on a recent post."""
        post = self.recent(self.h.posts, self.h.post_scale)
        if post is None:
            return
        author = self.resident(post.author)
        media = self.photos(stamp, 0.06)
        body = (
            ""
            if media and self.rng.random() < 0.3
            else text.resident_comment(self.rng, author.group, post.topic)
        )
        self.h.new_item("comment", stamp, author, post, post.topic, body, media)

    def reply(self, stamp: int) -> None:
        """A resident answers a visible top-level comment, or comments when there is none."""
        post = self.recent(self.h.posts, self.h.post_scale)
        if post is None:
            return
        parent = self.recent(post.children, 4.0, lambda item: not item.hidden_now)
        if parent is None:
            self.comment(stamp)
            return
        author = self.resident(parent.author)
        body = text.resident_reply(self.rng, author.group, post.topic)
        self.h.new_item("comment", stamp, author, parent, post.topic, body)

    def page_reply(self, stamp: int) -> None:
        """The page answers a resident's comment, or comments on a resident's visitor post."""
        post = self.recent(self.h.posts, self.h.post_scale)
        if post is None:
            return
        if not post.by_page and self.rng.random() < 0.5:
            self.h.new_item(
                "comment", stamp, self.h.page, post, post.topic, text.page_reply(self.rng, post.author)
            )
            return
        parent = self.recent(post.children, 4.0, lambda item: not item.by_page and not item.hidden_now)
        if parent is not None:
            self.h.new_item(
                "comment", stamp, self.h.page, parent, post.topic, text.page_reply(self.rng, parent.author)
            )

    def conversation(self, stamp: int) -> None:
        """A resident opens a Messenger conversation with a first message."""
        author = self.resident()
        topic = pick(self.rng, text.TOPICS)
        thread = self.h.new_item("conversation", stamp, author, None, topic, None)
        body = text.resident_message(self.rng, author.group, topic, first=True)
        self.h.new_item("message", stamp, author, thread, topic, body, self.attachments(stamp))

    def attachments(self, stamp: int) -> tuple[Media, ...]:
        """Return what a resident attaches to a message: usually nothing, else a photo, screenshot or PDF."""
        roll = self.rng.random()
        if roll < 0.07:
            return (self.h.add_media(stamp, "image/jpeg"),)
        if roll < 0.1:
            return (self.h.add_media(stamp, "image/png"),)
        if roll < 0.115:
            return (
                self.h.add_media(
                    stamp, "application/pdf", pick(self.rng, ("ansokan.pdf", "intyg.pdf", "faktura.pdf"))
                ),
            )
        return ()

    def message(self, stamp: int) -> None:
        """The page or the resident writes in a recent conversation, mostly taking turns."""
        thread = self.recent(self.h.conversations, self.h.conversation_scale)
        if thread is None:
            return
        resident = thread.author
        last_by_page = thread.children[-1].by_page
        page_writes = self.rng.random() < (0.3 if last_by_page else 0.7)
        if page_writes:
            self.h.new_item(
                "message", stamp, self.h.page, thread, thread.topic, text.page_message(self.rng, resident)
            )
            return
        media = self.attachments(stamp)
        body = (
            ""
            if media and self.rng.random() < 0.3
            else text.resident_message(self.rng, resident.group, thread.topic, first=False)
        )
        self.h.new_item("message", stamp, resident, thread, thread.topic, body, media)

    def resident_comment(self) -> Item | None:
        """Return a recent live comment by a resident that has text, or None."""
        return self.recent(
            self.h.comments, self.h.comment_scale, lambda item: not item.by_page and bool(item.texts[-1][1])
        )

    def edit_comment(self, stamp: int) -> None:
        """A resident edits one of their recent comments."""
        item = self.resident_comment()
        if item is not None:
            item.texts.append((stamp, text.edited_comment(self.rng, item.texts[-1][1])))
            self.h.log(stamp, "edit", item, False)

    def edit_post(self, stamp: int) -> None:
        """The page edits one of its recent posts."""
        item = self.recent(self.h.posts, self.h.post_scale, lambda post: post.by_page)
        if item is not None:
            item.texts.append((stamp, text.edited_post(self.rng, item.texts[-1][1])))
            self.h.log(stamp, "edit", item, True)

    def hide(self, stamp: int) -> None:
        """The page hides a resident's recent comment."""
        item = self.recent(
            self.h.comments, self.h.comment_scale, lambda c: not c.by_page and not c.hidden_now
        )
        if item is not None:
            self.h.set_hidden(item, stamp, True)

    def unhide(self, stamp: int) -> None:
        """The page unhides a comment it hid earlier."""
        item = self.h.pick_hidden(self.rng)
        if item is not None:
            self.h.set_hidden(item, stamp, False)

    def delete_by_author(self, stamp: int) -> None:
        """A resident deletes one of their recent comments (its replies go too)."""
        item = self.recent(self.h.comments, self.h.comment_scale, lambda c: not c.by_page)
        if item is not None:
            self.h.delete(item, stamp, False)

    def delete_by_page(self, stamp: int) -> None:
        """The page deletes a resident's comment, often one it had hidden (its replies go too)."""
        item = self.h.pick_hidden(self.rng) if self.rng.random() < 0.3 else None
        if item is None:
            item = self.recent(self.h.comments, self.h.comment_scale, lambda c: not c.by_page)
        if item is not None:
            self.h.delete(item, stamp, True)

    def delete_post(self, stamp: int) -> None:
        """The page deletes a recent post (its comments go too)."""
        item = self.recent(self.h.posts, self.h.post_scale)
        if item is not None:
            self.h.delete(item, stamp, True)
