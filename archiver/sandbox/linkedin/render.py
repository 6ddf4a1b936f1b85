"""The world's posts and comments as the LinkedIn Posts and Comments APIs return them.

Times are epoch milliseconds; a post's ``commentary`` is in LinkedIn's "little text" format
(reserved characters escaped with a backslash, hashtags as ``{hashtag|\\#|tag}``); a comment's
``message.text`` is plain text. Comment images carry a signed download URL (the shared
``/_media/`` endpoint); post media are referenced by URN only, as the Posts API does.
"""

from __future__ import annotations

import re
from typing import Any, Final

from archiver.sandbox.linkedin import ids
from archiver.sandbox.media import MediaSigner
from archiver.sandbox.world import AccountState, Item

RESERVED: Final = frozenset("|{}@[]()<>#\\*_~")
_HASHTAG: Final = re.compile(r"#(\w+)")


def little_text(text: str) -> str:
    """Return ``text`` in LinkedIn's little text format: hashtags as templates, reserved escaped."""
    parts: list[str] = []
    position = 0
    for match in _HASHTAG.finditer(text):
        parts.append(_escape(text[position : match.start()]))
        parts.append("{hashtag|\\#|" + _escape(match.group(1)) + "}")
        position = match.end()
    parts.append(_escape(text[position:]))
    return "".join(parts)


def _escape(text: str) -> str:
    return "".join("\\" + char if char in RESERVED else char for char in text)


def millis(stamp: int) -> int:
    """Return unix seconds as epoch milliseconds."""
    return stamp * 1000


def post_json(state: AccountState, post: Item) -> dict[str, Any]:
    """Return a post as ``GET /rest/posts`` returns it."""
    page_id = state.account.page_id
    edited = post.edited_at(state.at)
    value: dict[str, Any] = {
        "id": ids.post_urn(post.native_id),
        "author": ids.author_urn(post.author.id, page_id),
        "commentary": little_text(state.text(post) or ""),
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "lifecycleStateInfo": {"isEditedByAuthor": edited is not None},
        "isReshareDisabledByAuthor": False,
        "createdAt": millis(post.created),
        "publishedAt": millis(post.created),
        "lastModifiedAt": millis(last_modified(state, post)),
    }
    if len(post.media) == 1:
        value["content"] = {"media": {"id": ids.image_urn(post.media[0].media_id), "altText": ""}}
    elif post.media:
        images = [{"id": ids.image_urn(media.media_id), "altText": ""} for media in post.media]
        value["content"] = {"multiImage": {"images": images}}
    return value


def last_modified(state: AccountState, item: Item) -> int:
    """Return the unix time of the item's latest change by its author (creation or edit)."""
    return item.edited_at(state.at) or item.created


def comment_json(
    state: AccountState, comment: Item, signer: MediaSigner, base_url: str, now: int
) -> dict[str, Any]:
    """Return a comment (or a reply: a comment on a comment) as the Comments API returns it."""
    page_id = state.account.page_id
    actor = ids.author_urn(comment.author.id, page_id)
    value: dict[str, Any] = {
        "id": ids.comment_number(comment.native_id),
        "commentUrn": ids.comment_urn(comment.native_id),
        "actor": actor,
        "object": ids.activity_urn(comment.thread.native_id.split("_", 1)[1]),
        "message": {"text": state.text(comment) or "", "attributes": []},
        "created": {"actor": actor, "time": millis(comment.created)},
        "lastModified": {"actor": actor, "time": millis(last_modified(state, comment))},
        "commentsSummary": {
            "selectedComments": [],
            "aggregatedTotalComments": len(state.children(comment)),
        },
    }
    if comment.parent is not None and comment.parent.kind == "comment":
        value["parentComment"] = ids.comment_urn(comment.parent.native_id)
    if comment.media:
        value["content"] = [
            {
                "type": "IMAGE",
                "url": signer.url(base_url, media, now),
                "entity": {"image": ids.image_urn(media.media_id)},
            }
            for media in comment.media
        ]
    return value
