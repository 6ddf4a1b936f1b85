"""Instagram capture: media with comments and replies, and every direct-message conversation.

Field expansion keeps the request count low: one ``/{ig-user-id}/media`` page returns up to 100
media, each with its carousel children and first 100 comments, each comment with its first 100
replies (replies are one level deep); only longer threads need further pages. Conversations
(``platform=instagram``) come with their messages nested, from the linked Facebook Page
(``/{page-id}/conversations``) with Facebook Login, from ``/me/conversations`` with Instagram
Login: the IG user node has no conversations edge.

Instagram serves the details of only the 20 newest messages of a conversation: the older ones
are listed by id only. Each such conversation is reported as a gap of the run (how many
messages could not be read), and the ids are written into the WARC's notes as
``unreadable_items``, so the normalise stage keeps what earlier runs captured of them instead
of taking them for deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from weakref import WeakKeyDictionary

from archiver.config import Account, Settings, needs_page_id
from archiver.connectors.base import CaptureWindow
from archiver.connectors.facebook.capture import graph_data, graph_pages, next_page_url
from archiver.connectors.instagram.objects import unreadable_message_ids
from archiver.errors import ConfigError, ObjectGoneError, PlatformError
from archiver.http import ApiClient, Response
from archiver.items import item_key

log = logging.getLogger(__name__)

PAGE_SIZE = 100
READABLE_MESSAGES = 20
"""Messages per conversation whose details the platform serves (the newest)."""
UNREADABLE_NOTE = "unreadable_items"
"""WARC note listing item keys the platform lists but will not show (neither seen nor gone)."""

REPLY_FIELDS = "id,text,timestamp,from{id,username},username,like_count,hidden,parent_id"
COMMENT_FIELDS = f"{REPLY_FIELDS},replies.limit({PAGE_SIZE}){{{REPLY_FIELDS}}}"
MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,shortcode,timestamp,"
    "username,comments_count,like_count,children{id,media_type,media_url,thumbnail_url,timestamp},"
    f"comments.limit({PAGE_SIZE}){{{COMMENT_FIELDS}}}"
)
MESSAGE_FIELDS = (
    "id,created_time,from,to,message,attachments{id,mime_type,name,size,image_data,video_data,file_url}"
)
CONVERSATION_FIELDS = f"id,updated_time,participants,messages.limit({PAGE_SIZE}){{{MESSAGE_FIELDS}}}"
USER_FIELDS = "id,username,name,media_count"

_UNREADABLE: WeakKeyDictionary[ApiClient, set[str]] = WeakKeyDictionary()
"""Item keys of unreadable messages found so far in a client's run."""


def capture(client: ApiClient, account: Account, window: CaptureWindow, settings: Settings) -> list[Response]:
    """Fetch the IG user, its media with comments and replies, and its conversations; return
    every response (gaps go to ``client.report``)."""
    base = account.base_url(settings)
    inbox = conversations_node(account, base)
    responses = [client.get_api(f"{base}/{account.id}", {"fields": USER_FIELDS})]
    window_params = {"limit": str(PAGE_SIZE), "until": str(int(window["until"].timestamp()))}
    if window["since"] is not None:
        window_params["since"] = str(int(window["since"].timestamp()))
    media_params = {**window_params, "fields": MEDIA_FIELDS}
    for page in graph_pages(client, f"{base}/{account.id}/media", media_params):
        responses += [page, *_nested_pages(client, graph_data(page.json()), "comments", "replies")]
    conversation_params = {"platform": "instagram", "fields": CONVERSATION_FIELDS, "limit": str(PAGE_SIZE)}
    for page in graph_pages(client, f"{base}/{inbox}/conversations", conversation_params):
        responses.append(page)
        for conversation in graph_data(page.json()):
            responses += _conversation_messages(client, account, conversation)
    _note_unreadable(client)
    return responses


