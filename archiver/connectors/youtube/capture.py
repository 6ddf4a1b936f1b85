"""YouTube channel capture: the channel's videos in the window with every comment and reply.

Calls (each costs 1 quota unit, counted in ``client.report.quota_units``):

1. ``channels.list(id=UC...)``: the uploads playlist ``UU...``;
2. ``playlistItems.list`` (50 a page, newest first) until the videos are older than the window;
3. ``videos.list(id=<=50 ids>)`` for the videos published inside the window;
4. per video, one ``commentThreads.list`` pass per ``moderationStatus`` (published, heldForReview,
   likelySpam: held and spam comments are listed only to the owner and only when asked for);
5. ``comments.list(parentId=...)`` for every thread whose inline replies are not all of them.

A video that is listed is listed with all its comments, so a comment missing from it is gone;
where a listing cannot be completed (comments turned off, the video or a thread gone midway) the
video is noted as ``threads_unlisted`` and none of its comments is taken for deleted.
YouTube has no direct messages and does not deliver video files: both are reported as gaps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from archiver.config import Account, Settings
from archiver.connectors.base import CaptureWindow
from archiver.connectors.youtube.dialect import CommentsDisabledError, QuotaExceededError
from archiver.connectors.youtube.parse import _time
from archiver.errors import ObjectGoneError, PlatformError
from archiver.http import ApiClient, Response
from archiver.items import item_key

log = logging.getLogger(__name__)

VIDEO_BATCH = 50
PLAYLIST_PAGE = 50
COMMENT_PAGE = 100
MODERATION_STATUSES = ("published", "heldForReview", "likelySpam")
VIDEO_PARTS = "snippet,contentDetails,status,statistics"


class _Api:
    """The account's YouTube calls: each request's quota units go into the run report."""

    def __init__(self, client: ApiClient, account: Account, settings: Settings) -> None:
        self.client = client
        self.base = account.base_url(settings)
        self.account = account

    def get(self, resource: str, params: dict[str, str]) -> Response:
        """GET one list call; return the response (units are counted, also for failed calls)."""
        before = self.client.stats.requests
        refused = 0
        try:
            return self.client.get_api(f"{self.base}/{resource}", params)
        except QuotaExceededError as error:
            refused = 1  # a refused request spends nothing
            self.client.report.gap(
                "quota_exhausted",
                "The project's daily YouTube Data API quota ran out during this run; the run is "
                "incomplete and the day is captured again after the reset at midnight Pacific.",
                resource=resource,
            )
            raise error
        finally:
            self.client.report.quota_units += self.client.stats.requests - before - refused

    def pages(self, resource: str, params: dict[str, str]) -> Iterator[Response]:
        """Yield every page of a list call, following ``nextPageToken``."""
        token: str | None = None
        while True:
            page = self.get(resource, {**params, "pageToken": token} if token else params)
            yield page
            token = _next_token(page.json())
            if not token:
                return


def capture(client: ApiClient, account: Account, window: CaptureWindow, settings: Settings) -> list[Response]:
    """Fetch the channel, its videos published in the window and all their comments; return
    every response."""
    api = _Api(client, account, settings)
    _report_fixed_gaps(client)
    channel = api.get("channels", {"part": "snippet,contentDetails", "id": account.id})
    uploads = _uploads_playlist(channel.json(), account)
    responses = [channel]
    video_ids: list[str] = []
    for page in _playlist(api, uploads, window):
        responses.append(page)
        video_ids += _videos_in_window(page.json(), window)
    responses += _videos_with_comments(api, list(dict.fromkeys(video_ids)))
    return responses


def confirm(
    client: ApiClient, account: Account, roots: list[tuple[str, str]], settings: Settings
) -> tuple[list[Response], list[str]]:
    """Look up videos the listings left out; return the answers and the ids left unknown.

    ``videos.list(id=...)`` answers 200 and simply leaves out a video that no longer exists:
    that answer, kept in the WARC, is the evidence for its tombstone. A video still there comes
    back with all its comments, so they are not taken for deleted.
    """
    api = _Api(client, account, settings)
    wanted = [native_id for native_id, kind in roots if kind == "post"]
    unknown = [native_id for native_id, kind in roots if kind != "post"]
    responses: list[Response] = []
    for start in range(0, len(wanted), VIDEO_BATCH):
        batch = wanted[start : start + VIDEO_BATCH]
        try:
            responses += _videos_with_comments(api, batch)
        except QuotaExceededError:
            raise
        except PlatformError as error:
            log.warning("%s: could not confirm videos %s: %s", account.name, ", ".join(batch), error)
            unknown += batch
    return responses, unknown


def _report_fixed_gaps(client: ApiClient) -> None:
    client.report.gap("direct_messages", "YouTube has no direct messages; there are none to archive.")
    client.report.gap(
        "video_files",
        "The YouTube Data API does not deliver video files; each video is kept as its title, "
        "description, thumbnail and link.",
    )


def _uploads_playlist(body: Any, account: Account) -> str:
    for item in body.get("items") or []:
        uploads = item.get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
        if isinstance(uploads, str) and uploads:
            return uploads
    raise PlatformError(
        f"youtube account '{account.name}': channel {account.id} was not found (channels.list returned "
        "no uploads playlist). Check the account's id in the accounts file: a channel id starts with UC."
    )


def _playlist(api: _Api, uploads: str, window: CaptureWindow) -> Iterator[Response]:
    """Yield the uploads playlist's pages until a page holds only videos older than the window."""
    params = {"part": "contentDetails", "playlistId": uploads, "maxResults": str(PLAYLIST_PAGE)}
    for page in api.pages("playlistItems", params):
        yield page
        times = [_published(item) for item in page.json().get("items") or []]
        since = window["since"]
        if since is not None and times and all(t is not None and t < since for t in times):
            return


