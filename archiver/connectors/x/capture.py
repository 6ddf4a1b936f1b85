"""X capture: the account's posts, mentions, the replies in their conversations, and DMs.

One run reads, in order:

1. ``/2/users/:id``: the account itself.
2. ``/2/users/:id/tweets`` and ``/2/users/:id/mentions`` over the window (``start_time`` /
   ``end_time``): the account's posts and replies (newest 3,200 only) and what others wrote to
   it (newest 800 only); reaching a cap is reported as a gap.
3. The replies in every root's conversation, by search (``conversation_id:A OR ...`` packed
   into as few queries as the query length allows, every id of each root's edit chain):
   ``/2/tweets/search/recent`` for roots up to 6 days before the window's end (it covers 7
   days), ``/2/tweets/search/all`` for older roots and whenever recent search refuses the
   start time (a catch-up run): a reply missed here would be tombstoned, so there is no
   partial answer, and an app without full-archive search fails with a message saying so.
4. ``/2/dm_events``: direct messages of the last 30 days only; a window reaching further back
   (a full sweep, or a re-check window over 31 days) is reported as a gap. DM attachments live
   on ``ton.twitter.com`` and need the user's token: media downloads go without one (a token
   must not reach a media host), and an authenticated API GET expects JSON, so they are
   reported as the ``dm_media`` gap with their count; the messages keep their media keys and URLs.

``confirm`` looks up unlisted posts with ``/2/tweets?ids=`` (100 per request): a deleted post
answers HTTP 200 with a ``Not Found Error`` for its id, which stays in the WARC as the evidence
of its tombstone. A post answered only in an outdated version is looked up again by the newest
id of its edit history; one X shows neither way stays unconfirmed (never tombstoned). The
replies of every post a lookup returned are searched as in step 3 (recent search for posts up to
6 days old by the local clock, X's reference for its 7 days), since a post past the timeline's
cap is found only by lookup and its replies would otherwise be taken for deleted. Every
response's billable resources go into the run report as they arrive.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from archiver.config import Account, Settings
from archiver.connectors.base import CaptureWindow
from archiver.connectors.x.billing import bill
from archiver.connectors.x.parse import parse
from archiver.errors import ParseError, PlatformError
from archiver.http import ApiClient, Response

log = logging.getLogger(__name__)

TWEET_FIELDS: Final = (
    "id,text,created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,attachments,"
    "entities,public_metrics,edit_history_tweet_ids,edit_controls,note_tweet,lang,reply_settings"
)
EXPANSIONS: Final = (
    "author_id,attachments.media_keys,referenced_tweets.id,in_reply_to_user_id,edit_history_tweet_ids"
)
MEDIA_FIELDS: Final = "media_key,type,url,preview_image_url,variants,duration_ms,width,height,alt_text"
USER_FIELDS: Final = "id,name,username,created_at,profile_image_url"
DM_FIELDS: Final = (
    "id,text,event_type,created_at,sender_id,dm_conversation_id,participant_ids,referenced_tweets,attachments"
)
DM_EXPANSIONS: Final = "sender_id,participant_ids,attachments.media_keys,referenced_tweets.id"
TWEET_PARAMS: Final = {
    "tweet.fields": TWEET_FIELDS,
    "expansions": EXPANSIONS,
    "media.fields": MEDIA_FIELDS,
    "user.fields": USER_FIELDS,
}
TIMELINE_CAP: Final = 3200
MENTIONS_CAP: Final = 800
RECENT_SEARCH: Final = timedelta(days=6)
"""Roots created this long before the window's end are searched with recent search (7 days)."""
DM_HISTORY: Final = timedelta(days=30)
QUERY_CHARS: Final = {"recent": 512, "all": 1024}
LOOKUP_BATCH: Final = 100
DM_MEDIA_HOSTS: Final = frozenset({"ton.twitter.com", "ton.x.com"})
"""Hosts of DM attachments, which answer only requests signed with the user's token."""


def capture(client: ApiClient, account: Account, window: CaptureWindow, settings: Settings) -> list[Response]:
    """Fetch the account, its posts, mentions, their conversations' replies and its DMs; return
    every response."""
    base = account.base_url(settings)
    responses = [_get(client, f"{base}/users/{account.id}", {"user.fields": USER_FIELDS})]
    listed = {"start_time": _x_time(window["since"]), "end_time": _x_time(window["until"])}
    listing = {key: value for key, value in listed.items() if value} | TWEET_PARAMS | {"max_results": "100"}
    for edge, cap in (("tweets", TIMELINE_CAP), ("mentions", MENTIONS_CAP)):
        pages = list(_pages(client, f"{base}/users/{account.id}/{edge}", listing))
        _report_cap(client, edge, cap, pages, window)
        responses += pages
    # a page the parser cannot read is quarantined by normalise (which then writes no tombstones
    # of the kinds it could hold); the rest of the day is still captured
    responses += _replies(client, base, _roots(responses, account), window["until"])
    responses += _direct_messages(client, base, window)
    return responses


