"""The Instagram Graph API parser and ``archiver normalise --platform instagram``, on real payloads.

The peer samples under ``tests/fixtures/peer/meta`` (their Instagram files) were recorded from the
real platform by other projects (see ``tests/fixtures/peer/NOTICE``); a few ids, times, authors,
texts and parent links are pinned by hand below. Synthetic bodies cover the capture's shapes
(media pages with nested comments and replies, conversations whose older messages are listed
by id only).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from test_facebook_parse import INSTAGRAM_SAMPLES, OBSERVATION_FIELDS, OBSERVATION_SCHEMA, PEER, SAMPLES
from typer.testing import CliRunner

from archiver.cli import app
from archiver.connectors import get_connector
from archiver.connectors.base import Observation
from archiver.connectors.instagram import parse
from archiver.connectors.instagram.objects import unreadable_message_ids
from archiver.errors import ParseError

SDK = PEER / "sns-sdks__python-facebook"
GRAPH = "https://graph.facebook.com/v26.0"


def load(path: Path) -> Any:
    """Return the decoded JSON of a fixture file."""
    return json.loads(path.read_text(encoding="utf-8"))


def observations(path: Path, url: str | None = None, account_id: str | None = None) -> list[Observation]:
    """Return every observation of one fixture file."""
    return list(parse(url, load(path), account_id))


def by_id(found: list[Observation]) -> dict[str, Observation]:
    """Return observations keyed by native id."""
    return {obs["native_id"]: obs for obs in found}


def at(text: str) -> datetime:
    """Return an aware UTC datetime from ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("path", INSTAGRAM_SAMPLES, ids=[str(p.relative_to(PEER)) for p in INSTAGRAM_SAMPLES])
def test_every_instagram_peer_sample_is_accepted(path: Path) -> None:
    found = list(parse(None, load(path), None))
    for obs in found:
        assert list(obs) == OBSERVATION_FIELDS
        assert obs["platform"] == "instagram"
        assert obs["item_key"] == f"instagram:{obs['account_id']}:{obs['native_id']}"
        assert obs["thread_key"].startswith(f"instagram:{obs['account_id']}:")
        assert obs["from_account"] == (obs["author_id"] is not None and obs["author_id"] == obs["account_id"])
        assert obs["created_at"] is None or obs["created_at"].utcoffset().total_seconds() == 0
    assert len({obs["item_key"] for obs in found}) == len(found)
    pa.Table.from_pylist(list(found), schema=OBSERVATION_SCHEMA)


def test_the_instagram_connector_parses_what_the_registry_names() -> None:
    connector = get_connector("instagram")
    assert (connector.platform, connector.parse, connector.dialect.token_parameter) == (
        "instagram",
        parse,
        "access_token",
    )


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("testdata/instagram/apidata/medias/medias_fields.json", {"post": 2}),
        ("_old_82ba0424_parent/testdata/instagram/apidata/comments/comment_default_p2.json",
         {"comment": 4, "reply": 5}),
        ("testdata/instagram/apidata/stories/stories_default.json", {"post": 3}),
        ("testdata/instagram/apidata/medias/insights.json", {}),
        ("testdata/instagram/apidata/medias/product_tags.json", {}),
        ("testdata/instagram_basic/models/user_info.json", {}),
        ("testdata/instagram/apidata/discovery/medias_p1.json", {}),
    ],
)  # fmt: skip
def test_sample_item_counts(relative: str, expected: dict[str, int]) -> None:
    counts: dict[str, int] = {}
    for obs in observations(SDK / relative):
        counts[obs["kind"]] = counts.get(obs["kind"], 0) + 1
    assert counts == expected


def test_carousel_children_are_the_attachments() -> None:
    found = by_id(observations(SDK / "testdata/instagram/apidata/medias/medias_fields.json"))
    album = found["17896129349106152"]
    assert (album["kind"], album["text"], album["parent_key"]) == ("post", "ALBUM", None)
    assert [a["type"] for a in album["attachments"]] == ["photo", "photo", "video"]
    image = found["17893085207160254"]
    assert (image["text"], image["created_at"], image["permalink"]) == (
        "Peach new",
        at("2021-06-09 09:47:29"),
        "https://www.instagram.com/p/CP5Rq0bjBzn/",
    )
    assert str(image["attachments"][0]["source_url"]).startswith("https://scontent-gmp1-1.cdninstagram.com/")


def test_instagram_webhook_comment_reply_and_message() -> None:
    [reply] = observations(PEER / "restfb__restfb/instagram/wh-comments-2021.json")
    assert (reply["kind"], reply["native_id"], reply["account_id"]) == ("reply", "123456789", "0")
    assert (reply["parent_key"], reply["thread_key"]) == ("instagram:0:987654321", "instagram:0:76543987")
    assert (reply["author_id"], reply["author_name"], reply["text"]) == (
        "1234536447",
        "testuser",
        "This is an example.",
    )
    assert reply["created_at"] == datetime.fromtimestamp(1519399307, UTC)
    [message] = observations(PEER / "restfb__restfb/instagram/messaging-attachment-unsupported.json")
    assert (message["kind"], message["account_id"], message["author_id"]) == (
        "message",
        "17841452691600098",
        "5614879045272581",
    )
    assert message["native_id"].startswith("aWdfZAG1faXRlbToxOklHTWVzc2FnZA")
    assert message["thread_key"] == "instagram:17841452691600098:dm_5614879045272581"
    assert message["record_class"] == "inkommen" and message["visibility"] == "private"


