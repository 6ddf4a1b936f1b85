"""Instagram ids and usernames for the sandbox world: deterministic, invertible renderings.

World items carry Graph (Facebook) ids; the Instagram wire format shows them as Instagram does:
media ids are 18-digit numbers (``178...``-``187...``), comment ids 17-digit numbers
(``17...``), carousel children 17-digit numbers (``18...``), conversation ids base64
``aWdf...`` (``ig_...``) and message ids ``aWdfZAG...``. Each mapping is a pure function of the
world id; :func:`world_id` inverts it (comments through the account's items, since a comment's
Instagram id does not name its media). People get Instagram user ids (``17841...``) and
usernames folded to ASCII from their names.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Iterable
from weakref import WeakKeyDictionary

from archiver.sandbox.text import Person
from archiver.sandbox.world import AccountState, Item, SandboxAccount

MEDIA_OFFSET = 56 * 10**15
"""Added to a post's number (``{page}_{n}``, n about 1.22e17) to give an 18-digit media id."""
COMMENT_OFFSET = 16 * 10**15
"""Added to a comment's number (``{post}_{c}``, c about 1e15) to give a 17-digit ``17...`` id."""
CHILD_OFFSET = 8 * 10**15
"""Added to a world media id (about 1e16) to give a carousel child's 17-digit ``18...`` id."""
CONVERSATION_TAG = "ig_dm:1:IGMessageThread:"
MESSAGE_PREFIX = "aWdfZAG1faXRlbToxOklHTWVzc2FnZA"
"""``ig_d``... as Instagram's message ids begin; the world message id's tail follows."""

_INDEX: WeakKeyDictionary[AccountState, dict[str, Item]] = WeakKeyDictionary()


LINKED_PAGE_BASE = 100 * 10**12
"""Base of the 15-digit id of the Facebook Page linked to an Instagram account."""


def linked_page_id(account: SandboxAccount) -> str:
    """Return the id of the Facebook Page linked to the Instagram ``account`` (15 digits, unlike
    the world's 16-digit Facebook Pages)."""
    return str(LINKED_PAGE_BASE + int(account.page_id) % 10**12)


def media_id(post_id: str) -> str:
    """Return the Instagram media id of world post ``{page_id}_{n}``."""
    return str(int(post_id.split("_", 1)[1]) + MEDIA_OFFSET)


def comment_id(world_comment_id: str) -> str:
    """Return the Instagram comment id of world comment ``{post_n}_{c}``."""
    return str(int(world_comment_id.split("_", 1)[1]) + COMMENT_OFFSET)


def conversation_id(world_thread_id: str) -> str:
    """Return the Instagram conversation id (``aWdf...``) of world conversation ``t_{n}``."""
    raw = f"{CONVERSATION_TAG}{world_thread_id.removeprefix('t_')}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def message_id(world_message_id: str) -> str:
    """Return the Instagram message id (``aWdfZAG...``) of world message ``m_{...}``."""
    return MESSAGE_PREFIX + world_message_id.removeprefix("m_")


def child_id(world_media_id: str) -> str:
    """Return the id of a carousel child (one photo of a media) from the world media id."""
    return str(int(world_media_id) + CHILD_OFFSET)


def ig_id(item: Item) -> str:
    """Return the Instagram id of any world item."""
    if item.kind == "post":
        return media_id(item.native_id)
    if item.kind == "comment":
        return comment_id(item.native_id)
    if item.kind == "conversation":
        return conversation_id(item.native_id)
    return message_id(item.native_id)


def world_id(instagram_id: str, page_id: str, state: AccountState) -> str | None:
    """Return the world id behind an Instagram id of the account, or None if no live item has it."""
    if instagram_id.startswith(MESSAGE_PREFIX):
        return "m_" + instagram_id.removeprefix(MESSAGE_PREFIX)
    if instagram_id.startswith("aWdf"):
        try:
            raw = base64.urlsafe_b64decode(instagram_id + "=" * (-len(instagram_id) % 4)).decode()
        except ValueError:
            return None
        return "t_" + raw.removeprefix(CONVERSATION_TAG) if raw.startswith(CONVERSATION_TAG) else None
    if instagram_id.isdigit() and len(instagram_id) == 18:
        return f"{page_id}_{int(instagram_id) - MEDIA_OFFSET}"
    item = _index(state).get(instagram_id)
    return item.native_id if item is not None else None


def _index(state: AccountState) -> dict[str, Item]:
    """Return Instagram id -> live item of one account state (built once per state)."""
    index = _INDEX.get(state)
    if index is None:
        index = {ig_id(item): item for item in state.items()}
        _INDEX[state] = index
    return index


def user_id(person: Person, account: SandboxAccount) -> str:
    """Return the Instagram user id of a person (the account's own id for its staff)."""
    if person.id == account.page_id:
        return account.page_id
    return "17841" + person.id[-12:]


def username(person: Person, account: SandboxAccount) -> str:
    """Return a person's username: the account's own, or the name folded to ASCII plus id digits."""
    if person.id == account.page_id:
        return account.display_name
    return fold_name(person.name) + "_" + person.id[-3:]


def fold_name(name: str) -> str:
    """Return ``name`` as an Instagram-style handle: ASCII, lower case, words joined by dots."""
    decomposed = unicodedata.normalize("NFKD", name.replace("ß", "ss").replace("ø", "o").replace("æ", "ae"))
    ascii_only = decomposed.encode("ascii", "ignore").decode().lower()
    words: Iterable[str] = re.findall(r"[a-z0-9]+", ascii_only)
    return ".".join(words) or "user"
