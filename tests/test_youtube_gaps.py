"""YouTube listings cut short: a video or comment thread gone between two calls of one run.

videos.list showed the video, so every archived comment of it that the run does not list would
be tombstoned. When its commentThreads or comments listing answers 404 midway, the run has no
evidence about the comments it did not reach: the video must be noted as ``threads_unlisted``.
The 404s come from the real sandbox, asked about ids it does not hold (as after a deletion).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from archiver.config import Account, Settings
from archiver.connectors import get_connector
from archiver.connectors.youtube import capture
from archiver.http import ApiClient
from archiver.items import item_key
from archiver.normalise import unsure_keys
from archiver.sandbox.youtube import ids
from archiver.warc import Redactor, WarcRecorder, read_notes

from archive_checks import FIRST_DAY, nightly_run_after
from conftest import SandboxFactory

GONE_POST = 999_999
"""Number of a world post that does not exist: its video id answers 404 like a deleted video."""


@dataclass
class YouTubeRun:
    api: capture._Api
    recorder: WarcRecorder
    account: Account


@pytest.fixture
def run(sandbox_factory: SandboxFactory) -> Iterator[YouTubeRun]:
    sandbox = sandbox_factory(seed=21, accounts=1, items_per_day=4, platforms=("youtube",))
    sandbox.set_clock(nightly_run_after(FIRST_DAY))
    entry = next(
        a for a in sandbox.world.accounts_file(sandbox.root_url)["accounts"] if a["platform"] == "youtube"
    )
    account = Account.model_validate(entry)
    token = sandbox.world.tokens()[account.token_env]
    recorder = WarcRecorder(Redactor([token]), {"run_id": "gaps"})
    settings = Settings()
    client = ApiClient(
        settings, recorder, token, account.token_env, "youtube test", dialect=get_connector("youtube").dialect
    )
    try:
        yield YouTubeRun(capture._Api(client, account, settings), recorder, account)
    finally:
        client.close()
        recorder.close()


def _unsure(run: YouTubeRun) -> set[str]:
    return unsure_keys(read_notes(run.recorder.getvalue()))


def test_a_video_gone_before_its_comments_are_listed_is_noted_unlisted(run: YouTubeRun) -> None:
    video = ids.video_id(f"{run.account.id}_{GONE_POST}")

    responses = capture._comments(run.api, video)

    assert responses == []
    assert item_key("youtube", run.account.id, video) in _unsure(run)


def test_a_thread_gone_before_its_replies_are_listed_notes_its_video_unlisted(run: YouTubeRun) -> None:
    video = ids.video_id(f"{run.account.id}_{GONE_POST}")
    gone_comment = ids.comment_id(f"{GONE_POST}_1")
    thread = {
        "id": gone_comment,
        "snippet": {"videoId": video, "totalReplyCount": 7, "topLevelComment": {"id": gone_comment}},
        "replies": {"comments": []},
    }

    assert capture._replies(run.api, video, thread) == []
    assert item_key("youtube", run.account.id, video) in _unsure(run)


def test_complete_listings_note_nothing(run: YouTubeRun) -> None:
    channel = run.api.get("channels", {"part": "snippet,contentDetails", "id": run.account.id})
    uploads = capture._uploads_playlist(channel.json(), run.account)
    page = run.api.get("playlistItems", {"part": "contentDetails", "playlistId": uploads, "maxResults": "50"})
    video = page.json()["items"][0]["contentDetails"]["videoId"]

    assert capture._comments(run.api, video)
    assert _unsure(run) == set()
