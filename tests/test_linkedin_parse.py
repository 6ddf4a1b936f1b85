"""The LinkedIn parser against payloads written from the Community Management API's field lists
(there are no LinkedIn peer samples): ids, times, authors, texts and parent links pinned by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from archiver.cli import app
from archiver.connectors import get_connector
from archiver.connectors.linkedin.dialect import thread_of, with_thread
from archiver.connectors.linkedin.littletext import unescape
from archiver.connectors.linkedin.parse import parse
from archiver.errors import ParseError
from archiver.items import check_observation
from archiver.sandbox.linkedin.render import little_text

FIXTURES = Path(__file__).parent / "fixtures" / "linkedin"
ORG = "2414183"
POSTS_URL = (
    "https://api.linkedin.com/rest/posts?q=author&author=urn%3Ali%3Aorganization%3A2414183"
    "&sortBy=LAST_MODIFIED&count=10&start=0"
)
COMMENTS_URL = "https://api.linkedin.com/rest/socialActions/urn%3Ali%3Ashare%3A7390123456789012480/comments"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _at(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


def test_every_fixture_payload_parses_into_valid_observations() -> None:
    for path in sorted(FIXTURES.glob("*.json")):
        if path.name.startswith("error"):
            continue
        found = list(parse(None, json.loads(path.read_text(encoding="utf-8")), ORG))
        assert found, path.name
        for observation in found:
            check_observation(dict(observation))


def test_posts_pin_ids_times_authors_and_unescaped_little_text() -> None:
    posts = {o["native_id"]: o for o in parse(POSTS_URL, _load("posts_by_author.json"), None)}
    assert list(posts) == [
        "urn:li:share:7390123456789012480",
        "urn:li:ugcPost:7389761234567890944",
        "urn:li:share:7389400000000000000",
    ]
    first = posts["urn:li:share:7390123456789012480"]
    assert first["item_key"] == f"linkedin:{ORG}:urn:li:share:7390123456789012480"
    assert first["account_id"] == ORG, "the account comes from the request's author parameter"
    assert first["kind"] == "post" and first["parent_key"] is None
    assert first["thread_key"] == first["item_key"]
    assert first["text"] == (
        "Snöröjningen i Göteborg pågår (kl. 06-18). Frågor? Kontakta Exempelby kommun #snö #Göteborg 😊"
    )
    assert first["created_at"] == _at(1762077600000) == datetime(2025, 11, 2, 10, 0, tzinfo=UTC)
    assert first["edited_at"] == _at(1762164000000), "isEditedByAuthor: lastModifiedAt is the edit"
    assert first["author_id"] == f"urn:li:organization:{ORG}"
    assert first["from_account"] is True and first["record_class"] == "upprättad"
    assert first["permalink"] == "https://www.linkedin.com/feed/update/urn:li:share:7390123456789012480/"
    assert first["attachments"][0]["type"] == "photo"
    assert first["attachments"][0]["title"] == "urn:li:image:D4E10AQHqZ5yb8xYz0w"
    assert first["attachments"][0]["source_url"] is None
    article = posts["urn:li:ugcPost:7389761234567890944"]
    assert article["text"] == "Läs mer om budgeten här __ 50% mer till skolan!"
    assert article["edited_at"] is None
    assert article["attachments"] == [
        {
            "type": "link",
            "source_url": "https://www.exempelby.se/nyheter/budget-2027",
            "media_sha256": None,
            "media_key": None,
            "mime": None,
            "size": None,
            "title": "Budget 2027 antagen",
        }
    ]
    assert [a["title"] for a in posts["urn:li:share:7389400000000000000"]["attachments"]] == [
        "urn:li:image:C5610AQ1",
        "urn:li:image:C5610AQ2",
    ]
    assert json.loads(first["source_json"])["lifecycleStateInfo"] == {"isEditedByAuthor": True}


def test_comments_and_replies_pin_parents_threads_authors_and_edits() -> None:
    found = {o["native_id"]: o for o in parse(COMMENTS_URL, _load("post_comments.json"), ORG)}
    post_key = f"linkedin:{ORG}:urn:li:share:7390123456789012480"
    comment = found["urn:li:comment:(urn:li:activity:7390123456789012481,7390150000000000000)"]
    assert comment["kind"] == "comment"
    assert comment["parent_key"] == comment["thread_key"] == post_key, "the post the request named"
    assert comment["author_id"] == "urn:li:person:8bvsEU0Dwf" and comment["author_name"] is None
    assert comment["from_account"] is False and comment["record_class"] == "inkommen"
    assert comment["text"] == "När plogas Björkvägen? Ring mig på 070-123 45 67"
    assert comment["created_at"] == _at(1762081200000)
    assert comment["edited_at"] == _at(1762084800000)
    assert comment["attachments"][0]["type"] == "photo"
    assert comment["attachments"][0]["source_url"].startswith("https://media.licdn.com/dms/image/D4D2CAQE/")
    reply = found["urn:li:comment:(urn:li:activity:7390123456789012481,7390200000000000001)"]
    assert reply["kind"] == "reply"
    assert reply["parent_key"] == comment["item_key"]
    assert reply["from_account"] is True and reply["author_id"] == f"urn:li:organization:{ORG}"
    assert reply["edited_at"] is None
    assert reply["permalink"] == (
        "https://www.linkedin.com/feed/update/urn:li:share:7390123456789012480/?commentUrn="
        "urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A7390123456789012481%2C7390200000000000001%29"
    )


def test_a_comment_without_its_request_threads_under_its_object() -> None:
    [single] = parse(None, _load("single_comment.json"), ORG)
    assert single["kind"] == "comment"
    assert single["thread_key"] == f"linkedin:{ORG}:urn:li:activity:7390123456789012481"
    assert single["text"] == "Tack {för} infon [bra]!", "comment text is plain, not little text"


def test_a_reply_listing_threads_under_the_post_its_url_fragment_names() -> None:
    """Replies come from ``/socialActions/{commentUrn}/comments``: the comment URN and the
    replies' ``object`` name only the post's activity; the capture marks the post in the URL's
    fragment (never sent), and the parser takes the thread from there."""
    comment_urn = "urn:li:comment:(urn:li:activity:7390123456789012481,7390150000000000000)"
    reply = _load("post_comments.json")["elements"][1]
    body = {"paging": {"start": 0, "count": 100, "total": 1}, "elements": [reply]}
    url = f"https://api.linkedin.com/rest/socialActions/{quote(comment_urn, safe='')}/comments?start=0&count=100"
    post_key = f"linkedin:{ORG}:urn:li:share:7390123456789012480"

    [marked] = parse(with_thread(url, "urn:li:share:7390123456789012480"), body, ORG)
    assert marked["kind"] == "reply" and marked["thread_key"] == post_key
    assert marked["parent_key"] == f"linkedin:{ORG}:{comment_urn}"
    assert thread_of(with_thread(url, "urn:li:ugcPost:1")) == "urn:li:ugcPost:1"
    assert thread_of(url) is None and thread_of(None) is None

    [unmarked] = parse(url, body, ORG)  # e.g. a WARC written before the capture marked threads
    assert unmarked["thread_key"] == f"linkedin:{ORG}:urn:li:activity:7390123456789012481"


def test_error_envelopes_and_odd_shapes_are_refused_for_quarantine() -> None:
    with pytest.raises(ParseError, match="426"):
        list(parse(None, _load("error_426.json"), ORG))
    with pytest.raises(ParseError, match="neither a post nor a comment"):
        list(parse(None, {"paging": {}, "elements": [{"foo": 1}]}, ORG))
    with pytest.raises(ParseError, match="epoch milliseconds"):
        body = _load("single_comment.json")
        body["created"]["time"] = "2025-11-02"
        list(parse(None, body, ORG))
    with pytest.raises(ParseError):
        list(parse(None, [1, 2], ORG))
    assert list(parse(None, {"id": "urn:li:organization:1", "localizedName": "X"}, ORG)) == []


def test_batch_results_are_read() -> None:
    post = _load("posts_by_author.json")["elements"][1]
    found = list(
        parse(None, {"results": {post["id"]: post}, "statuses": {post["id"]: 200}, "errors": {}}, ORG)
    )
    assert [o["native_id"] for o in found] == [post["id"]]


@pytest.mark.parametrize(
    "text",
    [
        "Hej (alla)! #Snö kl 10:00 {länk} @kommun \\ a_b*c~ <3 [x] |y|",
        "مرحبا #بلدية 😀 ሰላም",
        "",
    ],
)
def test_little_text_round_trips(text: str) -> None:
    assert unescape(little_text(text)) == text


def test_the_connector_is_registered() -> None:
    connector = get_connector("linkedin")
    assert connector.platform == "linkedin" and connector.dialect.name == "linkedin"


def test_normalise_command_prints_linkedin_items(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "normalise",
            "--platform",
            "linkedin",
            str(FIXTURES / "posts_by_author.json"),
            str(FIXTURES / "post_comments.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 5
    assert {line["kind"] for line in lines} == {"post", "comment", "reply"}
