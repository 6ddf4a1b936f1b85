"""X ids for the world's items: snowflakes, edit chains and 1:1 DM conversation ids.

The world names items in Graph formats; the X sandbox shows them as X would. The mapping is
deterministic and invertible given the account's items:

* a post, comment or reply gets one snowflake per text version (X gives every edit a new id):
  ``((ms - epoch) << 22) | seq``, where ``ms`` is the version's time in milliseconds plus the
  version's index (0 for the original) and ``seq`` the item's creation sequence in the account
  (unique, below 2**22). The first id of the chain is the archive's native id of the item.
* a direct message gets the snowflake of its creation time and sequence.
* a 1:1 conversation is ``{smaller user id}-{larger user id}``: all of one resident's world
  conversations with the account are one conversation on X.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from archiver.sandbox.world import Item

TWITTER_EPOCH_MS = 1288834974657
"""Milliseconds since the Unix epoch at which X's snowflake clock starts."""
_SEQUENCE_BITS = 22
_SEQUENCE_MASK = (1 << _SEQUENCE_BITS) - 1
_MAX_VERSIONS = 1000
"""Versions are told apart by the millisecond part; an item never gets this many edits."""


def snowflake(stamp: int, seq: int, version: int = 0) -> str:
    """Return the snowflake id of version ``version`` of the item with ``seq``, made at ``stamp``."""
    millis = stamp * 1000 + version
    return str(((millis - TWITTER_EPOCH_MS) << _SEQUENCE_BITS) | (seq & _SEQUENCE_MASK))


def decode(x_id: str) -> tuple[int, int, int] | None:
    """Return (unix seconds, item sequence, version) of a sandbox snowflake, or None if not one."""
    if not x_id.isdigit():
        return None
    value = int(x_id)
    millis = (value >> _SEQUENCE_BITS) + TWITTER_EPOCH_MS
    return millis // 1000, value & _SEQUENCE_MASK, millis % 1000


def snowflake_time(x_id: str) -> datetime | None:
    """Return the creation time a snowflake id encodes (any X id), or None if not a snowflake."""
    if not x_id.isdigit():
        return None
    return datetime.fromtimestamp(((int(x_id) >> _SEQUENCE_BITS) + TWITTER_EPOCH_MS) / 1000, UTC)


def tweet_id(item: Item, version: int = 0) -> str:
    """Return the X id of text version ``version`` (0: the original) of a post, comment or reply."""
    if version >= _MAX_VERSIONS:
        raise ValueError(f"item {item.native_id} has more than {_MAX_VERSIONS} versions")
    stamp = item.texts[version][0] if item.texts else item.created
    return snowflake(stamp, item.seq, version)


def native_id(item: Item) -> str:
    """Return the archive's native id of a post, comment or reply on X: the first id of its chain."""
    return tweet_id(item, 0)


def version_at(item: Item, at: int) -> int:
    """Return the index of the text version of ``item`` current at unix time ``at`` (0 at least)."""
    current = 0
    for index, (stamp, _) in enumerate(item.texts):
        if stamp > at:
            break
        current = index
    return current


def chain_ids(item: Item, at: int) -> list[str]:
    """Return ``edit_history_tweet_ids`` as of ``at``: the ids of every version so far, oldest first."""
    return [tweet_id(item, index) for index in range(version_at(item, at) + 1)]


def dm_event_id(message: Item) -> str:
    """Return the X id of a direct message."""
    return snowflake(message.created, message.seq)


def conversation_id(first_user: str, second_user: str) -> str:
    """Return the 1:1 DM conversation id ``{smaller}-{larger}`` of two numeric user ids."""
    low, high = sorted((first_user, second_user), key=int)
    return f"{low}-{high}"


def index_by_sequence(items: Iterable[Item]) -> dict[int, Item]:
    """Return the items keyed by their sequence number (the low bits of their ids)."""
    return {item.seq: item for item in items}


def resolve(index: dict[int, Item], x_id: str) -> tuple[Item, int] | None:
    """Return (item, version index) an X id names among ``index``'s items, or None if none."""
    decoded = decode(x_id)
    if decoded is None:
        return None
    _, seq, version = decoded
    item = index.get(seq)
    if item is None or item.kind == "conversation" or version >= max(1, len(item.texts)):
        return None
    if item.kind == "message":
        return (item, 0) if dm_event_id(item) == x_id else None
    return (item, version) if tweet_id(item, version) == x_id else None
