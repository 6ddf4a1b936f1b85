"""X direct-message attachments: on the real platform they live on ``ton.twitter.com`` and need
the user's token, which media downloads never carry, so the run reports them as a gap.

The real sandbox serves the DM events; a transport in between moves the DM attachments' URLs to
``ton.twitter.com``, as X serves them (the sandbox signs its own media URLs instead)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from archiver.config import Account, Settings
from archiver.connectors.x.capture import capture
from archiver.connectors.x.dialect import X_API
from archiver.http import ApiClient
from archiver.runs import capture_window
from archiver.warc import Redactor, WarcRecorder

from archive_checks import FIRST_DAY, nightly_run_after
from x_checks import X_ACCOUNT, XSandbox, x_sandbox

DAY = FIRST_DAY + timedelta(days=3)
TON = "https://ton.twitter.com/1.1/ton/data/dm/{event}/{key}/photo.jpg"


class TonUrls(httpx.HTTPTransport):
    """Passes requests to the sandbox; in DM event pages, points each attachment at ton.twitter.com."""

    def __init__(self, move: bool) -> None:
        super().__init__()
        self.move = move

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not request.url.path.endswith("/dm_events") or response.status_code != 200:
            return response
        body = json.loads(response.read())
        for media in (body.get("includes") or {}).get("media") or []:
            if self.move:
                media["url"] = TON.format(event=1, key=media["media_key"])
        return httpx.Response(
            200, headers={"Content-Type": "application/json"}, content=json.dumps(body).encode()
        )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[XSandbox]:
    with x_sandbox(items_per_day=40) as running:
        running.set_clock(nightly_run_after(DAY))
        yield running


def _gaps(sandbox: XSandbox, move: bool) -> tuple[list[dict[str, object]], int]:
    entry = next(
        a for a in sandbox.world.accounts_file(sandbox.root_url)["accounts"] if a["name"] == X_ACCOUNT
    )
    account = Account.model_validate(entry)
    token = sandbox.world.account(X_ACCOUNT).token
    recorder = WarcRecorder(Redactor([token]), {"run_id": "dm-media"})
    settings = Settings()
    client = ApiClient(settings, recorder, token, account.token_env, "x test", TonUrls(move), dialect=X_API)
    try:
        responses = capture(client, account, capture_window(DAY, settings), settings)
    finally:
        client.close()
        recorder.close()
    attached = {
        str(media["media_key"])
        for response in responses
        if "/dm_events" in response.url
        for media in (response.json().get("includes") or {}).get("media") or []
    }
    return [gap for gap in client.report.gaps if gap["kind"] == "dm_media"], len(attached)


def test_dm_attachments_on_ton_twitter_com_are_reported_with_their_count(sandbox: XSandbox) -> None:
    gaps, attached = _gaps(sandbox, move=True)
    assert attached, "the sandbox world should have direct messages with attachments"
    assert [gap["attachments"] for gap in gaps] == [attached]
    assert "ton.twitter.com" in str(gaps[0]["detail"])


def test_dm_attachments_anyone_can_download_are_no_gap(sandbox: XSandbox) -> None:
    assert _gaps(sandbox, move=False)[0] == []
