"""LinkedIn Page capture: the organization's posts, each with its comments and their replies.

``GET /rest/posts?q=author&sortBy=LAST_MODIFIED`` lists the posts, most recently changed first,
so paging stops once a page reaches posts last changed before the window (a post created in
the window was changed in it too). Each listed post's comments come from
``/rest/socialActions/{post urn}/comments``, and replies from the same edge on each comment's
``commentUrn`` (only where ``commentsSummary`` says there are any); a reply listing's URL
carries the post's URN in its fragment (never sent; see :mod:`.dialect`), since the comment URN
names only the post's activity. A page without ``total`` or a
``next`` link that is full may have more after it: the next page is asked for (an empty one ends
the list); a post whose comments cannot be paged to the end is noted as ``threads_unlisted``.
Every run reports the gaps
LinkedIn imposes: no API for Page direct messages, no names of members, post media by URN only.
A throttle that outlasts the back-off ends the run with a resumable error and a report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import quote

from archiver.config import Account, Settings
from archiver.connectors.base import CaptureWindow
from archiver.connectors.linkedin.dialect import version_headers, with_thread
from archiver.errors import ObjectGoneError, PlatformError, ThrottledError
from archiver.http import ApiClient, Response
from archiver.items import item_key
from archiver.report import CaptureReport

log = logging.getLogger(__name__)

POST_PAGE_SIZE: Final = 50
COMMENT_PAGE_SIZE: Final = 100


def capture(client: ApiClient, account: Account, window: CaptureWindow, settings: Settings) -> list[Response]:
    """Fetch the posts changed in the window with their comment trees; return every response."""
    report_platform_gaps(client.report)
    base = account.base_url(settings)
    headers = version_headers(settings)
    with _throttle_reported(client.report, account):
        listing = list(_post_pages(client, base, account, window, headers))
        responses = list(listing)
        media = 0
        for page in listing:
            for post in _elements(page.json()):
                media += _post_media(post)
                responses.extend(_comment_tree(client, base, str(post.get("id")), headers, account))
    if media:
        client.report.gap(
            "post_media",
            "LinkedIn's Posts API names a post's images and videos by URN only; the archive keeps "
            "the URN (attachment title) and the post's JSON, not the file.",
            media=media,
        )
    return responses


def confirm(
    client: ApiClient, account: Account, roots: list[tuple[str, str]], settings: Settings
) -> tuple[list[Response], list[str]]:
    """Look up posts the listing left out; return the answers and the URNs LinkedIn would not
    answer for. A post that exists comes back with its comments; a 404 (kept in the WARC) is the
    evidence that it is gone."""
    base = account.base_url(settings)
    headers = version_headers(settings)
    responses: list[Response] = []
    unknown: list[str] = []
    with _throttle_reported(client.report, account):
        for urn, kind in roots:
            try:
                if kind == "post":
                    responses.append(client.get_api(f"{base}/posts/{_enc(urn)}", None, headers))
                    responses.extend(_comment_tree(client, base, urn, headers, account))
                else:
                    log.warning("%s: no lookup for a LinkedIn %s (%s)", account.name, kind, urn)
                    unknown.append(urn)
            except ObjectGoneError:
                continue
            except PlatformError as error:
                log.warning("%s: could not confirm %s %s: %s", account.name, kind, urn, error)
                unknown.append(urn)
    return responses, unknown


def report_platform_gaps(report: CaptureReport) -> None:
    """Record what LinkedIn never delivers through its API, in every run's report."""
    report.gap(
        "direct_messages",
        "LinkedIn has no API for a Company Page's messages (Page inbox, InMail): they are not "
        "archived; keep them by other means (export from the Page's admin view).",
    )
    report.gap(
        "author_names",
        "LinkedIn's Comments API names members by URN (urn:li:person:...) only; names are not archived.",
    )


class _throttle_reported:
    """Turns a throttle that outlasted the back-off into a resumable error with a report gap."""

    def __init__(self, report: CaptureReport, account: Account) -> None:
        self.report = report
        self.account = account

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        if isinstance(error, ThrottledError):
            self.report.gap(
                "rate_limit",
                "LinkedIn answered 429 (no Retry-After) past every back-off: the app's or member's "
                "daily limit for an endpoint is used up until midnight UTC. The run stopped; the next "
                "run captures the day again.",
            )
            raise PlatformError(
                f"{error} The run is sealed as failed with what it received; run the day again after "
                "midnight UTC (the next scheduled run does).",
                resumable="yes",
            ) from None


