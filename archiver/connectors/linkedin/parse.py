"""The LinkedIn parser: one decoded Community Management API body in, observations out.

Understood shapes:

* collections ``{"paging": {...}, "elements": [...]}`` of posts (``GET /rest/posts?q=author``)
  or comments (``GET /rest/socialActions/{urn}/comments``), a single post or comment, and batch
  answers ``{"results": {urn: object}}``;
* a post (``id`` ``urn:li:share:…`` or ``urn:li:ugcPost:…``, ``author``, ``commentary`` in
  little text, ``createdAt``/``lastModifiedAt`` in epoch milliseconds,
  ``lifecycleStateInfo.isEditedByAuthor``, ``content``) becomes a ``post``;
* a comment (``commentUrn`` ``urn:li:comment:(urn:li:activity:N,M)``, ``actor``,
  ``message.text``, ``created.time``, ``lastModified.time``, ``object``, ``parentComment``,
  ``content[]``) becomes a ``comment`` on the post in ``object``, or a ``reply`` to
  ``parentComment``.

Native ids are the URNs (the post's ``id``, the comment's ``commentUrn``); authors are URNs
(``urn:li:organization:…`` for the Page, ``urn:li:person:…`` for members), without names, which
the API does not give. An error envelope raises :class:`ParseError`; other bodies (an
organization, an image) show no items.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from archiver.connectors.base import Attachment, Observation, attachment, first_of_each_item, make_observation
from archiver.connectors.linkedin.dialect import thread_of
from archiver.connectors.linkedin.littletext import unescape
from archiver.errors import ParseError
from archiver.items import item_key

LINKEDIN: Final = "linkedin"
UNKNOWN_ACCOUNT: Final = "unknown"
ORGANIZATION: Final = "urn:li:organization:"
POST_URNS: Final = ("urn:li:share:", "urn:li:ugcPost:")
PUBLIC_VISIBILITIES: Final = frozenset({"PUBLIC", "LOGGED_IN"})
MEDIA_TYPES: Final = {
    "image": "photo",
    "video": "video",
    "document": "file",
    "digitalmediaAsset": "file",
}
"""URN type of post media -> attachment type."""


def parse(url: str | None, body: Any, account_id: str | None) -> Iterator[Observation]:
    """Yield the observations in one decoded LinkedIn body, each item once.

    ``url`` is the request URL (or None): a comments request names the post or comment the
    comments hang on. ``account_id`` is the organization id; when None it is taken from the URL
    (``author=urn:li:organization:N``) or the posts' authors (``unknown`` if nothing tells).
    Raises ParseError, before yielding anything, for an error envelope or an object that is
    neither a post nor a comment in a collection.
    """
    if not isinstance(body, dict):
        raise ParseError(
            f"the body is a JSON {type(body).__name__}, not a LinkedIn API object; it is kept in "
            "quarantine: check that the response came from the LinkedIn REST API."
        )
    if _is_error(body):
        raise ParseError(
            f"the body is a LinkedIn error (HTTP {body.get('status')}: {body.get('message')}), not data"
        )
    objects, listed = _objects(body)
    target = _target(url)
    account = account_id or _account_from(url, objects)
    found: list[Observation] = []
    for number, obj in enumerate(objects):
        if _is_comment(obj):
            found.append(_comment(obj, account, target, thread_of(url)))
        elif _is_post(obj):
            found.append(_post(obj, account))
        elif listed:
            raise ParseError(
                f"element {number} of the collection is neither a post nor a comment "
                f"(keys: {', '.join(sorted(obj)[:12])}); the body is kept in quarantine."
            )
    yield from first_of_each_item(found)


def _is_error(body: dict[str, Any]) -> bool:
    status = body.get("status")
    return isinstance(status, int) and status >= 400 and "message" in body and "id" not in body


def _objects(body: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """Return the objects a body holds and whether it is a collection."""
    if "elements" in body:
        elements = body["elements"]
    elif isinstance(body.get("results"), dict):
        elements = list(body["results"].values())
    else:
        return [body], False
    if not isinstance(elements, list) or not all(isinstance(obj, dict) for obj in elements):
        raise ParseError("'elements' (or 'results') must hold JSON objects; the body is kept in quarantine.")
    return elements, True


def _is_comment(obj: dict[str, Any]) -> bool:
    return "commentUrn" in obj or ("actor" in obj and "message" in obj)


def _is_post(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("id"), str) and obj["id"].startswith(POST_URNS) and "author" in obj


def _target(url: str | None) -> str | None:
    """Return the URN a ``/socialActions/{urn}/comments`` request was about, or None."""
    if not url:
        return None
    segments = [unquote(part) for part in urlsplit(url).path.split("/") if part]
    if "socialActions" in segments:
        index = segments.index("socialActions")
        if index + 1 < len(segments):
            return segments[index + 1]
    return None


def _account_from(url: str | None, objects: list[dict[str, Any]]) -> str:
    if url:
        author = dict(parse_qsl(urlsplit(url).query)).get("author", "")
        if author.startswith(ORGANIZATION):
            return author.removeprefix(ORGANIZATION)
    for obj in objects[:5]:
        owner = obj.get("author")
        if _is_post(obj) and isinstance(owner, str) and owner.startswith(ORGANIZATION):
            return owner.removeprefix(ORGANIZATION)
    return UNKNOWN_ACCOUNT


def _post(obj: dict[str, Any], account: str) -> Observation:
    urn = str(obj["id"])
    author = _urn(obj.get("author"), "author")
    created = _millis(obj.get("createdAt", obj.get("publishedAt")), "createdAt")
    lifecycle = obj.get("lifecycleStateInfo")
    edited = isinstance(lifecycle, dict) and lifecycle.get("isEditedByAuthor") is True
    commentary = obj.get("commentary")
    if commentary is not None and not isinstance(commentary, str):
        raise ParseError(f"post {urn}: 'commentary' must be text, not {type(commentary).__name__}")
    visibility = "public" if obj.get("visibility", "PUBLIC") in PUBLIC_VISIBILITIES else "private"
    return _observation(
        account,
        "post",
        urn,
        parent=None,
        thread=urn,
        author=author,
        text=unescape(commentary or ""),
        attachments=_post_attachments(obj.get("content")),
        permalink=f"https://www.linkedin.com/feed/update/{urn}/",
        created=created,
        edited=_millis(obj.get("lastModifiedAt"), "lastModifiedAt") if edited else None,
        visibility=visibility,
        source=obj,
    )


def _comment(obj: dict[str, Any], account: str, target: str | None, marked: str | None) -> Observation:
    thread = _thread(obj, target, marked)
    raw_urn = obj.get("commentUrn")
    if raw_urn is None and obj.get("id") is not None:
        raw_urn = f"urn:li:comment:({obj.get('object') or thread},{obj['id']})"
    urn = _urn(raw_urn, "commentUrn")
    parent = obj.get("parentComment")
    if parent is None and target is not None and target.startswith("urn:li:comment:"):
        parent = target
    message = obj.get("message")
    text = message.get("text") if isinstance(message, dict) else None
    if text is not None and not isinstance(text, str):
        raise ParseError(f"comment {urn}: 'message.text' must be text, not {type(text).__name__}")
    created = _millis(_time_of(obj.get("created")), "created.time")
    modified = _millis(_time_of(obj.get("lastModified")), "lastModified.time")
    return _observation(
        account,
        "reply" if parent else "comment",
        urn,
        parent=_urn(parent, "parentComment") if parent else thread,
        thread=thread,
        author=_urn(obj.get("actor"), "actor"),
        text=text or "",
        attachments=_comment_attachments(obj.get("content")),
        permalink=f"https://www.linkedin.com/feed/update/{thread}/?commentUrn={quote(urn, safe='')}",
        created=created,
        edited=modified if modified and created and modified > created else None,
        visibility="public",
        source=obj,
    )


def _thread(obj: dict[str, Any], target: str | None, marked: str | None) -> str:
    """Return the URN of the post a comment belongs to: the post the request named, else the
    post the capture marked in the URL's fragment (a reply listing names only the parent
    comment), else the comment's ``object`` (on LinkedIn usually the post's activity,
    ``urn:li:activity:N``, which no post names: such a thread has no root in the archive)."""
    if target and target.startswith(POST_URNS):
        return target
    if marked and marked.startswith(POST_URNS):
        return marked
    found = obj.get("object")
    if isinstance(found, str) and found:
        return found
    raise ParseError("a comment without 'object' (and no post in the request URL); kept in quarantine.")


def _observation(
    account: str,
    kind: str,
    native_id: str,
    *,
    parent: str | None,
    thread: str,
    author: str | None,
    text: str,
    attachments: list[Attachment],
    permalink: str,
    created: datetime | None,
    edited: datetime | None,
    visibility: str,
    source: dict[str, Any],
) -> Observation:
    return make_observation(
        LINKEDIN, account, kind, native_id,
        parent_key=item_key(LINKEDIN, account, parent) if parent else None,
        thread_key=item_key(LINKEDIN, account, thread), author=(author, None),
        from_account=author == ORGANIZATION + account, text=text, attachments=attachments,
        permalink=permalink, created_at=created, edited_at=edited, visibility=visibility,
        state="present", source=source,
    )  # fmt: skip


def _post_attachments(content: Any) -> list[Attachment]:
    """Return a post's media (by URN: the Posts API gives no download URL) and article link."""
    if not isinstance(content, dict):
        return []
    media: list[Any] = []
    if isinstance(content.get("media"), dict):
        media.append(content["media"])
    multi = content.get("multiImage")
    if isinstance(multi, dict) and isinstance(multi.get("images"), list):
        media.extend(multi["images"])
    found: list[Attachment] = []
    for entry in media:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            kind = entry["id"].split(":")[2] if entry["id"].count(":") >= 3 else ""
            found.append(attachment(MEDIA_TYPES.get(kind, "file"), None, entry["id"]))
    article = content.get("article")
    if isinstance(article, dict) and isinstance(article.get("source"), str):
        title = article.get("title")
        found.append(attachment("link", article["source"], title if isinstance(title, str) else None))
    return found


def _comment_attachments(content: Any) -> list[Attachment]:
    """Return a comment's images and other content, with the download URL LinkedIn gives."""
    if not isinstance(content, list):
        return []
    found: list[Attachment] = []
    for entry in content:
        if not isinstance(entry, dict):
            continue
        kind = str(entry.get("type") or "").lower()
        url = entry.get("url")
        entity = entry.get("entity")
        urn = (
            next((v for v in entity.values() if isinstance(v, str)), None)
            if isinstance(entity, dict)
            else None
        )
        found.append(
            attachment(
                "photo" if kind == "image" else kind or "file", url if isinstance(url, str) else None, urn
            )
        )
    return found


def _time_of(stamp: Any) -> Any:
    return stamp.get("time") if isinstance(stamp, dict) else None


def _millis(value: Any, field: str) -> datetime | None:
    """Return epoch milliseconds as an aware UTC time (None when absent)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError(f"'{field}' must be epoch milliseconds, not {value!r}; kept in quarantine.")
    return datetime.fromtimestamp(value / 1000, UTC)


def _urn(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.startswith("urn:"):
        raise ParseError(f"'{field}' must be a URN, not {value!r}; the body is kept in quarantine.")
    return value