def conversations_node(account: Account, base: str) -> str:
    """Return the node whose ``conversations`` edge lists the account's direct messages: the
    linked Facebook Page (``page_id``) with Facebook Login, ``me`` with Instagram Login (decided
    by the effective base URL, so a base set in the environment counts too).

    Raises ConfigError for an account read through graph.facebook.com without ``page_id``
    (the IG user node has no ``conversations`` there: Graph answers error 100).
    """
    if "graph.instagram.com" in base:  # Instagram Login, whatever the accounts file says
        return "me"
    if account.page_id:
        return account.page_id
    if needs_page_id(base):
        raise ConfigError(
            f"Instagram account '{account.name}' is read through graph.facebook.com (Facebook Login), "
            "where its direct messages are on the linked Facebook Page: set page_id (the Page's id) "
            "for it in the accounts file, or use Instagram Login (api_base https://graph.instagram.com/...).",
            account=account.name,
        )
    return "me"


def confirm(
    client: ApiClient, account: Account, roots: list[tuple[str, str]], settings: Settings
) -> tuple[list[Response], list[str]]:
    """Look up media and conversations (native id, kind) the listings left out; return the
    answers and the ids the platform would not answer for.

    A root that still exists comes back with its comments or messages; one that is gone answers
    error 100/33, kept in the WARC as the evidence. Any other error leaves its state unknown.
    """
    base = account.base_url(settings)
    responses: list[Response] = []
    unknown: list[str] = []
    for native_id, kind in roots:
        try:
            responses.extend(_lookup(client, account, f"{base}/{native_id}", kind))
        except ObjectGoneError:
            continue
        except PlatformError as error:
            log.warning("%s: could not confirm %s %s: %s", account.name, kind, native_id, error)
            unknown.append(native_id)
    _note_unreadable(client)
    return responses, unknown


def _lookup(client: ApiClient, account: Account, url: str, kind: str) -> list[Response]:
    """Return one media or conversation with every page of its comments (and replies) or messages."""
    if kind == "conversation":
        found = client.get_api(url, {"fields": CONVERSATION_FIELDS})
        return [found, *_conversation_messages(client, account, found.json())]
    found = client.get_api(url, {"fields": MEDIA_FIELDS})
    return [found, *_nested_pages(client, [found.json()], "comments", "replies")]


def _conversation_messages(
    client: ApiClient, account: Account, conversation: dict[str, Any]
) -> list[Response]:
    """Return the further pages of a conversation's messages, and report the unreadable ones."""
    pages = list(_nested_pages(client, [conversation], "messages", None))
    listed = graph_data(conversation.get("messages"))
    unreadable = unreadable_message_ids(conversation)
    for page in pages:
        body = page.json()
        listed += graph_data(body)
        unreadable += unreadable_message_ids({"messages": body})
    if unreadable:
        conversation_id = str(conversation.get("id"))
        client.report.gap(
            "instagram_messages_beyond_newest_20",
            f"conversation {conversation_id}: {len(unreadable)} of {len(listed)} messages are older than "
            f"the newest {READABLE_MESSAGES}; Instagram lists them but does not serve their text, so "
            "the archive keeps what earlier runs captured of them and marks none as deleted.",
            conversation=conversation_id,
            unreadable=len(unreadable),
            listed=len(listed),
        )
        keys = _UNREADABLE.setdefault(client, set())
        keys.update(item_key(account.platform, account.id, native_id) for native_id in unreadable)
    return pages


def _note_unreadable(client: ApiClient) -> None:
    """Write every unreadable item key found so far into the WARC's notes (a later note wins)."""
    keys = _UNREADABLE.get(client)
    if keys:
        client.recorder.note({UNREADABLE_NOTE: sorted(keys)})


def _nested_pages(
    client: ApiClient, objects: list[dict[str, Any]], edge: str, inner_edge: str | None
) -> Iterator[Response]:
    """Yield the further pages of each object's nested ``edge``, and of ``inner_edge`` inside
    each of its entries (a comment's replies)."""
    for obj in objects:
        nested = obj.get(edge)
        entries = graph_data(nested)
        for page in graph_pages(client, next_page_url(nested), None):
            yield page
            entries += graph_data(page.json())
        if inner_edge is None:
            continue
        for entry in entries:
            yield from graph_pages(client, next_page_url(entry.get(inner_edge)), None)
