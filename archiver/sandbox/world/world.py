"""The :class:`World`: configuration, accounts, residents and their histories behind one object.

It generates each account's history on demand (through the day asked about), keeps the
registry of media files the media endpoint serves, and caches recent :class:`AccountState`
views.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from archiver.sandbox.media import Media
from archiver.sandbox.world.days import STOCKHOLM, from_unix, to_unix
from archiver.sandbox.world.history import _History
from archiver.sandbox.world.model import Item, SandboxAccount, TruthItem, WorldConfig, WorldEvent
from archiver.sandbox.world.people import (
    _zipf_cumulative,
    make_account,
    make_platform_account,
    make_residents,
)
from archiver.sandbox.world.state import AccountState, WorldState

SANDBOX_API_PATHS = {"x": "/2", "youtube": "/youtube/v3", "linkedin": "/rest"}
"""Where each platform's API lives on the sandbox (Facebook and Instagram: the Graph API at the root)."""


class World:
    """A seeded, deterministic, day-by-day evolving municipality with its accounts and residents."""

    def __init__(self, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        self.residents = make_residents(self.config.seed)
        self.resident_weights = list(_zipf_cumulative(len(self.residents)))
        self.accounts = [make_account(self.config.seed, index) for index in range(self.config.accounts)]
        self.accounts += [
            make_platform_account(self.config.seed, platform) for platform in self.config.other_platforms
        ]
        self._histories = {account.name: _History(self, account) for account in self.accounts}
        self._media: dict[str, Media] = {}
        self._media_owner: dict[str, Item] = {}
        self._views: dict[str, OrderedDict[int, AccountState]] = {
            name: OrderedDict() for name in self._histories
        }
        self._lock = threading.RLock()

    def account(self, name: str) -> SandboxAccount:
        """Return the account called ``name``; raise KeyError naming the known accounts."""
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(f"no account {name!r}; known: {', '.join(a.name for a in self.accounts)}")

    def account_for_token(self, token: str) -> SandboxAccount | None:
        """Return the account whose access token is ``token``, or None."""
        return next((account for account in self.accounts if account.token == token), None)

    def tokens(self) -> dict[str, str]:
        """Return token_env -> token for every account."""
        return {account.token_env: account.token for account in self.accounts}

    def accounts_file(self, base_url: str) -> dict[str, Any]:
        """Return the accounts file (as a dict ready for YAML) pointing every account at the sandbox
        at ``base_url`` (its root or its Graph API base, ``.../v26.0``)."""
        return {
            "organisation": "Exempelby kommun",
            "start_date": self.config.start_date.isoformat(),
            "accounts": [
                {
                    "name": account.name,
                    "platform": account.platform,
                    "id": account.page_id,
                    "display_name": account.display_name,
                    "token_env": account.token_env,
                    "api_base": _api_base(base_url, account.platform),
                    **_linked_page(account),
                }
                for account in self.accounts
            ],
        }

    def state(self, at: datetime) -> WorldState:
        """Return the world as of ``at`` (timezone-aware): every event at or before ``at`` applied."""
        to_unix(at)
        return WorldState(self, at)

    def truth(self, account_name: str, at: datetime) -> list[TruthItem]:
        """Return every item the platform shows for ``account_name`` at ``at``, in creation order."""
        return self.account_state(account_name, to_unix(at)).truth()

    def events(self, account_name: str, until: datetime, since: datetime | None = None) -> list[WorldEvent]:
        """Return the account's events with ``since`` <= time <= ``until``, in the order they happened."""
        stamp = to_unix(until)
        first = to_unix(since) if since is not None else None
        history = self._generated(account_name, stamp)
        end = bisect.bisect_right(history.event_times, stamp)
        start = 0 if first is None else bisect.bisect_left(history.event_times, first)
        return [
            WorldEvent(from_unix(when), action, item.native_id, item.truth_kind, by_page)
            for when, action, item, by_page in history.events[start:end]
        ]

    def media(self, media_id: str) -> Media | None:
        """Return the media file with ``media_id`` among those generated so far, or None."""
        return self._media.get(media_id)

    def media_owner(self, media_id: str) -> Item | None:
        """Return the post, comment or message that carries media ``media_id``, or None."""
        return self._media_owner.get(media_id)

    def register_media(self, media: Media, owner: Item) -> None:
        """Remember a generated media file and its item so the media endpoint can serve it."""
        self._media[media.media_id] = media
        self._media_owner[media.media_id] = owner

    def generate_through(self, at: datetime) -> None:
        """Generate every account's history up to the end of the day of ``at``."""
        for name in self._histories:
            self._generated(name, to_unix(at))

    def account_state(self, name: str, stamp: int) -> AccountState:
        """Return the state of account ``name`` at unix time ``stamp`` (cached per run of no events)."""
        history = self._generated(name, stamp)
        with self._lock:
            key = bisect.bisect_right(history.event_times, stamp)
            views = self._views[name]
            view = views.get(key)
            if view is None:
                view = AccountState(history, stamp)
                views[key] = view
                while len(views) > 8:
                    views.popitem(last=False)
            views.move_to_end(key)
            return view

    def _generated(self, name: str, stamp: int) -> _History:
        if name not in self._histories:
            self.account(name)
        history = self._histories[name]
        day = datetime.fromtimestamp(stamp, STOCKHOLM).date()
        with self._lock:
            if day >= self.config.start_date and (
                history.generated_until is None or history.generated_until < day
            ):
                history.generate_through(day)
        return history


def _api_base(base_url: str, platform: str) -> str:
    """Return where ``platform``'s API lives on the sandbox whose root or Graph base is ``base_url``."""
    if platform not in SANDBOX_API_PATHS:
        return base_url
    return re.sub(r"/v\d+\.\d+$", "", base_url.rstrip("/")) + SANDBOX_API_PATHS[platform]


def _linked_page(account: SandboxAccount) -> dict[str, str]:
    """Return ``{"page_id": ...}`` for an Instagram account (the Facebook Page its direct
    messages are read on), else {}."""
    if account.platform != "instagram":
        return {}
    from archiver.sandbox.instagram.ids import linked_page_id  # the Instagram package imports this one

    return {"page_id": linked_page_id(account)}
