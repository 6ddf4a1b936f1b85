"""The YouTube parser on real Data API v3 payloads recorded by another project (peer samples),
with a few ids, times, authors, texts and parent links checked by hand, and on the sandbox's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archiver.connectors.youtube.parse import parse
from archiver.errors import ParseError
from archiver.normalise_files import normalise_files

PEER = Path(__file__).parent / "fixtures" / "peer" / "youtube" / "sns-sdks__python-youtube" / "testdata"
SAMPLES = sorted(PEER.rglob("*.json"))
ERROR_SAMPLES = {"apidata/error_permission_resp.json"}


def load(name: str) -> Any:
    return json.loads((PEER / name).read_text(encoding="utf-8"))


def by_id(name: str, url: str | None = None, account: str | None = "UCowner") -> dict[str, dict[str, Any]]:
    return {o["native_id"]: dict(o) for o in parse(url, load(name), account)}


def test_there_are_peer_samples() -> None:
    assert len(SAMPLES) >= 50


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(PEER)))
def test_every_peer_sample_parses(path: Path) -> None:
    name = str(path.relative_to(PEER))
    body = json.loads(path.read_text(encoding="utf-8"))
    if name in ERROR_SAMPLES:
        with pytest.raises(ParseError, match="error answer"):
            list(parse(None, body, None))
        return
    for observation in parse(None, body, None):
        assert observation["platform"] == "youtube"
        assert observation["kind"] in ("post", "comment", "reply")
        assert observation["thread_key"].startswith("youtube:")
        assert observation["created_at"] is None or observation["created_at"].tzinfo is not None
        assert json.loads(observation["source_json"])


def test_comment_threads_by_video_pinned_by_hand() -> None:
    found = by_id("apidata/comment_threads/comment_threads_by_video_paged_1.json")
    first = found["UgyZ1jqkHKYvi1-ruOZ4AaABAg"]
    assert first["kind"] == "comment"
    assert first["author_name"] == "himani agarwal"
    assert first["author_id"] == "UCzj-CjKYmGlZ7vTL-vOe57A"
    assert first["text"] == "Google.com"  # textOriginal, not the HTML textDisplay
    assert first["parent_key"] == first["thread_key"] == "youtube:UCowner:F1UP7wRCPH8"
    assert first["created_at"] == datetime(2019, 11, 26, 15, 51, 44, tzinfo=UTC)
    assert first["edited_at"] is None and first["state"] == "present" and first["visibility"] == "public"
    assert first["record_class"] == "inkommen" and not first["from_account"]
    assert first["permalink"] == "https://www.youtube.com/watch?v=F1UP7wRCPH8&lc=UgyZ1jqkHKYvi1-ruOZ4AaABAg"


def test_replies_by_parent_link_to_their_comment() -> None:
    found = by_id("apidata/comments/comments_by_parent_paged_1.json")
    reply = found["Ugw5zYU6n9pmIgAZWvN4AaABAg.91zT3cYb5B291za6voUoRh"]
    assert reply["kind"] == "reply"
    assert reply["parent_key"] == "youtube:UCowner:Ugw5zYU6n9pmIgAZWvN4AaABAg"
    assert reply["text"] == "this is the third reply!"
    assert reply["author_name"] == "kun liu"
    assert reply["created_at"] == datetime(2019, 12, 1, 4, 46, 31, tzinfo=UTC)


def test_a_thread_with_inline_replies_gives_comment_and_reply_in_one_thread() -> None:
    found = by_id("modeldata/comments/comment_thread_info.json")
    top, reply = found["UgydxWWoeA7F1OdqypJ4AaABAg"], found["UgydxWWoeA7F1OdqypJ4AaABAg.8wWQ3tdHcFx8xcDheui-qb"]
    assert top["text"] == "Actions.ai" and top["author_name"] == "Loren Robilio"
    assert reply["parent_key"] == top["item_key"]
    assert reply["thread_key"] == top["thread_key"] == "youtube:UCowner:D-lhorsDlUQ"
    assert reply["text"] == "#" and reply["created_at"] == datetime(2019, 7, 20, 20, 22, 27, tzinfo=UTC)


def test_a_video_is_the_post_with_title_description_and_thumbnail() -> None:
    body = load("apidata/videos/videos_info_single.json")
    (video,) = parse(None, body, None)  # the account comes from the body's channelId
    assert video["item_key"] == "youtube:UC_x5XG1OV2P6uZZ5FSM9Ttw:D-lhorsDlUQ"
    assert video["kind"] == "post" and video["parent_key"] is None
    assert video["thread_key"] == video["item_key"]
    assert video["text"].startswith("What are Actions on Google (Assistant on Air)\n\nIn the first episode")
    assert video["author_name"] == "Google Developers" and video["from_account"]
    assert video["record_class"] == "upprättad"
    assert video["created_at"] == datetime(2019, 3, 21, 20, 37, 49, tzinfo=UTC)
    assert video["attachments"] == [
        {"type": "photo", "source_url": "https://i.ytimg.com/vi/D-lhorsDlUQ/maxresdefault.jpg", "title": "thumbnail"}
    ]
    assert video["permalink"] == "https://www.youtube.com/watch?v=D-lhorsDlUQ"


def test_listings_of_pointers_yield_nothing() -> None:
    for name in (
        "apidata/playlist_items/playlist_items_paged_1.json",
        "apidata/channels/info.json",
        "apidata/search/search_by_mine.json",
        "apidata/activities/activities_by_channel_p1.json",
    ):
        assert list(parse(None, load(name), "UCowner")) == []


def test_held_comments_are_hidden_and_html_display_text_is_made_plain() -> None:
    comment = {
        "kind": "youtube#comment",
        "id": "UgxHELD",
        "snippet": {
            "videoId": "abcdefghijk",
            "authorDisplayName": "A Resident",
            "authorChannelId": {"value": "UCresident"},
            "textDisplay": "Hej &amp; tack<br>rad två",
            "moderationStatus": "heldForReview",
            "publishedAt": "2026-11-02T10:00:00Z",
            "updatedAt": "2026-11-02T11:30:00Z",
            "imageUrl": "https://yt3.ggpht.com/image.jpg",
        },
    }
    (held,) = parse(None, {"items": [comment]}, "UCowner")
    assert (held["visibility"], held["state"]) == ("hidden", "hidden")
    assert held["text"] == "Hej & tack\nrad två"
    assert held["edited_at"] == datetime(2026, 11, 2, 11, 30, tzinfo=UTC)
    assert held["attachments"] == [{"type": "photo", "source_url": "https://yt3.ggpht.com/image.jpg"}]
    del comment["snippet"]["moderationStatus"]  # the request's moderationStatus says it then
    url = "https://www.googleapis.com/youtube/v3/commentThreads?moderationStatus=likelySpam&textFormat=plainText"
    thread = {"kind": "youtube#commentThread", "id": "UgxHELD", "snippet": {"topLevelComment": comment}}
    (spam,) = parse(url, {"items": [thread]}, "UCowner")
    assert spam["state"] == "hidden" and spam["text"] == "Hej &amp; tack<br>rad två"


def test_bad_bodies_raise_parse_errors() -> None:
    with pytest.raises(ParseError):
        list(parse(None, [1, 2], "UCowner"))
    with pytest.raises(ParseError, match="publishedAt"):
        list(parse(None, {"items": [{"kind": "youtube#video", "id": "x", "snippet": {"publishedAt": "soon"}}]}, None))
    with pytest.raises(ParseError, match="quotaExceeded"):
        error = {"error": {"code": 403, "message": "quota", "errors": [{"reason": "quotaExceeded"}]}}
        list(parse(None, error, None))


def test_archiver_normalise_reads_raw_bodies_for_youtube() -> None:
    files = [PEER / "apidata/comment_threads/comment_threads_all_to_me.json", PEER / "apidata/error_permission_resp.json"]
    results = list(normalise_files("youtube", files))
    assert len(results[0].observations) == 4 and not results[0].problems
    assert results[1].problems and "error answer" in results[1].problems[0]