def _published(item: dict[str, Any]) -> datetime | None:
    details = item.get("contentDetails") or {}
    snippet = item.get("snippet") or {}
    return _time(details.get("videoPublishedAt") or snippet.get("publishedAt"), "videoPublishedAt")


def _videos_in_window(body: Any, window: CaptureWindow) -> list[str]:
    found = []
    for item in body.get("items") or []:
        video = (item.get("contentDetails") or {}).get("videoId")
        published = _published(item)
        if not isinstance(video, str) or published is None or published >= window["until"]:
            continue
        if window["since"] is None or published >= window["since"]:
            found.append(video)
    return found


def _videos_with_comments(api: _Api, video_ids: list[str]) -> list[Response]:
    """Return ``videos.list`` for the ids (50 at a time) and every comment of each video found."""
    responses: list[Response] = []
    for start in range(0, len(video_ids), VIDEO_BATCH):
        batch = video_ids[start : start + VIDEO_BATCH]
        page = api.get("videos", {"part": VIDEO_PARTS, "id": ",".join(batch), "maxResults": str(VIDEO_BATCH)})
        responses.append(page)
        for item in page.json().get("items") or []:
            if isinstance(item.get("id"), str):
                responses += _comments(api, item["id"])
    return responses


def _comments(api: _Api, video: str) -> list[Response]:
    """Return every comment thread of a video (one pass per moderation status) and its replies."""
    responses: list[Response] = []
    for status in MODERATION_STATUSES:
        params = {
            "part": "snippet,replies",
            "videoId": video,
            "maxResults": str(COMMENT_PAGE),
            "order": "time",
            "textFormat": "plainText",
            "moderationStatus": status,
        }
        try:
            for page in api.pages("commentThreads", params):
                responses.append(page)
                for thread in page.json().get("items") or []:
                    responses += _replies(api, video, thread)
        except CommentsDisabledError as error:
            api.client.report.gap(
                "comments_disabled",
                "Comments are turned off on this video: YouTube lists none of its comments, so this "
                "run could not re-check them.",
                video_id=video,
            )
            _note_unlisted(api, video)
            log.warning("%s", error)
            return responses
        except ObjectGoneError as error:
            # deleted between videos.list and now: the listing is incomplete (the next run sees the
            # video gone), so the comments it did not reach are not evidence of deletion
            _note_unlisted(api, video)
            log.warning("%s: comments of video %s not listed: %s", api.account.name, video, error)
            return responses
    return responses


def _note_unlisted(api: _Api, video: str) -> None:
    """Tell normalise that the video's comments were not all listed, so none is taken for deleted."""
    api.client.recorder.note({"threads_unlisted": [item_key("youtube", api.account.id, video)]})


def _replies(api: _Api, video: str, thread: dict[str, Any]) -> list[Response]:
    """Return ``comments.list(parentId=...)`` pages when the thread does not carry all its replies;
    when the thread is gone meanwhile, note ``video`` as unlisted and return the pages so far."""
    snippet = thread.get("snippet") or {}
    total = snippet.get("totalReplyCount") or 0
    inline = len((thread.get("replies") or {}).get("comments") or [])
    top = (snippet.get("topLevelComment") or {}).get("id") or thread.get("id")
    if not isinstance(top, str) or not isinstance(total, int) or total <= inline:
        return []
    params = {"part": "snippet", "parentId": top, "maxResults": str(COMMENT_PAGE), "textFormat": "plainText"}
    pages: list[Response] = []
    try:
        for page in api.pages("comments", params):
            pages.append(page)
    except ObjectGoneError as error:
        _note_unlisted(api, video)
        log.warning("%s: replies to comment %s not listed: %s", api.account.name, top, error)
    return pages


def _next_token(body: Any) -> str | None:
    token = body.get("nextPageToken") if isinstance(body, dict) else None
    return token if isinstance(token, str) and token else None