def test_conversation_with_messages_beyond_the_newest_is_parsed_without_them() -> None:
    newest = {
        "id": "aWdfZAG1new",
        "created_time": "2026-11-02T10:00:00+0000",
        "from": {"username": "exempelby_kommun", "id": "900"},
        "to": {"data": [{"username": "anna.berg_123", "id": "17841000000000123"}]},
        "message": "Hej Anna!",
    }
    conversation = {
        "id": "aWdfZG06MTp0",
        "updated_time": "2026-11-02T10:00:00+0000",
        "participants": {"data": [{"username": "anna.berg_123", "id": "17841000000000123"}, {"username": "exempelby_kommun", "id": "900"}]},
        "messages": {"data": [newest, {"id": "aWdfZAG1old"}]},
    }  # fmt: skip
    found = by_id(
        list(parse(f"{GRAPH}/900/conversations?platform=instagram", {"data": [conversation]}, None))
    )
    assert set(found) == {"aWdfZG06MTp0", "aWdfZAG1new"}
    thread = found["aWdfZG06MTp0"]
    assert (thread["account_id"], thread["author_id"], thread["author_name"]) == (
        "900",
        "17841000000000123",
        "anna.berg_123",
    )
    message = found["aWdfZAG1new"]
    assert (message["parent_key"], message["from_account"], message["record_class"]) == (
        "instagram:900:aWdfZG06MTp0",
        True,
        "upprättad",
    )
    assert unreadable_message_ids(conversation) == ["aWdfZAG1old"]


def test_facebook_bodies_are_left_to_the_facebook_connector() -> None:
    for path in (SDK / "testdata/facebook/apidata/posts/single_post_data.json", SAMPLES[0]):
        with pytest.raises(ParseError, match="--platform facebook"):
            list(parse(None, load(path), None))
    messenger = SDK / "testdata/facebook/models/message.json"
    with pytest.raises(ParseError, match="Facebook object"):
        list(parse(None, load(messenger), None))


def test_error_envelope_raises_with_graph_code() -> None:
    with pytest.raises(ParseError) as raised:
        list(parse(None, load(SDK / "testdata/base/error_data.json"), None))
    assert raised.value.context["code"] == 100


def test_normalise_command_prints_instagram_items(tmp_path: Path) -> None:
    page = tmp_path / "media.json"
    page.write_text(
        (SDK / "testdata/instagram/apidata/medias/medias_fields.json").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["normalise", "--platform", "instagram", str(page)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert {(line["platform"], line["kind"]) for line in lines} == {("instagram", "post")}
    assert {line["native_id"] for line in lines} == {"17893085207160254", "17896129349106152"}


def test_comments_and_replies_of_a_media_pinned_by_hand() -> None:
    path = SDK / "_old_82ba0424_parent/testdata/instagram/apidata/comments/comment_default_p2.json"
    found = by_id(observations(path, f"{GRAPH}/17955956875141196/comments", "17841406338772941"))
    media_key = "instagram:17841406338772941:17955956875141196"
    top = found["17984127178281340"]
    assert (top["platform"], top["kind"], top["parent_key"], top["thread_key"]) == (
        "instagram",
        "comment",
        media_key,
        media_key,
    )
    assert (top["author_id"], top["author_name"], top["text"]) == (None, "yjmjump", "今天中午是吃的面吗")
    reply = found["18107567341036926"]
    assert (reply["kind"], reply["parent_key"], reply["thread_key"]) == ("reply", top["item_key"], media_key)
    assert reply["from_account"] and reply["author_id"] == "17841406338772941"
    assert json.loads(top["source_json"])["replies"] == {}
    [carousel] = observations(PEER / "restfb__restfb/instagram/media-carousel.json")
    assert (carousel["platform"], carousel["kind"], carousel["text"]) == (
        "instagram",
        "post",
        "Great carousel",
    )
    assert [(a["type"], a["source_url"]) for a in carousel["attachments"]] == [
        ("photo", "<media url 1>"),
        ("photo", "<media url 2>"),
    ]
    assert carousel["created_at"] == at("2018-02-22 10:40:45")


def test_media_page_with_nested_comments_and_replies() -> None:
    reply = {
        "id": "r1",
        "text": "Tack!",
        "timestamp": "2024-06-01T12:00:00+0000",
        "from": {"id": "900", "username": "kommunen"},
    }
    comment = {
        "id": "c1",
        "text": "Fint!",
        "timestamp": "2024-06-01T11:00:00+0000",
        "from": {"id": "a1", "username": "anna"},
        "replies": {"data": [reply]},
    }
    media = {
        "id": "m1",
        "caption": "Sommar",
        "media_type": "IMAGE",
        "media_url": "https://cdn/1.jpg",
        "timestamp": "2024-06-01T10:00:00+0000",
        "username": "kommunen",
        "comments": {"data": [comment]},
    }
    found = by_id(list(parse(f"{GRAPH}/900/media?fields=x", {"data": [media]}, None)))
    assert (found["m1"]["item_key"], found["m1"]["from_account"]) == ("instagram:900:m1", True)
    assert json.loads(found["m1"]["source_json"])["comments"] == {}
    assert (found["c1"]["kind"], found["c1"]["parent_key"], found["c1"]["from_account"]) == (
        "comment",
        "instagram:900:m1",
        False,
    )
    assert (found["r1"]["kind"], found["r1"]["parent_key"], found["r1"]["thread_key"]) == (
        "reply",
        "instagram:900:c1",
        "instagram:900:m1",
    )


def test_instagram_hidden_comment() -> None:
    body = {"data": [{"id": "1", "text": "spam", "timestamp": "2024-01-01T00:00:00+0000", "hidden": True}]}
    [hidden] = parse(f"{GRAPH}/55/comments", body, "9")
    assert (hidden["platform"], hidden["visibility"], hidden["state"]) == ("instagram", "hidden", "hidden")
