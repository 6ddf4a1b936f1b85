"""LinkedIn URNs for the world's items, people and media: deterministic and invertible.

The world names items in Graph formats (``{page_id}_{n}`` posts, ``{post_n}_{c}`` comments);
LinkedIn shows them as URNs:

* a post ``{page_id}_{n}`` is ``urn:li:share:{n}``;
* the post's activity (the feed update that carries it) is ``urn:li:activity:{post_n + 7e18}``:
  a number of its own, as on LinkedIn, where no field of the post names it;
* a comment or reply ``{post_n}_{c}`` is ``urn:li:comment:(urn:li:activity:{activity},{c})``,
  and its ``object`` is the activity URN, as the real Comments API answers;
* the account (a Company Page) is ``urn:li:organization:{page_id}``; a resident with numeric id
  ``p`` is ``urn:li:person:{base62(p)}``;
* a media file ``m`` is ``urn:li:image:{base62(m)}``.

Tests use these to compare the world's truth with the archive.
"""

from __future__ import annotations

import re
from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SHARE: Final = "urn:li:share:"
ORGANIZATION: Final = "urn:li:organization:"
PERSON: Final = "urn:li:person:"
IMAGE: Final = "urn:li:image:"
ACTIVITY: Final = "urn:li:activity:"
ACTIVITY_OFFSET: Final = 7 * 10**18
"""Added to a post's number (about 1.22e17) to give its activity's 19-digit number."""
_COMMENT: Final = re.compile(r"urn:li:comment:\(urn:li:activity:(\d+),(\d+)\)$")


def base62(number: int) -> str:
    """Return ``number`` (>= 0) written in base 62."""
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = ALPHABET[rest] + digits
        if number == 0:
            return digits


def from_base62(text: str) -> int:
    """Return the number ``text`` writes in base 62; raise ValueError for other characters."""
    number = 0
    for char in text:
        index = ALPHABET.find(char)
        if index < 0:
            raise ValueError(f"{text!r} is not base 62")
        number = number * 62 + index
    return number


def post_urn(native_id: str) -> str:
    """Return the share URN of the world post ``{page_id}_{n}``."""
    return SHARE + native_id.split("_", 1)[1]


def post_native_id(urn: str, page_id: str) -> str | None:
    """Return the world id of a share URN on the page ``page_id``, or None if it is not one."""
    number = urn.removeprefix(SHARE)
    return f"{page_id}_{number}" if urn.startswith(SHARE) and number.isdigit() else None


def activity_urn(post_n: str) -> str:
    """Return the activity URN of the world post numbered ``post_n`` (the part after ``_``)."""
    return f"{ACTIVITY}{int(post_n) + ACTIVITY_OFFSET}"


def activity_post_n(urn: str) -> str | None:
    """Return the world post number of an activity URN (inverse of :func:`activity_urn`), or None."""
    number = urn.removeprefix(ACTIVITY)
    if not urn.startswith(ACTIVITY) or not number.isdigit() or int(number) <= ACTIVITY_OFFSET:
        return None
    return str(int(number) - ACTIVITY_OFFSET)


def comment_urn(native_id: str) -> str:
    """Return the comment URN of the world comment ``{post_n}_{c}``."""
    post_n, number = native_id.split("_", 1)
    return f"urn:li:comment:({activity_urn(post_n)},{number})"


def comment_native_id(urn: str) -> str | None:
    """Return the world id ``{post_n}_{c}`` of a comment URN, or None if it is not one."""
    match = _COMMENT.match(urn)
    post_n = activity_post_n(ACTIVITY + match.group(1)) if match else None
    return f"{post_n}_{match.group(2)}" if match and post_n else None


def comment_number(native_id: str) -> str:
    """Return the comment's own id (the ``id`` field of a LinkedIn comment)."""
    return native_id.split("_", 1)[1]


def organization_urn(page_id: str) -> str:
    """Return the organization URN of the page ``page_id``."""
    return ORGANIZATION + page_id


def person_urn(person_id: str) -> str:
    """Return the person URN of the resident with the numeric id ``person_id``."""
    return PERSON + base62(int(person_id))


def person_id(urn: str) -> str:
    """Return the resident's numeric id from a person URN (inverse of :func:`person_urn`)."""
    return str(from_base62(urn.removeprefix(PERSON)))


def author_urn(author_id: str, page_id: str) -> str:
    """Return the URN of an author: the organization for the page itself, else a person."""
    return organization_urn(page_id) if author_id == page_id else person_urn(author_id)


def author_id(urn: str) -> str:
    """Return the world's author id for an organization or person URN."""
    return urn.removeprefix(ORGANIZATION) if urn.startswith(ORGANIZATION) else person_id(urn)


def image_urn(media_id: str) -> str:
    """Return the image URN of the world media ``media_id``."""
    return IMAGE + base62(int(media_id))


def item_urn(native_id: str, kind: str) -> str:
    """Return the URN of a world item: a post's share URN, else the comment URN."""
    return post_urn(native_id) if kind == "post" else comment_urn(native_id)
