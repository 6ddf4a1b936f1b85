"""Facebook Page capture: posts with their whole comment trees, and every Messenger conversation.

Field expansion keeps the request count near the minimum: one listing request returns up to 100
posts, each with its first 100 comments (``filter=stream`` flattens replies into the same list);
only threads with more comments, and conversations with more messages, need further pages.
Own posts come from ``published_posts`` (complete), visitor posts from ``feed``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from archiver.config import Account, Settings
from archiver.connectors.base import CaptureWindow
from archiver.errors import ObjectGoneError, PlatformError
from archiver.http import ApiClient, Response

log = logging.getLogger(__name__)

PAGE_SIZE = 100

COMMENT_FIELDS = (
    "id,created_time,message,from,parent{id},attachment,is_hidden,permalink_url,comment_count,like_count"
)
POST_FIELDS = (
    "id,created_time,updated_time,message,story,from,permalink_url,status_type,is_hidden,is_published,"
    "attachments{media_type,type,url,title,media,target,subattachments},"
    f"comments.filter(stream).order(chronological).limit({PAGE_SIZE}).summary(true){{{COMMENT_FIELDS}}}"
)
MESSAGE_FIELDS = "id,created_time,from,to,message,attachments{id,mime_type,name,size,image_data,video_data,file_url},sticker,shares{link,name}"
CONVERSATION_FIELDS = (
    f"id,updated_time,link,message_count,participants,messages.limit({PAGE_SIZE}){{{MESSAGE_FIELDS}}}"
)
PAGE_FIELDS = "id,name,link"


def capture(client: ApiClient, account: Account, window: CaptureWindow, settings: Settings) -> list[Response]:
    """Fetch the account's page, posts with comments and conversations; return every response."""
    base = account.base_url(settings)
    responses = [client.get_api(f"{base}/{account.id}", {"fields": PAGE_FIELDS})]
    responses.extend(_posts(client, base, account, window))
    conversation_params = {"platform": "messenger", "fields": CONVERSATION_FIELDS, "limit": str(PAGE_SIZE)}
    responses.extend(_walk(client, f"{base}/{account.id}/conversations", conversation_params, "messages"))
    return responses


def _posts(client: ApiClient, base: str, account: Account, window: CaptureWindow) -> list[Response]:
    """Return the feed's pages with comment trees, plus a lookup of each own post the feed left out.

    ``feed`` holds the Page's posts and visitors' posts but is ranked and capped, so the
    complete ``published_posts`` listing is fetched with ids only, and any own post missing
    from the feed is fetched on its own: each post and its comments cross the wire once.
    """
    window_params = {"limit": str(PAGE_SIZE), "until": str(int(window["until"].timestamp()))}
    if window["since"] is not None:
        window_params["since"] = str(int(window["since"].timestamp()))
    feed = list(
        _walk(client, f"{base}/{account.id}/feed", {**window_params, "fields": POST_FIELDS}, "comments")
    )
    in_feed = {obj.get("id") for page in feed for obj in graph_data(page.json())}
    own = graph_pages(client, f"{base}/{account.id}/published_posts", {**window_params, "fields": "id"})
    missing = [obj["id"] for page in own for obj in graph_data(page.json()) if obj.get("id") not in in_feed]
    return feed + [page for post_id in missing for page in _lookup(client, f"{base}/{post_id}", "post")]


def confirm(
    client: ApiClient, account: Account, roots: list[tuple[str, str]], settings: Settings
) -> tuple[list[Response], list[str]]:
    """Look up thread roots (native id, kind) that the listings left out; return the answers and
    the ids the platform would not answer for.

    A root that still exists comes back with its comments or messages, so it is not taken for
    deleted; one that is gone answers error 100/33, which stays in the WARC as the evidence.
    Any other error (a permission, a policy block) leaves the root's state unknown: it is logged
    and reported, and the root is not tombstoned.
    """
    base = account.base_url(settings)
    responses: list[Response] = []
    unknown: list[str] = []
    for native_id, kind in roots:
        try:
            responses.extend(_lookup(client, f"{base}/{native_id}", kind))
        except ObjectGoneError:
            continue
        except PlatformError as error:
            log.warning("%s: could not confirm %s %s: %s", account.name, kind, native_id, error)
            unknown.append(native_id)
    return responses, unknown


def _lookup(client: ApiClient, url: str, kind: str) -> list[Response]:
    """Return one post or conversation with every page of its comments or messages."""
    fields, edge = (CONVERSATION_FIELDS, "messages") if kind == "conversation" else (POST_FIELDS, "comments")
    found = client.get_api(url, {"fields": fields})
    next_url = next_page_url(found.json().get(edge))
    return [found, *(graph_pages(client, next_url, None) if next_url else [])]


def _walk(client: ApiClient, url: str, params: dict[str, str], nested_edge: str) -> Iterator[Response]:
    """Yield every page of a listing, and every further page of each object's nested edge."""
    for page in graph_pages(client, url, params):
        yield page
        for obj in graph_data(page.json()):
            nested = obj.get(nested_edge)
            next_url = next_page_url(nested)
            if next_url:
                yield from graph_pages(client, next_url, None)


def graph_pages(client: ApiClient, url: str | None, params: dict[str, str] | None) -> Iterator[Response]:
    """Yield a listing's pages by following ``paging.next`` until it is absent (none for no URL)."""
    next_url = url
    while next_url:
        page = client.get_api(next_url, params)
        yield page
        next_url = next_page_url(page.json())
        params = None


def graph_data(body: Any) -> list[dict[str, Any]]:
    """Return the objects of a Graph listing page's ``data`` (none when it has none)."""
    data = body.get("data") if isinstance(body, dict) else None
    return [obj for obj in data or [] if isinstance(obj, dict)]


def next_page_url(envelope: Any) -> str | None:
    """Return a Graph listing's ``paging.next`` URL, or None on the last page."""
    if not isinstance(envelope, dict):
        return None
    paging = envelope.get("paging")
    value = paging.get("next") if isinstance(paging, dict) else None
    return value if isinstance(value, str) and value else None