def _post_pages(
    client: ApiClient, base: str, account: Account, window: CaptureWindow, headers: dict[str, str]
) -> Iterator[Response]:
    """Yield the pages of the organization's posts, newest change first, down to the window."""
    since = window["since"]
    floor = int(since.timestamp() * 1000) if since is not None else None
    start = 0
    listed: set[str] = set()
    while True:
        params = {
            "q": "author",
            "author": f"urn:li:organization:{account.id}",
            "sortBy": "LAST_MODIFIED",
            "count": str(POST_PAGE_SIZE),
            "start": str(start),
        }
        page = client.get_api(f"{base}/posts", params, headers)
        yield page
        body = page.json()
        elements = _elements(body)
        start += len(elements)
        if not _has_more(body, elements, start, POST_PAGE_SIZE) or _repeats(elements, listed):
            return  # a post the listing leaves out is looked up by URN (confirm) before a tombstone
        oldest = elements[-1].get("lastModifiedAt")
        if floor is not None and isinstance(oldest, int) and oldest < floor:
            return


def _comment_tree(
    client: ApiClient,
    base: str,
    urn: str,
    headers: dict[str, str],
    account: Account,
    thread: str | None = None,
) -> Iterator[Response]:
    """Yield every page of the comments on ``urn`` and, recursively, of their replies.

    ``thread`` is the post's URN (``urn`` itself at the top), written into the fragment of
    each reply listing's URL for the parser. When LinkedIn's paging cannot be
    followed to the end, the post is noted as ``threads_unlisted``, so the comments not reached
    are not taken for deleted.
    """
    thread = thread or urn
    start = 0
    listed: set[str] = set()
    while True:
        params = {"start": str(start), "count": str(COMMENT_PAGE_SIZE)}
        url = f"{base}/socialActions/{_enc(urn)}/comments"
        page = client.get_api(with_thread(url, thread) if urn != thread else url, params, headers)
        yield page
        body = page.json()
        elements = _elements(body)
        for comment in elements:
            summary = comment.get("commentsSummary")
            replies = summary.get("aggregatedTotalComments") if isinstance(summary, dict) else None
            if replies != 0 and isinstance(comment.get("commentUrn"), str):
                yield from _comment_tree(client, base, comment["commentUrn"], headers, account, thread)
        start += len(elements)
        if not _has_more(body, elements, start, COMMENT_PAGE_SIZE):
            return
        if _repeats(elements, listed):
            log.warning(
                "%s: LinkedIn served the same comments of %s again at start=%d without paging data; "
                "the post is noted as not fully listed",
                account.name,
                urn,
                start,
            )
            client.recorder.note({"threads_unlisted": [item_key("linkedin", account.id, thread)]})
            return


def _has_more(body: Any, elements: list[dict[str, Any]], start: int, count: int) -> bool:
    """Return whether a collection may have a further page: by ``total``, else a ``next`` link,
    else (no paging data) whether the page was full (``count`` elements): then the next page
    must be asked for, an empty one ends the collection."""
    if not elements:
        return False
    paging = body.get("paging") if isinstance(body, dict) else None
    paging = paging if isinstance(paging, dict) else {}
    total = paging.get("total")
    if isinstance(total, int):
        return start < total
    links = paging.get("links")
    if isinstance(links, list) and any(
        isinstance(link, dict) and link.get("rel") == "next" for link in links
    ):
        return True
    served = paging.get("count")
    return len(elements) >= (served if isinstance(served, int) and 0 < served < count else count)


def _repeats(elements: list[dict[str, Any]], listed: set[str]) -> bool:
    """Return whether a page holds an element already listed (the API ignored ``start``); add the
    page's elements to ``listed``."""
    keys = {str(obj.get("commentUrn") or obj.get("id")) for obj in elements}
    repeated = not keys.isdisjoint(listed)
    listed |= keys
    return repeated


def _post_media(post: dict[str, Any]) -> int:
    content = post.get("content")
    if not isinstance(content, dict):
        return 0
    multi = content.get("multiImage")
    images = multi.get("images") if isinstance(multi, dict) else None
    return (1 if isinstance(content.get("media"), dict) else 0) + (
        len(images) if isinstance(images, list) else 0
    )


def _elements(body: Any) -> list[dict[str, Any]]:
    elements = body.get("elements") if isinstance(body, dict) else None
    return [obj for obj in elements or [] if isinstance(obj, dict)]


def _enc(urn: str) -> str:
    """Return a URN encoded for a URL path (``urn%3Ali%3Ashare%3A1``)."""
    return quote(urn, safe="")