def confirm(
    client: ApiClient, account: Account, roots: list[tuple[str, str]], settings: Settings
) -> tuple[list[Response], list[str]]:
    """Look up posts (native id, kind) the listings left out, and search the replies of those
    still there; return the answers and the ids whose state X would not tell (neither shown in
    their newest version nor called ``Not Found``, and non-post roots)."""
    base = account.base_url(settings)
    posts = [native for native, kind in roots if kind == "post"]
    unknown = [native for native, kind in roots if kind != "post"]
    responses: list[Response] = []
    for start in range(0, len(posts), LOOKUP_BATCH):
        batch = posts[start : start + LOOKUP_BATCH]
        answers, answered = _look_up(client, base, batch, account)
        responses += answers
        unknown += [native for native in batch if native not in answered]
    found = _roots(responses, account)
    responses += _replies(client, base, found, datetime.now(UTC))
    return responses, unknown


def _look_up(
    client: ApiClient, base: str, asked: list[str], account: Account
) -> tuple[list[Response], set[str]]:
    """Look up posts by the first ids of their edit chains; return the answers and the ids they
    settle: shown in their newest version, or called ``Not Found``.

    X answers an id with the version it names: the first id of an edited post gives its
    original, which the parser does not take for the post (its newest version is only in
    ``includes``, when X sends it). Such a post is looked up again by the newest id its edit
    history names.
    """
    response = _get(client, f"{base}/tweets", {"ids": ",".join(asked), **TWEET_PARAMS})
    answers = [response]
    shown = _shown(response, account)
    newest = {
        chain[-1]
        for obj in _data(response.json())
        for chain in [_chain_ids(obj)]
        if chain[0] in asked and chain[0] not in shown and chain[-1] != str(obj.get("id"))
    }
    if newest:
        again = _get(client, f"{base}/tweets", {"ids": ",".join(sorted(newest)), **TWEET_PARAMS})
        answers.append(again)
        shown |= _shown(again, account)
    return answers, shown | _not_found(response.json(), asked, account)


def _shown(response: Response, account: Account) -> set[str]:
    """Return the native ids of the posts an answer shows in their newest version (none if the
    parser does not understand it: normalise quarantines it)."""
    try:
        return {observation["native_id"] for observation in parse(response.url, response.json(), account.id)}
    except ParseError as error:
        log.warning("%s: a lookup was not understood (%s); its posts stay unconfirmed", account.name, error)
        return set()


def _not_found(body: Any, asked: list[str], account: Account) -> set[str]:
    """Return the ids asked that a lookup answered with ``Not Found Error`` for the ``ids``
    parameter: the evidence that they are gone. Other errors are logged and settle nothing."""
    gone = set()
    for error in body.get("errors") or [] if isinstance(body, dict) else []:
        if not isinstance(error, dict):
            continue
        value = str(error.get("value") or error.get("resource_id"))
        not_found = str(error.get("type", "")).endswith("resource-not-found")
        if not_found and value in asked and error.get("parameter", "ids") == "ids":
            gone.add(value)
        elif value in asked:
            log.warning("%s: could not confirm post %s: %s", account.name, value, error.get("title"))
    return gone


def _chain_ids(obj: dict[str, Any]) -> list[str]:
    """Return a post's edit history (oldest first), or its id alone."""
    history = obj.get("edit_history_tweet_ids")
    if isinstance(history, list) and history:
        return [str(x) for x in history]
    return [str(obj.get("id"))]


def _roots(responses: list[Response], account: Account) -> dict[str, tuple[datetime, list[str]]]:
    """Return the posts in the responses that start a conversation: native id -> (created, chain
    ids). Answers the parser does not understand are skipped (normalise quarantines them)."""
    roots: dict[str, tuple[datetime, list[str]]] = {}
    for response in responses:
        try:
            observations = list(parse(response.url, response.json(), account.id))
        except ParseError as error:
            log.warning("%s: an answer was not understood (%s); normalise will quarantine it", account.name, error)
            continue
        for observation in observations:
            created = observation["created_at"]
            if observation["kind"] == "post" and created is not None:
                source = json.loads(observation["source_json"])
                chain = [str(x) for x in source.get("edit_history_tweet_ids") or [observation["native_id"]]]
                roots[observation["native_id"]] = (created, chain)
    return roots


def _replies(
    client: ApiClient, base: str, roots: dict[str, tuple[datetime, list[str]]], until: datetime
) -> list[Response]:
    """Return every page of the searches for the roots' conversations; roots created from 6 days
    before ``until`` on are searched with recent search."""
    recent_from = until - RECENT_SEARCH
    young = {native: root for native, root in roots.items() if root[0] >= recent_from}
    old = {native: root for native, root in roots.items() if root[0] < recent_from}
    responses: list[Response] = []
    for batch in _batches(young, QUERY_CHARS["recent"]):
        try:
            responses += _search(client, base, "recent", batch)
        except PlatformError as error:
            if "start_time" not in str(error):
                raise
            log.info("recent search refused the start time (a late run); searching the full archive")
            responses += _search(client, base, "all", batch)
    for batch in _batches(old, QUERY_CHARS["all"]):
        responses += _search(client, base, "all", batch)
    return responses


