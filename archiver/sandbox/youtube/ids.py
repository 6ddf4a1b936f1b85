"""YouTube ids for the world's items: deterministic, invertible renderings of its Graph-style ids.

* a post ``{page_id}_{n}`` becomes an 11-character video id (``[A-Za-z0-9_-]``);
* a top-level comment ``{post_n}_{c}`` becomes ``Ugx`` + 22 characters + ``4AaABAg``, and a reply
  ``{parent's id}.{11 characters}`` (YouTube's ``<parent>.<suffix>`` form);
* a resident's numeric id becomes a channel id ``UC`` + 22 characters; the account keeps its own
  channel id; its uploads playlist is ``UU`` + the channel id without ``UC``.

Every function has an inverse, so tests can map the world's truth onto the archive and back.
"""

from __future__ import annotations

import base64

_POST_MASK = 0x5DEE_CE66_D1A4_F00D
_COMMENT_MASK = 0x2545_F491_4F6C_DD1D
_CHANNEL_SALT = b"exempel\x01"
_COMMENT_PREFIX = "Ugx"
_COMMENT_SUFFIX = "4AaABAg"


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_WORD = 2**64
_SPREAD = 0x9E37_79B9_7F4A_7C15
"""An odd multiplier: spreads consecutive numbers over the whole word, invertibly (mod 2**64)."""
_UNSPREAD = pow(_SPREAD, -1, _WORD)


def _word(number: int, mask: int) -> bytes:
    return ((number * _SPREAD % _WORD) ^ mask).to_bytes(8, "big")


def _unword(data: bytes, mask: int) -> int:
    return (int.from_bytes(data, "big") ^ mask) * _UNSPREAD % _WORD


def video_id(post_id: str) -> str:
    """Return the video id of the world post ``{page_id}_{n}``."""
    return _encode(_word(int(post_id.rsplit("_", 1)[1]), _POST_MASK))


def post_id(video: str, channel: str) -> str:
    """Return the world post id of ``video`` on the account whose channel id is ``channel``."""
    return f"{channel}_{_unword(_decode(video), _POST_MASK)}"


def comment_id(world_id: str, parent_world_id: str | None = None) -> str:
    """Return the YouTube id of the world comment ``{post_n}_{c}``; for a reply pass its parent
    comment's world id, which the reply id starts with."""
    post_n, comment_n = (int(part) for part in world_id.split("_", 1))
    if parent_world_id is None:
        body = _encode(_word(post_n, _POST_MASK) + _word(comment_n, _COMMENT_MASK))
        return f"{_COMMENT_PREFIX}{body}{_COMMENT_SUFFIX}"
    return f"{comment_id(parent_world_id)}.{_encode(_word(comment_n, _COMMENT_MASK))}"


def world_comment_id(youtube_id: str) -> str:
    """Return the world id ``{post_n}_{c}`` of a YouTube comment or reply id."""
    top, _, suffix = youtube_id.partition(".")
    body = _decode(top.removeprefix(_COMMENT_PREFIX).removesuffix(_COMMENT_SUFFIX))
    post_n = _unword(body[:8], _POST_MASK)
    comment_n = _unword(_decode(suffix) if suffix else body[8:], _COMMENT_MASK)
    return f"{post_n}_{comment_n}"


def channel_id(person_id: str, account_channel: str) -> str:
    """Return the channel id of a person: the account's own, or ``UC`` + 22 characters for a resident."""
    if person_id == account_channel:
        return person_id
    return "UC" + _encode(_CHANNEL_SALT + int(person_id).to_bytes(8, "big"))


def person_id(channel: str, account_channel: str) -> str:
    """Return the world person id behind a channel id (inverse of :func:`channel_id`)."""
    if channel == account_channel:
        return channel
    return str(int.from_bytes(_decode(channel[2:])[8:], "big"))


def uploads_playlist(channel: str) -> str:
    """Return the id of a channel's uploads playlist (``UU`` + the channel id without ``UC``)."""
    return "UU" + channel[2:]