def _batches(
    roots: dict[str, tuple[datetime, list[str]]], limit: int
) -> Iterator[list[tuple[datetime, list[str]]]]:
    """Yield groups of roots whose ``conversation_id:`` terms fit into one query."""
    batch: list[tuple[datetime, list[str]]] = []
    length = 0
    for root in sorted(roots.values()):
        size = sum(len(f"conversation_id:{x} OR ") for x in root[1])
        if batch and length + size > limit + len(" OR "):
            yield batch
            batch, length = [], 0
        batch.append(root)
        length += size
    if batch:
        yield batch


def _search(
    client: ApiClient, base: str, kind: str, batch: list[tuple[datetime, list[str]]]
) -> list[Response]:
    query = " OR ".join(f"conversation_id:{x}" for _, chain in batch for x in chain)
    params = {
        **TWEET_PARAMS,
        "query": query,
        "start_time": _x_time(min(created for created, _ in batch)) or "",
        "max_results": "100" if kind == "recent" else "500",
    }
    return list(_pages(client, f"{base}/tweets/search/{kind}", params))


def _direct_messages(client: ApiClient, base: str, window: CaptureWindow) -> list[Response]:
    """Return every page of the account's DM events, reporting the 30-day limit when it bites."""
    since = window["since"]
    if since is None or window["until"] - since > DM_HISTORY + timedelta(days=1):
        horizon = window["until"] - DM_HISTORY
        client.report.gap(
            "dm_history",
            "X returns direct messages of the last 30 days only: messages from before about "
            f"{horizon:%Y-%m-%d} that earlier runs did not capture cannot be retrieved.",
            window_since=since.isoformat() if since else None,
            available_since=horizon.isoformat(),
        )
    params = {
        "dm_event.fields": DM_FIELDS,
        "expansions": DM_EXPANSIONS,
        "media.fields": MEDIA_FIELDS,
        "user.fields": USER_FIELDS,
        "max_results": "100",
    }
    pages = list(_pages(client, f"{base}/dm_events", params))
    _report_dm_media(client, pages)
    return pages


def _report_dm_media(client: ApiClient, pages: list[Response]) -> None:
    """Report the DM attachments X serves only to user-authenticated requests (on
    ``ton.twitter.com``): media downloads carry no token, so their files are not archived."""
    locked = {
        str(media.get("media_key"))
        for page in pages
        for media in _included_media(page.json())
        if any(urlsplit(url).hostname in DM_MEDIA_HOSTS for url in _media_urls(media))
    }
    if locked:
        client.report.gap(
            "dm_media",
            f"X serves {len(locked)} direct-message attachment(s) from ton.twitter.com only to a "
            "request signed with the account's user token; the archive's media downloads carry no "
            "token, so these files are not archived: the messages keep each attachment's media key "
            "and URL. Save them from the account's X inbox if a message's attachment is needed.",
            attachments=len(locked),
        )


def _included_media(body: Any) -> list[dict[str, Any]]:
    includes = body.get("includes") if isinstance(body, dict) else None
    media = includes.get("media") if isinstance(includes, dict) else None
    return [entry for entry in media or [] if isinstance(entry, dict)]


def _media_urls(media: dict[str, Any]) -> list[str]:
    variants = media.get("variants")
    urls = [media.get("url"), media.get("preview_image_url")]
    if isinstance(variants, list):
        urls += [variant.get("url") for variant in variants if isinstance(variant, dict)]
    return [url for url in urls if isinstance(url, str)]


def _report_cap(client: ApiClient, edge: str, cap: int, pages: list[Response], window: CaptureWindow) -> None:
    listed = sum(int((page.json().get("meta") or {}).get("result_count") or 0) for page in pages)
    if listed >= cap:
        client.report.gap(
            f"{edge}_cap",
            f"X lists only the newest {cap} posts of /users/:id/{edge}; older ones in the window "
            "were reached only through lookups of posts the archive already held.",
            listed=listed,
            window_since=window["since"].isoformat() if window["since"] else None,
        )


def _pages(client: ApiClient, url: str, params: dict[str, str]) -> Iterator[Response]:
    """Yield a listing's pages, following ``meta.next_token`` as ``pagination_token``."""
    token: str | None = None
    while True:
        page = _get(client, url, {**params, "pagination_token": token} if token else params)
        yield page
        meta = page.json().get("meta") if isinstance(page.json(), dict) else None
        token = meta.get("next_token") if isinstance(meta, dict) else None
        if not token:
            return


def _get(client: ApiClient, url: str, params: dict[str, str]) -> Response:
    response = client.get_api(url, params)
    bill(client, response)
    return response


def _data(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict):
        return [data]
    return [obj for obj in data or [] if isinstance(obj, dict)] if isinstance(data, list) else []


def _x_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None
